/**
 * Capacity of one worker on this machine: N concurrent rollouts, then M apps' keep-warm schedules all triggered at
 * once (each ping cold-starts its app's engine through the local router). Real Temporal, worker, daemon, emulator.
 *
 *   npm run bench -- worker-capacity [--rollouts 20] [--schedules 100]
 */
import { disableKeepWarm, enableKeepWarm } from '../src/schedules/keep-warm-schedules-client';
import type { Spec } from '../src/spec/schema';
import type { RolloutResult } from '../src/shared/rollout-types';
import { rollout } from '../src/workflows';
import type { KeepWarmResult } from '../src/shared/keep-warm-types';
import { machineLine, option, percentile, startBenchStack } from './bench-stack';

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function main(): Promise<void> {
  const rolloutCount = Number(option('rollouts', '20'));
  const scheduleCount = Number(option('schedules', '100'));
  const stack = await startBenchStack({ fixtureSizeMB: 20, taskQueue: 'capacity' });
  const { client, worker, platform, taskQueue } = stack;
  const specFor = (app: string): Spec =>
    stack.specFor(app, (spec) => {
      spec.local.timeScale = 0.005;
      spec.health = { startupTimeout: 300, pollInterval: 0.25 };
      spec.warmup = { timeout: 300 };
      spec.modal.scaledownWindow = 3600;
    });
  const rows: string[] = [];
  const created: string[] = [];
  try {
    await worker.runUntil(async () => {
      // Warm the shared volumes once so the concurrent rollouts measure orchestration, not 20 identical downloads.
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: 'rollout/capacity-seed',
        args: [{ spec: specFor('capacity-seed'), rolloutId: 'seed' }],
      });

      const cpuBefore = cpuSeconds();
      const started = Date.now();
      const outcomes = await Promise.allSettled(
        Array.from({ length: rolloutCount }, async (_, i) => {
          const begun = Date.now();
          const result: RolloutResult = await client.workflow.execute(rollout, {
            taskQueue,
            workflowId: `rollout/capacity-${i}`,
            args: [{ spec: specFor(`capacity-${i}`), rolloutId: `c-${i}` }],
          });
          return { result, ms: Date.now() - begun };
        }),
      );
      const wallMs = Date.now() - started;
      const ok = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.ms] : []));
      rows.push(
        `| ${rolloutCount} concurrent rollouts on one worker: succeeded | ${ok.length}/${rolloutCount} in ${(wallMs / 1000).toFixed(1)} s (each p50 ${(percentile(ok, 50) / 1000).toFixed(1)} s, max ${(Math.max(...ok) / 1000).toFixed(1)} s); worker-process CPU ${(cpuSeconds() - cpuBefore).toFixed(1)} s |`,
      );
      for (const failure of outcomes.filter((o) => o.status === 'rejected')) {
        console.error(`rollout failed: ${String((failure as PromiseRejectedResult).reason).slice(0, 300)}`);
      }

      // Keep-warm: deploy the remaining apps directly (no engine runs until a request), one schedule per app.
      const deployedApps = Array.from({ length: rolloutCount }, (_, i) => `capacity-${i}`);
      const extraApps = Array.from({ length: Math.max(0, scheduleCount - rolloutCount) }, (_, i) => `capacity-kw-${i}`);
      const seedSpec = (await platform.currentDeployment('capacity-seed'))!.spec;
      for (const app of extraApps) await platform.deploy({ ...seedSpec, app }, { rolloutId: `kw-${app}` });
      const apps = [...deployedApps, ...extraApps].slice(0, scheduleCount);
      // Start every app's engine first, a few at a time: on Modal the engines run elsewhere, and 100 emulator cold
      // starts at once on these 2 cores would measure this machine's process farm, not the worker.
      const warmStarted = Date.now();
      for (let i = 0; i < extraApps.length; i += 4) {
        await Promise.all(
          extraApps.slice(i, i + 4).map(async (app) => {
            const { url } = await platform.endpoint(app);
            await fetch(`${url}/health`, { signal: AbortSignal.timeout(120_000) });
          }),
        );
      }
      rows.push(
        `| ${extraApps.length} more apps deployed and their engines started (4 at a time) | ${((Date.now() - warmStarted) / 1000).toFixed(1)} s |`,
      );
      const createStarted = Date.now();
      for (const app of apps) {
        await enableKeepWarm(client, { ...specFor(app), app }, { taskQueue });
        created.push(app);
      }
      const createMs = Date.now() - createStarted;
      const triggerStarted = Date.now();
      const cpuBeforePings = cpuSeconds();
      await Promise.all(apps.map((app) => client.schedule.getHandle(`keepwarm/${app}`).trigger()));
      const results: KeepWarmResult[] = [];
      const failures: string[] = [];
      for (const app of apps) {
        for (let attempt = 0; ; attempt++) {
          const description = await client.schedule
            .getHandle(`keepwarm/${app}`)
            .describe()
            .catch(() => undefined);
          const action = description?.info.recentActions[0];
          if (action) {
            try {
              results.push(
                await client.workflow
                  .getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId)
                  .result(),
              );
            } catch (err) {
              failures.push(`${app}: ${String(err).slice(0, 200)}`);
            }
            break;
          }
          if (attempt > 600) throw new Error(`keepwarm/${app} never started a run`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
      const pingsMs = Date.now() - triggerStarted;
      const durations = results.map((r) => r.durationMs);
      rows.push(
        `| ${apps.length} keep-warm schedules created (create/update each) | ${(createMs / 1000).toFixed(1)} s |`,
      );
      rows.push(
        `| all ${apps.length} triggered at once: runs completed | ${results.length}/${apps.length} in ${(pingsMs / 1000).toFixed(1)} s (${results.filter((r) => r.replica === 'cold').length} cold, ${results.filter((r) => r.replica === 'warm').length} warm; ping p50 ${percentile(durations, 50).toFixed(0)} ms, max ${Math.max(...durations).toFixed(0)} ms); worker-process CPU ${(cpuSeconds() - cpuBeforePings).toFixed(1)} s |`,
      );
      for (const failure of failures.slice(0, 5)) console.error(`keep-warm run failed: ${failure}`);
    });
  } finally {
    for (const app of created) await disableKeepWarm(client, app).catch(() => undefined);
    console.log('| measure | value |\n|---|---|');
    for (const row of rows) console.log(row);
    console.log(`
${machineLine()}`);
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
