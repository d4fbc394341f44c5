/**
 * Capacity of one worker on this machine: N concurrent rollouts, then M apps' keep-warm schedules all triggered at
 * once (each ping cold-starts its app's engine through the local router). Real Temporal, worker, daemon, emulator.
 *
 *   npm run bench -- worker-capacity [--rollouts 20] [--schedules 100]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities } from '../src/activities';
import { resolveSecret, secretEnvVar } from '../src/config/secrets';
import { startDevServer } from '../src/devstack/dev-server';
import { terminate } from '../src/devstack/process-control';
import { writeFixtureCheckpoint } from '../src/hub/fixture-checkpoint';
import { startHub } from '../src/hub/hub-server';
import { platformDown, platformUp } from '../src/platforms/local/daemon-lifecycle';
import { LocalPlatform } from '../src/platforms/local/local-platform';
import { disableKeepWarm, enableKeepWarm } from '../src/schedules/keep-warm-schedules-client';
import { parseSpecText } from '../src/spec/parse-spec';
import type { Spec } from '../src/spec/schema';
import type { RolloutResult } from '../src/shared/rollout-types';
import { rollout } from '../src/workflows';
import type { KeepWarmResult } from '../src/workflows/keep-warm';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

function cpuSeconds(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1e6;
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const rolloutCount = Number(option('rollouts', '20'));
  const scheduleCount = Number(option('schedules', '100'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-capacity-'));
  const server = await startDevServer({
    headless: true,
    logFile: path.join(home, 'temporal.log'),
    detached: false,
    preferredPort: 0,
  });
  const fixtureDir = path.join(home, 'fixture');
  await writeFixtureCheckpoint({ outDir: fixtureDir, sizeMB: 20 });
  const hub = await startHub({ fixtureDir });
  const env: NodeJS.ProcessEnv = { ...process.env, GLM_OPS_HOME: home, HF_ENDPOINT: hub.url };
  delete env[secretEnvVar('glm-api-key')];
  fs.mkdirSync(path.join(home, 'secrets'), { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(home, 'secrets', 'glm-api-key'), `sk-bench-${randomBytes(8).toString('hex')}`, {
    mode: 0o600,
  });
  await platformUp(env);
  const platform = LocalPlatform.fromEnv(env);
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const client = new Client({ connection });
  const taskQueue = 'capacity';
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: { code },
    activities: createActivities({ platforms: { local: platform }, resolveSecret: (n) => resolveSecret(n, env) }),
  });
  const demo = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'local-demo.yaml'), 'utf8');
  const specFor = (app: string): Spec => {
    const parsed = parseSpecText(demo);
    if (!parsed.ok) throw new Error('examples/local-demo.yaml does not parse');
    const spec = structuredClone(parsed.spec);
    spec.app = app;
    spec.local.timeScale = 0.005;
    spec.health = { startupTimeout: 300, pollInterval: 0.25 };
    spec.warmup = { timeout: 300 };
    spec.modal.scaledownWindow = 3600;
    return spec;
  };
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
          const description = await client.schedule.getHandle(`keepwarm/${app}`).describe();
          const action = description.info.recentActions[0];
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
    console.log(
      `\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    );
    await connection.close();
    await nativeConnection.close();
    await platformDown(env);
    await hub.close();
    await terminate(server.pid);
    fs.rmSync(home, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
