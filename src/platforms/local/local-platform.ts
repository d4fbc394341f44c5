import * as path from 'node:path';
import type { Config } from '../../config/config';
import { ComposedPlatform } from '../composed-platform';
import { LocalServingClient } from './local-serving-client';
import { LocalStorage } from './local-storage';
import { platformPathsIn } from './platform-paths';

/** The hub the local demo serves its fixture checkpoint from when HF_ENDPOINT is unset. */
export const LOCAL_HUB_FALLBACK_URL = 'http://127.0.0.1:8700';

/** LocalStorage as the daemon and the worker build it: volumes under the state dir, on the configured hub. */
export function localStorageFor(config: Pick<Config, 'stateDir' | 'hub'>): LocalStorage {
  return new LocalStorage({
    volumesRoot: path.join(config.stateDir, 'volumes'),
    hubUrl: config.hub.endpoint ?? LOCAL_HUB_FALLBACK_URL,
    ...(config.hub.token ? { hubToken: config.hub.token } : {}),
  });
}

/**
 * The local platform: volumes are directories (LocalStorage), serving goes through the platform daemon
 * (LocalServingClient), both found from the settings' state dir.
 */
export class LocalPlatform extends ComposedPlatform {
  readonly name = 'local' as const;

  constructor(storage: LocalStorage, serving: LocalServingClient) {
    super(storage, serving);
  }

  /** Wires both halves from the settings: the state dir (volumes, the daemon's address) and the hub. */
  static fromConfig(config: Pick<Config, 'stateDir' | 'hub'>): LocalPlatform {
    return new LocalPlatform(localStorageFor(config), new LocalServingClient(platformPathsIn(config.stateDir)));
  }
}
