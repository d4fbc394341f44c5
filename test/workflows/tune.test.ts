import { defaultPayloadConverter } from '@temporalio/common';
import type { WorkflowHandle } from '@temporalio/client';
import { PHASE } from '../../src/shared/search-attributes';
import { abortTune, tuneStatusQuery } from '../../src/shared/tune-messages';
import type { TuneResult } from '../../src/shared/tune-types';
import { tune } from '../../src/workflows';
import { stepSummary } from '../../src/workflows/step-summary';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { recordHistory } from '../helpers/record-history';
import { testId, withWorker } from '../helpers/temporal';
import { liveApps, tuneBaseSpec, tuneInputFor, waitForPendingActivity } from '../helpers/tune-stack';

jest.setTimeout(600_000);

/**
 * The tune on the real stack: a real Temporal dev server and worker, the local platform daemon running each candidate
 * as its own app beside nothing else, the emulator engines, the loadgen. Requests run at the guide's latencies (the
 * trial's spec sets the emulator's timing.timeScale to 1), start-up at the stack's 0.002.
 */
describe('tune on the local platform (real Temporal, worker, daemon, emulator, loadgen)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  it('a 4-point grid: every trial recorded, the OOM point infeasible with its diagnosis, every candidate torn down', async () => {
    const app = testId('tune-grid');
    const spec = tuneBaseSpec(stack, app);
    const input = tuneInputFor(spec, {
      space: { args: { 'mem-fraction-static': [0.88, 0.95], 'max-running-requests': [16, 48] } },
      strategy: 'grid',
    });
    const result: TuneResult = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(tune, { taskQueue, workflowId: input.tuneId, args: [input] });
      const result = await handle.result();
      expect(await handle.query(tuneStatusQuery)).toMatchObject({ state: 'finished', running: [], planned: [] });
      // The runbook the UI shows: a row per trial with its outcome; the trial's own runbook and step summaries.
      const details = await currentDetails(handle);
      expect(details).toMatch(new RegExp(`^\\*\\*${app}: tune finished after 4 trials in .*; chosen trial [12] `));
      expect(runbookRows(details).map(([phase, state]) => `${phase}: ${state}`)).toEqual([
        'weights: done',
        'kernels: done',
        'trial 1: measured',
        'trial 2: measured',
        'trial 3: infeasible',
        'trial 4: infeasible',
      ]);
      expect(runbookRows(details)[4]![2]).toMatch(
        /^mem-fraction-static=0\.95 max-running-requests=16: CUDA out of memory: SGLang died \(code -9\)/,
      );
      const trial3 = client.workflow.getHandle(`${input.tuneId}/trial-3`);
      expect(runbookRows(await currentDetails(trial3)).map(([phase, state]) => `${phase}: ${state}`)).toEqual([
        'deploy: done',
        'health: failed',
        'warmup: pending',
        'measure: pending',
        'teardown: done',
      ]);
      expect(await activitySummaries(trial3)).toEqual(
        [
          `Deploy trial 3 as ${app}-t3`,
          `Health wait for ${app}-t3 v1`,
          `Diagnosis of ${app}-t3 from its engine logs`,
          `Stop ${app}-t3 (the trial's app)`,
        ].map(stepSummary),
      );
      // How `glm-ops tune status APP` finds it: the tune's type and the base app's search attribute.
      const found: string[] = [];
      for await (const run of client.workflow.list({ query: `WorkflowType = "tune" AND GlmOpsApp = "${app}"` })) {
        found.push(run.workflowId);
      }
      expect(found).toEqual([input.tuneId]);
      expect((await handle.describe()).typedSearchAttributes.get(PHASE)).toBe('finished');
      await recordHistory(handle, 'tune-grid-oom');
      await recordHistory(client.workflow.getHandle(`${input.tuneId}/trial-3`), 'tune-trial-oom');
      return result;
    });

    expect(result).toMatchObject({
      state: 'finished',
      gridSize: 4,
      endedBecause: 'every remaining point pruned or tried',
    });
    expect(result.trials.map((t) => [t.index, t.key, t.app, t.outcome, t.isTornDown])).toEqual([
      [1, 'mem-fraction-static=0.88 max-running-requests=16', `${app}-t1`, 'measured', true],
      [2, 'mem-fraction-static=0.88 max-running-requests=48', `${app}-t2`, 'measured', true],
      [3, 'mem-fraction-static=0.95 max-running-requests=16', `${app}-t3`, 'infeasible', true],
      [4, 'mem-fraction-static=0.95 max-running-requests=48', `${app}-t4`, 'infeasible', true],
    ]);
    for (const trial of result.trials.slice(0, 2)) {
      expect(trial.figures).toMatchObject({ completed: 8, failed: 0 });
      expect(trial.meetsSlo).toBe(true);
      expect(trial.objectiveValue).toBe(trial.figures!.outputTokensPerSec);
      expect(trial.gpuHours).toBeGreaterThan(0);
      expect(trial.dollars).toBeCloseTo(trial.gpuHours * 7.5, 10);
    }
    for (const trial of result.trials.slice(2)) {
      // The emulator's B200 allocates at most 0.90: the OOM is named from the engine's own log.
      expect(trial.reason).toMatch(/CUDA out of memory/);
      expect(trial).toMatchObject({ figures: null, meetsSlo: false, objectiveValue: null });
    }
    const measured = result.trials.slice(0, 2);
    const best = measured.reduce((a, b) => (b.objectiveValue! > a.objectiveValue! ? b : a));
    expect(result.chosen?.index).toBe(best.index);
    expect(result.best?.index).toBe(best.index);
    expect(result.spent.trials).toBe(4);
    expect(result.spent.dollars).toBeCloseTo(
      result.trials.reduce((sum, t) => sum + t.dollars, 0),
      10,
    );

    // Each candidate ran as its own app, deployed once, and nothing of them serves now; the serving app was never
    // deployed.
    for (const trial of result.trials) {
      expect(await stack.platform.history(trial.app)).toHaveLength(1);
      expect(await stack.platform.currentDeployment(trial.app)).toBeNull();
    }
    expect(await liveApps(stack, `${app}-t`)).toEqual([]);
    expect(await stack.platform.history(app)).toEqual([]);
    // The trial's spec: the candidate's flag applied, requests at the guide's latencies, the base volumes.
    const deployed = (await stack.platform.history(`${app}-t2`))[0]!.spec;
    expect(deployed.sglang.args['max-running-requests']).toBe(48);
    expect(deployed.local.emulator).toMatchObject({ timing: { timeScale: 1 } });
    expect(deployed.volumes).toEqual(spec.volumes);
  });

  it('stops at budget.trials and names the budget', async () => {
    const app = testId('tune-budget');
    const input = tuneInputFor(tuneBaseSpec(stack, app), {
      space: { args: { 'max-running-requests': [16, 32, 48] } },
      strategy: 'grid',
      budget: { trials: 2 },
    });
    const result: TuneResult = await withWorker(stack.activities, ({ client, taskQueue }) =>
      client.workflow.execute(tune, { taskQueue, workflowId: input.tuneId, args: [input] }),
    );
    expect(result).toMatchObject({ state: 'budget-exhausted', endedBecause: 'budget: 2 trials' });
    expect(result.trials.map((t) => t.key)).toEqual(['max-running-requests=16', 'max-running-requests=32']);
    expect(await stack.platform.history(`${app}-t3`)).toEqual([]);
    expect(await liveApps(stack, `${app}-t`)).toEqual([]);
  });

  it('abortTune during a trial’s health wait tears its app down and ends the tune aborted', async () => {
    const app = testId('tune-abort');
    // A weight load of 1000 s engine time at 1/100 speed: ~10 s of health wait to abort in.
    const spec = tuneBaseSpec(stack, app, (s) => {
      s.local.timeScale = 0.01;
      s.local.emulator = { phases: { weightLoadMs: 1_000_000, graphCaptureMs: 1_000 } };
    });
    const input = tuneInputFor(spec, { space: { args: { 'max-running-requests': [16, 48] } }, strategy: 'grid' });
    const { result, refusals } = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(tune, { taskQueue, workflowId: input.tuneId, args: [input] });
      await waitForPendingActivity(client, `${input.tuneId}/trial-1`, 'waitForHealth');
      const refusals: string[] = [];
      await handle
        .executeUpdate(abortTune, { args: [{ reason: ' ', by: 'ana' }] })
        .catch((e: Error) => refusals.push(messageOf(e)));
      await handle
        .executeUpdate(abortTune, { args: [{ reason: 'wrong space', by: '' }] })
        .catch((e: Error) => refusals.push(messageOf(e)));
      const accepted = await handle.executeUpdate(abortTune, { args: [{ reason: 'wrong space', by: 'ana' }] });
      expect(accepted.running.map((t) => t.app)).toEqual([`${app}-t1`]);
      const result = await handle.result();
      await handle
        .executeUpdate(abortTune, { args: [{ reason: 'again', by: 'ana' }] })
        .catch((e: Error) => refusals.push(messageOf(e)));
      return { result, refusals };
    });
    expect(refusals).toEqual([
      expect.stringMatching(/^reason: /),
      expect.stringMatching(/^by: /),
      // Once the tune ended the server itself refuses (the validator refuses in the moment before it closes).
      expect.stringMatching(/workflow execution already completed/),
    ]);
    expect(result).toMatchObject({ state: 'aborted', endedBecause: 'aborted by ana: wrong space', chosen: null });
    expect(result.trials).toEqual([
      expect.objectContaining({ index: 1, outcome: 'failed', reason: 'aborted by ana: wrong space', isTornDown: true }),
    ]);
    expect(await stack.platform.history(`${app}-t1`)).toHaveLength(1);
    expect(await stack.platform.currentDeployment(`${app}-t1`)).toBeNull();
    expect(await stack.platform.history(`${app}-t2`)).toEqual([]);
    expect(await liveApps(stack, `${app}-t`)).toEqual([]);
  });

  it('a tune terminated during a trial still tears that trial’s app down (the trial is asked to cancel)', async () => {
    const app = testId('tune-term');
    const spec = tuneBaseSpec(stack, app, (s) => {
      s.local.timeScale = 0.01;
      s.local.emulator = { phases: { weightLoadMs: 1_000_000, graphCaptureMs: 1_000 } };
    });
    const input = tuneInputFor(spec, { space: { args: { 'max-running-requests': [16, 48] } }, strategy: 'grid' });
    const trialStatus = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const handle = await client.workflow.start(tune, { taskQueue, workflowId: input.tuneId, args: [input] });
      const trialId = `${input.tuneId}/trial-1`;
      await waitForPendingActivity(client, trialId, 'waitForHealth');
      await handle.terminate('test: the tune is terminated, not aborted');
      const trial = client.workflow.getHandle(trialId);
      await trial.result().catch(() => undefined);
      return (await trial.describe()).status.name;
    });
    expect(trialStatus).toBe('CANCELLED');
    expect(await stack.platform.history(`${app}-t1`)).toHaveLength(1);
    expect(await stack.platform.currentDeployment(`${app}-t1`)).toBeNull();
    expect(await liveApps(stack, `${app}-t`)).toEqual([]);
  });
});

/** A refused update's message (the validator's, under the client's wrapper). */
function messageOf(err: Error): string {
  const cause = (err as Error & { cause?: Error }).cause;
  return cause?.message ?? err.message;
}

/** The workflow's current details (the built-in metadata query: describe() carries only the static summary). */
async function currentDetails(handle: WorkflowHandle): Promise<string> {
  const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
  return metadata.currentDetails ?? '';
}

/** The runbook table's rows as [phase, state, outcome, time], markdown escapes undone. */
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
