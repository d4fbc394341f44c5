import type { EmbeddedTemporal } from '../config/temporal-connection';
import { runningService } from './background-service';

/** The embedded stack's Temporal when `glm-ops dev up` runs it in this state folder; undefined otherwise. */
export function embeddedTemporal(stateDir: string): EmbeddedTemporal | undefined {
  const record = runningService('temporal', stateDir);
  if (!record) return undefined;
  return { address: String(record.info.address), uiUrl: record.info.uiUrl ? String(record.info.uiUrl) : undefined };
}
