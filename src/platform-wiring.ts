import * as path from 'node:path';
import type { ActivityDeps } from './activities';
import type { Config } from './config/config';
import { runningService } from './devstack/background-service';
import { LOCAL_HUB_FALLBACK_URL, LocalPlatform } from './platforms/local/local-platform';
import { platformPathsIn } from './platforms/local/platform-paths';
import { ModalPlatform } from './platforms/modal/modal-platform';
import { checkModalReady } from './platforms/modal/modal-preflight';
import type { Platform } from './platforms/platform';
import { MODAL_TASK_QUEUE } from './shared/task-queue';

// How the platform adapters are built from the settings: the worker's composition root uses it, and so does the
// CLI where it reads a platform itself (verify, the upgrade preview), so adapters are wired in this one place.

/** The hub a local worker downloads from: HF_ENDPOINT, else the hub glm-ops started in this state folder. */
export function localHubUrl(config: Config): { url: string; from: string } {
  if (config.hub.endpoint) return { url: config.hub.endpoint, from: 'HF_ENDPOINT' };
  const hub = runningService('hub', config.stateDir);
  if (hub) return { url: String(hub.info.url), from: 'the hub glm-ops started in this state folder' };
  return { url: LOCAL_HUB_FALLBACK_URL, from: 'the default; no hub runs yet, the first local rollout starts one' };
}

/**
 * The local platform, wired again whenever the hub's address changes: a worker on a user's Temporal usually starts
 * before the CLI starts the hub (possibly on a free port other than 8700), so the address is read at each call.
 */
function localPlatformFollowingHub(config: Config): Platform {
  let current: { url: string; platform: LocalPlatform } | undefined;
  const platform = (): LocalPlatform => {
    const { url } = localHubUrl(config);
    if (current?.url !== url) {
      current = { url, platform: LocalPlatform.fromConfig({ ...config, hub: { ...config.hub, endpoint: url } }) };
    }
    return current.platform;
  };
  return new Proxy({} as Platform, {
    get(_target, property) {
      const target = platform();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
    has: (_target, property) => Reflect.has(platform(), property),
  });
}

/** The local platform as a worker drives it: on HF_ENDPOINT when set, else on the hub glm-ops runs (followed). */
export function localPlatform(config: Config): Platform {
  return config.hub.endpoint ? LocalPlatform.fromConfig(config) : localPlatformFollowingHub(config);
}

/** The platforms a worker on this task queue drives, built from the settings (state dir, hub, Modal client). */
export function platformsFor(taskQueue: string, config: Config): ActivityDeps['platforms'] {
  const platforms: Partial<Record<'local' | 'modal', Platform>> = {};
  if (taskQueue === MODAL_TASK_QUEUE) {
    // The Modal adapter runs the `modal` client, which reads its credentials from the environment itself.
    platforms.modal = new ModalPlatform({
      deployPy: path.join(config.projectRoot, 'modal', 'deploy.py'),
      env: config.env,
      stateDir: config.stateDir,
    });
  } else {
    platforms.local = localPlatform(config);
  }
  return platforms;
}

/** What the worker drives, in one line, so a user sees which hub and daemon a local worker uses. */
export function describePlatforms(taskQueue: string, config: Config): string {
  if (taskQueue === MODAL_TASK_QUEUE) {
    const readiness = checkModalReady(config.env);
    return readiness.ok
      ? 'platform modal: the modal client and credentials are configured on this machine'
      : `warning: platform modal: ${readiness.problem}: ${readiness.fix}`;
  }
  const hub = localHubUrl(config);
  return `platform local: hub at ${hub.url} (${hub.from}), platform daemon and volumes in ${platformPathsIn(config.stateDir).root}`;
}
