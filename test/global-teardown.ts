import * as fs from 'node:fs';
import { terminateProcessGroup } from '../src/process/process-identity';

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.GLM_OPS_TEST_TEMPORAL_PID);
  if (pid) await terminateProcessGroup(pid, 5000);
  const dir = process.env.GLM_OPS_TEST_DIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
