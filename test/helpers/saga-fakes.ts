import { ApplicationFailure } from '@temporalio/common';
import { createActivities, type Activities } from '../../src/activities';
import type { DeploymentSummary } from '../../src/activities/serving-activities';
import { ErrorType } from '../../src/shared/errors';

/**
 * Typed fake activities for the workflow saga tests: each workflow runs on the real dev server against these, so
 * every branch of the saga runs in milliseconds, without a platform, an emulator or a process of its own.
 */

/** One activity call as the fakes saw it: the activity's name and its one argument. */
export interface FakeCall {
  name: keyof Activities;
  input: unknown;
}

/** Every activity name the worker really has, read from the factory (building it touches nothing). */
const ACTIVITY_NAMES = Object.keys(
  createActivities({ platforms: {}, resolveSecret: () => 'unused' }),
) as (keyof Activities)[];

/**
 * A strict set of fakes: `overrides` replace the happy-path defaults, every call is recorded in order, and an
 * activity neither provides fails non-retryably, naming itself, so an unexpected step shows as a failure at once.
 */
export class SagaFakes {
  readonly calls: FakeCall[] = [];
  readonly activities: Activities;

  constructor(overrides: Partial<Activities> = {}, base: Partial<Activities> = happyRollout()) {
    const provided: Partial<Activities> = { ...base, ...overrides };
    const entries = ACTIVITY_NAMES.map((name) => {
      const fake = provided[name] as ((input: unknown) => Promise<unknown>) | undefined;
      const recorded = async (input: unknown): Promise<unknown> => {
        this.calls.push({ name, input });
        if (!fake) {
          throw ApplicationFailure.create({
            type: 'UnexpectedCall',
            nonRetryable: true,
            message: `unexpected ${name}`,
          });
        }
        return fake(input);
      };
      return [name, recorded] as const;
    });
    this.activities = Object.fromEntries(entries) as unknown as Activities;
  }

  /** The names of the calls, in order. */
  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  /** The inputs of every call to `name`, in order. */
  inputsOf<K extends keyof Activities>(name: K): Parameters<Activities[K]>[0][] {
    return this.calls.filter((c) => c.name === name).map((c) => c.input as Parameters<Activities[K]>[0]);
  }
}

/** A deployment as the serving activities report it. */
export function deploymentSummary(version: number, patch: Partial<DeploymentSummary> = {}): DeploymentSummary {
  return {
    version,
    rolloutId: `r-v${version}`,
    sglangImage: 'lmsysorg/sglang:v0.5.10',
    gpuType: 'B200',
    deployedAt: '2026-12-01T00:00:00.000Z',
    secretName: `key-of-v${version}`,
    startupTimeoutSec: 30 + version,
    pollIntervalSec: 1,
    ...patch,
  };
}

/** The failure an activity throws, typed from the shared vocabulary; non-retryable so no test waits for a backoff. */
export function failure(type: ErrorType, message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true, ...(details ? { details: [details] } : {}) });
}

/** The commit the fake download resolves the revision to: the deploy must use it, never the branch name. */
export const WEIGHTS_COMMIT = 'c0ffee0000000000000000000000000000000001';

/** A rollout from v1 (serving) to v2 where every step passes. */
export function happyRollout(): Partial<Activities> {
  return {
    async validateSpec() {
      return { warnings: ['a lint warning'], guideExpectations: { health: '3–5 min (guide §7)' } };
    },
    async ensureWeights({ spec }) {
      return {
        status: {
          state: 'valid',
          repo: spec.model.repo,
          commit: WEIGHTS_COMMIT,
          path: '/weights',
          sentinelPath: '/weights/.sentinel',
          fileCount: 3,
          bytes: 3e9,
          problems: [],
        },
        skipped: false,
        bytesDownloaded: 3e9,
        filesDownloaded: 3,
        durationMs: 5,
      };
    },
    async commitVolume() {},
    async compileKernels() {
      return {
        status: { state: 'valid', reasons: [], path: '/kernels', markerPath: '/kernels/.compiled' },
        skipped: false,
        durationMs: 5,
      };
    },
    async invalidateKernels() {
      return { removed: true };
    },
    async currentDeployment() {
      return deploymentSummary(1);
    },
    async lastVerifiedDeployment() {
      return { ...deploymentSummary(1), verifiedAt: '2026-12-01T00:00:00.000Z' };
    },
    async markVerified() {},
    async deploy({ rolloutId }) {
      return { ...deploymentSummary(2, { rolloutId }), endpoint: 'http://127.0.0.1:1/v2' };
    },
    async waitForHealth() {
      return { attempt: 4, elapsedMs: 40, outcomes: { 'not-ready': 3, ok: 1 } };
    },
    async warmup() {
      return [{ name: 'chat', durationMs: 12 }];
    },
    async smokeTest() {
      return [{ name: 'inference', passed: true, detail: 'ok', durationMs: 3 }];
    },
    async rollbackTo({ version }) {
      return deploymentSummary(version);
    },
    async stopApp() {},
    async diagnoseApp() {
      return [
        {
          id: 'oom',
          title: 'CUDA out of memory',
          severity: 'error',
          evidence: ['torch.OutOfMemoryError'],
          likelyCause: 'mem fraction too high',
          resolution: 'lower sglang.memFractionStatic',
          guideSection: '§12',
        },
      ];
    },
    async appEndpoint() {
      return 'http://127.0.0.1:1/v1';
    },
  };
}

/** A call the test holds open until it lets it go: to act (abort, query) while a step is running. */
export class Gate {
  private release!: () => void;
  private enter!: () => void;
  private readonly released = new Promise<void>((resolve) => (this.release = resolve));
  /** Resolves once the held call has begun. */
  readonly entered = new Promise<void>((resolve) => (this.enter = resolve));

  /** Wraps an activity fake: the call begins, waits for `open()`, then does what `then` does. */
  hold<A extends unknown[], R>(then: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
    return async (...args: A) => {
      this.enter();
      await this.released;
      return then(...args);
    };
  }

  /** Lets the held call go on. */
  open(): void {
    this.release();
  }
}
