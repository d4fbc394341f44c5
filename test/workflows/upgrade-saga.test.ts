import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { Activities } from '../../src/activities';
import { ErrorType } from '../../src/shared/errors';
import { PHASE } from '../../src/shared/search-attributes';
import type { RollbackResult } from '../../src/shared/rollout-types';
import type { UpgradeResult } from '../../src/shared/upgrade-types';
import type { Spec } from '../../src/spec/schema';
import { rollbackApp, rollout, upgrade } from '../../src/workflows';
import { testId, withWorker } from '../helpers/temporal';
import { testSpec } from '../helpers/test-spec';
import { deploymentSummary, failure, Gate, SagaFakes } from '../helpers/saga-fakes';

/**
 * The upgrade (plan → recompile on a GPU change → child rollout → verify the previous version after a failure) and
 * the incident-path rollback, on the real dev server with typed fake activities.
 */

/** The child rollout's steps when every one passes. */
const ROLLOUT_STEPS = [
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

const NEW_IMAGE = 'lmsysorg/sglang:v0.5.11';

/** Fakes for an upgrade of v1 (`fromSpec`) to `spec`; `overrides` replace the happy path. */
function upgradeFakes(fromSpec: Spec, spec: Spec, overrides: Partial<Activities> = {}): SagaFakes {
  return new SagaFakes({
    async planUpgrade() {
      return {
        fromVersion: 1,
        fromSpec,
        spec,
        changes: [{ path: 'sglang.image', from: fromSpec.sglang.image, to: spec.sglang.image, why: 'bump' }],
        warnings: [],
      };
    },
    async currentDeployment() {
      return deploymentSummary(1, { sglangImage: fromSpec.sglang.image, gpuType: fromSpec.gpu.type });
    },
    ...overrides,
  });
}

function specs(patch: (next: Spec) => void = (next) => void (next.sglang.image = NEW_IMAGE)): [Spec, Spec] {
  const fromSpec = testSpec(testId('upgrade'));
  const spec = structuredClone(fromSpec);
  patch(spec);
  return [fromSpec, spec];
}

function startUpgrade(client: Client, taskQueue: string, app: string) {
  return client.workflow.execute(upgrade, {
    taskQueue,
    workflowId: `upgrade/${app}`,
    args: [{ app, platform: 'local', request: { sglangImage: NEW_IMAGE }, upgradeId: `u-${app}` }],
  });
}

/**
 * The result of a rolled-back upgrade: it fails with UpgradeRolledBack, whose message leads with the outcome and whose
 * details carry the result.
 */
async function rolledBack(run: Promise<unknown>): Promise<UpgradeResult> {
  const failed = await failureOf(run);
  expect(failed.type).toBe(ErrorType.UpgradeRolledBack);
  const result = failed.details?.[0] as UpgradeResult;
  expect(failed.message.split('\n')[0]).toMatch(
    new RegExp(`^upgrade of ${result.app} rolled back \\(.+\\): v1 is serving and healthy again$`),
  );
  return result;
}

/** The ApplicationFailure a workflow failed with (the activity's own, when an activity failure ended it). */
async function failureOf(run: Promise<unknown>): Promise<ApplicationFailure> {
  const err: unknown = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof WorkflowFailedError)) throw new Error(`expected a WorkflowFailedError, got ${String(err)}`);
  const cause = err.cause instanceof ActivityFailure ? err.cause.cause : err.cause;
  if (!(cause instanceof ApplicationFailure)) throw new Error(`expected an ApplicationFailure, got ${String(cause)}`);
  return cause;
}

