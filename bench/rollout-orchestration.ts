/**
 * Rollout benchmark on the local platform: readiness detection latency, orchestration overhead, history size for a
 * short and a long health wait, and the re-run time. Everything is real: a Temporal dev server, a worker, the platform
 * daemon, the emulator and the fixture hub.
 *
 *   npm run bench -- rollout-orchestration [--waits 60,600] [--readiness-runs 10]
 */
import type { Spec } from '../src/spec/schema';
import type { RolloutResult } from '../src/shared/rollout-types';
import { rollout } from '../src/workflows';
import { machineLine, option, percentile, startBenchStack } from './bench-stack';

function eventTimeMs(event: { eventTime?: { seconds?: unknown; nanos?: number | null } | null }): number {
  const seconds = Number(event.eventTime?.seconds ?? 0);
  return seconds * 1000 + Math.round((event.eventTime?.nanos ?? 0) / 1e6);
}

async function main(): Promise<void> {
  const waits = option('waits', '60,600').split(',').map(Number);
  const readinessRuns = Number(option('readiness-runs', '10'));
  const stack = await startBenchStack({ fixtureSizeMB: 50, taskQueue: 'bench' });
  const { client, worker, platform, taskQueue } = stack;
  const specFor = (app: string, patch: (spec: Spec) => void): Spec => stack.specFor(app, patch);
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
      console.log(`
${machineLine()}`);
    });
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
