import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import execa from 'execa';
import YAML from 'yaml';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { CLI_SEARCH_ATTRIBUTE_TYPES } from '../../src/config/temporal-namespace-check';
import { waitForFrontend } from '../../src/devstack/dev-server';
import { temporalCliPath } from '../../src/devstack/temporal-cli';
import { freePort } from '../../src/net/free-port';
import { isProcessAlive, terminateProcessGroup } from '../../src/process/process-identity';
import { CUSTOM_SEARCH_ATTRIBUTES } from '../../src/shared/search-attributes';
import { LOCAL_TASK_QUEUE } from '../../src/shared/task-queue';
import type { Spec } from '../../src/spec/schema';

jest.setTimeout(300_000);

const root = path.resolve(__dirname, '../..');
const cli = path.join(root, 'bin', 'glm-ops');
const demo = path.join(root, 'examples', 'local-demo.yaml');
const { TaskQueueType } = temporal.api.enums.v1;

/** A `glm-ops worker` child process and everything it printed. */
interface WorkerProcess {
  child: ChildProcess;
  identity: string;
  output(): string;
  exited: Promise<number | string | null>;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * The new user's path on a Temporal of their own: a second real dev server (namespaces prod, team, bare; TLS off),
 * driven only by TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE or by a temporal.toml profile; workers started separately with
 * `glm-ops worker`; the built CLI in a fresh state folder.
 */
describe('glm-ops on a Temporal of the user’s own (second dev server, non-default namespaces, workers started by hand)', () => {
  let home: string;
  let address: string;
  let serverPid: number;
  let base: NodeJS.ProcessEnv;
  let envVars: NodeJS.ProcessEnv;
  let connection: Connection;
  let portHolder: net.Server | undefined;
  const workers: WorkerProcess[] = [];

  function startWorker(env: NodeJS.ProcessEnv): WorkerProcess {
    const child = spawn(cli, ['worker', '--task-queue', LOCAL_TASK_QUEUE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | string | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(code ?? signal)),
    );
    const worker = { child, identity: `${child.pid}@${os.hostname()}`, output: () => output, exited };
    workers.push(worker);
    return worker;
  }

  /** Waits until the server lists the worker as a poller of both task types (what the CLI checks). */
  async function waitForPolling(namespace: string, worker: WorkerProcess): Promise<void> {
    await until(
      `worker ${worker.identity} polling ${LOCAL_TASK_QUEUE} in ${namespace}`,
      async () => {
        if (worker.child.exitCode !== null) throw new Error('exited');
        for (const taskQueueType of [TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW, TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY]) {
          const { pollers } = await connection.workflowService.describeTaskQueue({
            namespace,
            taskQueue: { name: LOCAL_TASK_QUEUE },
            taskQueueType,
          });
          if (!pollers.some((p) => p.identity === worker.identity)) return undefined;
        }
        return true;
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(`${String(err)}; worker output:\n${worker.output()}`);
    });
  }

  async function stopWorker(worker: WorkerProcess): Promise<number | string | null> {
    worker.child.kill('SIGTERM');
    return worker.exited;
  }

  function clientFor(namespace: string): Client {
    return new Client({ connection, namespace });
  }

  /** The local demo under another app name, with a ~10 s health wait (weight load 1000 s at 1/100) to kill into. */
  function writeSlowSpec(app: string): string {
    const spec = YAML.parse(fs.readFileSync(demo, 'utf8')) as Spec;
    spec.app = app;
    spec.local.compile = { seconds: 100, shouldFail: false };
    spec.local.emulator = { phases: { weightLoadMs: 1_000_000, graphCaptureMs: 1_000 } };
    spec.health = { startupTimeout: 60, pollInterval: 0.2 };
    const file = path.join(home, `${app}.yaml`);
    fs.writeFileSync(file, YAML.stringify(spec));
    return file;
  }

  /** The identity of the worker running the health wait, once it heartbeats. */
  async function healthWorkerIdentity(client: Client, app: string): Promise<string> {
    return until(
      `${app}: waitForHealth heartbeating`,
      async () => {
        const description = await client.workflow.getHandle(`rollout/${app}`).describe();
        const health = description.raw.pendingActivities?.find((a) => a.activityType?.name === 'waitForHealth');
        return health?.heartbeatDetails?.payloads?.length && health.lastWorkerIdentity
          ? health.lastWorkerIdentity
          : undefined;
      },
      120_000,
    );
  }

  beforeAll(async () => {
    // The hub's preferred port stays taken, so the hub lands on another one and a worker started before it must find
    // it through the state folder (the default :8700 would be wrong). Taken already by someone else is just as good.
    portHolder = await new Promise<net.Server | undefined>((resolve) => {
      const server = net.createServer((socket) => socket.destroy());
      server.once('error', () => resolve(undefined));
      server.listen(8700, '127.0.0.1', () => resolve(server));
    });
    home = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-external-'));
    const port = await freePort();
    address = `127.0.0.1:${port}`;
    const logFile = path.join(home, 'second-temporal.log');
    const log = fs.openSync(logFile, 'a');
    // In memory, headless, with the namespaces a team would have; search attributes are registered below by hand.
    const server = spawn(
      temporalCliPath(),
      ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--headless', '--log-level', 'warn'].concat([
        '--namespace',
        'prod',
        '--namespace',
        'team',
        '--namespace',
        'bare',
      ]),
      { detached: true, stdio: ['ignore', log, log] },
    );
    fs.closeSync(log);
    serverPid = server.pid!;
    await waitForFrontend(address, serverPid, 60_000, logFile);
    for (const namespace of ['prod', 'team']) {
      for (const key of CUSTOM_SEARCH_ATTRIBUTES) {
        await execa(temporalCliPath(), [
          'operator',
          'search-attribute',
          'create',
          '--address',
          address,
          '--namespace',
          namespace,
          '--name',
          key.name,
          '--type',
          CLI_SEARCH_ATTRIBUTE_TYPES[key.type],
        ]);
      }
    }
    connection = await Connection.connect({ address });
    base = {
      ...process.env,
      GLM_OPS_HOME: path.join(home, 'state'),
      GLM_OPS_FIXTURE_SIZE_MB: '6',
      // No temporal.toml of this machine's user may leak in.
      XDG_CONFIG_HOME: path.join(home, 'xdg'),
    };
    for (const key of Object.keys(base)) {
      if (key.startsWith('TEMPORAL_') || key.startsWith('GLM_OPS_SECRET_') || key === 'HF_ENDPOINT') delete base[key];
    }
    envVars = { ...base, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'prod' };
  });

