/**
 * What users see during an in-place rollout: a bounded open-loop load (default 5 requests/s, each a short chat
 * completion through the app's router) across (a) a successful rollout and (b) a rollout of the OOM drill image,
 * which fails and is compensated, against a baseline with no rollout. Prints requests, errors by status, p50/p99
 * latency and the p99 added over the baseline, and which versions answered. Everything is real: Temporal dev server,
 * worker, platform daemon, emulator engines and the fixture hub; the spec is the local demo at its time scale.
 *
 *   npm run bench -- rollout-under-load [--rate 5] [--baseline-s 20] [--tail-s 3]
 */
import { secretSource } from '../src/config/secrets';
import type { RolloutResult } from '../src/shared/rollout-types';
import type { Spec } from '../src/spec/schema';
import { rollout } from '../src/workflows';
import { machineLine, option, percentile, startBenchStack } from './bench-stack';

const DRILL_IMAGE = 'lmsysorg/sglang:v0.5.11-drill-oom';
const REQUEST_TIMEOUT_MS = 120_000;
const VERSION_HEADER = 'x-glm-ops-version';

/** One user request: its status (or the transport failure), how long it took, and which version answered. */
interface Sample {
  status: string;
  latencyMs: number;
  version: string;
}

/** Sends one short chat completion and records what the user saw. */
async function oneRequest(url: string, apiKey: string, servedName: string): Promise<Sample> {
  const started = performance.now();
  try {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: servedName, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    await response.text();
    return {
      status: String(response.status),
      latencyMs: performance.now() - started,
      version: response.headers.get(VERSION_HEADER) ?? '?',
    };
  } catch (err) {
    const name = (err as { name?: string }).name === 'TimeoutError' ? 'timeout' : 'transport error';
    return { status: name, latencyMs: performance.now() - started, version: '-' };
  }
}

/**
 * Open-loop load: one request every 1000/rate ms whatever the others are doing, from now until `until` resolves
 * (plus a tail), then waits for every request still in flight.
 */
async function loadDuring(
  target: { url: string; apiKey: string; servedName: string },
  ratePerS: number,
  until: Promise<unknown>,
  tailMs: number,
): Promise<Sample[]> {
  const inFlight: Array<Promise<Sample>> = [];
  let isDone = false;
  void until.finally(() => setTimeout(() => (isDone = true), tailMs));
  const intervalMs = 1000 / ratePerS;
  const startedAt = performance.now();
  for (let i = 0; !isDone; i++) {
    inFlight.push(oneRequest(target.url, target.apiKey, target.servedName));
    const nextAt = startedAt + (i + 1) * intervalMs;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextAt - performance.now())));
  }
  return Promise.all(inFlight);
}

function row(name: string, samples: Sample[], baselineP99: number, note: string): string {
  const latencies = samples.map((s) => s.latencyMs);
  const errors = new Map<string, number>();
  for (const s of samples) if (s.status !== '200') errors.set(s.status, (errors.get(s.status) ?? 0) + 1);
  const errorText = errors.size === 0 ? '0' : [...errors].map(([status, n]) => `${n} × ${status}`).join(', ');
  const versions = new Map<string, number>();
  for (const s of samples) if (s.status === '200') versions.set(s.version, (versions.get(s.version) ?? 0) + 1);
  const versionText = [...versions].map(([v, n]) => `v${v}: ${n}`).join(', ') || '—';
  const p99 = percentile(latencies, 99);
  const added = Number.isNaN(baselineP99) ? '—' : `${(p99 - baselineP99).toFixed(0)}`;
  return (
    `| ${name} | ${samples.length} | ${errorText} | ${percentile(latencies, 50).toFixed(0)} | ` +
    `${p99.toFixed(0)} | ${added} | ${versionText} | ${note} |`
  );
}

async function main(): Promise<void> {
  const ratePerS = Number(option('rate', '5'));
  const baselineMs = Number(option('baseline-s', '20')) * 1000;
  const tailMs = Number(option('tail-s', '3')) * 1000;
  const stack = await startBenchStack({ fixtureSizeMB: 20, taskQueue: 'bench-under-load' });
  const { client, worker, taskQueue } = stack;
  const app = 'bench-under-load';
  const base = stack.specFor(app);
  const apiKey = secretSource(stack.config).resolve(base.secrets.apiKey);
  const runRollout = async (spec: Spec, id: string): Promise<RolloutResult | Error> => {
    const handle = await client.workflow.start(rollout, {
      taskQueue,
      workflowId: `rollout/${app}/${id}`,
      args: [{ spec, rolloutId: id }],
    });
    return handle.result().catch((err: unknown) => err as Error);
  };
  const outcomeOf = (result: RolloutResult | Error, elapsedMs: number): string =>
    `${result instanceof Error ? 'failed (compensated)' : result.outcome} in ${(elapsedMs / 1000).toFixed(1)} s`;

  try {
    await worker.runUntil(async () => {
      const first = await runRollout(base, 'v1');
      if (first instanceof Error) throw first;
      const { url } = await stack.platform.endpoint(app);
      const target = { url, apiKey, servedName: base.model.servedName };
      const rows: string[] = [];

      const baseline = await loadDuring(target, ratePerS, new Promise((r) => setTimeout(r, baselineMs)), 0);
      const baselineP99 = percentile(
        baseline.map((s) => s.latencyMs),
        99,
      );
      rows.push(row('baseline, no rollout', baseline, NaN, `${baselineMs / 1000} s of load`));

      let started = performance.now();
      let outcome = '';
      const good = runRollout(base, 'v2').then((r) => (outcome = outcomeOf(r, performance.now() - started)));
      rows.push(row('(a) successful rollout', await loadDuring(target, ratePerS, good, tailMs), baselineP99, outcome));

      started = performance.now();
      const drill = stack.specFor(app, (s) => {
        s.sglang.image = DRILL_IMAGE;
      });
      const failing = runRollout(drill, 'drill').then((r) => (outcome = outcomeOf(r, performance.now() - started)));
      rows.push(
        row(
          '(b) OOM drill image, compensated',
          await loadDuring(target, ratePerS, failing, tailMs),
          baselineP99,
          outcome,
        ),
      );

      console.log(
        `\n${machineLine()}; ${ratePerS} requests/s open loop, local demo spec (time scale ${base.local.timeScale})\n`,
      );
      console.log('| run | requests | errors (by status) | p50 ms | p99 ms | p99 added ms | answered by | rollout |');
      console.log('|---|---:|---|---:|---:|---:|---|---|');
      for (const line of rows) console.log(line);
      const status = (await stack.platform.logs(app, { limit: 5000 })).filter((l) => l.stream === 'system');
      console.log('\nplatform lines:');
      for (const line of status.filter((l) => /deployed|serves|rolled back|kept|stopping engine|FATAL/.test(l.text)))
        console.log(`  ${line.time} ${line.text}`);
    });
  } finally {
    await stack.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
