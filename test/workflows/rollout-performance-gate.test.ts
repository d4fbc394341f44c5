import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../src/activities';
import { ErrorType } from '../../src/shared/errors';
import { decide } from '../../src/shared/performance-messages';
import type { PerformanceFigures, PerformanceMeasurement } from '../../src/shared/performance-types';
import { abort, status } from '../../src/shared/rollout-messages';
import type { RolloutResult, RolloutStatus } from '../../src/shared/rollout-types';
import type { Spec } from '../../src/spec/schema';
import { rollout } from '../../src/workflows';
import { Gate, SagaFakes } from '../helpers/saga-fakes';
import { testId, withWorker } from '../helpers/temporal';
import { testSpec } from '../helpers/test-spec';
import { waitFor } from '../helpers/wait-for';

/**
 * The rollout's performance gate on the real dev server with typed fake activities: pass continues, fail compensates
 * with PerformanceGateFailed naming measured values and thresholds, inconclusive pauses for `decide` (or the spec's
 * default after its timeout), and a regression against the version replaced fails.
 */

const UP_TO_SMOKE = [
  'validateSpec',
  'ensureWeights',
  'commitVolume',
  'compileKernels',
  'commitVolume',
  'currentDeployment',
  'lastVerifiedDeployment',
  'deploy',
  'waitForHealth',
  'warmup',
  'smokeTest',
];
const GATE = ['performanceBaseline', 'measurePerformance'];
/** The restore of v1 after a failure: roll back, then wait for v1's health. */
const RESTORE_V1 = ['rollbackTo', 'waitForHealth'];

const LOAD = { concurrency: 4, requestRate: null, requests: 16, warmupRequests: 2, dataset: 'random 256→32 tokens' };

function figures(patch: Partial<PerformanceFigures> = {}): PerformanceFigures {
  return {
    ttftP50Ms: 246,
    ttftP95Ms: 262,
    tpotP50Ms: 7.7,
    tpotP95Ms: 8.4,
    outputTokensPerSec: 480,
    requestsPerSec: 3.9,
    measuredConcurrency: 3.8,
    completed: 16,
    failed: 0,
    errorRate: 0,
    acceptLength: 3.5,
    durationSec: 4.1,
    ...patch,
  };
}

/** A measurePerformance fake returning these figures for whichever version it was asked to measure. */
function measuring(patch: Partial<PerformanceMeasurement> = {}): Partial<Activities> {
  return {
    async measurePerformance(input) {
      return {
        version: input.version,
        load: LOAD,
        figures: figures(),
        summary: null,
        problems: [],
        timeScale: 1,
        ...patch,
      };
    },
    async performanceBaseline() {
      return null;
    },
  };
}

/** Evidence too thin to judge: 3 of 16 completed. */
const THIN = { figures: figures({ completed: 3, failed: 13, errorRate: 13 / 16 }) };

function gatedSpec(patch: (spec: Spec) => void = () => undefined): Spec {
  return testSpec(testId('gate'), (spec) => {
    spec.slo.enabled = true;
    patch(spec);
  });
}

function start(client: Client, taskQueue: string, spec: Spec): Promise<WorkflowHandle<typeof rollout>> {
  return client.workflow.start(rollout, {
    taskQueue,
    workflowId: `rollout/${spec.app}`,
    args: [{ spec, rolloutId: `r-${spec.app}` }],
  });
}

async function failureOf(
  handle: WorkflowHandle<typeof rollout>,
): Promise<{ failure: ApplicationFailure; status: RolloutStatus }> {
  const err: unknown = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure)) {
    throw new Error(`expected the rollout to fail with an ApplicationFailure, got ${String(err)}`);
  }
  return { failure: err.cause, status: (err.cause.details?.[0] as { status: RolloutStatus }).status };
}

/** Waits until the rollout asks its performance question, and returns the status then. */
async function questionAsked(handle: WorkflowHandle<typeof rollout>): Promise<RolloutStatus> {
  let asked: RolloutStatus | undefined;
  await waitFor(
    async () => {
      const seen = await handle.query(status);
      asked = seen.performanceQuestion ? seen : undefined;
      return asked !== undefined;
    },
    { what: 'the performance question', timeoutMs: 120_000 },
  );
  return asked!;
}