  afterAll(async () => {
    for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill('SIGKILL');
    if (base) await execa(cli, ['dev', 'down'], { env: envVars, reject: false });
    await connection?.close();
    if (serverPid) await terminateProcessGroup(serverPid, 5000);
    if (home) fs.rmSync(home, { recursive: true, force: true });
    await new Promise((resolve) => (portHolder ? portHolder.close(resolve) : resolve(undefined)));
  });

  it('without a worker, the rollout says which queue in which namespace has none and how to start one, then exits 2', async () => {
    const run = await execa(cli, ['rollout', demo, '--wait'], { env: envVars, reject: false, timeout: 60_000 });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^glm-ops: no worker polls task queue glm-ops-local in namespace prod at 127\.0\.0\.1:\d+: start one with `glm-ops worker --task-queue glm-ops-local`/,
      ),
    ]);
    expect(run.stdout).not.toMatch(/started: workflow/);
    // Refused before any side effect: no workflow, no hub, no daemon, no embedded Temporal.
    const found = await clientFor('prod')
      .workflow.getHandle('rollout/glm-5.1-local-demo')
      .describe()
      .then(
        () => true,
        () => false,
      );
    expect(found).toBe(false);
    expect(fs.existsSync(path.join(base.GLM_OPS_HOME!, 'dev'))).toBe(false);
  });

  it('without a worker, keepwarm enable is refused the same way (exit 2, one line) before any schedule', async () => {
    const run = await execa(cli, ['keepwarm', 'enable', demo], { env: envVars, reject: false, timeout: 60_000 });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^glm-ops: no worker polls task queue glm-ops-local in namespace prod at 127\.0\.0\.1:\d+/),
    ]);
    const schedules = [];
    for await (const schedule of clientFor('prod').schedule.list()) schedules.push(schedule.scheduleId);
    expect(schedules).toEqual([]);
  });

  it('driven by TEMPORAL_ADDRESS / TEMPORAL_NAMESPACE: examples/local-demo.yaml rolls out on a worker started by hand; the CLI starts only the hub and the daemon, and says so once', async () => {
    const worker = startWorker(envVars);
    await waitForPolling('prod', worker);
    const run = await execa(cli, ['rollout', demo, '--wait'], { env: envVars, reject: false });
    expect(run.stderr).not.toMatch(/glm-ops:/);
    expect(run.exitCode).toBe(0);
    const hubUrl = /hub started \(pid \d+\) at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.stdout)?.[1];
    expect(hubUrl).toMatch(/^http:/);
    expect(hubUrl).not.toBe('http://127.0.0.1:8700');
    expect(run.stdout).toMatch(/platform daemon started/);
    expect(run.stdout).not.toMatch(/Temporal dev server/);
    expect(run.stdout).not.toMatch(/worker started/);
    const whoRunsWhat = run.stdout.split('\n').filter((line) => line.startsWith('yours: '));
    expect(whoRunsWhat).toEqual([
      `yours: Temporal at ${address}, namespace prod, TLS off, API key not set (from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE); the workers on glm-ops-local. embedded here: the hub at ${hubUrl} and the platform daemon (state in ${path.join(base.GLM_OPS_HOME!, 'platform')})`,
    ]);
    expect(run.stdout).toMatch(/rollout r-\S+ of glm-5\.1-local-demo succeeded/);
    expect(run.stdout).toMatch(/pass {2}tool-call/);
    expect(fs.existsSync(path.join(base.GLM_OPS_HOME!, 'dev', 'temporal.json'))).toBe(false);

    expect(worker.output()).toContain(
      `worker ${worker.identity} connected to Temporal at ${address}, namespace prod, TLS off, API key not set, task queue glm-ops-local (settings from TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE)`,
    );
    // It started before the hub, so it could not know the hub's port then; it read it at the download.
    expect(worker.output()).toContain('platform local: hub at http://127.0.0.1:8700 (the default; no hub runs yet');
    // The workflow ran in namespace prod, every task on the worker started by hand.
    const history = await clientFor('prod').workflow.getHandle('rollout/glm-5.1-local-demo').fetchHistory();
    const identities = new Set(
      (history.events ?? [])
        .map((e) => e.activityTaskStartedEventAttributes?.identity ?? e.workflowTaskStartedEventAttributes?.identity)
        .filter(Boolean),
    );
    expect([...identities]).toEqual([worker.identity]);
    expect(await stopWorker(worker)).toBe(0);
  });

  it('upgrade of the rolled-out app on a queue no worker polls is refused (exit 2, one line) before any workflow', async () => {
    const env = { ...envVars, GLM_OPS_TASK_QUEUE: 'glm-ops-no-worker-here' };
    const argv = ['upgrade', demo, '--sglang-image', 'lmsysorg/sglang:v0.5.11-drill-oom', '--wait'];
    const run = await execa(cli, argv, { env, reject: false, timeout: 60_000 });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^glm-ops: no worker polls task queue glm-ops-no-worker-here in namespace prod at /),
    ]);
    const upgrades = [];
    for await (const wf of clientFor('prod').workflow.list({ query: 'WorkflowType = "upgrade"' })) upgrades.push(wf);
    expect(upgrades).toEqual([]);
  });

  it('driven by a temporal.toml profile (TEMPORAL_CONFIG_FILE + TEMPORAL_PROFILE, TLS disabled): the rollout runs in that namespace', async () => {
    const toml = path.join(home, 'temporal.toml');
    fs.writeFileSync(
      toml,
      [
        '[profile.team]',
        `address = "${address}"`,
        'namespace = "team"',
        '[profile.team.tls]',
        'disabled = true',
        '',
      ].join('\n'),
    );
    const profileEnv = { ...base, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'team' };
    const worker = startWorker(profileEnv);
    await waitForPolling('team', worker);
    const spec = path.join(home, 'ext-profile.yaml');
    const parsed = YAML.parse(fs.readFileSync(demo, 'utf8')) as Spec;
    parsed.app = 'ext-profile';
    fs.writeFileSync(spec, YAML.stringify(parsed));
    const run = await execa(cli, ['rollout', spec, '--follow'], { env: profileEnv, reject: false });
    expect(run.stderr).not.toMatch(/glm-ops:/);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/hub already running/);
    expect(run.stdout.split('\n').filter((line) => line.startsWith('yours: '))).toEqual([
      expect.stringContaining(
        `yours: Temporal at ${address}, namespace team, TLS off, API key not set (from profile "team" of ${toml}); the workers on glm-ops-local.`,
      ),
    ]);
    expect(run.stdout).toMatch(/rollout r-\S+ of ext-profile succeeded/);
    expect(worker.output()).toContain(
      `connected to Temporal at ${address}, namespace team, TLS off, API key not set, task queue glm-ops-local (settings from profile "team" of ${toml})`,
    );
    expect((await clientFor('team').workflow.getHandle('rollout/ext-profile').describe()).status.name).toBe(
      'COMPLETED',
    );
    const inProd = await clientFor('prod')
      .workflow.getHandle('rollout/ext-profile')
      .describe()
      .then(
        () => true,
        () => false,
      );
    expect(inProd).toBe(false);
    expect(await stopWorker(worker)).toBe(0);
  });

  it('two workers on the same task queue share the rollout; the one running the health wait is SIGKILLed and the other finishes it', async () => {
    const first = startWorker(envVars);
    const second = startWorker(envVars);
    await waitForPolling('prod', first);
    await waitForPolling('prod', second);
    const app = 'ext-share';
    const run = execa(cli, ['rollout', writeSlowSpec(app), '--wait'], { env: envVars, reject: false });
    const client = clientFor('prod');
    const runningHealth = await healthWorkerIdentity(client, app);
    const victim = [first, second].find((w) => w.identity === runningHealth);
    if (!victim)
      throw new Error(`the health wait runs on ${runningHealth}, neither ${first.identity} nor ${second.identity}`);
    const survivor = victim === first ? second : first;
    victim.child.kill('SIGKILL');
    expect(await victim.exited).toBe('SIGKILL');

    const result = await run;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/rollout r-\S+ of ext-share succeeded/);
    const history = await client.workflow.getHandle(`rollout/${app}`).fetchHistory();
    const events = history.events ?? [];
    const scheduled = new Map(
      events
        .filter((e) => e.activityTaskScheduledEventAttributes)
        .map((e) => [String(e.eventId), e.activityTaskScheduledEventAttributes!.activityType?.name]),
    );
    const healthStarts = events
      .map((e) => e.activityTaskStartedEventAttributes)
      .filter((a) => a && scheduled.get(String(a.scheduledEventId)) === 'waitForHealth');
    // The killed worker's attempt timed out on its heartbeat; the retry ran on the survivor.
    expect(healthStarts).toEqual([expect.objectContaining({ identity: survivor.identity })]);
    expect(healthStarts[0]!.attempt).toBeGreaterThan(1);
    expect([...scheduled.values()].filter((name) => name === 'deploy')).toHaveLength(1);
    expect(await stopWorker(survivor)).toBe(0);
  });

  it('--follow says "waiting for a worker" when the only worker dies, and carries on when a new one starts', async () => {
    const only = startWorker(envVars);
    await waitForPolling('prod', only);
    const app = 'ext-wait';
    const run = execa(cli, ['rollout', writeSlowSpec(app), '--follow'], { env: envVars, reject: false });
    let stdout = '';
    run.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    await healthWorkerIdentity(clientFor('prod'), app);
    only.child.kill('SIGKILL');
    await only.exited;
    const waiting = await until(
      'the CLI reports the missing worker',
      async () => stdout.split('\n').find((line) => line.startsWith('waiting for a worker')),
      120_000,
    );
    expect(waiting).toMatch(
      /^waiting for a worker on glm-ops-local in namespace prod: activity waitForHealth \(attempt 2\) has waited \d+ s .*; start one with `glm-ops worker --task-queue glm-ops-local`$/,
    );
    const next = startWorker(envVars);
    const result = await run;
    expect(result.exitCode).toBe(0);
    expect(stdout).toContain('a worker on glm-ops-local picked the rollout up again');
    expect(stdout).toMatch(/rollout r-\S+ of ext-wait succeeded/);
    expect(await stopWorker(next)).toBe(0);
  });

  it('the worker refuses a namespace without the glm-ops search attributes, printing the commands; after running them it starts', async () => {
    const bareEnv = { ...base, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'bare' };
    const refused = await execa(cli, ['worker', '--task-queue', LOCAL_TASK_QUEUE], {
      env: bareEnv,
      reject: false,
      timeout: 60_000,
    });
    expect(refused.timedOut).toBe(false);
    expect(refused.exitCode).toBe(2);
    expect(refused.stdout).toMatch(/connected to Temporal at .*, namespace bare, TLS off, API key not set/);
    expect(refused.stderr).toMatch(/namespace bare at 127\.0\.0\.1:\d+ lacks the glm-ops search attributes GlmOpsApp/);
    const commands = refused.stderr
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line.startsWith('temporal operator'));
    expect(commands).toEqual(
      CUSTOM_SEARCH_ATTRIBUTES.map(
        (key) =>
          `temporal operator search-attribute create --address ${address} --namespace bare --name ${key.name} --type ${CLI_SEARCH_ATTRIBUTE_TYPES[key.type]}`,
      ),
    );

    const rollout = await execa(cli, ['rollout', demo], { env: bareEnv, reject: false, timeout: 60_000 });
    expect(rollout.exitCode).toBe(2);
    expect(rollout.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^glm-ops: namespace bare at .* lacks the glm-ops search attributes .*search-attribute create/,
      ),
    ]);

    // The printed commands are the fix: run them with the real temporal CLI, and the worker starts.
    for (const command of commands) await execa(temporalCliPath(), command.split(' ').slice(1));
    const worker = startWorker(bareEnv);
    await waitForPolling('bare', worker);
    expect(worker.output()).toContain('worker polling glm-ops-local');
    expect(await stopWorker(worker)).toBe(0);
  });

  it('a namespace that does not exist: the worker and the CLI say so, with the command that creates it', async () => {
    const missingEnv = { ...base, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: 'missing' };
    const worker = await execa(cli, ['worker'], { env: missingEnv, reject: false, timeout: 60_000 });
    expect(worker.timedOut).toBe(false);
    expect(worker.exitCode).toBe(2);
    expect(worker.stderr).toContain(`namespace missing does not exist at ${address}`);
    expect(worker.stderr).toContain(`temporal operator namespace create --address ${address} --namespace missing`);
    const rollout = await execa(cli, ['rollout', demo, '--wait'], { env: missingEnv, reject: false, timeout: 60_000 });
    expect(rollout.exitCode).toBe(2);
    expect(rollout.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/^glm-ops: namespace missing does not exist at 127\.0\.0\.1:\d+: create it with `temporal/),
    ]);
  });

  it('dev down stops the hub and the platform daemon the CLI started; no worker of the test is left', async () => {
    const hubPid = JSON.parse(fs.readFileSync(path.join(base.GLM_OPS_HOME!, 'dev', 'hub.json'), 'utf8')).pid as number;
    const daemonPid = Number(fs.readFileSync(path.join(base.GLM_OPS_HOME!, 'platform', 'daemon.pid'), 'utf8'));
    const down = await execa(cli, ['dev', 'down'], { env: envVars });
    expect(down.stdout).toMatch(/hub: stopped/);
    expect(down.stdout).toMatch(/platform daemon: stopped/);
    expect([hubPid, daemonPid, ...workers.map((w) => w.child.pid!)].filter(isProcessAlive)).toEqual([]);
  });
});
