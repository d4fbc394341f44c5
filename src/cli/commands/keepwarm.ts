import type { Command } from 'commander';
import type { Config } from '../../config/config';
import type { TemporalConnectConfig } from '../../config/temporal-connection';
import { keepWarmCost } from '../../schedules/keep-warm-cost';
import { formatInZone } from '../../schedules/zoned-display';
import { assertKeepWarmSettings, KeepWarmScheduleError } from '../../schedules/keep-warm-schedule';
import {
  disableKeepWarm,
  enableKeepWarm,
  KeepWarmNotEnabledError,
  keepWarmStatus,
  setKeepWarmPaused,
  triggerKeepWarm,
} from '../../schedules/keep-warm-schedules-client';
import type { Spec } from '../../spec/schema';
import { loadDeployableSpec } from '../load-deployable-spec';
import { ensureStackForSpec, PlatformNotReadyError, specTaskQueue } from '../stack-for-spec';
import { reportBadInput } from '../bad-input';
import { withTemporalClient } from '../with-temporal-client';
import { resolveSpecOrApp } from './spec-or-app';

/** The schedule's page in the Temporal Web UI, when the embedded UI is known. */
export function scheduleUiLink(config: TemporalConnectConfig, scheduleId: string): string | undefined {
  if (!config.uiUrl) return undefined;
  return `${config.uiUrl}/namespaces/${encodeURIComponent(config.namespace)}/schedules/${encodeURIComponent(scheduleId)}`;
}

/** The task queue the schedules start runs on; GLM_OPS_TASK_QUEUE is the same override the worker reads. */
export function keepWarmTaskQueue(spec: Pick<Spec, 'platform'>, config: Config): string {
  return specTaskQueue(spec, config);
}

const dollars = (value: number): string => `$${Math.round(value).toLocaleString('en-US')}`;

