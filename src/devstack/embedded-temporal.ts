import type { EmbeddedTemporal } from '../config/temporal-connection';
import { recordedService } from './background-service';

/**
 * The embedded stack's Temporal as `glm-ops dev up` recorded it in this state folder, running or not: a server that
 * died comes back on that address, so a client that connects or reconnects meanwhile must go there (and not to the
 * default 7233, which may be someone else's). Undefined when the stack was never started or `dev down` forgot it.
 */
export function embeddedTemporal(stateDir: string): EmbeddedTemporal | undefined {
  const record = recordedService('temporal', stateDir);
  if (!record) return undefined;
  return { address: String(record.info.address), uiUrl: record.info.uiUrl ? String(record.info.uiUrl) : undefined };
}
