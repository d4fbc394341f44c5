import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { PERFORMANCE_MEMO, type PerformanceBaseline } from '../shared/performance-types';
import { DEPLOYED_VERSION } from '../shared/search-attributes';
import { rolloutWorkflowId } from '../shared/workflow-ids';

/** What a memo must hold to be compared with: the figures the judge reads, the load they were measured under. */
const RecordedBaseline = z.object({
  version: z.number().int().positive(),
  load: z.object({
    concurrency: z.number().nullable(),
    requestRate: z.number().nullable(),
    requests: z.number(),
    warmupRequests: z.number(),
    dataset: z.string(),
  }),
  figures: z.looseObject({
    ttftP50Ms: z.number(),
    ttftP95Ms: z.number(),
    tpotP50Ms: z.number(),
    tpotP95Ms: z.number(),
    outputTokensPerSec: z.number(),
    requestsPerSec: z.number(),
    measuredConcurrency: z.number(),
    completed: z.number(),
    failed: z.number(),
    errorRate: z.number(),
    acceptLength: z.number().nullable(),
    durationSec: z.number(),
  }),
});

/**
 * Reads the figures a version's own rollout recorded when its gate measured it: the completed `rollout/<app>` run that
 * deployed that version (its `GlmOpsDeployedVersion`), through Temporal's visibility, and that run's memo. Null when
 * no such run recorded figures (a version from before the gate, one deployed with the gate off, or a history the
 * server no longer keeps); a memo that does not hold figures in the shape the gate writes counts as none.
 */
export function temporalBaselineReader(client: Client) {
  return async (app: string, version: number): Promise<PerformanceBaseline | null> => {
    const query = [
      `WorkflowId = "${rolloutWorkflowId(app).replace(/["\\]/g, '\\$&')}"`,
      `${DEPLOYED_VERSION.name} = ${version}`,
      `ExecutionStatus = "Completed"`,
    ].join(' AND ');
    for await (const run of client.workflow.list({ query })) {
      const recorded = RecordedBaseline.safeParse(run.memo?.[PERFORMANCE_MEMO]);
      if (recorded.success && recorded.data.version === version) return recorded.data as PerformanceBaseline;
    }
    return null;
  };
}
