import type { Command } from 'commander';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Config } from '../../config/config';
import { APP } from '../../shared/search-attributes';
import type { RollbackResult, RolloutStatus } from '../../shared/rollout-types';
import { LOCAL_TASK_QUEUE, MODAL_TASK_QUEUE } from '../../shared/task-queue';
import { rolloutWorkflowId } from '../../shared/workflow-ids';
import { status as statusQuery } from '../../shared/rollout-messages';
import { formatMs } from '../format-ms';
import { performanceLines } from '../performance-lines';
import { reportBadInput } from '../bad-input';
import { checkKnownApp } from '../known-app';
import { describeServingVersions, servingVersions, type ServingVersions } from '../serving-versions';
import { startWorkerCommand } from '../task-queue-pollers';
import { connectClient, workflowUiLink } from '../temporal-client';
import { printAppWorkflowsLink } from '../app-workflows-link';
import { phaseWidth } from '../rollout-report';
import {
  DEFAULT_RECONNECT_TIMEOUT_SEC,
  parseReconnectTimeout,
  pendingHealthAttempt,
  rolloutStartupTimeoutSec,
  waitForRolloutEnd,
} from '../rollout-end';

/** The newest incident-path rollback of an app, as the Temporal list shows it. */
interface LastRollback {
  workflowId: string;
  runId: string;
  workflowStatus: string;
  startedAt: string;
  fromVersion?: number;
  toVersion?: number;
}

/** The newest `rollbackApp` run of the app (visibility search by the app attribute), with its result if it has one. */
async function lastRollback(client: Client, app: string): Promise<LastRollback | undefined> {
  let newest: LastRollback | undefined;
  const query = `WorkflowType = "rollbackApp" AND ${APP.name} = "${app.replace(/"/g, '\\"')}"`;
  for await (const run of client.workflow.list({ query })) {
    const startedAt = run.startTime.toISOString();
    if (newest && newest.startedAt >= startedAt) continue;
    newest = { workflowId: run.workflowId, runId: run.runId, workflowStatus: run.status.name, startedAt };
  }
  if (newest?.workflowStatus === 'COMPLETED') {
    const result: RollbackResult = await client.workflow.getHandle(newest.workflowId, newest.runId).result();
    newest = { ...newest, fromVersion: result.fromVersion, toVersion: result.toVersion };
  }
  return newest;
}

/** What the rollout did with its version, in words that cannot be read as "this serves". */
function rolloutVersionLine(state: RolloutStatus): string | undefined {
  if (state.deployedVersion === undefined) return undefined;
  const previous = state.previousVersion ? ` (previous v${state.previousVersion})` : ' (first version)';
  if (state.phase === 'done') return `deployed v${state.deployedVersion}${previous}`;
  if (state.phase === 'failed' || state.phase === 'aborted') {
    return `attempted v${state.deployedVersion}${previous}: ${state.phase}, compensated`;
  }
  return `deploying v${state.deployedVersion}${previous}`;
}

function servingHeadline(app: string, platform: ServingVersions, platformName: string): string {
  const line = describeServingVersions(platform).replace(/^platform: /, '');
  return `${app}: ${line} (platform ${platformName})`;
}

/**
 * `glm-ops status APP`: what serves now and what was last verified, as the platform records them (the one source
 * of truth, the same record compensation and `rollback` read), then the app's last rollout (phases, the version it
 * deployed or attempted, compensations) and a rollback that came after it.
 */
