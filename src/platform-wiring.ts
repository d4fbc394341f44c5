import * as path from 'node:path';
import type { ActivityDeps } from './activities';
import { projectRoot } from './config/paths';
import { runningService } from './devstack/background-service';
import { LOCAL_HUB_FALLBACK_URL, LocalPlatform } from './platforms/local/local-platform';
import { platformPaths } from './platforms/local/platform-paths';
import { ModalPlatform } from './platforms/modal/modal-platform';
import { checkModalReady } from './platforms/modal/modal-preflight';
import type { Platform } from './platforms/platform';
import { MODAL_TASK_QUEUE } from './shared/task-queue';

// How the platform adapters are built from the environment: the worker's composition root uses it, and so does the
// CLI where it reads a platform itself (the upgrade preview), so adapters are wired in this one place.

/** The hub a local worker downloads from: HF_ENDPOINT, else the hub glm-ops started in this state folder. */
export function localHubUrl(env: NodeJS.ProcessEnv): { url: string; from: string } {
  const configured = env.HF_ENDPOINT?.trim();
  if (configured) return { url: configured, from: 'HF_ENDPOINT' };
  const hub = runningService('hub', env);
  if (hub) return { url: String(hub.info.url), from: 'the hub glm-ops started in this state folder' };
  return { url: LOCAL_HUB_FALLBACK_URL, from: 'the default; no hub runs yet, the first local rollout starts one' };
}

/**
 * The local platform, wired again whenever the hub's address changes: a worker on a user's Temporal usually starts
 * before the CLI starts the hub (possibly on a free port other than 8700), so the address is read at each call.
 */
function localPlatformFollowingHub(env: NodeJS.ProcessEnv): Platform {
  let current: { url: string; platform: LocalPlatform } | undefined;
  const platform = (): LocalPlatform => {
    const { url } = localHubUrl(env);
    if (current?.url !== url) current = { url, platform: LocalPlatform.fromEnv({ ...env, HF_ENDPOINT: url }) };
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
export function localPlatform(env: NodeJS.ProcessEnv): Platform {
  return env.HF_ENDPOINT?.trim() ? LocalPlatform.fromEnv(env) : localPlatformFollowingHub(env);
}

/** The platforms a worker on this task queue drives, built from the environment (state dir, hub, Modal client). */
export function platformsFor(taskQueue: string, env: NodeJS.ProcessEnv): ActivityDeps['platforms'] {
  const platforms: Partial<Record<'local' | 'modal', Platform>> = {};
  if (taskQueue === MODAL_TASK_QUEUE) {
    platforms.modal = new ModalPlatform({ deployPy: path.join(projectRoot(), 'modal', 'deploy.py'), env });
  } else {
    platforms.local = localPlatform(env);
  }
  return platforms;
}

/** What the worker drives, in one line, so a user sees which hub and daemon a local worker uses. */
export function describePlatforms(taskQueue: string, env: NodeJS.ProcessEnv): string {
  if (taskQueue === MODAL_TASK_QUEUE) {
    const readiness = checkModalReady(env);
    return readiness.ok
      ? 'platform modal: the modal client and credentials are configured on this machine'
      : `warning: platform modal: ${readiness.problem}: ${readiness.fix}`;
  }
  const hub = localHubUrl(env);
  return `platform local: hub at ${hub.url} (${hub.from}), platform daemon and volumes in ${platformPaths(env).root}`;
}
