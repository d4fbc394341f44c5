import { createWorkerInfoActivities } from './worker-info-activities';

/** Everything activities need from the outside world; secrets stay in here, never in arguments. */
export interface ActivityDeps {
  readonly _placeholder?: never;
}

/** All activities of the project, bound to their dependencies. */
export const createActivities = (_deps: ActivityDeps = {}) => ({
  ...createWorkerInfoActivities(),
});

/** The activity surface workflows proxy (types only). */
export type Activities = ReturnType<typeof createActivities>;
