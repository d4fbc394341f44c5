import { WorkflowFailedError, type Client, type WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { abort } from '../../src/shared/rollout-messages';
import { DEPLOYED_VERSION, PHASE } from '../../src/shared/search-attributes';
import { ErrorType } from '../../src/shared/errors';
import type { Spec } from '../../src/spec/schema';
import { rollout } from '../../src/workflows';
import { STEP_SUMMARY_MAX_CHARS } from '../../src/workflows/step-summary';
import { failure, Gate, SagaFakes } from '../helpers/saga-fakes';
import { testId, withWorker } from '../helpers/temporal';
import { testSpec } from '../helpers/test-spec';

/**
 * What a person sees of a rollout in the Temporal UI, read back from the real dev server the way the UI reads it: the
 * current details through the built-in `__temporal_workflow_metadata` query (describe() carries only the static
 * summary and details), the search attributes through describe(), the activity summaries from the history.
 */

function start(client: Client, taskQueue: string, spec: Spec): Promise<WorkflowHandle<typeof rollout>> {
  return client.workflow.start(rollout, {
    taskQueue,
    workflowId: `rollout/${spec.app}`,
    args: [{ spec, rolloutId: `r-${spec.app}` }],
  });
}

/** The markdown the UI's "Current Details" panel renders. */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

/** The runbook table's rows as [phase, state, outcome, time]. */
function runbookRows(markdown: string): string[][] {
  return markdown
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| phase ') && !line.startsWith('| ---'))
    .map((line) =>
      line
        .slice(2, -2)
        .split(/(?<!\\) \| /)
        .map((cell) => cell.replace(/\\(.)/g, '$1')),
    );
}

/** The summary of every activity the run scheduled, in order. */
async function activitySummaries(handle: WorkflowHandle): Promise<string[]> {
  const history = await handle.fetchHistory();
  return (history.events ?? [])
    .filter((e) => e.activityTaskScheduledEventAttributes)
    .map((e) => (e.userMetadata?.summary ? defaultPayloadConverter.fromPayload<string>(e.userMetadata.summary) : ''));
}

async function searchAttributes(handle: WorkflowHandle): Promise<{ phase?: string; deployed?: number }> {
  const description = await handle.describe();
  return {
    phase: description.typedSearchAttributes.get(PHASE),
    deployed: description.typedSearchAttributes.get(DEPLOYED_VERSION),
  };
}

function expectShortStepSummaries(summaries: string[]): void {
  expect(summaries.length).toBeGreaterThan(0);
  for (const summary of summaries) {
    expect(summary).not.toBe('');
    expect(Array.from(summary).length).toBeLessThanOrEqual(STEP_SUMMARY_MAX_CHARS);
    // What each step is, not what it intends.
    expect(summary).not.toMatch(/skipped when|\(if |until 200|remember/i);
  }
}

describe('the history reads as a result (fake activities, real dev server)', () => {
  it('a succeeded rollout: the runbook table with each outcome, the outcome first in the result, short summaries', async () => {
    const fakes = new SagaFakes();
    const spec = testSpec(testId('hist'));
    await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      const result = await handle.result();

      expect(Object.keys(result)[0]).toBe('summary');
      expect(result.summary).toMatch(new RegExp(`^${spec.app}: v2 \\(previous v1\\) serving; all steps passed in `));

      const details = await currentDetails(handle);
      expect(details.split('\n')[0]).toBe(`**${result.summary}**`);
      const rows = runbookRows(details);
      expect(rows.map(([phase, state]) => `${phase}:${state}`)).toEqual(
        ['validate', 'weights', 'kernels', 'deploy', 'health', 'warmup', 'smoke'].map((n) => `${n}:done`),
      );
      expect(rows.find((r) => r[0] === 'weights')![2]).toBe(
        'downloaded 3 files (3.0 GB); sentinel written; volume committed',
      );
      expect(rows.find((r) => r[0] === 'deploy')![2]).toBe('v2 (previous v1)');
      expect(rows.find((r) => r[0] === 'health')![2]).toBe('passed on attempt 4');
      for (const row of rows) expect(row[3]).toMatch(/^\d+\.\d\d s$/);

      expect(await searchAttributes(handle)).toEqual({ phase: 'done', deployed: 2 });

      const summaries = await activitySummaries(handle);
      expectShortStepSummaries(summaries);
      expect(summaries).toContain('DeepGEMM compile for B200');
      expect(summaries).toContain('Deploy sglang:v0.5.10 on 8×B200');
    });
  });

  it('a failed rollout: the failed row says why, the headline what serves after compensation', async () => {
    const fakes = new SagaFakes({
      async waitForHealth({ version }) {
        if (version === 2) throw failure(ErrorType.HealthTimeout, '/health of v2 never answered 200 within 30 s');
        return { attempt: 1, elapsedMs: 1, outcomes: { ok: 1 } };
      },
    });
    const spec = testSpec(testId('hist'));
    await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

      const details = await currentDetails(handle);
      expect(details.split('\n')[0]).toMatch(
        new RegExp(
          `^\\*\\*${spec.app}: failed in health after .+; compensated: roll back to v1 and verify it is healthy\\*\\*$`,
        ),
      );
      const rows = runbookRows(details);
      expect(rows.find((r) => r[0] === 'health')!.slice(1, 3)).toEqual([
        'failed',
        '/health of v2 never answered 200 within 30 s',
      ]);
      expect(rows.find((r) => r[0] === 'warmup')!.slice(1)).toEqual(['pending', '', '']);
      expect(details).toContain('- cause: /health of v2 never answered 200 within 30 s');
      expect(details).toContain('- compensation done: roll back to v1 and verify it is healthy');
      expect(details).toContain('- diagnosis: CUDA out of memory: lower sglang.memFractionStatic (§12)');

      // GlmOpsDeployedVersion names what serves after the compensation: v1 again.
      expect(await searchAttributes(handle)).toEqual({ phase: 'failed', deployed: 1 });
      expectShortStepSummaries(await activitySummaries(handle));
    });
  });

  it('an aborted rollout: while running the table shows the running step; after, what the abort left', async () => {
    const gate = new Gate();
    const fakes = new SagaFakes({
      waitForHealth: gate.hold(async () => ({ attempt: 2, elapsedMs: 1, outcomes: { ok: 1 } })),
    });
    const spec = testSpec(testId('hist'));
    await withWorker(fakes.activities, async ({ client, taskQueue }) => {
      const handle = await start(client, taskQueue, spec);
      try {
        await gate.entered;
        await abortDuringHealth(handle, gate, spec);
      } finally {
        gate.open();
      }
    });
  });
});

