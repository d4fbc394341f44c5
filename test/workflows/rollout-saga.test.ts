import { WorkflowFailedError, WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { heartbeat } from '@temporalio/activity';
import { pendingHealthAttempt } from '../../src/cli/rollout-end';
import { ErrorType } from '../../src/shared/errors';
import type { RolloutResult, RolloutStatus } from '../../src/shared/rollout-types';
import type { Spec } from '../../src/spec/schema';
import { rollout } from '../../src/workflows';
import { abort, status } from '../../src/shared/rollout-messages';
import { testId, withWorker } from '../helpers/temporal';
import { testSpec } from '../helpers/test-spec';
import { waitFor } from '../helpers/wait-for';
import { deploymentSummary, failure, Gate, SagaFakes, WEIGHTS_COMMIT } from '../helpers/saga-fakes';

/**
 * Every branch of the rollout saga, on the real dev server with typed fake activities: which steps run, in which
 * order the compensations undo them, and what the failure says.
 */

const HAPPY_STEPS = [
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
  'markVerified',
];

/** The steps up to and including `last`, as the happy path runs them. */
function stepsThrough(last: string): string[] {
  return HAPPY_STEPS.slice(0, HAPPY_STEPS.lastIndexOf(last) + 1);
}

/** The same for a first rollout: nothing serves, so there is no last verified version to ask for. */
function firstRolloutStepsThrough(last: string): string[] {
  return stepsThrough(last).filter((name) => name !== 'lastVerifiedDeployment');
}

/** The restore of v1 after a failure: roll back, then wait for v1's health with v1's own settings. */
const RESTORE_V1 = ['rollbackTo', 'waitForHealth'];

function start(client: Client, taskQueue: string, spec: Spec): Promise<WorkflowHandle<typeof rollout>> {
  return client.workflow.start(rollout, {
    taskQueue,
    workflowId: `rollout/${spec.app}`,
    args: [{ spec, rolloutId: `r-${spec.app}` }],
  });
}

/** The ApplicationFailure a failed rollout ended with, and the status it carried. */
async function failureOf(
  handle: WorkflowHandle<typeof rollout>,
): Promise<{ failure: ApplicationFailure; cause: string; status: RolloutStatus }> {
  const err: unknown = await handle.result().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError) || !(err.cause instanceof ApplicationFailure)) {
    throw new Error(`expected the rollout to fail with an ApplicationFailure, got ${String(err)}`);
  }
  const details = err.cause.details?.[0] as { cause: string; status: RolloutStatus };
  return { failure: err.cause, cause: details.cause, status: details.status };
}

/** Runs one rollout of a fresh app against `fakes` and returns its outcome. */
async function runRollout(
  fakes: SagaFakes,
  patch: (spec: Spec) => void = () => undefined,
): Promise<{ result?: RolloutResult; failed?: Awaited<ReturnType<typeof failureOf>>; spec: Spec }> {
  const spec = testSpec(testId('saga'));
  patch(spec);
  return withWorker(fakes.activities, async ({ client, taskQueue }) => {
    const handle = await start(client, taskQueue, spec);
    const result = await handle.result().catch(() => undefined);
    return result ? { result, spec } : { failed: await failureOf(handle), spec };
  });
}