describe('upgrade saga (fake activities, real dev server)', () => {
  it('an image bump plans, runs the rollout as the child rollout/<app>, and reports upgraded', async () => {
    const [fromSpec, spec] = specs();
    const fakes = upgradeFakes(fromSpec, spec);
    const result: UpgradeResult = await withWorker(fakes.activities, ({ client, taskQueue }) =>
      startUpgrade(client, taskQueue, spec.app),
    );
    expect(fakes.names()).toEqual(['planUpgrade', ...ROLLOUT_STEPS]);
    expect(fakes.inputsOf('deploy')[0]).toMatchObject({ rolloutId: `u-${spec.app}` });
    expect(fakes.inputsOf('deploy')[0]!.spec.sglang.image).toBe(NEW_IMAGE);
    expect(result).toMatchObject({
      outcome: 'upgraded',
      fromVersion: 1,
      servingVersion: 2,
      toVersion: 2,
      isKernelRecompiled: false,
      rolloutWorkflowId: `rollout/${spec.app}`,
    });
    expect(result.kernelCacheBefore).toBeUndefined();
  });

  it.each([
    ['valid', []],
    ['missing', ['compileKernels', 'commitVolume']],
    ['stale', ['invalidateKernels', 'compileKernels', 'commitVolume']],
  ] as const)('on a GPU change with the cache %s, the upgrade does %j before the rollout', async (state, steps) => {
    const [fromSpec, spec] = specs((next) => void (next.gpu.type = 'H200'));
    const fakes = upgradeFakes(fromSpec, spec, {
      async kernelCacheStatus() {
        return { state, reasons: [], path: '/k', markerPath: '/k/m' };
      },
    });
    const result: UpgradeResult = await withWorker(fakes.activities, ({ client, taskQueue }) =>
      startUpgrade(client, taskQueue, spec.app),
    );
    expect(fakes.names()).toEqual(['planUpgrade', 'kernelCacheStatus', ...steps, ...ROLLOUT_STEPS]);
    if (state === 'stale') expect(fakes.inputsOf('invalidateKernels')[0]).toMatchObject({ gpuType: 'H200' });
    if (state !== 'valid') expect(fakes.inputsOf('compileKernels')[0]).toMatchObject({ rolloutId: `u-${spec.app}` });
    expect(result).toMatchObject({
      outcome: 'upgraded',
      isKernelRecompiled: state !== 'valid',
      kernelCacheBefore: state,
    });
  });

  it('a failed recompile is rolled back before any rollout: v1 verified healthy, diagnosis in phase kernels', async () => {
    const [fromSpec, spec] = specs((next) => void (next.gpu.type = 'H200'));
    const fakes = upgradeFakes(fromSpec, spec, {
      async kernelCacheStatus() {
        return { state: 'missing', reasons: [], path: '/k', markerPath: '/k/m' };
      },
      async compileKernels() {
        throw failure(ErrorType.CompileFailed, 'compile_deepgemm died');
      },
    });
    const result = await withWorker(fakes.activities, ({ client, taskQueue }) =>
      rolledBack(startUpgrade(client, taskQueue, spec.app)),
    );
    expect(fakes.names()).toEqual([
      'planUpgrade',
      'kernelCacheStatus',
      'compileKernels',
      'currentDeployment',
      'waitForHealth',
    ]);
    expect(fakes.inputsOf('waitForHealth')[0]).toMatchObject({ secretName: deploymentSummary(1).secretName });
    expect(result).toMatchObject({
      outcome: 'rolled-back',
      servingVersion: 1,
      diagnosis: { cause: ErrorType.CompileFailed, failedPhase: 'kernels', message: 'compile_deepgemm died' },
    });
  });

  it('a failed child rollout has restored v1; the upgrade verifies it and returns rolled-back with the diagnosis', async () => {
    const [fromSpec, spec] = specs();
    let healthCalls = 0;
    const fakes = upgradeFakes(fromSpec, spec, {
      async waitForHealth() {
        healthCalls += 1;
        if (healthCalls === 1)
          throw failure(ErrorType.EngineCrashed, 'three 502s', { attempt: 3, outcomes: { 'bad-gateway': 3 } });
        return { attempt: 1, elapsedMs: 1, outcomes: { ok: 1 } };
      },
    });
    const { result, listed } = await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const rolledBackResult = await rolledBack(startUpgrade(client, taskQueue, spec.app));
      const description = await client.workflow.getHandle(`upgrade/${spec.app}`).describe();
      return {
        result: rolledBackResult,
        listed: { status: description.status.name, phase: description.typedSearchAttributes.get(PHASE) },
      };
    });
    // The workflow list shows the rolled-back upgrade as failed, not as a green COMPLETED.
    expect(listed).toEqual({ status: 'FAILED', phase: 'rolled-back' });
    expect(fakes.names()).toEqual([
      'planUpgrade',
      ...ROLLOUT_STEPS.slice(0, ROLLOUT_STEPS.indexOf('waitForHealth') + 1),
      'diagnoseApp',
      'rollbackTo',
      'waitForHealth',
      'currentDeployment',
      'waitForHealth',
    ]);
    expect(result).toMatchObject({
      outcome: 'rolled-back',
      servingVersion: 1,
      diagnosis: {
        cause: ErrorType.EngineCrashed,
        failedPhase: 'health',
        diagnoses: [{ id: 'oom' }],
        compensations: [{ step: 'roll back to v1 and verify it is healthy', outcome: 'done' }],
      },
    });
  });

  it('when the child could not restore v1 and another version serves, the upgrade fails with CompensationFailed', async () => {
    const [fromSpec, spec] = specs();
    let currentCalls = 0;
    const fakes = upgradeFakes(fromSpec, spec, {
      async currentDeployment() {
        currentCalls += 1;
        // The child reads v1 before it deploys; after its failed restore v2 still serves.
        return currentCalls === 1
          ? deploymentSummary(1, { sglangImage: fromSpec.sglang.image })
          : deploymentSummary(2, { sglangImage: NEW_IMAGE });
      },
      async smokeTest() {
        throw failure(ErrorType.SmokeTestFailed, 'smoke failed');
      },
      async rollbackTo() {
        throw failure(ErrorType.TransportError, 'platform unreachable');
      },
    });
    const failed = await withWorker(fakes.activities, ({ client, taskQueue }) =>
      failureOf(startUpgrade(client, taskQueue, spec.app)),
    );
    expect(failed.type).toBe(ErrorType.CompensationFailed);
    expect(failed.message).toContain(
      `v1 is not serving (now: v2): roll back by hand with \`glm-ops rollback ${spec.app} --to v1\``,
    );
    expect(fakes.names().slice(-2)).toEqual(['rollbackTo', 'currentDeployment']);
  });

  it('refuses to upgrade while a rollout of the app runs (one rollout per app)', async () => {
    const [fromSpec, spec] = specs();
    const gate = new Gate();
    const fakes = upgradeFakes(fromSpec, spec, {
      waitForHealth: gate.hold(async () => ({ attempt: 1, elapsedMs: 1, outcomes: { ok: 1 } })),
    });
    await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const running = await client.workflow.start(rollout, {
        taskQueue,
        workflowId: `rollout/${spec.app}`,
        args: [{ spec: fromSpec, rolloutId: 'r-running' }],
      });
      try {
        await gate.entered;
        const failed = await failureOf(startUpgrade(client, taskQueue, spec.app));
        expect(failed.type).toBe(ErrorType.RolloutInProgress);
        expect(failed.message).toContain(`a rollout of ${spec.app} is already running (workflow rollout/${spec.app})`);
      } finally {
        gate.open();
        await running.result();
      }
    });
  });

  it('a plan that fails (nothing to change) fails the upgrade with its own type, touching nothing', async () => {
    const [fromSpec, spec] = specs();
    const fakes = upgradeFakes(fromSpec, spec, {
      async planUpgrade() {
        throw failure(ErrorType.AlreadyCurrent, `${spec.app} already runs ${NEW_IMAGE}`);
      },
    });
    const failed = await withWorker(fakes.activities, ({ client, taskQueue }) =>
      failureOf(startUpgrade(client, taskQueue, spec.app)),
    );
    expect(failed.type).toBe(ErrorType.AlreadyCurrent);
    expect(fakes.names()).toEqual(['planUpgrade']);
  });
});

