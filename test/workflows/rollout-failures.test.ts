import { WorkflowFailedError, type Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { probeHealth } from '../../src/probes/health-probe';
import { lintSpec } from '../../src/spec/lint';
import type { Spec } from '../../src/spec/schema';
import { ErrorType } from '../../src/shared/errors';
import type { RolloutStatus } from '../../src/shared/rollout-types';
import { rollout } from '../../src/workflows';
import { abort, status } from '../../src/shared/rollout-messages';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { recordHistory } from '../helpers/record-history';
import { testId, withWorker } from '../helpers/temporal';

jest.setTimeout(240_000);

// Drills through real parts: each fault is made by a real engine, compile, hub or probe, so what is checked is that
// the fault surfaces as its ErrorType and diagnosis and that the compensation leaves v1 serving and healthy.
// Branches that need no real part (a failed compensation, a first rollout that fails, a refused deploy, failed
// warmup requests) are covered with fake activities in rollout-saga.test.ts.

interface FailureCase {
  name: string;
  /** File name of the recorded history (test/histories). */
  history: string;
  patch: (spec: Spec) => void;
  type: string;
  /** Text the failure message must carry (the diagnosis in the guide's terms). */
  diagnosis?: RegExp;
  /** The phase that failed. */
  phase: string;
  /** Whether anything was deployed (and so had to be rolled back). */
  isDeployed: boolean;
}

const CASES: FailureCase[] = [
  {
    name: 'engine crash during load (-9, OOM)',
    history: 'rollout-engine-crash-oom',
    patch: (s) => {
      s.local.emulator = { faults: [{ kind: 'crash', at: 'loading', afterMs: 20_000, signal: 'SIGKILL', oom: true }] };
    },
    type: ErrorType.EngineCrashed,
    diagnosis: /mem-fraction-static/,
    phase: 'health',
    isDeployed: true,
  },
  {
    name: 'engine crash while serving the warmup (137, platform kill)',
    history: 'rollout-engine-crash-warmup',
    patch: (s) => {
      s.local.emulator = { faults: [{ kind: 'crash', at: 'serving', afterRequests: 1, exitCode: 137 }] };
    },
    type: ErrorType.WarmupFailed,
    phase: 'warmup',
    isDeployed: true,
  },
  {
    name: 'health timeout (wedged scheduler: /health stays 503)',
    history: 'rollout-health-timeout',
    patch: (s) => {
      // A wedged scheduler: HTTP answers, but /health's 1-token generation never completes, so it stays 503.
      s.local.emulator = { faults: [{ kind: 'hang', at: 'serving', mode: 'scheduler' }] };
      s.health.startupTimeout = shortestValidStartupTimeout(s);
    },
    type: ErrorType.HealthTimeout,
    phase: 'health',
    isDeployed: true,
  },
  {
    name: 'no reasoning parser: reasoning_content empty (smoke test fails)',
    history: 'rollout-smoke-no-reasoning-parser',
    patch: (s) => {
      delete s.sglang.args['reasoning-parser'];
      s.lint = {
        acknowledge: { ...s.lint?.acknowledge, 'reasoning-parser': 'failure drill: the smoke test must catch it' },
      };
    },
    type: ErrorType.SmokeTestFailed,
    diagnosis: /reasoning-parser glm45/,
    phase: 'smoke',
    isDeployed: true,
  },
  {
    name: 'DeepGEMM compile crash',
    history: 'rollout-compile-crash',
    patch: (s) => {
      s.sglang.image = 'lmsysorg/sglang:v0.5.11-compile-drill';
      s.local.compile = { seconds: 400, shouldFail: true };
    },
    type: ErrorType.CompileFailed,
    phase: 'kernels',
    isDeployed: false,
  },
  {
    name: 'hub 404 for the revision',
    history: 'rollout-hub-404',
    patch: (s) => {
      s.model.revision = 'no-such-branch';
    },
    type: ErrorType.WeightsNotFound,
    phase: 'weights',
    isDeployed: false,
  },
];

/** The smallest startup timeout the lint accepts for a spec, so a timeout drill is quick but still a valid spec. */
function shortestValidStartupTimeout(spec: Spec): number {
  for (let seconds = 1; seconds < 600; seconds++) {
    const candidate = { ...spec, health: { ...spec.health, startupTimeout: seconds } };
    if (!lintSpec(candidate).some((f) => f.rule === 'health-timeout-shorter-than-startup')) return seconds;
  }
  throw new Error('no valid startup timeout under 600 s');
}

async function expectFailure(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  return cause as ApplicationFailure;
}

function statusOf(failure: ApplicationFailure): RolloutStatus {
  return (failure.details?.[0] as { status: RolloutStatus }).status;
}

describe('rollout failures: compensation leaves the previous version serving and healthy', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  async function goodRollout(client: Client, taskQueue: string, app: string): Promise<void> {
    const result = await client.workflow.execute(rollout, {
      taskQueue,
      workflowId: `rollout/${app}`,
      args: [{ spec: stack.specFor(app), rolloutId: 'r-good' }],
    });
    expect(result.deployedVersion).toBe(1);
  }

  it.each(CASES)('$name', async (failureCase) => {
    const app = testId('fail');
    const failure = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await goodRollout(client, taskQueue, app);
      const bad = stack.specFor(app, failureCase.patch);
      const failed = await expectFailure(
        client.workflow.execute(rollout, {
          taskQueue,
          workflowId: `rollout/${app}`,
          args: [{ spec: bad, rolloutId: 'r-bad' }],
        }),
      );
      await recordHistory(client.workflow.getHandle(`rollout/${app}`), failureCase.history);
      return failed;
    });
    expect(failure.type).toBe(failureCase.type);
    const report = statusOf(failure);
    expect(report.phase).toBe('failed');
    expect(report.phases.find((p) => p.name === failureCase.phase)?.state).toBe('failed');
    if (failureCase.diagnosis) expect(failure.message).toMatch(failureCase.diagnosis);
    const rolledBack = report.compensations.find((c) => c.step.startsWith('roll back to v1'));
    if (failureCase.isDeployed) {
      expect(rolledBack?.outcome).toBe('done');
      expect(report.deployedVersion).toBe(2);
    }
    expect(report.compensations.every((c) => c.outcome === 'done')).toBe(true);
    const current = await stack.platform.currentDeployment(app);
    expect(current?.version).toBe(1);
    const { url } = await stack.platform.endpoint(app);
    expect((await probeHealth({ baseUrl: url, apiKey: stack.apiKey, timeoutMs: 10_000 })).outcome).toBe('ok');
  });

  it('abort during the health wait runs the compensation and reports Aborted', async () => {
    const app = testId('abort');
    const failure = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await goodRollout(client, taskQueue, app);
      const slow = stack.specFor(app, (s) => {
        s.local.emulator = { faults: [{ kind: 'hang', at: 'serving', mode: 'scheduler' }] };
        s.health.startupTimeout = 120;
      });
      const handle = await client.workflow.start(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec: slow, rolloutId: 'r-abort' }],
      });
      for (let i = 0; i < 200; i++) {
        const current = await handle.query(status);
        if (current.phase === 'health') break;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const accepted = await handle.executeUpdate(abort, { args: [{ reason: 'operator changed their mind' }] });
      expect(accepted.acceptedInPhase).toBe('health');
      const failed = await expectFailure(handle.result());
      await recordHistory(handle, 'rollout-abort-during-health');
      return failed;
    });
    expect(failure.type).toBe(ErrorType.Aborted);
    expect(failure.message).toContain('operator changed their mind');
    const report = statusOf(failure);
    expect(report.phase).toBe('aborted');
    expect(report.compensations.map((c) => [c.step, c.outcome])).toEqual([
      ['roll back to v1 and verify it is healthy', 'done'],
    ]);
    expect((await stack.platform.currentDeployment(app))?.version).toBe(1);
  });
});