describe('rollout saga (fake activities, real dev server)', () => {
  it('runs the pipeline in order and deploys the commit the sentinel vouches for', async () => {
    const fakes = new SagaFakes();
    const { result, spec } = await runRollout(fakes);
    expect(fakes.names()).toEqual(HAPPY_STEPS);
    expect(result).toMatchObject({
      outcome: 'succeeded',
      deployedVersion: 2,
      previousVersion: 1,
      warnings: ['a lint warning'],
    });
    expect(fakes.inputsOf('commitVolume').map((i) => i.volume)).toEqual(['weights', 'kernels']);
    expect(fakes.inputsOf('deploy')[0]!.spec.model.revision).toBe(WEIGHTS_COMMIT);
    expect(fakes.inputsOf('waitForHealth')[0]).toMatchObject({
      secretName: spec.secrets.apiKey,
      startupTimeoutSec: spec.health.startupTimeout,
    });
    // Health, warmup and smoke name the new version, so the platform's router sends them to it, not to v1.
    expect(fakes.inputsOf('waitForHealth')[0]).toMatchObject({ version: 2 });
    expect(fakes.inputsOf('warmup')[0]).toMatchObject({ version: 2 });
    expect(fakes.inputsOf('smokeTest')[0]).toMatchObject({ version: 2 });
    expect(fakes.inputsOf('waitForHealth')[0]).not.toHaveProperty('platformStartMarginSec');
    expect(result!.phases.map((p) => `${p.name}:${p.state}`)).toEqual(
      ['validate', 'weights', 'kernels', 'deploy', 'health', 'warmup', 'smoke'].map((n) => `${n}:done`),
    );
    expect(result!.phases.find((p) => p.name === 'health')).toMatchObject({
      detail: 'passed on attempt 4',
      guideExpectation: '3–5 min (guide §7)',
    });
    expect(result!.phases.find((p) => p.name === 'deploy')!.detail).toBe('v2 (previous v1)');
  });

  it('reports valid sentinel and marker as skipped steps, and keeps the revision when no commit is known', async () => {
    const fakes = new SagaFakes({
      async ensureWeights({ spec }) {
        return {
          status: {
            state: 'valid',
            repo: spec.model.repo,
            path: '/w',
            sentinelPath: '/w/s',
            fileCount: 7,
            bytes: 1,
            problems: [],
          },
          skipped: true,
          bytesDownloaded: 0,
          filesDownloaded: 0,
          durationMs: 1,
        };
      },
      async compileKernels() {
        return {
          status: { state: 'valid', reasons: [], path: '/k', markerPath: '/k/m' },
          skipped: true,
          durationMs: 1,
        };
      },
    });
    const { result, spec } = await runRollout(fakes);
    const byName = Object.fromEntries(result!.phases.map((p) => [p.name, p]));
    expect(byName.weights).toMatchObject({
      state: 'skipped',
      detail: expect.stringContaining('sentinel valid (7 files)'),
    });
    expect(byName.kernels).toMatchObject({ state: 'skipped', detail: expect.stringContaining('marker valid') });
    expect(fakes.inputsOf('deploy')[0]!.spec.model.revision).toBe(spec.model.revision);
  });

  it('no longer writes the knownGood memo; a patch marker records why older histories still do', async () => {
    const fakes = new SagaFakes();
    const spec = testSpec(testId('saga'));
    const events = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      await handle.result();
      return (await handle.fetchHistory()).events ?? [];
    });
    expect(events.some((e) => e.workflowPropertiesModifiedEventAttributes)).toBe(false);
    expect(events.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')).toBe(true);
  });

  it.each([
    ['validate', 'validateSpec', ErrorType.SpecInvalid],
    ['weights', 'ensureWeights', ErrorType.WeightsNotFound],
  ] as const)('a failure in %s touches nothing, so nothing is compensated', async (phase, activity, type) => {
    const fakes = new SagaFakes({
      [activity]: async () => {
        throw failure(type, `${activity} said no`);
      },
    });
    const { failed } = await runRollout(fakes);
    expect(fakes.names()).toEqual(stepsThrough(activity));
    expect(failed!.failure.type).toBe(type);
    expect(failed!.failure.message).toBe(`${activity} said no\nfailed in phase ${phase}`);
    expect(failed!.status).toMatchObject({ phase: 'failed', compensations: [], diagnoses: [] });
    expect(failed!.status.phases.find((p) => p.name === phase)).toMatchObject({
      state: 'failed',
      detail: `${activity} said no`,
    });
  });

  it('a compile that fails twice removes only the partial cache of this run, and is not diagnosed', async () => {
    const fakes = new SagaFakes({
      async compileKernels() {
        // Retryable: the compile profile allows one retry, then compensation.
        throw ApplicationFailure.create({ type: ErrorType.CompileFailed, message: 'compile_deepgemm was killed' });
      },
    });
    const { failed, spec } = await runRollout(fakes);
    expect(fakes.names()).toEqual([...stepsThrough('compileKernels'), 'compileKernels', 'invalidateKernels']);
    expect(fakes.inputsOf('invalidateKernels')).toEqual([{ spec, onlyIfRolloutId: `r-${spec.app}` }]);
    expect(failed!.failure.type).toBe(ErrorType.CompileFailed);
    expect(failed!.status.compensations).toEqual([
      { step: 'remove the partial DeepGEMM cache of this run', outcome: 'done', detail: 'ok' },
    ]);
  });

  it('once the compile finished its cache is kept: a failed kernels commit removes nothing', async () => {
    const fakes = new SagaFakes({
      async commitVolume({ volume }) {
        if (volume === 'kernels') throw failure(ErrorType.DiskFull, 'kernels volume full');
      },
    });
    const { failed } = await runRollout(fakes);
    expect(fakes.names()).toEqual(stepsThrough('compileKernels').concat('commitVolume'));
    expect(failed!.failure.type).toBe(ErrorType.DiskFull);
    expect(failed!.status.compensations).toEqual([]);
  });

  it('a refused deploy is diagnosed, then v1 is restored and verified with its own health settings', async () => {
    const fakes = new SagaFakes({
      async deploy() {
        throw failure(ErrorType.DeployFailed, 'the platform refused the deploy');
      },
    });
    const { failed, spec } = await runRollout(fakes);
    expect(fakes.names()).toEqual([...stepsThrough('deploy'), 'diagnoseApp', ...RESTORE_V1]);
    expect(fakes.inputsOf('diagnoseApp')[0]).toMatchObject({ app: spec.app, secretName: spec.secrets.apiKey });
    expect(Date.parse(fakes.inputsOf('diagnoseApp')[0]!.since)).not.toBeNaN();
    expect(fakes.inputsOf('rollbackTo')).toEqual([{ app: spec.app, platform: spec.platform, version: 1 }]);
    const v1 = deploymentSummary(1);
    expect(fakes.inputsOf('waitForHealth')).toEqual([
      {
        app: spec.app,
        platform: spec.platform,
        secretName: v1.secretName,
        startupTimeoutSec: v1.startupTimeoutSec,
        pollIntervalSec: v1.pollIntervalSec,
        // The verification names v1, so a platform still serving another version cannot pass it.
        version: 1,
      },
    ]);
    expect(failed!.failure.type).toBe(ErrorType.DeployFailed);
    expect(failed!.failure.message).toBe(
      [
        'the platform refused the deploy',
        'failed in phase deploy',
        'diagnosis: CUDA out of memory: lower sglang.memFractionStatic (§12)',
        'compensation done: roll back to v1 and verify it is healthy',
      ].join('\n'),
    );
  });

  it('a health timeout passes its probe outcomes to the diagnosis and leaves its attempt in the status', async () => {
    let healthCalls = 0;
    const fakes = new SagaFakes({
      async waitForHealth() {
        healthCalls += 1;
        if (healthCalls === 1) {
          throw failure(ErrorType.HealthTimeout, '/health did not answer 200', {
            attempt: 9,
            outcomes: { 'not-ready': 8, timeout: 1 },
          });
        }
        return { attempt: 1, elapsedMs: 1, outcomes: { ok: 1 } };
      },
    });
    const { failed } = await runRollout(fakes);
    expect(fakes.names()).toEqual([...stepsThrough('waitForHealth'), 'diagnoseApp', ...RESTORE_V1]);
    expect(fakes.inputsOf('diagnoseApp')[0]).toMatchObject({ probeOutcomes: ['not-ready', 'timeout'] });
    expect(failed!.failure.type).toBe(ErrorType.HealthTimeout);
    expect(failed!.status).toMatchObject({ phase: 'failed', healthAttempt: 9, deployedVersion: 2, previousVersion: 1 });
  });

  it('failed warmups and smoke tests name the failed requests to the diagnosis', async () => {
    const warm = new SagaFakes({
      async warmup() {
        throw failure(ErrorType.WarmupFailed, 'warmup failed', {
          results: [
            { name: 'chat', ok: true },
            { name: 'long-context', ok: false },
          ],
        });
      },
    });
    const smoke = new SagaFakes({
      async smokeTest() {
        throw failure(ErrorType.SmokeTestFailed, 'smoke failed', {
          results: [
            { name: 'reasoning', passed: false },
            { name: 'auth', passed: true },
          ],
        });
      },
    });
    const [warmRun, smokeRun] = [await runRollout(warm), await runRollout(smoke)];
    expect(warm.names()).toEqual([...stepsThrough('warmup'), 'diagnoseApp', ...RESTORE_V1]);
    expect(warm.inputsOf('diagnoseApp')[0]).toMatchObject({ warmupFailures: ['long-context'] });
    expect(warmRun.failed!.failure.type).toBe(ErrorType.WarmupFailed);
    expect(smoke.names()).toEqual([...stepsThrough('smokeTest'), 'diagnoseApp', ...RESTORE_V1]);
    expect(smoke.inputsOf('diagnoseApp')[0]).toMatchObject({ smokeFailures: ['reasoning'] });
    expect(smokeRun.failed!.failure.message).toContain('failed in phase smoke');
  });

  it('a first rollout that fails stops the app: there is no version to go back to', async () => {
    const fakes = new SagaFakes({
      async currentDeployment() {
        return null;
      },
      async smokeTest() {
        throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
      },
    });
    const { failed, spec } = await runRollout(fakes);
    expect(fakes.names()).toEqual([...firstRolloutStepsThrough('smokeTest'), 'diagnoseApp', 'stopApp']);
    expect(fakes.inputsOf('stopApp')).toEqual([{ app: spec.app, platform: spec.platform }]);
    expect(failed!.status.compensations).toEqual([
      { step: 'stop the app (there was no previous version)', outcome: 'done', detail: 'ok' },
    ]);
    expect(failed!.status.previousVersion).toBeUndefined();
  });

  it('the way back is the last verified version, not the unverified one a terminated rollout left routed', async () => {
    const smokeFails = async (): Promise<never> => {
      throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
    };
    const fakes = new SagaFakes({
      smokeTest: smokeFails,
      // v2 serves, never verified (its rollout was terminated during its health wait); v1 was the last verified.
      async currentDeployment() {
        return deploymentSummary(2);
      },
      async deploy({ rolloutId }) {
        return { ...deploymentSummary(3, { rolloutId }), endpoint: 'http://127.0.0.1:1/v3' };
      },
    });
    const { failed, spec } = await runRollout(fakes);
    expect(fakes.names()).toEqual([...stepsThrough('smokeTest'), 'diagnoseApp', ...RESTORE_V1]);
    expect(fakes.inputsOf('lastVerifiedDeployment')).toEqual([{ app: spec.app, platform: spec.platform }]);
    expect(fakes.inputsOf('rollbackTo')).toEqual([{ app: spec.app, platform: spec.platform, version: 1 }]);
    expect(failed!.status).toMatchObject({ previousVersion: 2, deployedVersion: 3 });
    expect(failed!.status.phases.find((p) => p.name === 'deploy')!.detail).toBe(
      'v3 (previous v2, way back v1: last verified)',
    );
    expect(failed!.status.compensations).toEqual([
      { step: 'roll back to v1 and verify it is healthy', outcome: 'done', detail: 'ok' },
    ]);
    expect(fakes.inputsOf('markVerified')).toEqual([]);
  });

  it('with nothing ever verified (state from before the record), the way back is the version serving', async () => {
    const fakes = new SagaFakes({
      async currentDeployment() {
        return deploymentSummary(4);
      },
      async lastVerifiedDeployment() {
        return null;
      },
      async warmup() {
        throw failure(ErrorType.WarmupFailed, 'warmup failed');
      },
    });
    const { failed } = await runRollout(fakes);
    expect(fakes.inputsOf('rollbackTo').map((i) => i.version)).toEqual([4]);
    expect(failed!.status.phases.find((p) => p.name === 'deploy')!.detail).toBe('v2 (previous v4)');
  });

  it('a rollout whose smoke tests passed records its version as verified on the platform', async () => {
    const fakes = new SagaFakes();
    const { result, spec } = await runRollout(fakes);
    expect(result!.outcome).toBe('succeeded');
    expect(fakes.inputsOf('markVerified')).toEqual([{ app: spec.app, platform: spec.platform, version: 2 }]);
    expect(fakes.names().slice(-2)).toEqual(['smokeTest', 'markVerified']);
  });

  it('a version that cannot be recorded as verified is not a success: the rollout fails in smoke and goes back', async () => {
    const fakes = new SagaFakes({
      async markVerified() {
        throw failure(ErrorType.NotFound, 'no such version');
      },
    });
    const { failed } = await runRollout(fakes);
    expect(fakes.names()).toEqual([...stepsThrough('markVerified'), 'diagnoseApp', ...RESTORE_V1]);
    expect(failed!.failure.message).toContain('failed in phase smoke');
    expect(failed!.status.compensations.map((c) => c.outcome)).toEqual(['done']);
  });

  it('a platform outage during the compensation is retried through: rollback, its health check, and the stop', async () => {
    // The platform answers again on the third call: an outage is retryable (not PlatformUnavailable), so the
    // compensation waits it out instead of failing with the failed version left routed.
    const unreachableTwice = <R>(answer: () => R) => {
      let calls = 0;
      return async (): Promise<R> => {
        calls += 1;
        if (calls <= 2) {
          throw ApplicationFailure.create({ type: ErrorType.PlatformUnreachable, message: 'daemon did not answer' });
        }
        return answer();
      };
    };
    const smokeFails = async (): Promise<never> => {
      throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
    };
    let healthCalls = 0;
    const restore = new SagaFakes({
      smokeTest: smokeFails,
      rollbackTo: unreachableTwice(() => deploymentSummary(1)),
      async waitForHealth() {
        healthCalls += 1;
        if (healthCalls === 2) {
          throw ApplicationFailure.create({ type: ErrorType.PlatformUnreachable, message: 'daemon did not answer' });
        }
        return { attempt: 1, elapsedMs: 1, outcomes: { ok: 1 } };
      },
    });
    const stop = new SagaFakes({
      smokeTest: smokeFails,
      async currentDeployment() {
        return null;
      },
      stopApp: unreachableTwice(() => undefined),
    });
    const [restored, stopped] = await Promise.all([runRollout(restore), runRollout(stop)]);
    expect(restore.names()).toEqual([
      ...stepsThrough('smokeTest'),
      'diagnoseApp',
      ...['rollbackTo', 'rollbackTo', 'rollbackTo', 'waitForHealth', 'waitForHealth'],
    ]);
    expect(restored.failed!.failure.type).toBe(ErrorType.SmokeTestFailed);
    expect(restored.failed!.status.compensations).toEqual([
      { step: 'roll back to v1 and verify it is healthy', outcome: 'done', detail: 'ok' },
    ]);
    expect(stop.names()).toEqual([
      ...firstRolloutStepsThrough('smokeTest'),
      ...['diagnoseApp', 'stopApp', 'stopApp', 'stopApp'],
    ]);
    expect(stopped.failed!.failure.type).toBe(ErrorType.SmokeTestFailed);
    expect(stopped.failed!.status.compensations.map((c) => c.outcome)).toEqual(['done']);
  });

  it('a diagnosis that cannot be had is left out; the compensation still runs', async () => {
    const fakes = new SagaFakes({
      async smokeTest() {
        throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
      },
      async diagnoseApp() {
        throw failure(ErrorType.PlatformUnavailable, 'no logs');
      },
    });
    const { failed } = await runRollout(fakes);
    expect(fakes.names()).toEqual([...stepsThrough('smokeTest'), 'diagnoseApp', ...RESTORE_V1]);
    expect(failed!.status.diagnoses).toEqual([]);
    expect(failed!.failure.type).toBe(ErrorType.SmokeTestFailed);
  });

  it.each([
    ['the rollback', { rollbackTo: 'rollbackTo', restoreCalls: ['rollbackTo'] }],
    ['the health check after it', { rollbackTo: 'waitForHealth', restoreCalls: RESTORE_V1 }],
  ] as const)(
    'when %s fails, the rollout fails with CompensationFailed and says what is left to do by hand',
    async (_, c) => {
      let healthCalls = 0;
      const fakes = new SagaFakes({
        async smokeTest() {
          throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
        },
        async rollbackTo({ version }) {
          if (c.rollbackTo === 'rollbackTo') throw failure(ErrorType.NotFound, `v${version} is gone`);
          return deploymentSummary(version);
        },
        async waitForHealth() {
          healthCalls += 1;
          if (healthCalls === 2) throw failure(ErrorType.EngineCrashed, 'v1 crashed on the way back');
          return { attempt: 1, elapsedMs: 1, outcomes: { ok: 1 } };
        },
      });
      const { failed } = await runRollout(fakes);
      expect(fakes.names()).toEqual([...stepsThrough('smokeTest'), 'diagnoseApp', ...c.restoreCalls]);
      expect(failed!.failure.type).toBe(ErrorType.CompensationFailed);
      expect(failed!.cause).toBe(ErrorType.SmokeTestFailed);
      const detail = c.rollbackTo === 'rollbackTo' ? 'v1 is gone' : 'v1 crashed on the way back';
      expect(failed!.failure.message).toContain(
        `compensation failed: roll back to v1 and verify it is healthy (${detail})`,
      );
      expect(failed!.failure.message).toMatch(/\nleft to do by hand: roll back to v1 and verify it is healthy$/);
    },
  );

  it('on Modal the health waits (new version and restore) add the image pull and warmup to the deadline', async () => {
    const fakes = new SagaFakes({
      async warmup() {
        throw failure(ErrorType.WarmupFailed, 'warmup failed');
      },
    });
    const { spec } = await runRollout(fakes, (s) => {
      s.platform = 'modal';
    });
    const margin = Math.ceil(spec.warmup.timeout) + 15 * 60;
    expect(fakes.inputsOf('waitForHealth').map((i) => i.platformStartMarginSec)).toEqual([margin, margin]);
  });
});

