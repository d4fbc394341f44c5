import * as fs from 'node:fs';
import { terminate } from '../src/devstack/process-control';

export default async function globalTeardown(): Promise<void> {
  const pid = Number(process.env.GLM_OPS_TEST_TEMPORAL_PID);
  if (pid) await terminate(pid, 5000);
  const dir = process.env.GLM_OPS_TEST_DIR;
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