describe('rollbackApp saga (fake activities, real dev server)', () => {
  function runRollback(fakes: SagaFakes, app: string, toVersion?: number): Promise<RollbackResult> {
    return withWorker(fakes.activities, ({ client, taskQueue }) =>
      client.workflow.execute(rollbackApp, {
        taskQueue,
        workflowId: `rollback/${app}`,
        args: [{ app, platform: 'local', ...(toVersion ? { toVersion } : {}) }],
      }),
    );
  }

  /** `version` serves; `verified` lists the versions the platform recorded as verified, oldest first. */
  function serving(version: number | null, verified: number[] = []): SagaFakes {
    return new SagaFakes({
      async currentDeployment() {
        return version === null ? null : deploymentSummary(version);
      },
      async lastVerifiedDeployment({ excluding }) {
        const latest = verified.filter((v) => v !== excluding).at(-1);
        return latest === undefined ? null : { ...deploymentSummary(latest), verifiedAt: '2026-12-01T00:00:00.000Z' };
      },
    });
  }

  it('with nothing verified, goes back one version by default and verifies it with its own health settings', async () => {
    const app = testId('rollback');
    const fakes = serving(3);
    const result = await runRollback(fakes, app);
    expect(fakes.names()).toEqual([
      'currentDeployment',
      'lastVerifiedDeployment',
      'rollbackTo',
      'waitForHealth',
      'markVerified',
      'appEndpoint',
    ]);
    expect(fakes.inputsOf('lastVerifiedDeployment')).toEqual([{ app, platform: 'local', excluding: 3 }]);
    expect(fakes.inputsOf('markVerified')).toEqual([{ app, platform: 'local', version: 2 }]);
    expect(fakes.inputsOf('rollbackTo')).toEqual([{ app, platform: 'local', version: 2 }]);
    expect(fakes.inputsOf('waitForHealth')[0]).toMatchObject({
      secretName: deploymentSummary(2).secretName,
      startupTimeoutSec: deploymentSummary(2).startupTimeoutSec,
    });
    expect(result).toEqual({ app, fromVersion: 3, toVersion: 2, healthAttempts: 4, endpoint: 'http://127.0.0.1:1/v1' });
  });

  it('by default goes to the last verified version other than the one serving, not merely the one before', async () => {
    const app = testId('rollback');
    // v4 serves unverified (its rollout was terminated); v3 failed its rollout; v1 then v2 were verified.
    const fakes = serving(4, [1, 2]);
    const result = await runRollback(fakes, app);
    expect(fakes.inputsOf('rollbackTo')).toEqual([{ app, platform: 'local', version: 2 }]);
    expect(result).toMatchObject({ fromVersion: 4, toVersion: 2 });
    // When the serving version is itself the last verified, the default is the verified one before it.
    const again = serving(2, [1, 2]);
    await runRollback(again, testId('rollback'));
    expect(again.inputsOf('rollbackTo').map((i) => i.version)).toEqual([1]);
  });

  it('goes to the version named with --to, without asking for the last verified', async () => {
    const fakes = serving(5, [4]);
    const result = await runRollback(fakes, testId('rollback'), 2);
    expect(fakes.inputsOf('rollbackTo')[0]!.version).toBe(2);
    expect(fakes.names()).not.toContain('lastVerifiedDeployment');
    expect(fakes.inputsOf('markVerified')).toEqual([expect.objectContaining({ version: 2 })]);
    expect(result).toMatchObject({ fromVersion: 5, toVersion: 2 });
  });

  it.each([
    ['the named version already serves', 3, 3, ErrorType.AlreadyCurrent, 'already serves v3'],
    [
      'v1 serves and there is no earlier one',
      1,
      undefined,
      ErrorType.NotFound,
      'no earlier version to roll back to (serving v1)',
    ],
    [
      'nothing serves and no version is named',
      null,
      undefined,
      ErrorType.NotFound,
      'no earlier version to roll back to: name one',
    ],
  ] as const)('refuses when %s, touching nothing', async (_, current, toVersion, type, message) => {
    const app = testId('rollback');
    const fakes = serving(current);
    const failed = await failureOf(runRollback(fakes, app, toVersion));
    expect(failed.type).toBe(type);
    expect(failed.message).toContain(message);
    expect(fakes.names()).toEqual(
      toVersion === undefined ? ['currentDeployment', 'lastVerifiedDeployment'] : ['currentDeployment'],
    );
  });

  it('fails with the health failure when the restored version does not come up', async () => {
    const fakes = new SagaFakes({
      async currentDeployment() {
        return deploymentSummary(3);
      },
      async lastVerifiedDeployment() {
        return null;
      },
      async waitForHealth() {
        throw failure(ErrorType.HealthTimeout, 'v2 did not answer 200');
      },
    });
    const failed = await failureOf(runRollback(fakes, testId('rollback')));
    expect(failed.type).toBe(ErrorType.HealthTimeout);
    // A version that did not come up is never recorded as verified.
    expect(fakes.names()).toEqual(['currentDeployment', 'lastVerifiedDeployment', 'rollbackTo', 'waitForHealth']);
  });
});
