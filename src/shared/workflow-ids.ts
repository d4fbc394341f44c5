/**
 * The workflow id of an app's rollout. A business key, so the server refuses a second rollout of the app while one
 * runs; the CLI starts it and the upgrade starts it as a child, so both build it here.
 */
export function rolloutWorkflowId(app: string): string {
  return `rollout/${app}`;
}