describe('rollout performance gate (fake activities, real dev server)', () => {
  it('pass: measures v2 after smoke, records the figures in the result and the memo, then marks v2 verified', async () => {
    const fakes = new SagaFakes(measuring());
    const spec = gatedSpec();
    const { result, memo } = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      const result = await handle.result();
      return { result, memo: (await handle.describe()).memo };
    });
    expect(fakes.names()).toEqual([...UP_TO_SMOKE, ...GATE, 'markVerified']);
    expect(fakes.inputsOf('measurePerformance')[0]).toMatchObject({
      version: 2,
      load: spec.slo.load,
      secretName: spec.secrets.apiKey,
      servedName: spec.model.servedName,
      timeScale: spec.local.timeScale,
    });
    expect(fakes.inputsOf('performanceBaseline')).toEqual([{ app: spec.app, version: 1 }]);
    expect(result.performance).toMatchObject({
      verdict: { verdict: 'pass', reasons: [] },
      measurement: { version: 2, figures: figures() },
    });
    expect(result.phases.map((p) => `${p.name}:${p.state}`).slice(-2)).toEqual(['smoke:done', 'performance:done']);
    expect(result.phases.find((p) => p.name === 'performance')!.detail).toBe(
      'passed: TTFT p95 262 ms, TPOT p95 8.4 ms, 480 tok/s at 4 users, 16 requests (2 warm-up), random 256→32 tokens',
    );
    expect(memo).toEqual({ performance: { version: 2, load: LOAD, figures: figures() } });
  });

  it('off (slo.enabled false): no performance phase, v2 verified right after smoke', async () => {
    const fakes = new SagaFakes();
    const spec = testSpec(testId('gate-off'));
    const result: RolloutResult = await withWorker(fakes.activities, async ({ client, taskQueue }) =>
      (await start(client, taskQueue, spec)).result(),
    );
    expect(fakes.names()).toEqual([...UP_TO_SMOKE, 'markVerified']);
    expect(result.phases.map((p) => p.name)).not.toContain('performance');
    expect(result.performance).toBeUndefined();
  });

  it('fail: TTFT p95 over the SLO compensates with PerformanceGateFailed naming measured value and threshold', async () => {
    const fakes = new SagaFakes(measuring({ figures: figures({ ttftP95Ms: 2412 }) }));
    const spec = gatedSpec();
    const { failure, status: final } = await withWorker(fakes.activities, async ({ client, taskQueue }) =>
      failureOf(await start(client, taskQueue, spec)),
    );
    expect(failure.type).toBe(ErrorType.PerformanceGateFailed);
    expect(failure.message.split('\n')[0]).toBe(
      'performance gate failed for v2: TTFT p95 2412 ms > 300 ms (TTFT p95 2412 ms, TPOT p95 8.4 ms, 480 tok/s at 4 users, 16 requests (2 warm-up), random 256→32 tokens)',
    );
    expect(failure.message).toContain('failed in phase performance');
    // v2 is never marked verified: it must not become the next rollout's way back.
    expect(fakes.names()).toEqual([...UP_TO_SMOKE, ...GATE, 'diagnoseApp', ...RESTORE_V1]);
    expect(final.performance?.verdict.verdict).toBe('fail');
    expect(final.compensations.map((c) => c.outcome)).toEqual(['done']);
  });

  it('fail: a TTFT p95 regression beyond maxRegressionPct against the version replaced, at the same load', async () => {
    const fakes = new SagaFakes({
      ...measuring({ figures: figures({ ttftP95Ms: 290 }) }),
      async performanceBaseline({ version }) {
        return { version, load: LOAD, figures: figures({ ttftP95Ms: 250, tpotP95Ms: 8.4 }) };
      },
    });
    const spec = gatedSpec((s) => (s.slo.maxRegressionPct = 10));
    const { failure, status: final } = await withWorker(fakes.activities, async ({ client, taskQueue }) =>
      failureOf(await start(client, taskQueue, spec)),
    );
    expect(failure.type).toBe(ErrorType.PerformanceGateFailed);
    expect(failure.message).toMatch(/^performance gate failed for v2: TTFT p95 vs v1 \(\+10%\) 290 ms > 275 ms/);
    expect(final.performance?.verdict.baseline).toMatchObject({ version: 1, figures: { ttftP95Ms: 250 } });
  });

  it('inconclusive → decide promote: the rollout pauses, shows the question, and goes on with the decision recorded', async () => {
    const fakes = new SagaFakes(measuring(THIN));
    const spec = gatedSpec();
    const { asked, refused, decision, result } = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      const asked = await questionAsked(handle);
      const refused = await handle
        .executeUpdate(decide, { args: [{ decision: 'promote', reason: ' ', by: 'alice' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      const decision = await handle.executeUpdate(decide, {
        args: [{ decision: 'promote', reason: 'the load generator host was saturated', by: 'alice' }],
      });
      return { asked, refused, decision, result: await handle.result() };
    });
    expect(asked.phase).toBe('performance');
    expect(asked.performanceQuestion).toMatchObject({
      version: 2,
      defaultDecision: 'abort',
      howToAnswer: `glm-ops decide ${spec.app} promote|abort --reason "…"`,
    });
    expect(asked.performanceQuestion!.reasons).toEqual([
      'too few samples: 3 of 16 requests completed (slo.minSamples 8)',
      'error rate 81.25% (13 of 16 failed) above slo.maxErrorRate 5%',
    ]);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/^reason: say why/);
    expect(decision).toMatchObject({ decision: 'promote', by: 'alice', source: 'person' });
    expect(result.performance?.decision).toEqual(decision);
    expect(result.phases.find((p) => p.name === 'performance')!.detail).toMatch(
      /^inconclusive, promoted by alice: the load generator host was saturated: /,
    );
    expect(fakes.names()).toEqual([...UP_TO_SMOKE, ...GATE, 'markVerified']);
  });

  it('inconclusive → decide abort: compensates with PerformanceGateFailed naming who aborted and why', async () => {
    const fakes = new SagaFakes(measuring({ figures: null, problems: ['the load could not run: ECONNRESET'] }));
    const spec = gatedSpec();
    const { failure, status: final } = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      await questionAsked(handle);
      await handle.executeUpdate(decide, {
        args: [{ decision: 'abort', reason: 'no evidence, no promotion', by: 'bob' }],
      });
      return failureOf(handle);
    });
    expect(failure.type).toBe(ErrorType.PerformanceGateFailed);
    expect(failure.message.split('\n')[0]).toBe(
      'performance gate inconclusive for v2 (the load could not run: ECONNRESET); aborted by bob: no evidence, no promotion',
    );
    expect(fakes.names()).toEqual([...UP_TO_SMOKE, ...GATE, 'diagnoseApp', ...RESTORE_V1]);
    expect(final.performance?.decision).toMatchObject({ decision: 'abort', by: 'bob', source: 'person' });
    expect(final.performanceQuestion).toBeUndefined();
  });

  it.each(['promote', 'abort'] as const)(
    'inconclusive, nobody answers: after the timeout the spec’s default (%s) applies',
    async (fallback) => {
      const fakes = new SagaFakes(measuring(THIN));
      const spec = gatedSpec((s) => (s.slo.onInconclusive = { timeout: 1, default: fallback }));
      const outcome = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
        const handle = await start(client, taskQueue, spec);
        return fallback === 'promote' ? { result: await handle.result() } : { failed: await failureOf(handle) };
      });
      const decisionOf = outcome.result?.performance?.decision ?? outcome.failed?.status.performance?.decision;
      expect(decisionOf).toMatchObject({ decision: fallback, source: 'timeout', by: 'slo.onInconclusive.default' });
      if (fallback === 'promote') {
        expect(fakes.names()).toEqual([...UP_TO_SMOKE, ...GATE, 'markVerified']);
      } else {
        expect(outcome.failed!.failure.type).toBe(ErrorType.PerformanceGateFailed);
        expect(outcome.failed!.failure.message).toContain(
          'aborted by default (no decision within slo.onInconclusive.timeout 1s',
        );
        expect(fakes.names()).toEqual([...UP_TO_SMOKE, ...GATE, 'diagnoseApp', ...RESTORE_V1]);
      }
    },
  );

  it('refuses a decision while no question is open, and an abort ends the pause', async () => {
    const smoke = new Gate();
    const fakes = new SagaFakes({
      ...measuring(THIN),
      smokeTest: smoke.hold(async () => [{ name: 'inference', passed: true, detail: 'ok', durationMs: 3 }]),
    });
    const spec = gatedSpec();
    const { early, failed } = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      await smoke.entered;
      const early = await handle
        .executeUpdate(decide, { args: [{ decision: 'promote', reason: 'too early', by: 'carol' }] })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      smoke.open();
      await questionAsked(handle);
      await handle.executeUpdate(abort, { args: [{ reason: 'changed my mind' }] });
      return { early, failed: await failureOf(handle) };
    });
    expect(early).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((early as WorkflowUpdateFailedError).cause?.message).toBe(
      'the rollout is not waiting for a performance decision',
    );
    expect(failed.failure.type).toBe(ErrorType.Aborted);
    expect(failed.status.performanceQuestion).toBeUndefined();
    expect(fakes.names()).toEqual([...UP_TO_SMOKE, ...GATE, ...RESTORE_V1]);
  });
});
