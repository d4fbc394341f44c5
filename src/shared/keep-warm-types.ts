// The keep-warm workflow's contract: the keep-warm schedule, the CLI and the workflow import it from here.

/** Input of one keep-warm run; built from the spec by the schedule, never carrying a secret value. */
export interface KeepWarmInput {
  app: string;
  platform: 'local' | 'modal';
  secretName: string;
  strategy: 'ping' | 'pin';
  /** `ping` a warm check (with `pin`, raising min containers first); `release` lowers min containers at window end. */
  action: 'ping' | 'release';
  /** The guide's `timeout=120` of the keep-alive GET. @default 120 */
  timeoutSec: number;
  /** A 200 slower than this was a cold start. */
  coldThresholdMs: number;
  /** Min containers while pinned. @default 1 */
  pinnedMinContainers: number;
  /** Min containers outside the window: the spec's modal.minContainers. */
  baseMinContainers: number;
}

/** What one keep-warm run found: warm or cold (a cold start is a success that took long), and how long it took. */
export interface KeepWarmResult {
  app: string;
  strategy: 'ping' | 'pin';
  action: 'ping' | 'release';
  /** `warm`/`cold` for a ping; `released` after lowering min containers. */
  replica: 'warm' | 'cold' | 'released';
  durationMs: number;
  httpStatus?: number;
  minContainersSet?: number;
  checkedAt: string;
}
