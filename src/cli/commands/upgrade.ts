import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { WorkflowExecutionAlreadyStartedError, WorkflowFailedError } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { localPlatform } from '../../platform-wiring';
import {
  resolveMaintenanceTime,
  upgradeId,
  upgradeScheduleOptions,
  upgradeTimeLabel,
  type MaintenanceTime,
} from '../../schedules/upgrade-schedule';
import { MaintenanceTimeError } from '../../schedules/zoned-time';
import { lookupGpu } from '../../spec/gpu-catalog';
import { planUpgradeFrom, type UpgradePlan } from '../../spec/upgrade-plan';
import { UpgradeSpecError } from '../../spec/upgrade-spec';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../shared/errors';
import { APP } from '../../shared/search-attributes';
import type { UpgradeInput, UpgradeRequest, UpgradeResult } from '../../shared/upgrade-types';
import { upgrade } from '../../workflows/upgrade';
import { describeFailureCause } from '../failure-cause';
import { loadDeployableSpec } from '../load-deployable-spec';
import { checkUpgradeFlags } from '../upgrade-flag-check';
import { ensureStackForSpec, PlatformNotReadyError, requireWorkerFor } from '../stack-for-spec';
import { connectClient, workflowUiLink } from '../temporal-client';
import { keepWarmTaskQueue, scheduleUiLink } from './keepwarm';

/** Exit codes: 0 upgraded (or started/scheduled), 1 rolled back or failed, 2 bad input (nothing created), 3 refused. */
const EXIT = { failed: 1, badInput: 2, refused: 3 } as const;

interface UpgradeOptions {
  sglangImage?: string;
  gpu?: string;
  at?: string;
  timezone?: string;
  wait?: boolean;
  /** `--fix` (write next to the spec), `--fix FILE`, or `--fix -` (stdout). */
  fix?: string | boolean;
}

function badInput(message: string): void {
  console.error(`glm-ops: ${message}`);
  process.exitCode = EXIT.badInput;
}

/** Checks the options alone (no spec, no network), so bad input fails before anything is read or created. */
function checkOptions(options: UpgradeOptions, now: Date): { request: UpgradeRequest; at?: MaintenanceTime } | string {
  if (!options.sglangImage && !options.gpu) return 'give --sglang-image TAG or --gpu TYPE (or both)';
  if (options.gpu !== undefined && !lookupGpu(options.gpu)) {
    return `--gpu ${JSON.stringify(options.gpu)} is not in the GPU catalog: use B200, B300, H200 or H100`;
  }
  if (options.timezone !== undefined && options.at === undefined) return '--timezone needs --at (the maintenance time)';
  if (options.fix !== undefined && !options.sglangImage)
    return '--fix needs --sglang-image (the release to move the spec to)';
  const request: UpgradeRequest = {
    ...(options.sglangImage ? { sglangImage: options.sglangImage } : {}),
    ...(options.gpu ? { gpuType: options.gpu } : {}),
  };
  if (options.at === undefined) return { request };
  try {
    return { request, at: resolveMaintenanceTime(options.at, options.timezone ?? 'UTC', now) };
  } catch (err) {
    if (err instanceof MaintenanceTimeError) return err.message;
    throw err;
  }
}

function printPlan(app: string, plan: UpgradePlan): void {
  console.log(
    `upgrade of ${app}: v${plan.fromVersion} (${plan.fromSpec.sglang.image} on ${plan.fromSpec.gpu.count}×${plan.fromSpec.gpu.type}) →`,
  );
  for (const change of plan.changes) {
    console.log(`  ${change.path}: ${String(change.from)} → ${String(change.to)}  (${change.why})`);
  }
  for (const warning of plan.warnings) console.warn(`warning: ${warning}`);
}

function printResult(result: UpgradeResult): void {
  if (result.outcome === 'upgraded') {
    console.log(
      `upgraded ${result.app}: v${result.fromVersion} → v${result.toVersion}${result.isKernelRecompiled ? ' (DeepGEMM recompiled for the new GPU)' : ''}`,
    );
    return;
  }
  const attempted = result.attempted;
  console.error(
    `upgrade of ${result.app} ROLLED BACK: v${result.servingVersion} is serving and healthy again` +
      (attempted
        ? `; attempted ${attempted.version ? `v${attempted.version} ` : ''}(${attempted.sglangImage} on ${attempted.gpuType}) does not serve`
        : ''),
  );
  if (result.diagnosis) {
    console.error(
      `cause: ${result.diagnosis.cause}${result.diagnosis.failedPhase ? ` in phase ${result.diagnosis.failedPhase}` : ''}: ${result.diagnosis.message.split('\n')[0]}`,
    );
    for (const d of result.diagnosis.diagnoses)
      console.error(`diagnosis: ${d.title}: ${d.resolution} (${d.guideSection})`);
    for (const c of result.diagnosis.compensations) console.error(`compensation ${c.outcome}: ${c.step}`);
  }
}

