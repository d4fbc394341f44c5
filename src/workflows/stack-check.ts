import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { workerQuestion } from './retry-profiles';

const { describeWorker } = proxyActivities<Activities>({ ...workerQuestion, summary: 'Ask the worker who it is' });

/** Input of the stack check. */
export interface StackCheckInput {
  requestedBy: string;
}

/** What the stack check proves: a workflow ran on a real worker that answered. */
export interface StackCheckResult {
  requestedBy: string;
  worker: { hostname: string; pid: number; nodeVersion: string; taskQueue: string };
}

/** Runs one activity on a worker: the smallest proof that server, worker and workflow code work together. */
export async function stackCheck(input: StackCheckInput): Promise<StackCheckResult> {
  const worker = await describeWorker();
  return { requestedBy: input.requestedBy, worker };
}
