import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createActivities, HEARTBEAT_SEND_INTERVAL } from '../src/activities';
import { loadConfig, type Config } from '../src/config/config';
import { secretEnvVar, secretSource } from '../src/config/secrets';
import { startDevServer } from '../src/devstack/dev-server';
import { terminateProcessGroup } from '../src/process/process-identity';
import { writeFixtureCheckpoint } from '../src/hub/fixture-checkpoint';
import { startHub } from '../src/hub/hub-server';
import { startPlatform, stopPlatform } from '../src/platforms/local/daemon-lifecycle';
import { LocalPlatform } from '../src/platforms/local/local-platform';
import { parseSpecText } from '../src/spec/parse-spec';
import type { Spec } from '../src/spec/schema';

/** Everything a benchmark of the whole product needs, all real: Temporal dev server, hub, platform daemon, worker. */
export interface BenchStack {
  /** The settings of the stack's temp state folder, on its hub. */
  config: Config;
  client: Client;
  worker: Worker;
  platform: LocalPlatform;
  taskQueue: string;
  /** The local demo spec under an app name of the benchmark's own. */
  specFor(app: string, patch?: (spec: Spec) => void): Spec;
  close(): Promise<void>;
}

/** The value of `--name` on the command line, or the fallback. */
export function option(name: string, fallback: string): string {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 && process.argv[index + 1] ? process.argv[index + 1]! : fallback;
}

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? NaN;
}

/** One line naming the machine, printed under every table. */
export function machineLine(): string {
  return `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

/** Starts the stack in a temp state folder with a fixture checkpoint of the given size. */
export async function startBenchStack(options: { fixtureSizeMB: number; taskQueue: string }): Promise<BenchStack> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-bench-'));
  const server = await startDevServer({
    headless: true,
    logFile: path.join(home, 'temporal.log'),
    detached: false,
    preferredPort: 0,
  });
  const fixtureDir = path.join(home, 'fixture');
  await writeFixtureCheckpoint({ outDir: fixtureDir, sizeMB: options.fixtureSizeMB });
  const hub = await startHub({ fixtureDir });
  const env: NodeJS.ProcessEnv = { ...process.env, GLM_OPS_HOME: home, HF_ENDPOINT: hub.url };
  delete env[secretEnvVar('glm-api-key')];
  const config = loadConfig(env);
  const secrets = secretSource(config);
  secrets.ensureLocal('glm-api-key', () => `sk-bench-${randomBytes(8).toString('hex')}`);
  await startPlatform(config);
  const platform = LocalPlatform.fromConfig(config);
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../src/workflows') });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  const connection = await Connection.connect({ address: server.address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue: options.taskQueue,
    workflowBundle: { code },
    activities: createActivities({ platforms: { local: platform }, resolveSecret: secrets.resolve }),
    maxHeartbeatThrottleInterval: HEARTBEAT_SEND_INTERVAL,
  });
  const demo = fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'local-demo.yaml'), 'utf8');
  return {
    config,
    client: new Client({ connection }),
    worker,
    platform,
    taskQueue: options.taskQueue,
    specFor(app, patch) {
      const parsed = parseSpecText(demo);
      if (!parsed.ok) throw new Error('examples/local-demo.yaml does not parse');
      const spec = structuredClone(parsed.spec);
      spec.app = app;
      patch?.(spec);
      return spec;
    },
    async close() {
      await connection.close();
      await nativeConnection.close();
      await stopPlatform(config);
      await hub.close();
      await terminateProcessGroup(server.pid, 5000);
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}
