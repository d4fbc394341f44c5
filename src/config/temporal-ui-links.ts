/** Where the Temporal Web UI is and which namespace its links open. */
export interface TemporalUi {
  /** The UI's base URL (`http://127.0.0.1:8233`); unknown for a server we did not start. */
  uiUrl?: string;
  namespace: string;
}

/**
 * The Web UI link for a workflow (its history when the run is named), when we know where the UI is: the CLI prints
 * it, a notification carries it.
 */
export function workflowUiLink(ui: TemporalUi, workflowId: string, runId?: string): string | undefined {
  if (!ui.uiUrl) return undefined;
  const base = `${ui.uiUrl}/namespaces/${encodeURIComponent(ui.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
