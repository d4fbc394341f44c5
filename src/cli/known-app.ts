import type { Config } from '../config/config';
import { platformsFor } from '../platform-wiring';
import { recordedApps } from '../platforms/local/recorded-apps';
import { checkModalReady } from '../platforms/modal/modal-preflight';
import { editDistance } from '../spec/edit-distance';
import { MODAL_TASK_QUEUE } from '../shared/task-queue';

/** An app the platform has records of: its versions, oldest first, and the one traffic goes to (null: stopped). */
export interface KnownApp {
  app: string;
  platform: 'local' | 'modal';
  versions: number[];
  currentVersion: number | null;
}

/** Whether the platform knows the app; when it does not, one line saying so and what to do. */
export type KnownAppCheck = ({ ok: true } & KnownApp) | { ok: false; problem: string };

/**
 * Asks the platform's own records whether `app` was ever deployed there, before a command starts anything (no stack,
 * no workflow): the local platform's state files in this state folder (no daemon needed), or Modal's app history
 * through the Modal adapter (which needs the client and credentials; without them the check says so). An unknown
 * app is refused with the apps that exist, the nearest one first when the name looks like a typo of it.
 */
export async function checkKnownApp(app: string, platform: 'local' | 'modal', config: Config): Promise<KnownAppCheck> {
  if (platform === 'local') {
    const apps = recordedApps(config.stateDir);
    const found = apps.find((a) => a.app === app);
    if (found) return { ok: true, platform, ...found };
    return {
      ok: false,
      problem: unknownAppProblem(
        app,
        platform,
        apps.map((a) => a.app),
      ),
    };
  }
  const readiness = checkModalReady(config.env);
  if (!readiness.ok) {
    return { ok: false, problem: `cannot look up ${app} on platform modal: ${readiness.problem}: ${readiness.fix}` };
  }
  const modal = platformsFor(MODAL_TASK_QUEUE, config).modal!;
  const history = await modal.history(app);
  if (history.length === 0) return { ok: false, problem: unknownAppProblem(app, platform, []) };
  return {
    ok: true,
    app,
    platform,
    versions: history.map((d) => d.version).sort((a, b) => a - b),
    currentVersion: history.find((d) => d.isCurrent)?.version ?? null,
  };
}

function unknownAppProblem(app: string, platform: 'local' | 'modal', known: string[]): string {
  const nearest = known
    .map((name) => ({ name, distance: editDistance(app, name) }))
    .filter((n) => n.distance <= Math.max(2, Math.floor(app.length / 4)))
    .sort((a, b) => a.distance - b.distance)[0];
  const hint = nearest ? ` (did you mean ${nearest.name}?)` : '';
  const listed = platform === 'local' ? `; apps there: ${known.length > 0 ? known.join(', ') : 'none yet'}` : '';
  return `no app named ${app} was ever deployed on platform ${platform}${hint}${listed}: check the name, or roll it out first with \`glm-ops rollout SPEC\``;
}

/** One line for a version the app does not have: the same words as the platform's NotFound, and what to do. */
export function unknownVersionProblem(known: KnownApp, version: number): string | undefined {
  if (known.versions.includes(version)) return undefined;
  const listed = known.versions.map((v) => `v${v}`).join(', ') || 'none';
  return `app "${known.app}" has no version ${version} (versions: ${listed}): name one of them with --to, or leave --to out to go back to the last verified one`;
}
