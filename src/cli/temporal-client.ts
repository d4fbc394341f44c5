import { Client, Connection, defaultGrpcRetryOptions, makeGrpcRetryInterceptor } from '@temporalio/client';
import type { Config } from '../config/config';
import { loadTemporalConfig, type TemporalConnectConfig } from '../config/temporal-connection';
import { embeddedTemporal } from '../devstack/embedded-temporal';

/** A connected client plus the settings it used; close the connection when done. */
export interface ConnectedClient {
  client: Client;
  connection: Connection;
  config: TemporalConnectConfig;
}

/** How the connection treats a server that does not answer. */
export interface ConnectOptions {
  /**
   * Tries per gRPC call on a transport error before the call fails (the SDK's default, 10, retries about 20 s). A
   * caller that rides out outages itself (`rollout --wait`) passes fewer, so it notices and says so within seconds.
   */
  callAttempts?: number;
}

/** Connects with Temporal's standard env config, or to the embedded stack when nothing is set. */
export async function connectClient(settings: Config, options: ConnectOptions = {}): Promise<ConnectedClient> {
  const config = loadTemporalConfig(settings.env, () => embeddedTemporal(settings.stateDir));
  const { address, tls, apiKey, metadata } = config.connectionOptions;
  const connection = await Connection.connect({
    address,
    tls,
    apiKey,
    metadata,
    connectTimeout: 5000,
    // gRPC's own reconnect backoff grows to 2 minutes: a follower would see a restarted server that late.
    channelArgs: { 'grpc.initial_reconnect_backoff_ms': 500, 'grpc.max_reconnect_backoff_ms': 5_000 },
    ...(options.callAttempts
      ? { interceptors: [makeGrpcRetryInterceptor(defaultGrpcRetryOptions({ maxAttempts: options.callAttempts }))] }
      : {}),
  }).catch((err: unknown) => {
    const hint = config.source === 'embedded' ? ' (start the embedded stack with `glm-ops dev up`)' : '';
    throw new Error(`cannot reach Temporal at ${address}${hint}: ${err instanceof Error ? err.message : err}`);
  });
  return { client: new Client({ connection, namespace: config.namespace }), connection, config };
}

export { workflowUiLink } from '../config/temporal-ui-links';