/** The result a rolled-back upgrade fails with (UpgradeRolledBack carries it); any other failure is rethrown. */
function rolledBackResult(err: unknown): UpgradeResult {
  const failure = err instanceof WorkflowFailedError ? err.cause : undefined;
  if (failure instanceof ApplicationFailure && failure.type === ErrorType.UpgradeRolledBack && failure.details?.[0]) {
    return failure.details[0] as UpgradeResult;
  }
  throw err;
}

/** `glm-ops upgrade SPEC --sglang-image TAG | --gpu TYPE [--at TIME --timezone ZONE]` (guide §20). */
export function registerUpgradeCommand(program: Command, settings: Config): void {
  program
    .command('upgrade')
    .description('upgrade the SGLang image or GPU type of a deployed app, now or in a maintenance window (guide §20)')
    .argument('<spec>', 'deployment spec (YAML): names the app and platform; what runs is read from the platform')
    .option('--sglang-image <tag>', 'new SGLang image tag')
    .option('--gpu <type>', 'new GPU type (B200, B300, H200, H100)')
    .option('--at <time>', 'maintenance time, e.g. 2026-12-01T02:00 (a one-shot Temporal Schedule)')
    .option('--timezone <zone>', 'IANA zone of --at (default UTC)')
    .option('--wait', 'wait for the result (immediate upgrades only)')
    .option(
      '--fix [file]',
      "write the spec moved to the new release's flag spellings (next to the spec, or FILE, or - for stdout) instead of upgrading",
    )
    .action(async (file: string, options: UpgradeOptions) => {
      const now = new Date();
      const checked = checkOptions(options, now);
      if (typeof checked === 'string') return badInput(checked);
      const spec = await loadDeployableSpec(file);
      if (!spec) return;
      if (checked.request.sglangImage) {
        // Before any stack or workflow: the new release must accept every flag spelling of the spec.
        const flags = await checkUpgradeFlags(file, spec, checked.request.sglangImage, options.fix);
        if (flags.action === 'stop') {
          process.exitCode = flags.exitCode;
          return;
        }
      }
      try {
        await ensureStackForSpec(spec, (line) => console.log(line), settings);
      } catch (err) {
        if (err instanceof PlatformNotReadyError) return badInput(err.message);
        throw err;
      }
      if (spec.platform === 'local') {
        const deployed = await localPlatform(settings).currentDeployment(spec.app);
        if (!deployed)
          return badInput(
            `${spec.app} was never rolled out on platform local (or is stopped): roll it out first with \`glm-ops rollout ${file}\``,
          );
        try {
          printPlan(spec.app, planUpgradeFrom(deployed, checked.request));
        } catch (err) {
          if (err instanceof UpgradeSpecError) return badInput(err.message);
          throw err;
        }
      } else {
        console.log(`the worker reads what ${spec.app} runs on Modal when the upgrade starts, and plans against it`);
      }

      try {
        // What the upgrade plans from is checked first; its run (now or in the window) needs a worker, as a rollout.
        await requireWorkerFor(spec, settings);
      } catch (err) {
        if (err instanceof PlatformNotReadyError) return badInput(err.message);
        throw err;
      }
      const timeLabel = checked.at ? checked.at.label : upgradeTimeLabel(now);
      const id = upgradeId(spec.app, timeLabel);
      const input: UpgradeInput = {
        app: spec.app,
        platform: spec.platform,
        request: checked.request,
        upgradeId: `u-${timeLabel}-${randomBytes(3).toString('hex')}`,
        requestedBy: process.env.USER ?? 'glm-ops',
      };
      const taskQueue = keepWarmTaskQueue(spec, settings);
      const { client, connection, config } = await connectClient(settings);
      try {
        if (checked.at) {
          await client.schedule.create(upgradeScheduleOptions(input, checked.at, { taskQueue, scheduleId: id }));
          const link = scheduleUiLink(config, id);
          console.log(
            `scheduled upgrade ${id} at ${checked.at.label} ${checked.at.timeZone} (${checked.at.instant.toISOString()})${link ? `\n  ${link}` : ''}`,
          );
          return;
        }
        let handle;
        try {
          handle = await client.workflow.start(upgrade, {
            taskQueue,
            workflowId: id,
            args: [input],
            staticSummary: `Upgrade ${spec.app}: ${[checked.request.sglangImage, checked.request.gpuType].filter(Boolean).join(', ')}`,
            typedSearchAttributes: [{ key: APP, value: spec.app }],
          });
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
          console.error(`glm-ops: an upgrade ${id} is already running: follow it in the Temporal UI`);
          process.exitCode = EXIT.refused;
          return;
        }
        const link = workflowUiLink(config, id, handle.firstExecutionRunId);
        console.log(`upgrade started: workflow ${id}${link ? `\n  ${link}` : ''}`);
        if (!options.wait) return;
        try {
          const result = await handle.result().catch(rolledBackResult);
          printResult(result);
          if (result.outcome !== 'upgraded') process.exitCode = EXIT.failed;
        } catch (err) {
          if (!(err instanceof WorkflowFailedError)) throw err;
          console.error(`glm-ops: upgrade failed: ${describeFailureCause(err)}`);
          process.exitCode = EXIT.failed;
        }
      } finally {
        await connection.close();
      }
    });
}
