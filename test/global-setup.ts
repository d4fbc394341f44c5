import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../src/devstack/dev-server';

/** One real Temporal dev server (in memory, free ports) and one workflow bundle for the whole run. */
export default async function globalSetup(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-jest-'));
  const [server, bundle] = await Promise.all([
    startDevServer({ headless: true, logFile: path.join(dir, 'temporal.log'), detached: false, preferredPort: 0 }),
    bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows'), logger: quietLogger }),
  ]);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  fs.writeFileSync(bundlePath, bundle.code);
  process.env.GLM_OPS_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.GLM_OPS_TEST_WORKFLOW_BUNDLE = bundlePath;
  process.env.GLM_OPS_TEST_TEMPORAL_PID = String(server.pid);
  process.env.GLM_OPS_TEST_DIR = dir;
}

const noop = (): void => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
