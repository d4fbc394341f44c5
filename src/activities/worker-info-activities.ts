import * as os from 'node:os';
import { activityInfo } from '@temporalio/activity';
import { withFailureTypes } from './to-application-failure';

/** Activities that describe the worker itself (used by the stack check). */
export const createWorkerInfoActivities = () =>
  withFailureTypes({
    /** Who is running this activity: host, pid, Node version, task queue. */
    async describeWorker(): Promise<{ hostname: string; pid: number; nodeVersion: string; taskQueue: string }> {
      return {
        hostname: os.hostname(),
        pid: process.pid,
        nodeVersion: process.version,
        taskQueue: activityInfo().taskQueue,
      };
    },
  });
