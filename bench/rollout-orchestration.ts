/**
 * Rollout benchmark on the local platform: readiness detection latency, orchestration overhead, history size for a
 * short and a long health wait, and the re-run time. Everything is real: a Temporal dev server, a worker, the platform
 * daemon, the emulator and the fixture hub.
 *
 *   npm run bench -- rollout-orchestration [--waits 60,600] [--readiness-runs 10]
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
import { parseSpecText } from '../src/spec/parse-spec';
import type { Spec } from '../src/spec/schema';
import type { RolloutResult } from '../src/shared/rollout-types';
import { rollout } from '../src/workflows';

function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function eventTimeMs(event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number {
  const seconds = Number(event.eventTime?.seconds ?? 0);
  return seconds * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
}

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const waits = option('waits', '60,600').split(',').map(Number);
  const readinessRuns = Number(option('readiness-runs', '10'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-bench-'));
  const server = await startDevServer({
    headless: true,
    logFile: path.join(home, 'temporal.log'),
    detached: false,
    preferredPort: 0,
  });
  const fixtureDir = path.join(home, 'fixture');
  await writeFixtureCheckpoint({ outDir: fixtureDir, sizeMB: 50 });
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
  const taskQueue = 'bench';
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: { code },
    activities: createActivities({ platforms: { local: platform }, resolveSecret: (n) => resolveSecret(n, env) }),
  });
  const demo = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'local-demo.yaml'), 'utf8');
  const specFor = (app: string, patch: (spec: Spec) => void): Spec => {
    const parsed = parseSpecText(demo);
    if (!parsed.ok) throw new Error('examples/local-demo.yaml does not parse');
    const spec = structuredClone(parsed.spec);
    spec.app = app;
    patch(spec);
    return spec;
  };
  const run = async (spec: Spec, id: string) => {
    const started = Date.now();
    const handle = await client.workflow.start(rollout, {
      taskQueue,
      workflowId: `rollout/${spec.app}/${id}`,
      args: [{ spec, rolloutId: id }],
    });
    const result: RolloutResult = await handle.result();
    const wallMs = Date.now() - started;
    const history = await handle.fetchHistory();
    return { result, wallMs, history };
  };

  try {
    await worker.runUntil(async () => {
      const rows: string[] = [];
      // 1. First rollout and re-runs with weights, kernels and deployment current.
      const base = specFor('bench-rerun', (s) => {
        s.local.timeScale = 0.01;
        s.health = { startupTimeout: 60, pollInterval: 0.1 };
      });
      const first = await run(base, 'first');
      const reruns: number[] = [];
      for (let i = 0; i < 3; i++) reruns.push((await run(base, `rerun-${i}`)).wallMs);
      rows.push(
        `| first rollout (50 MB download, compile, deploy, health, warmup, smoke), scale 0.01 | ${(first.wallMs / 1000).toFixed(2)} s |`,
      );
      rows.push(`| re-run, everything current (median of 3) | ${(percentile(reruns, 50) / 1000).toFixed(2)} s |`);

      // 2. Readiness detection: the engine's "ready" line (platform log capture, ±50 ms) → health activity completed.
      const readiness: number[] = [];
      const overheads: number[] = [];
      for (let i = 0; i < readinessRuns; i++) {
        const spec = specFor(`bench-ready-${i}`, (s) => {
          s.local.timeScale = 0.01;
          s.health = { startupTimeout: 60, pollInterval: Number(option('poll', '0.1')) };
        });
        const deployAt = new Date().toISOString();
        const { history, wallMs } = await run(spec, `ready-${i}`);
        const events = history.events ?? [];
        const scheduled = new Map<string, string>();
        let activityMs = 0;
        const startedAt = new Map<string, number>();
        let healthDoneMs = 0;
        for (const event of events) {
          const s = event.activityTaskScheduledEventAttributes;
          if (s) scheduled.set(String(event.eventId), s.activityType?.name ?? '');
          const st = event.activityTaskStartedEventAttributes;
          if (st) startedAt.set(String(st.scheduledEventId), eventTimeMs(event));
          const done = event.activityTaskCompletedEventAttributes;
          if (done) {
            const key = String(done.scheduledEventId);
            activityMs += eventTimeMs(event) - (startedAt.get(key) ?? eventTimeMs(event));
            if (scheduled.get(key) === 'waitForHealth') healthDoneMs = eventTimeMs(event);
          }
        }
        overheads.push(wallMs / activityMs);
        const logs = await platform.logs(spec.app, { since: deployAt });
        const ready = logs.find((l) => l.text.includes('fired up and ready to roll'));
        if (ready && healthDoneMs) readiness.push(healthDoneMs - Date.parse(ready.time));
      }
      rows.push(
        `| readiness detection (engine ready → health step done), p50 / p95 of ${readiness.length}, poll ${option('poll', '0.1')} s | ${percentile(readiness, 50).toFixed(0)} / ${percentile(readiness, 95).toFixed(0)} ms |`,
      );
      rows.push(
        `| orchestration overhead: rollout wall time ÷ time inside activities, p50 / max of ${overheads.length} | ${percentile(overheads, 50).toFixed(3)} / ${Math.max(...overheads).toFixed(3)} |`,
      );

      // 3. History size does not grow with the health wait: the wait is one heartbeating activity.
      for (const waitSec of waits) {
        const timeScale = waitSec >= 600 ? 1 : waitSec / 300;
        const spec = specFor(`bench-wait-${waitSec}`, (s) => {
          s.local.timeScale = timeScale;
          s.local.compile = { seconds: 1, shouldFail: false };
          s.local.emulator = { phases: { weightLoadMs: (waitSec / timeScale) * 1000, graphCaptureMs: 100 } };
          s.health = { startupTimeout: waitSec * 2 + 60, pollInterval: 1 };
          s.warmup = { timeout: 600 };
        });
        const { history, result } = await run(spec, `wait-${waitSec}`);
        const health = result.phases.find((p) => p.name === 'health');
        rows.push(
          `| history events, health wait ${((health?.durationMs ?? 0) / 1000).toFixed(0)} s (${health?.detail}) | ${(history.events ?? []).length} |`,
        );
      }
      console.log('| measure | value |\n|---|---|');
      for (const row of rows) console.log(row);
      console.log(
        `\nmachine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      );
    });
  } finally {
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
