import type { PerformanceMeasurement } from '../../src/shared/performance-types';
import { ErrorType } from '../../src/shared/errors';
import type { TuneResult } from '../../src/shared/tune-types';
import { tune } from '../../src/workflows';
import { testId, withWorker } from '../helpers/temporal';
import { testSpec } from '../helpers/test-spec';
import { tuneInputFor } from '../helpers/tune-stack';
import { failure, SagaFakes } from '../helpers/saga-fakes';

jest.setTimeout(120_000);

/** What a fake measurement of a candidate returns: 8 requests done, TTFT well under the SLO. */
function measured(tokensPerSec: number): PerformanceMeasurement {
  return {
    version: 2,
    load: { concurrency: 4, requestRate: null, requests: 8, warmupRequests: 1, dataset: 'random 128→8 tokens' },
    figures: {
      ttftP50Ms: 100,
      ttftP95Ms: 120,
      tpotP50Ms: 8,
      tpotP95Ms: 9,
      outputTokensPerSec: tokensPerSec,
      requestsPerSec: 1,
      measuredConcurrency: 4,
      completed: 8,
      failed: 0,
      errorRate: 0,
      acceptLength: 3.2,
      durationSec: 2,
    },
    summary: null,
    problems: [],
    timeScale: 1,
  };
}

/** The tune's steps against typed fakes: each branch in milliseconds, on the real dev server and worker. */
describe('tune against fake activities', () => {
  const space = { args: { 'max-running-requests': [16, 32, 48] } };

  async function runTune(fakes: SagaFakes, input: ReturnType<typeof tuneInputFor>): Promise<TuneResult> {
    return withWorker(fakes.activities, ({ client, taskQueue }) =>
      client.workflow.execute(tune, { taskQueue, workflowId: input.tuneId, args: [input] }),
    );
  }

  it('stops, state failed, after two trials in a row broke (the platform unreachable); each was torn down', async () => {
    const fakes = new SagaFakes({
      async deploy() {
        throw failure(ErrorType.PlatformUnreachable, 'the platform daemon did not answer');
      },
    });
    const app = testId('tune-broke');
    const result = await runTune(fakes, tuneInputFor(testSpec(app), { space, strategy: 'grid' }));
    expect(result).toMatchObject({ state: 'failed', chosen: null });
    expect(result.endedBecause).toBe('2 trials in a row broke: the platform daemon did not answer');
    expect(result.trials.map((t) => [t.outcome, t.reason, t.isTornDown])).toEqual([
      ['failed', 'the platform daemon did not answer', true],
      ['failed', 'the platform daemon did not answer', true],
    ]);
    expect(fakes.inputsOf('deploy').map((d) => d.spec.app)).toEqual([`${app}-t1`, `${app}-t2`]);
    expect(fakes.inputsOf('stopApp').map((s) => s.app)).toEqual([`${app}-t1`, `${app}-t2`]);
  });

  it('a warm-up that fails is an infeasible point with the diagnosis; the tune goes on and chooses another', async () => {
    let deploys = 0;
    const fakes = new SagaFakes({
      async deploy({ rolloutId }) {
        deploys += 1;
        return { ...deployed(rolloutId), version: 1 };
      },
      async warmup(input) {
        if (input.app.endsWith('-t2')) throw failure(ErrorType.WarmupFailed, 'warmup failed for long-context (502)');
        return [{ name: 'chat', durationMs: 12 }];
      },
      async measurePerformance(input) {
        return measured(input.app.endsWith('-t1') ? 900 : 1_500);
      },
    });
    const app = testId('tune-warm');
    const result = await runTune(fakes, tuneInputFor(testSpec(app), { space, strategy: 'grid' }));
    expect(result.state).toBe('finished');
    expect(result.trials.map((t) => t.outcome)).toEqual(['measured', 'infeasible', 'measured']);
    expect(result.trials[1]!.reason).toBe('CUDA out of memory (§12): warmup failed for long-context (502)');
    expect(result.chosen).toMatchObject({ index: 3, key: 'max-running-requests=48', objectiveValue: 1_500 });
    expect(deploys).toBe(3);
    expect(fakes.inputsOf('deploy').every((d) => d.isTrial === true)).toBe(true);
  });

  it('records a teardown that failed: the app named, isTornDown false', async () => {
    const fakes = new SagaFakes({
      async deploy({ rolloutId }) {
        return deployed(rolloutId);
      },
      async measurePerformance() {
        return measured(1_000);
      },
      async stopApp() {
        throw failure(ErrorType.PlatformUnreachable, 'the platform daemon did not answer');
      },
    });
    const app = testId('tune-down');
    const result = await runTune(
      fakes,
      tuneInputFor(testSpec(app), { space: { args: { 'max-running-requests': [48] } }, strategy: 'grid' }),
    );
    expect(result.trials).toEqual([
      expect.objectContaining({
        outcome: 'measured',
        isTornDown: false,
        reason: `teardown failed, stop ${app}-t1 by hand: the platform daemon did not answer`,
      }),
    ]);
  });

  it('starts no trial the dollars budget cannot pay for: the first priced from trialEstimateSec', async () => {
    const fakes = new SagaFakes();
    const app = testId('tune-dollars');
    // 900 s × 8 GPUs = 2 GPU-hours at $7.5 = $15 a trial, more than the $10 budget.
    const input = { ...tuneInputFor(testSpec(app), { space, strategy: 'grid', budget: { dollars: 10 } }) };
    input.trialEstimateSec = 900;
    const result = await runTune(fakes, input);
    expect(result).toMatchObject({ state: 'budget-exhausted', trials: [], spent: { trials: 0, dollars: 0 } });
    expect(result.endedBecause).toBe('budget: $10 (spent $0.00, the next trial needs ~$15.00)');
    expect(fakes.inputsOf('deploy')).toEqual([]);
  });
});

function deployed(rolloutId: string) {
  return {
    version: 1,
    rolloutId,
    sglangImage: 'lmsysorg/sglang:v0.5.10',
    gpuType: 'B200',
    deployedAt: '2026-12-02T00:00:00.000Z',
    secretName: 'glm-api-key',
    startupTimeoutSec: 30,
    pollIntervalSec: 0.1,
    endpoint: 'http://127.0.0.1:1',
  };
}
