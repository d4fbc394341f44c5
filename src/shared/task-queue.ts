/** Task queue served by workers that drive the local platform. */
export const LOCAL_TASK_QUEUE = 'glm-ops-local';
/** Task queue served by workers that hold Modal credentials. */
export const MODAL_TASK_QUEUE = 'glm-ops-modal';

/** The task queue for a spec's platform: one queue per platform, shared by worker, CLI and tests. */
export function taskQueueFor(platform: 'local' | 'modal'): string {
  return platform === 'modal' ? MODAL_TASK_QUEUE : LOCAL_TASK_QUEUE;
}
