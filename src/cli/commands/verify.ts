import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { localPlatform, platformsFor } from '../../platform-wiring';
import { checkModalReady } from '../../platforms/modal/modal-preflight';
import type { StoragePort } from '../../platforms/platform';
import { MODAL_TASK_QUEUE } from '../../shared/task-queue';
import type { Spec } from '../../spec/schema';
import { VerifyScheduleError } from '../../schedules/verify-weights-schedule';
import {
  disableVerifySchedule,
  enableVerifySchedule,
  triggerVerify,
  VerifyNotScheduledError,
  verifyScheduleStatus,
} from '../../schedules/verify-weights-schedules-client';
import { loadDeployableSpec } from '../load-deployable-spec';
import { ensureStackForSpec, PlatformNotReadyError, specTaskQueue } from '../stack-for-spec';
import { reportBadInput } from '../bad-input';
import { withTemporalClient } from '../with-temporal-client';
import { scheduleUiLink } from './keepwarm';
import { resolveSpecOrApp } from './spec-or-app';
import { loadSpecFile } from '../../spec/parse-spec';
import { touchText } from '../../storage/download-sentinel';
import { printSpecIssues } from './spec-output';

/** `glm-ops verify SPEC`: the guide's verify_setup for the spec's volumes (weights sentinel, DeepGEMM marker). */
export function registerVerifyCommand(program: Command, settings: Config): void {
  registerVerifyScheduleCommand(program, settings);
  program
    .command('verify')
    .description(
      "check a spec's weights (sentinel, files, bytes) and DeepGEMM kernels (marker), the guide's verify_setup; exit 1 when not ready",
    )
    .argument('<spec>', 'spec YAML file')
    .option('--json', 'print JSON')
    .option(
      '--full',
      're-hash every weights file against the sentinel (slow for large checkpoints); without it, only the files touched since the sentinel (size, mtime, ctime or inode changed) are re-hashed',
    )
    .action(async (file: string, options: { json?: boolean; full?: boolean }) => {
      const parsed = await loadSpecFile(file);
      if (!parsed.ok) {
        printSpecIssues(parsed, file);
        process.exitCode = 2;
        return;
      }
      const spec = parsed.spec;
      const storage = storageFor(spec, settings);
      if ('problem' in storage) return reportBadInput(storage.problem);
      const weights = await storage.weightsStatus(spec, { full: options.full === true });
      const kernels = await storage.kernelCacheStatus(spec);
      const isReady = weights.state === 'valid' && kernels.state === 'valid';
      if (!isReady) process.exitCode = 1;
      if (options.json) {
        console.log(JSON.stringify({ app: spec.app, isReady, weights, kernels }, null, 2));
        return;
      }
      console.log(
        `verify ${spec.app} (${spec.model.repo}@${spec.model.revision}, ${spec.gpu.type}, ${spec.sglang.image})`,
      );
      console.log(`  ${storage.where}`);
      const rehashed = weights.rehashed ?? [];
      console.log(
        `weights: ${weights.state}${weights.commit ? ` (commit ${weights.commit})` : ''}${options.full ? ', re-hashed' : ''}`,
      );
      console.log(`  path: ${weights.path}`);
      console.log(`  sentinel: ${weights.sentinelPath}`);
      console.log(`  files: ${weights.fileCount}, bytes: ${weights.bytes}`);
      console.log(
        `  re-hashed: ${rehashed.length} of ${weights.fileCount}` +
          (options.full ? ' (--full)' : ' (only files touched since the sentinel)'),
      );
      for (const file of rehashed) {
        console.log(`    ${file.path}: ${file.isMatch ? 'matches' : 'DIFFERS'} (${touchText(file.reasons)})`);
      }
      for (const problem of weights.problems) console.log(`  - ${problem}`);
      console.log(`kernels: ${kernels.state}`);
      console.log(`  path: ${kernels.path}`);
      console.log(`  marker: ${kernels.markerPath}`);
      if (kernels.marker) console.log(`  marker contents: ${JSON.stringify(kernels.marker)}`);
      for (const reason of kernels.reasons) console.log(`  - ${reason}`);
    });
}

/**
 * The volumes of the spec's platform, never another's: the local worker's directories (on the same hub: HF_ENDPOINT,
 * else the hub glm-ops runs), or the Modal volumes read through the Modal adapter with the real client, which needs
 * the client and credentials; without them, one line says so and what to do (a local directory says nothing about
 * a Modal volume).
 */
function storageFor(
  spec: Spec,
  settings: Config,
):
  | { weightsStatus: StoragePort['weightsStatus']; kernelCacheStatus: StoragePort['kernelCacheStatus']; where: string }
  | { problem: string } {
  if (spec.platform === 'local') {
    const platform = localPlatform(settings);
    return {
      weightsStatus: (s, o) => platform.weightsStatus(s, o),
      kernelCacheStatus: (s) => platform.kernelCacheStatus(s),
      where: `platform local: volumes ${spec.volumes.weights} and ${spec.volumes.kernels} (directories of this machine's local platform)`,
    };
  }
  const readiness = checkModalReady(settings.env);
  if (!readiness.ok) {
    return { problem: `cannot verify ${spec.app} on platform modal: ${readiness.problem}: ${readiness.fix}` };
  }
  const modal = platformsFor(MODAL_TASK_QUEUE, settings).modal!;
  return {
    weightsStatus: (s, o) => modal.weightsStatus(s, o),
    kernelCacheStatus: (s) => modal.kernelCacheStatus(s),
    where: `platform modal: volumes ${spec.volumes.weights} and ${spec.volumes.kernels} in environment ${spec.environment}, read with the modal client`,
  };
}

