import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import type { Config } from '../../config/config';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowHandleWithFirstExecutionRunId,
} from '@temporalio/client';
import type { Spec } from '../../spec/schema';
import { APP, initialRolloutSearchAttributes } from '../../shared/search-attributes';
import type { RollbackResult } from '../../shared/rollout-types';
import { taskQueueFor } from '../../shared/task-queue';
import { rolloutWorkflowId } from '../../shared/workflow-ids';
import { rollbackApp, rollout } from '../../workflows';
import { abort } from '../../shared/rollout-messages';
import { hasExplicitTemporalConfig } from '../../config/temporal-connection';
import { stackUp } from '../../devstack/dev-stack';
import { loadDeployableSpec } from '../load-deployable-spec';
import { printRolloutFailure } from '../rollout-report';
import { ensureStackForSpec, PlatformNotReadyError, specTaskQueue } from '../stack-for-spec';
import { reportBadInput } from '../bad-input';
import { describeFailureCause, failureCause } from '../failure-cause';
import { checkKnownApp, unknownVersionProblem } from '../known-app';
import { connectClient, workflowUiLink } from '../temporal-client';
import { printAppWorkflowsLink } from '../app-workflows-link';
import { runRolloutPlan } from '../rollout-plan-command';
import { DEFAULT_RECONNECT_TIMEOUT_SEC, EXIT, parseReconnectTimeout, waitForRolloutEnd } from '../rollout-end';

/** A rollout id: sortable by time, unique enough for idempotency keys. */
export function newRolloutId(now = new Date()): string {
  return `r-${now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${randomBytes(3).toString('hex')}`;
}

function parseVersion(value: string): number {
  const match = /^v?(\d+)$/.exec(value.trim());
  if (!match || Number(match[1]) < 1) throw new InvalidArgumentError(`--to "${value}" must be a version like v3`);
  return Number(match[1]);
}

function parsePlatform(value: string): 'local' | 'modal' {
  if (value !== 'local' && value !== 'modal')
    throw new InvalidArgumentError(`--platform "${value}" must be local or modal`);
  return value;
}

/** Starts the rollout workflow; a second rollout of the same app is refused with the running one's id. */
async function startRollout(
  client: Client,
  spec: Spec,
  rolloutId: string,
): Promise<WorkflowHandleWithFirstExecutionRunId<typeof rollout>> {
  return client.workflow.start(rollout, {
    taskQueue: taskQueueFor(spec.platform),
    workflowId: rolloutWorkflowId(spec.app),
    args: [{ spec, rolloutId, requestedBy: process.env.USER ?? 'glm-ops' }],
    staticSummary: `Rollout of ${spec.app}: ${spec.sglang.image} on ${spec.gpu.count}×${spec.gpu.type}`,
    staticDetails: [
      `**App** ${spec.app} (platform ${spec.platform}, environment ${spec.environment})`,
      `**Model** ${spec.model.repo}@${spec.model.revision}, served as ${spec.model.servedName}`,
      `**Engine** ${spec.sglang.image} on ${spec.gpu.count}×${spec.gpu.type}`,
      `**Rollout id** ${rolloutId}`,
      'validate → weights (download with sentinel, commit) → kernels (DeepGEMM, GPU-keyed marker, commit) → deploy → health → warmup → smoke; compensation on failure',
    ].join('\n\n'),
    typedSearchAttributes: initialRolloutSearchAttributes(spec),
  });
}

