import type { TemporalConnectConfig } from '../config/temporal-connection';
import { APP } from '../shared/search-attributes';

/**
 * The visibility query of every workflow of an app (rollouts, upgrades, rollbacks, keep-warm runs), written the way
 * the Temporal UI writes its own filters (`` `GlmOpsApp`="demo" ``), so the UI shows it as a filter chip.
 */
export function appWorkflowsQuery(app: string): string {
  return `\`${APP.name}\`="${app.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * The Temporal UI's workflow list filtered to the app (its `query` URL parameter), when we know where the UI is.
 * Columns cannot be chosen by URL: the UI keeps them per browser and namespace (the README says how to add the
 * GlmOps ones once).
 */
export function appWorkflowsUiLink(config: TemporalConnectConfig, app: string): string | undefined {
  if (!config.uiUrl) return undefined;
  const list = `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows`;
  return `${list}?query=${encodeURIComponent(appWorkflowsQuery(app))}`;
}

/** Prints the link under a rollout's own, when the UI's address is known. */
export function printAppWorkflowsLink(config: TemporalConnectConfig, app: string): void {
  const link = appWorkflowsUiLink(config, app);
  if (link) console.log(`  ${app}'s workflows in the Temporal UI: ${link}`);
}
