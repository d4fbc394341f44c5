import type { Spec, TuneCandidate, TuneSpec } from '../shared/tune-types';

// The spec a trial deploys: the base spec with one candidate's levers applied, under a throw-away app of its own.
// Pure (it runs in the workflow): the same base, candidate and index give the same spec.

/** Platform app names are at most 63 characters (the spec's AppName). */
const APP_NAME_MAX = 63;

/** The throw-away app of trial `index`: `<app>-t<index>`, the base name cut so the whole stays within 63 characters. */
export function trialAppName(app: string, index: number): string {
  const suffix = `-t${index}`;
  return `${app.slice(0, APP_NAME_MAX - suffix.length)}${suffix}`;
}

/**
 * The base spec with the candidate applied: its SGLang flags (`false` removes the flag, as `sglang.args` omits it),
 * its `modal` fields, the tune's workload as `slo.load` (the trial measures under it; no gate runs, so `slo.enabled`
 * is off), and the app renamed so the serving one is never touched. Volumes stay the base spec's: every candidate
 * reads the same weights and kernel cache. On the local twin the emulator serves at the guide's request latencies
 * (`timing.timeScale: 1`, unless the spec sets its own) while start-up stays at `local.timeScale`, so the figures
 * compare with the guide and the SLO.
 */
export function candidateSpec(
  base: Spec,
  candidate: TuneCandidate,
  index: number,
  workload: NonNullable<TuneSpec['workload']> = base.slo.load,
): Spec {
  const args = { ...base.sglang.args };
  for (const [flag, value] of Object.entries(candidate.args)) {
    if (value === false) delete args[flag];
    else args[flag] = value;
  }
  return {
    ...base,
    app: trialAppName(base.app, index),
    sglang: { ...base.sglang, args },
    modal: { ...base.modal, ...candidate.modal },
    slo: { ...base.slo, enabled: false, load: workload },
    local: withRequestsAtGuideLatency(base.local, base.sglang.image),
  };
}

/** The emulator's `timing.timeScale` set to 1 unless the spec (its image's settings, else its own) sets one. */
function withRequestsAtGuideLatency(local: Spec['local'], image: string): Spec['local'] {
  if (local.engine !== 'emulator') return local;
  const perImage = local.images[image]?.emulator;
  if (perImage && 'timing' in perImage) return local;
  const timing = (local.emulator.timing ?? {}) as Record<string, unknown>;
  if (typeof timing.timeScale === 'number') return local;
  return { ...local, emulator: { ...local.emulator, timing: { ...timing, timeScale: 1 } } };
}
