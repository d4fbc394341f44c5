import { WorkflowFailedError } from '@temporalio/client';
import type { Config } from '../config/config';
import { checkSpecFile } from '../spec/check-spec';
import { formatFinding } from '../spec/finding';
import { formatSpecIssue } from '../spec/parse-spec';
import { APP } from '../shared/search-attributes';
import { taskQueueFor } from '../shared/task-queue';
import { rolloutPlanState } from '../workflows';
import { EXIT_BAD_INPUT } from './bad-input';
import { describeFailureCause } from './failure-cause';
import { planRollout } from './rollout-plan';
import { rolloutPlanLines } from './rollout-plan-text';
import { ensureStackForSpec, PlatformNotReadyError } from './stack-for-spec';
import { connectClient } from './temporal-client';

/** The read-only plan read's workflow id: never the rollout's own (`rollout/<app>`), so it cannot block one. */
export function rolloutPlanWorkflowId(app: string, now = new Date()): string {
  return `rollout-plan/${app}/${now.toISOString()}`;
}

/**
 * `glm-ops rollout SPEC --plan`: lints the spec as the rollout would, reads the state on the worker the rollout
 * would run on (the read-only `rolloutPlanState` workflow: the same platform adapter, hub and volumes as the
 * rollout's skip checks, which a platform built in this process could differ from, e.g. a worker with its own
 * HF_ENDPOINT or Modal credentials), and prints the plan. Exit 0; a spec the rollout would refuse exits 2 as the
 * rollout does. Like `rollout`, it brings the embedded stack up when it is down; it changes nothing of the app.
 */
export async function runRolloutPlan(file: string, settings: Config, options: { json?: boolean }): Promise<void> {
  const checked = await checkSpecFile(file);
  const errors = checked.findings.filter((finding) => finding.level === 'error');
  if (checked.errors.length > 0 || errors.length > 0 || !checked.spec) {
    for (const issue of checked.errors) console.error(formatSpecIssue(issue, file));
    for (const finding of errors) console.error(`error: ${formatFinding(finding)}`);
    console.error('glm-ops: the rollout would refuse this spec before any step runs (exit 2)');
    process.exitCode = EXIT_BAD_INPUT;
    return;
  }
  const spec = checked.spec;
  // Stack lines go to stderr with --json, so stdout stays one JSON document.
  const report = options.json ? (line: string) => console.error(line) : (line: string) => console.log(line);
  try {
    await ensureStackForSpec(spec, report, settings, { requireWorker: true });
  } catch (err) {
    if (!(err instanceof PlatformNotReadyError)) throw err;
    console.error(`glm-ops: ${err.message}`);
    process.exitCode = EXIT_BAD_INPUT;
    return;
  }
  const { client, connection } = await connectClient(settings);
  try {
    const state = await client.workflow
      .execute(rolloutPlanState, {
        taskQueue: taskQueueFor(spec.platform),
        workflowId: rolloutPlanWorkflowId(spec.app),
        args: [{ spec }],
        // A hang guard: the read is a few status calls; a worker that never picks it up must not hold the CLI forever.
        workflowExecutionTimeout: '5 minutes',
        staticSummary: `Plan of a rollout of ${spec.app} (read-only)`,
        typedSearchAttributes: [{ key: APP, value: spec.app }],
      })
      .catch((err: unknown) => {
        if (!(err instanceof WorkflowFailedError)) throw err;
        console.error(`glm-ops: could not read the state of ${spec.app}: ${describeFailureCause(err)}`);
        process.exitCode = 1;
        return undefined;
      });
    if (!state) return;
    const plan = planRollout(spec, state, checked, settings.env);
    if (options.json) console.log(JSON.stringify(plan, null, 2));
    else for (const line of rolloutPlanLines(plan)) console.log(line);
  } finally {
    await connection.close();
  }
}
