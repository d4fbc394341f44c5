import type { Config } from '../config/config';
import { reportBadInput } from './bad-input';
import { connectClient, type ConnectedClient } from './temporal-client';

/**
 * Runs a command's body with a connected client and closes the connection after it. An error `isBadInput` recognises
 * (a schedule that does not exist) becomes one line and the bad-input exit code instead of a stack trace.
 */
export async function withTemporalClient(
  settings: Config,
  isBadInput: (err: unknown) => err is Error,
  body: (connected: ConnectedClient) => Promise<void>,
): Promise<void> {
  const connected = await connectClient(settings);
  try {
    await body(connected);
  } catch (err) {
    if (isBadInput(err)) return reportBadInput(err.message);
    throw err;
  } finally {
    await connected.connection.close();
  }
}