/** Reads the details while health is held, aborts, then reads what the abort left. */
async function abortDuringHealth(handle: WorkflowHandle, gate: Gate, spec: Spec): Promise<void> {
  const running = await currentDetails(handle);
  expect(running.split('\n')[0]).toBe(`**${spec.app}: running health (step 5 of 7), deployed v2 (previous v1)**`);
  const health = runbookRows(running).find((r) => r[0] === 'health')!;
  expect(health.slice(1, 3)).toEqual(['running', '']);
  expect(health[3]).toMatch(/^since \d\d:\d\d:\d\d UTC$/);
  expect(
    runbookRows(running)
      .find((r) => r[0] === 'kernels')!
      .slice(1, 3),
  ).toEqual(['done', 'compiled; marker written; volume committed']);
  expect(await searchAttributes(handle)).toEqual({ phase: 'health', deployed: undefined });

  await handle.executeUpdate(abort, { args: [{ reason: 'wrong image' }] });
  gate.open();
  await expect(handle.result()).rejects.toBeInstanceOf(WorkflowFailedError);

  const ended = await currentDetails(handle);
  expect(ended.split('\n')[0]).toMatch(
    new RegExp(
      `^\\*\\*${spec.app}: aborted in health after .+; compensated: roll back to v1 and verify it is healthy\\*\\*$`,
    ),
  );
  expect(
    runbookRows(ended)
      .find((r) => r[0] === 'health')!
      .slice(1, 3),
  ).toEqual(['failed', 'aborted: wrong image']);
  expect(ended).toContain('- abort requested: wrong image');
  expect(await searchAttributes(handle)).toEqual({ phase: 'aborted', deployed: 1 });
}
