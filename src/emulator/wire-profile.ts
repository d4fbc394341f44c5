/**
 * What the HTTP surface of one SGLang release looks like where releases differ. 0.5.17's answers are recorded
 * (the reference recordings of the real server); 0.5.23's deltas are read from that release's http_server.py,
 * protocol.py, usage_processor.py and utils/auth.py. Releases before 0.5.17 share its shape (0.5.10's routes and
 * bodies match it for everything the emulator serves); releases between 0.5.17 and 0.5.23 are not known here and
 * are treated as 0.5.17.
 */
export interface WireProfile {
  /** The `version` field of `/server_info`. */
  version: string;
  /** `GET /ready` exists (200 when ready, 503 otherwise) and the API key does not guard it. */
  hasReadyRoute: boolean;
  /** `GET /get_load` exists (removed in 0.5.2x in favour of `/v1/loads`). */
  hasGetLoadRoute: boolean;
  /** `/model_info` has 14 keys (served_model_name, load_format, parsers, disaggregation_mode) instead of 10. */
  hasExtendedModelInfo: boolean;
  /** `usage.completion_tokens_details = {reasoning_tokens}` when there are reasoning tokens. */
  hasCompletionTokensDetails: boolean;
  /** `/server_info` carries `launch_command` and `frontend`, and no longer `kv_events` at the top. */
  hasLaunchCommand: boolean;
  /** Source lines of the route decorators FastAPI names in validation errors. */
  routeLines: { chat: number; completions: number; generate: number };
}

const V0_5_17: WireProfile = {
  version: '0.5.17',
  hasReadyRoute: false,
  hasGetLoadRoute: true,
  hasExtendedModelInfo: false,
  hasCompletionTokensDetails: false,
  hasLaunchCommand: false,
  routeLines: { chat: 1702, completions: 1694, generate: 869 },
};

const V0_5_23: WireProfile = {
  version: '0.5.23',
  hasReadyRoute: true,
  hasGetLoadRoute: false,
  hasExtendedModelInfo: true,
  hasCompletionTokensDetails: true,
  hasLaunchCommand: true,
  routeLines: { chat: 1870, completions: 1860, generate: 928 },
};

/** The profile for a release version (`0.5.10`, `v0.5.23`, `0.5.23.post1`); `version` keeps what was asked. */
export function wireProfileFor(version: string): WireProfile {
  const clean = version.replace(/^v/, '');
  const base = compareVersions(clean, '0.5.23') >= 0 ? V0_5_23 : V0_5_17;
  return { ...base, version: clean };
}

/** The release the emulator speaks when nothing says otherwise: the one the recordings were made with. */
export const DEFAULT_SGLANG_VERSION = '0.5.17';

/** Compares dotted numeric versions (`post`/`rc` suffixes ignored). */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[.+-]/).map((p) => Number.parseInt(p, 10) || 0);
  const left = parts(a);
  const right = parts(b);
  for (let i = 0; i < Math.max(left.length, right.length, 3); i++) {
    const diff = (left[i] ?? 0) - (right[i] ?? 0);
    if (diff !== 0) return Math.sign(diff);
  }
  return 0;
}
