import { Client, Connection } from '@temporalio/client';
import type { Config } from '../config/config';
import { loadTemporalConfig, type TemporalConnectConfig } from '../config/temporal-connection';
import { embeddedTemporal } from '../devstack/embedded-temporal';

/** A connected client plus the settings it used; close the connection when done. */
export interface ConnectedClient {
  client: Client;
  connection: Connection;
  config: TemporalConnectConfig;
}

/** Connects with Temporal's standard env config, or to the embedded stack when nothing is set. */
export async function connectClient(settings: Config): Promise<ConnectedClient> {
  const config = loadTemporalConfig(settings.env, () => embeddedTemporal(settings.stateDir));
  const { address, tls, apiKey, metadata } = config.connectionOptions;
  const connection = await Connection.connect({ address, tls, apiKey, metadata, connectTimeout: 5000 }).catch(
    (err: unknown) => {
      const hint = config.source === 'embedded' ? ' (start the embedded stack with `glm-ops dev up`)' : '';
      throw new Error(`cannot reach Temporal at ${address}${hint}: ${err instanceof Error ? err.message : err}`);
    },
  );
  return { client: new Client({ connection, namespace: config.namespace }), connection, config };
}

/** The Web UI link for a workflow, when we know where the UI is. */
export function workflowUiLink(config: TemporalConnectConfig, workflowId: string, runId?: string): string | undefined {
  if (!config.uiUrl) return undefined;
  const base = `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
