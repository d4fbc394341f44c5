import * as fs from 'node:fs';
import * as path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/**
 * With GLM_OPS_RECORD_HISTORIES=1, saves a finished workflow's history as test/histories/<name>.json, the
 * fixtures test/replay replays against the current workflow code to prove it is still deterministic.
 */
export async function recordHistory(handle: WorkflowHandle, name: string): Promise<void> {
  if (process.env.GLM_OPS_RECORD_HISTORIES !== '1') return;
  const history = await handle.fetchHistory();
  const dir = path.resolve(__dirname, '..', 'histories');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${name}.json`), historyToJSON(history));
}
