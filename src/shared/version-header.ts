/**
 * The local platform's router names the app version that answered in this response header, and a request that
 * carries it is placed on that version's engines (a rollout's probes check the candidate, not whatever serves).
 * Modal's endpoints ignore it and send none back.
 */
export const VERSION_HEADER = 'x-glm-ops-version';
