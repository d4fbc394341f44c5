import type { Client } from '@temporalio/client';
import { platformStatus } from '../../src/platforms/local/daemon-lifecycle';
import type { TuneInput } from '../../src/shared/tune-types';
import type { Spec } from '../../src/spec/schema';
import { TuneSpec, type TuneSpecInput } from '../../src/spec/tune-schema';
import type { LocalStack } from './local-stack';
import { waitFor } from './wait-for';

// What the tune tests on the real stack share: a base spec with a small workload, the tune's input, the candidate
// apps the platform still serves, and a wait for a trial's step to be under way.

/** The base spec: a workload of 8 requests the SLO can judge (8 samples needed), a TTFT limit out of the way. */
export function tuneBaseSpec(stack: LocalStack, app: string, patch?: (spec: Spec) => void): Spec {
  return stack.specFor(app, (spec) => {
    spec.local.compile = { seconds: 100, shouldFail: false };
    spec.warmup = { timeout: 120 };
    spec.slo.ttftP95Ms = 60_000;
    spec.slo.load = {
      concurrency: 4,
      requests: 8,
      warmupRequests: 1,
      dataset: { name: 'random', inputLen: 128, outputLen: 8, rangeRatio: 1 },
    };
    patch?.(spec);
  });
}

/** The tune's input as the CLI passes it (defaults filled, a fixed time in the id, a test price). */
export function tuneInputFor(spec: Spec, tune: TuneSpecInput): TuneInput {
  return {
    spec,
    tune: TuneSpec.parse(tune),
    tuneId: `tune/${spec.app}/2026-12-02T01:00:00.000Z`,
    pricing: { dollarsPerGpuHour: 7.5, source: 'test' },
  };
}

/** The apps under `prefix` the platform has a version routed for, or an engine of that has not exited. */
export async function liveApps(stack: LocalStack, prefix: string): Promise<string[]> {
  const status = await platformStatus(stack.config);
  return status.apps
    .filter((app) => app.app.startsWith(prefix))
    .filter((app) => app.currentVersion !== null || app.engines.some((engine) => engine.state !== 'exited'))
    .map((app) => app.app);
}

/** Waits until the workflow has the named activity started and heartbeating, so the test acts during it. */
export async function waitForPendingActivity(client: Client, workflowId: string, activity: string): Promise<void> {
  await waitFor(
    async () => {
      const description = await client.workflow
        .getHandle(workflowId)
        .describe()
        .catch(() => undefined);
      const pending = description?.raw.pendingActivities?.find((a) => a.activityType?.name === activity);
      return Boolean(pending?.heartbeatDetails?.payloads?.length);
    },
    { what: `${workflowId} running ${activity}`, timeoutMs: 180_000, pollMs: 200 },
  );
}