/** `glm-ops rollout`, `status`, `abort`, `rollback`. */
export function registerRolloutCommand(program: Command, settings: Config): void {
  program
    .command('rollout')
    .description('roll out a spec: weights → kernels → deploy → health → warmup → smoke, compensating on failure')
    .argument('<spec>', 'deployment spec (YAML)')
    .option('--follow', 'show live progress until the rollout ends (implies --wait)')
    .option('--wait', 'wait for the result without live progress')
    .option(
      '--reconnect-timeout <seconds>',
      'with --wait or --follow: how long to keep reconnecting to a lost Temporal server before exiting 4 (state unknown)',
      parseReconnectTimeout,
      DEFAULT_RECONNECT_TIMEOUT_SEC,
    )
    .option(
      '--plan',
      'print what the rollout would do from the current state (steps run or skipped and why, version, changes, lint, duration, cost) and change nothing',
    )
    .option('--json', 'with --plan: print the plan as JSON')
    .action(
      async (
        file: string,
        options: { follow?: boolean; wait?: boolean; reconnectTimeout: number; plan?: boolean; json?: boolean },
      ) => {
        if (options.plan) return runRolloutPlan(file, settings, { json: options.json === true });
        if (options.json) return reportBadInput('--json goes with --plan (a rollout prints its progress as text)');
        const spec = await loadDeployableSpec(file);
        if (!spec) return;
        try {
          await ensureStackForSpec(spec, (line) => console.log(line), settings, { requireWorker: true });
        } catch (err) {
          if (!(err instanceof PlatformNotReadyError)) throw err;
          console.error(`glm-ops: ${err.message}`);
          process.exitCode = EXIT.badInput;
          return;
        }
        // A few tries per call (~3 s): a longer outage is ridden out below, and said so, instead of inside each call.
        const { client, connection, config } = await connectClient(settings, { callAttempts: 6 });
        try {
          const rolloutId = newRolloutId();
          const workflowId = rolloutWorkflowId(spec.app);
          let handle: WorkflowHandleWithFirstExecutionRunId<typeof rollout>;
          try {
            handle = await startRollout(client, spec, rolloutId);
          } catch (err) {
            if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
            const running = await client.workflow.getHandle(workflowId).describe();
            console.error(
              `a rollout of ${spec.app} is already running (workflow ${workflowId}, run ${running.runId}): follow it with \`glm-ops status ${spec.app} --watch\` or stop it with \`glm-ops abort ${spec.app}\``,
            );
            process.exitCode = EXIT.refused;
            return;
          }
          const link = workflowUiLink(config, workflowId, handle.firstExecutionRunId);
          console.log(`rollout ${rolloutId} started: workflow ${workflowId}${link ? `\n  ${link}` : ''}`);
          printAppWorkflowsLink(config, spec.app);
          if (!options.follow && !options.wait) {
            console.log(
              `follow it with \`glm-ops status ${spec.app} --watch\`, stop it with \`glm-ops abort ${spec.app}\``,
            );
            return;
          }
          process.exitCode = await waitForRolloutEnd(client, config, handle, {
            app: spec.app,
            taskQueue: taskQueueFor(spec.platform),
            isLive: options.follow === true,
            reconnectTimeoutSec: options.reconnectTimeout,
            startupTimeoutSec: spec.health.startupTimeout,
          });
          if (link) console.log(`history in the Temporal UI: ${link}`);
        } finally {
          await connection.close();
        }
      },
    );

  program
    .command('abort')
    .description('abort a running rollout: the current step is cancelled and compensations run')
    .argument('<app>', 'app name')
    .option('--reason <text>', 'why (recorded in the history)', 'aborted from the CLI')
    .action(async (app: string, options: { reason: string }) => {
      const { client, connection } = await connectClient(settings);
      try {
        const handle = client.workflow.getHandle(rolloutWorkflowId(app));
        const accepted = await handle
          .executeUpdate(abort, { args: [{ reason: options.reason }] })
          .catch((err: unknown) => {
            if (err instanceof WorkflowNotFoundError) {
              console.error(`no running rollout of ${app} (workflow ${rolloutWorkflowId(app)})`);
              return null;
            }
            if (err instanceof WorkflowUpdateFailedError) {
              console.error(`abort refused: ${describeFailureCause(err)}`);
              return undefined;
            }
            throw err;
          });
        if (accepted === null) {
          // Never rolled out here at all is bad input (exit 2); a known app with nothing running is refused (exit 3).
          const known = await checkKnownApp(app, 'local', settings);
          process.exitCode = known.ok ? EXIT.refused : EXIT.badInput;
          if (!known.ok) console.error(`glm-ops: ${known.problem}`);
          return;
        }
        if (!accepted) {
          process.exitCode = EXIT.refused;
          return;
        }
        console.log(`abort accepted in phase ${accepted.acceptedInPhase}; compensating`);
        const failure = await handle.result().then(
          () => undefined,
          (err: unknown) => (err instanceof WorkflowFailedError ? failureCause(err).failure : undefined),
        );
        printRolloutFailure(failure, undefined);
      } finally {
        await connection.close();
      }
    });

  program
    .command('rollback')
    .description('go straight back to a known-good version (the incident path: no gates re-run), health verified')
    .argument('<app>', 'app name')
    .option(
      '--to <version>',
      'version to return to, e.g. v3 (default: the last verified one other than the current, else the one before)',
      parseVersion,
    )
    .option('--platform <name>', 'local or modal', parsePlatform, 'local' as const)
    .action(async (app: string, options: { to?: number; platform: 'local' | 'modal' }) => {
      // Before any stack or workflow: the platform must know the app, and the version asked for.
      const known = await checkKnownApp(app, options.platform, settings);
      if (!known.ok) return reportBadInput(known.problem);
      const missing = options.to === undefined ? undefined : unknownVersionProblem(known, options.to);
      if (missing) return reportBadInput(missing);
      if (options.platform === 'local' && !hasExplicitTemporalConfig(settings.env)) {
        await stackUp((line) => console.log(line), settings);
      }
      const { client, connection, config } = await connectClient(settings);
      try {
        const workflowId = `rollback/${app}/${new Date().toISOString()}`;
        const handle = await client.workflow.start(rollbackApp, {
          taskQueue: specTaskQueue(options, settings),
          workflowId,
          args: [
            { app, platform: options.platform, toVersion: options.to, requestedBy: process.env.USER ?? 'glm-ops' },
          ],
          staticSummary: `Rollback of ${app}${options.to ? ` to v${options.to}` : ''}`,
          typedSearchAttributes: [{ key: APP, value: app }],
        });
        try {
          const result: RollbackResult = await handle.result();
          console.log(
            `${app} rolled back from v${result.fromVersion ?? '?'} to v${result.toVersion}; healthy on attempt ${result.healthAttempts}; ${result.endpoint}`,
          );
        } catch (err) {
          if (!(err instanceof WorkflowFailedError)) throw err;
          console.error(`rollback failed: ${describeFailureCause(err)}`);
          process.exitCode = EXIT.failed;
        }
        const link = workflowUiLink(config, workflowId, handle.firstExecutionRunId);
        if (link) console.log(`history in the Temporal UI: ${link}`);
      } finally {
        await connection.close();
      }
    });
}