/** `glm-ops keepwarm enable|disable|pause|unpause|status|trigger`: the guide's keep-alive cron as a Temporal Schedule. */
export function registerKeepwarmCommand(program: Command, settings: Config): void {
  const keepwarm = program
    .command('keepwarm')
    .description('keep replicas warm during business hours (guide §6, §19): Temporal Schedule keepwarm/<app>');

  keepwarm
    .command('enable')
    .description('create or update the schedule from keepWarm.cron, keepWarm.timezone and keepWarm.strategy')
    .argument('<spec>', 'deployment spec (YAML)')
    .action(async (file: string) => {
      const spec = await loadDeployableSpec(file);
      if (!spec) return;
      try {
        assertKeepWarmSettings(spec);
      } catch (err) {
        if (err instanceof KeepWarmScheduleError) return reportBadInput(err.message);
        throw err;
      }
      try {
        // A schedule's or an upgrade's runs need a worker on the spec's queue, as a rollout does.
        await ensureStackForSpec(spec, (line) => console.log(line), settings, { requireWorker: true });
      } catch (err) {
        if (err instanceof PlatformNotReadyError) return reportBadInput(err.message);
        throw err;
      }
      await withTemporalClient(settings, isKeepWarmNotEnabledError, async ({ client, config }) => {
        const outcomes = await enableKeepWarm(client, spec, {
          taskQueue: keepWarmTaskQueue(spec, settings),
          cost: { ...keepWarmCost(spec, settings.env), pricedAt: new Date().toISOString() },
        });
        for (const outcome of outcomes) {
          const link = outcome.change === 'deleted' ? undefined : scheduleUiLink(config, outcome.scheduleId);
          console.log(`${outcome.change} schedule ${outcome.scheduleId}${link ? `\n  ${link}` : ''}`);
        }
        const status = await keepWarmStatus(client, spec.app, { recentLimit: 0 });
        console.log(`strategy ${spec.keepWarm.strategy} ("${spec.keepWarm.cron}"): ${status.calendarSentence}`);
        console.log(`next runs: ${status.nextRunsInZone.slice(0, 3).join(', ') || 'none'}`);
      });
    });

  keepwarm
    .command('disable')
    .description('delete the keep-warm schedule(s) of an app')
    .argument('<spec-or-app>', 'spec file or app name')
    .action(async (specOrApp: string) => {
      const target = await resolveSpecOrApp(specOrApp);
      if (!target) return;
      await withTemporalClient(settings, isKeepWarmNotEnabledError, async ({ client }) => {
        for (const id of await disableKeepWarm(client, target.app)) console.log(`deleted schedule ${id}`);
      });
    });

  for (const [name, isPaused] of [
    ['pause', true],
    ['unpause', false],
  ] as const) {
    keepwarm
      .command(name)
      .description(`${name} the keep-warm schedule(s), with a note shown in the Temporal UI`)
      .argument('<spec-or-app>', 'spec file or app name')
      .option(
        '--note <text>',
        'why',
        isPaused ? 'paused with glm-ops keepwarm pause' : 'unpaused with glm-ops keepwarm unpause',
      )
      .action(async (specOrApp: string, options: { note: string }) => {
        const target = await resolveSpecOrApp(specOrApp);
        if (!target) return;
        await withTemporalClient(settings, isKeepWarmNotEnabledError, async ({ client }) => {
          for (const id of await setKeepWarmPaused(client, target.app, isPaused, options.note)) {
            console.log(`${isPaused ? 'paused' : 'unpaused'} schedule ${id}: ${options.note}`);
          }
        });
      });
  }

  keepwarm
    .command('status')
    .description(
      'show the next runs, recent results (warm/cold, duration), cold-hit rate, and the monthly cost of each strategy',
    )
    .argument('<spec-or-app>', 'spec file (adds the cost of ping and pin) or app name')
    .option('--json', 'print JSON')
    .action(async (specOrApp: string, options: { json?: boolean }) => {
      const target = await resolveSpecOrApp(specOrApp);
      if (!target) return;
      await withTemporalClient(settings, isKeepWarmNotEnabledError, async ({ client, config }) => {
        const status = await keepWarmStatus(client, target.app);
        // A spec prices with today's settings; an app name shows what `enable` priced and stored with the schedule.
        const cost = target.spec ? keepWarmCost(target.spec, settings.env) : status.storedCost;
        if (options.json) {
          console.log(JSON.stringify({ ...status, ...(cost ? { cost } : {}) }, null, 2));
          return;
        }
        const link = scheduleUiLink(config, status.scheduleId);
        console.log(`schedule ${status.scheduleId}${status.isPaused ? ' (PAUSED)' : ''}${link ? `  ${link}` : ''}`);
        if (status.note) console.log(`note: ${status.note}`);
        const specStrategy = target.spec?.keepWarm.strategy;
        const strategy = status.strategy ?? specStrategy;
        const drift =
          specStrategy && status.strategy && specStrategy !== status.strategy
            ? ` (the spec says ${specStrategy}: \`glm-ops keepwarm enable SPEC\` switches it)`
            : '';
        if (strategy) console.log(`strategy: ${strategy}${drift}`);
        console.log(
          `calendar: ${status.calendarSentence}${status.timeZone ? ` (${status.timeZone})` : ''}${status.hasReleaseSchedule ? ' + release schedule' : ''}`,
        );
        console.log(`next runs: ${status.nextRunsInZone.slice(0, 5).join(', ') || 'none'}`);
        console.log(
          `runs taken: ${status.numActionsTaken}; cold-hit rate: ${status.coldHitRate === undefined ? 'n/a' : `${Math.round(status.coldHitRate * 100)}%`}`,
        );
        if (status.recent.length > 0) {
          console.log('\n| Taken at | Result | Duration | Workflow |');
          console.log('|---|---|---:|---|');
          for (const run of status.recent) {
            console.log(
              `| ${formatInZone(new Date(run.takenAt), status.timeZone)} | ${run.state}${run.detail ? `: ${run.detail}` : ''} | ${run.durationMs === undefined ? '' : `${run.durationMs} ms`} | ${run.workflowId} |`,
            );
          }
        }
        if (cost) {
          console.log('\n| Strategy | Replica-h/month | Monthly | Basis |');
          console.log('|---|---:|---:|---|');
          console.log(
            `| ping | ${cost.ping.replicaHoursPerMonth.toFixed(0)} | ${dollars(cost.ping.dollarsPerMonth)} | ${cost.ping.basis} |`,
          );
          if (cost.pin)
            console.log(
              `| pin | ${cost.pin.replicaHoursPerMonth.toFixed(0)} | ${dollars(cost.pin.dollarsPerMonth)} | ${cost.pin.basis} |`,
            );
          console.log(
            `(scale-to-zero ${dollars(cost.scaleToZeroDollarsPerMonth)}, always-on ${dollars(cost.alwaysOnDollarsPerMonth)} per month)`,
          );
          if (!target.spec && 'pricedAt' in cost) {
            console.log(`priced by \`keepwarm enable\` at ${cost.pricedAt}; give the spec for today's prices`);
          }
        }
      });
    });

  keepwarm
    .command('trigger')
    .description('run the keep-warm action now')
    .argument('<spec-or-app>', 'spec file or app name')
    .option('--wait', 'wait for the result and print warm/cold and the duration')
    .action(async (specOrApp: string, options: { wait?: boolean }) => {
      const target = await resolveSpecOrApp(specOrApp);
      if (!target) return;
      await withTemporalClient(settings, isKeepWarmNotEnabledError, async ({ client }) => {
        const run = await triggerKeepWarm(client, target.app, {
          shouldWait: Boolean(options.wait),
          timeoutMs: 180_000,
        });
        console.log(`triggered ${run.workflowId}`);
        if (run.result)
          console.log(`${run.result.replica}: /health ${run.result.httpStatus ?? ''} in ${run.result.durationMs} ms`);
      });
    });
}

function isKeepWarmNotEnabledError(err: unknown): err is KeepWarmNotEnabledError {
  return err instanceof KeepWarmNotEnabledError;
}