export function registerStatusCommand(program: Command, settings: Config): void {
  program
    .command('status')
    .description(
      "show what serves an app now (the platform's record) and its last rollout: phases, timings, compensations",
    )
    .argument('<app>', 'app name')
    .option('--json', 'print JSON')
    .option('--watch', 'follow a running rollout live until it ends, then print its report (exit 0 done, 1 failed)')
    .option(
      '--reconnect-timeout <seconds>',
      'with --watch: how long to keep reconnecting to a lost Temporal server before exiting 4 (state unknown)',
      parseReconnectTimeout,
      DEFAULT_RECONNECT_TIMEOUT_SEC,
    )
    .action(async (app: string, options: { json?: boolean; watch?: boolean; reconnectTimeout: number }) => {
      if (options.watch && options.json) {
        return reportBadInput('--watch shows a live view and --json one snapshot: use one of them');
      }
      const { client, connection, config } = await connectClient(settings);
      try {
        const handle = client.workflow.getHandle(rolloutWorkflowId(app));
        const description = await handle.describe().catch((err: unknown) => {
          if (err instanceof WorkflowNotFoundError) return undefined;
          throw err;
        });
        if (!description) {
          // No rollout to read the platform from: the local records still know an app deployed another way.
          const known = await checkKnownApp(app, 'local', settings);
          if (!known.ok)
            return reportBadInput(
              `no rollout of ${app} was found (workflow ${rolloutWorkflowId(app)}); ${known.problem}`,
            );
        }
        const taskQueue = description?.taskQueue ?? LOCAL_TASK_QUEUE;
        const platformName = taskQueue === MODAL_TASK_QUEUE ? 'modal' : 'local';
        const state: RolloutStatus | undefined = description
          ? await handle.query(statusQuery).catch(() => undefined)
          : undefined;
        const healthAttempt = description?.status.name === 'RUNNING' ? await pendingHealthAttempt(handle) : undefined;
        const [platform, rollback] = await Promise.all([
          servingVersions(app, taskQueue, settings),
          lastRollback(client, app).catch(() => undefined),
        ]);
        const rollbackAfterRollout =
          rollback && (!description || rollback.startedAt > description.startTime.toISOString()) ? rollback : undefined;
        const { deployedVersion, ...rest } = state ?? ({} as Partial<RolloutStatus>);
        const report = {
          app,
          ...('unavailable' in platform
            ? { platformUnavailable: platform.unavailable }
            : { servingVersion: platform.servingVersion, lastVerifiedVersion: platform.lastVerifiedVersion }),
          ...(description
            ? {
                workflowId: description.workflowId,
                runId: description.runId,
                workflowStatus: description.status.name,
              }
            : {}),
          ...(state
            ? { ...rest, attemptedVersion: deployedVersion, healthAttempt: healthAttempt ?? state.healthAttempt }
            : {}),
          ...(rollbackAfterRollout ? { lastRollback: rollbackAfterRollout } : {}),
          platform,
          uiLink: description ? workflowUiLink(config, description.workflowId, description.runId) : undefined,
        };
        if (options.json) {
          console.log(JSON.stringify(report, null, 2));
          return;
        }
        console.log(servingHeadline(app, platform, platformName));
        if (!description) {
          console.log(`  no rollout workflow (${rolloutWorkflowId(app)}) found`);
        } else if (state) {
          console.log(`  last rollout ${state.rolloutId}: workflow ${description.status.name}, phase ${state.phase}`);
          if (state.phase === 'health') console.log(`  health attempt ${report.healthAttempt}`);
          const width = phaseWidth(state.phases);
          for (const p of state.phases) {
            console.log(
              `  ${p.name.padEnd(width)} ${p.state.padEnd(7)} ${formatMs(p.durationMs)}  ${p.detail ?? ''}`.trimEnd(),
            );
          }
          const versionLine = rolloutVersionLine(state);
          if (versionLine) console.log(`  ${versionLine}`);
          for (const c of state.compensations) console.log(`  compensation ${c.outcome}: ${c.step}`);
          for (const line of performanceLines(state)) console.log(line);
        } else {
          console.log(`  last rollout: workflow ${description.status.name}`);
          const fix =
            config.source === 'embedded' ? 'glm-ops dev up' : startWorkerCommand('glm-ops-local|glm-ops-modal');
          console.log(`  (no worker answered the status query; start one with \`${fix}\`)`);
        }
        if (rollbackAfterRollout) {
          const moved =
            rollbackAfterRollout.toVersion !== undefined
              ? `v${rollbackAfterRollout.fromVersion ?? '?'} → v${rollbackAfterRollout.toVersion}`
              : rollbackAfterRollout.workflowStatus;
          console.log(
            `  rollback after it: ${moved} (workflow ${rollbackAfterRollout.workflowId}, ${rollbackAfterRollout.workflowStatus})`,
          );
        }
        if (report.uiLink) console.log(`  ${report.uiLink}`);
        printAppWorkflowsLink(config, app);
        if (!options.watch) return;
        if (description?.status.name !== 'RUNNING') {
          console.log(`  (the last rollout is not running: nothing to watch)`);
          return;
        }
        console.log(
          `watching rollout ${state?.rolloutId ?? description.workflowId} (Ctrl-C stops watching, not the rollout)`,
        );
        const startupTimeoutSec = await rolloutStartupTimeoutSec(client, config.namespace, description);
        process.exitCode = await waitForRolloutEnd(client, config, handle, {
          app,
          taskQueue,
          isLive: true,
          reconnectTimeoutSec: options.reconnectTimeout,
          ...(startupTimeoutSec ? { startupTimeoutSec } : {}),
        });
        const after = await servingVersions(app, taskQueue, settings);
        console.log(servingHeadline(app, after, platformName));
      } finally {
        await connection.close();
      }
    });
}
