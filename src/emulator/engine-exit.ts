/** How the emulated engine process ends: an exit code, or a signal it sends itself. */
export interface EngineExit {
  /** Set for a plain exit (e.g. 1 for FileNotFoundError, 137 for a platform kill). */
  exitCode?: number;
  /** Set for a signal death (SIGKILL = Python's returncode -9, the OOM killer's mark). */
  signal?: NodeJS.Signals;
  /** Why, in one line (for the in-process handle; the log already carries the engine's own lines). */
  reason: string;
}