describe('rollout abort (update and validator)', () => {
  /** Starts a rollout whose health wait holds until the test opens the gate. */
  async function withHeldHealth(
    body: (handle: WorkflowHandle<typeof rollout>, gate: Gate, fakes: SagaFakes) => Promise<void>,
    overrides: ConstructorParameters<typeof SagaFakes>[0] = {},
    gate = new Gate(),
  ): Promise<void> {
    let healthCalls = 0;
    const fakes = new SagaFakes({
      waitForHealth: async () => {
        healthCalls += 1;
        const passed = { attempt: 2, elapsedMs: 1, outcomes: { ok: 1 } };
        return healthCalls === 1 ? gate.hold(async () => passed)() : passed;
      },
      ...overrides,
    });
    const spec = testSpec(testId('abort'));
    await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      try {
        await gate.entered;
        await body(handle, gate, fakes);
      } finally {
        gate.open();
        await handle.result().catch(() => undefined);
      }
    });
  }

  it('an abort during health cancels the wait, skips the diagnosis, restores v1 and fails as Aborted', async () => {
    await withHeldHealth(async (handle, gate, fakes) => {
      expect(await handle.query(status)).toMatchObject({ phase: 'health', healthAttempt: 0 });
      const accepted = await handle.executeUpdate(abort, { args: [{ reason: 'wrong image' }] });
      expect(accepted).toEqual({ acceptedInPhase: 'health' });
      gate.open();
      const { failure: f, status: s } = await failureOf(handle);
      expect(f.type).toBe(ErrorType.Aborted);
      expect(f.message).toBe(
        'aborted: wrong image\nfailed in phase health\ncompensation done: roll back to v1 and verify it is healthy',
      );
      expect(s).toMatchObject({ phase: 'aborted', abortRequested: 'wrong image', diagnoses: [] });
      expect(s.phases.find((p) => p.name === 'health')!.state).toBe('failed');
      expect(fakes.names()).toEqual([...stepsThrough('waitForHealth'), ...RESTORE_V1]);
    });
  });

  it('while health runs, the query knows no attempt yet and the heartbeat carries the live one', async () => {
    const gate = new Gate();
    await withHeldHealth(
      async (handle) => {
        expect((await handle.query(status)).healthAttempt).toBe(0);
        // The heartbeat reaches the server shortly after the call began: wait for it, then read it.
        await waitFor(async () => (await pendingHealthAttempt(handle)) !== undefined, { what: 'the health heartbeat' });
        expect(await pendingHealthAttempt(handle)).toBe(7);
        gate.open();
        expect((await handle.result()).outcome).toBe('succeeded');
        expect((await handle.query(status)).healthAttempt).toBe(2);
      },
      {
        waitForHealth: async () => {
          heartbeat({ attempt: 7, startedAtMs: 0, outcomes: { 'not-ready': 6 } });
          return gate.hold(async () => ({ attempt: 2, elapsedMs: 1, outcomes: { ok: 1 } }))();
        },
      },
      gate,
    );
  });

  it('refuses an abort without a reason, and the rollout goes on', async () => {
    await withHeldHealth(async (handle, gate) => {
      const refused = await handle.executeUpdate(abort, { args: [{ reason: '  ' }] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((refused as WorkflowUpdateFailedError).cause?.message).toBe('reason: give a reason for the abort');
      gate.open();
      expect((await handle.result()).outcome).toBe('succeeded');
    });
  });

  it('refuses an abort once compensation began', async () => {
    const rollback = new Gate();
    await withHeldHealth(
      async (handle, gate) => {
        gate.open();
        await rollback.entered;
        expect((await handle.query(status)).phase).toBe('compensating');
        const refused = await handle.executeUpdate(abort, { args: [{ reason: 'too late' }] }).catch((e: unknown) => e);
        expect((refused as WorkflowUpdateFailedError).cause?.message).toBe('the rollout is already compensating');
        rollback.open();
        const { failure: f } = await failureOf(handle);
        expect(f.type).toBe(ErrorType.SmokeTestFailed);
      },
      {
        smokeTest: async () => {
          throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
        },
        rollbackTo: rollback.hold(async ({ version }) => deploymentSummary(version)),
      },
    );
  });

  it('refuses an abort after the rollout ended', async () => {
    await withHeldHealth(async (handle, gate) => {
      gate.open();
      expect((await handle.result()).outcome).toBe('succeeded');
      await expect(handle.executeUpdate(abort, { args: [{ reason: 'after the fact' }] })).rejects.toThrow();
      expect((await handle.query(status)).phase).toBe('done');
    });
  });

  it('cancelling the workflow compensates like an abort, without a reason', async () => {
    await withHeldHealth(async (handle, gate) => {
      await handle.cancel();
      gate.open();
      const { failure: f, status: s } = await failureOf(handle);
      expect(f.type).toBe(ErrorType.Aborted);
      expect(f.message.split('\n')[0]).toBe('aborted: the workflow was cancelled');
      expect(s.compensations).toEqual([
        { step: 'roll back to v1 and verify it is healthy', outcome: 'done', detail: 'ok' },
      ]);
    });
  });
});
