/** Time limits per kind of call; a 700 GB download and a first compile take hours, listings take seconds. */
export interface ModalTimeouts {
  /** One control-plane command (list, history, volume get, spawn, ...). */
  quickMs: number;
  /** One `modal deploy` (a first deploy builds images and creates functions and the secret's mount). */
  deployMs: number;
  /** Added to a function's Modal timeout for queueing and a cold start before the adapter gives up on the call. */
  callMarginMs: number;
  /** How long one status poll waits on Modal's side for the result. */
  pollWaitSec: number;
  /** Gap between progress reports (heartbeats) while a remote call runs. */
  progressEveryMs: number;
}

/** Defaults for {@link ModalTimeouts}. */
export const DEFAULT_MODAL_TIMEOUTS: ModalTimeouts = {
  quickMs: 90_000,
  deployMs: 40 * 60_000,
  callMarginMs: 30 * 60_000,
  pollWaitSec: 20,
  progressEveryMs: 5_000,
};