/**
 * `glm-ops verify-schedule enable|disable|status|trigger`: the scheduled `verify --full` (Temporal Schedule
 * `verify/<app>` from the spec's weights.verify), managed the way `keepwarm` manages its schedule.
 */
function registerVerifyScheduleCommand(program: Command, settings: Config): void {
  const command = program
    .command('verify-schedule')
    .description(
      "schedule a full re-hash of the weights (Temporal Schedule verify/<app>, from the spec's weights.verify)",
    );

  command
    .command('enable')
    .description('create or update the schedule from weights.verify.schedule and weights.verify.timezone')
    .argument('<spec>', 'deployment spec (YAML)')
    .action(async (file: string) => {
      const spec = await loadDeployableSpec(file);
      if (!spec) return;
      if (!spec.weights?.verify) {
        return reportBadInput(
          `${file}: weights.verify is not set: add weights: { verify: { schedule: "0 3 * * SUN", timezone: UTC } }`,
        );
      }
      try {
        await ensureStackForSpec(spec, (line) => console.log(line), settings, { requireWorker: true });
      } catch (err) {
        if (err instanceof PlatformNotReadyError) return reportBadInput(err.message);
        throw err;
      }
      await withTemporalClient(settings, isVerifyNotScheduledError, async ({ client, config }) => {
        try {
          const outcome = await enableVerifySchedule(client, spec, { taskQueue: specTaskQueue(spec, settings) });
          const link = scheduleUiLink(config, outcome.scheduleId);
          console.log(`${outcome.change} schedule ${outcome.scheduleId}${link ? `\n  ${link}` : ''}`);
        } catch (err) {
          if (err instanceof VerifyScheduleError) return reportBadInput(err.message);
          throw err;
        }
        const status = await verifyScheduleStatus(client, spec.app, { recentLimit: 0 });
        console.log(
          `full re-hash "${spec.weights!.verify!.schedule}" in ${spec.weights!.verify!.timezone}; next runs: ${status.nextRuns.slice(0, 3).join(', ') || 'none'}`,
        );
      });
    });

  command
    .command('disable')
    .description('delete the verify schedule of an app')
    .argument('<spec-or-app>', 'spec file or app name')
    .action(async (specOrApp: string) => {
      const app = (await resolveSpecOrApp(specOrApp))?.app;
      if (!app) return;
      await withTemporalClient(settings, isVerifyNotScheduledError, async ({ client }) => {
        console.log(`deleted schedule ${await disableVerifySchedule(client, app)}`);
      });
    });

  command
    .command('status')
    .description('show the schedule, its next runs and its recent runs (verified, corrupt: the files, failed)')
    .argument('<spec-or-app>', 'spec file or app name')
    .option('--json', 'print JSON')
    .action(async (specOrApp: string, options: { json?: boolean }) => {
      const app = (await resolveSpecOrApp(specOrApp))?.app;
      if (!app) return;
      await withTemporalClient(settings, isVerifyNotScheduledError, async ({ client }) => {
        const status = await verifyScheduleStatus(client, app);
        if (status.recent[0]?.state === 'corrupt') process.exitCode = 1;
        if (options.json) {
          console.log(JSON.stringify(status, null, 2));
          return;
        }
        console.log(`schedule ${status.scheduleId}${status.isPaused ? ' (paused)' : ''}: ${status.calendarSentence}`);
        console.log(`  next runs: ${status.nextRunsInZone.slice(0, 3).join(', ') || 'none'}`);
        for (const run of status.recent) {
          console.log(`  ${run.takenAt} ${run.state}${run.detail ? `: ${run.detail}` : ''}`);
        }
      });
    });

  command
    .command('trigger')
    .description('run the verify now; with --wait, print its outcome (exit 1 when a file no longer matches)')
    .argument('<spec-or-app>', 'spec file or app name')
    .option('--wait', 'wait for the run and print what it found')
    .action(async (specOrApp: string, options: { wait?: boolean }) => {
      const app = (await resolveSpecOrApp(specOrApp))?.app;
      if (!app) return;
      await withTemporalClient(settings, isVerifyNotScheduledError, async ({ client }) => {
        const run = await triggerVerify(client, app, { shouldWait: options.wait === true, timeoutMs: 60_000 });
        console.log(`${run.workflowId} (run ${run.runId}): ${run.state}${run.detail ? `: ${run.detail}` : ''}`);
        if (run.state === 'corrupt' || run.state === 'failed') process.exitCode = 1;
      });
    });
}

function isVerifyNotScheduledError(err: unknown): err is VerifyNotScheduledError {
  return err instanceof VerifyNotScheduledError;
}
