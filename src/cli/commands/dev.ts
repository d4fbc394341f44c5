import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { recordedAddresses, stackDown, stackStatus, stackUp } from '../../devstack/dev-stack';
import { temporalCliPath, temporalCliVersion } from '../../devstack/temporal-cli';
import { stackCheck } from '../../workflows/stack-check';
import { platformStatus } from '../../platforms/local/daemon-lifecycle';
import { DaemonUnavailableError } from '../../platforms/local/local-platform-errors';
import type { PlatformStatus } from '../../platforms/local/platform-daemon';
import { LOCAL_TASK_QUEUE } from '../../shared/task-queue';
import { connectClient, workflowUiLink } from '../temporal-client';

/** The platform daemon's status, or undefined when none answers in this state folder. */
async function runningPlatformDaemon(settings: Config): Promise<PlatformStatus | undefined> {
  try {
    return await platformStatus(settings);
  } catch (err) {
    if (err instanceof DaemonUnavailableError) return undefined;
    throw err;
  }
}

/** What the daemon serves, one line per app: the version taking traffic, one on its way in, the verified one. */
export function platformDaemonLines(daemon: PlatformStatus | undefined): string[] {
  if (!daemon) return ['platform daemon: not running (`glm-ops dev up` starts it)'];
  const lines = [`platform daemon: running (pid ${daemon.pid}), control API ${daemon.controlUrl}`];
  if (daemon.apps.length === 0) lines.push('  no apps deployed');
  for (const app of daemon.apps) {
    const live = app.engines.filter((e) => e.state !== 'exited');
    const ready = live.filter((e) => e.state === 'ready').length;
    const serving = app.servingVersion === null ? 'stopped' : `serving v${app.servingVersion}`;
    const incoming =
      app.currentVersion !== null && app.currentVersion !== app.servingVersion
        ? `, v${app.currentVersion} starting`
        : '';
    const verified = app.lastVerifiedVersion === null ? '' : `, last verified v${app.lastVerifiedVersion}`;
    const engines =
      app.servingVersion === null && live.length === 0
        ? ''
        : live.length === 0
          ? ', no engines (scaled to zero)'
          : `, ${ready} of ${live.length} engines ready`;
    lines.push(`  ${app.app}: ${serving}${incoming}${verified} at ${app.url}${engines}`);
  }
  return lines;
}

/** `glm-ops dev up|down|status|check`: the embedded Temporal stack. */
export function registerDevCommand(program: Command, settings: Config): void {
  const dev = program
    .command('dev')
    .description(
      'start, stop and inspect the embedded stack: Temporal dev server (Web UI), worker, platform daemon, fixture hub',
    );

  dev
    .command('up')
    .description(
      'start the hub, the platform daemon, the Temporal dev server (SQLite in the state folder) and a worker; idempotent',
    )
    .action(async () => {
      console.log(await temporalCliVersion(temporalCliPath()));
      const status = await stackUp((line) => console.log(line), settings);
      console.log(`Temporal Web UI: ${status.temporal?.uiUrl}`);
    });

  dev
    .command('down')
    .description('stop every process `dev up` started (by pid)')
    .action(async () => {
      await stackDown((line) => console.log(line), settings);
    });

  dev
    .command('status')
    .description('show what is running')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const status = stackStatus(settings);
      const platformDaemon = await runningPlatformDaemon(settings);
      if (options.json) {
        console.log(JSON.stringify({ ...status, ...(platformDaemon ? { platformDaemon } : {}) }, null, 2));
        return;
      }
      const recorded = recordedAddresses(settings);
      const comesBack = (address: string | undefined) =>
        address ? ` (recorded at ${address}: \`glm-ops dev up\` restarts it there)` : '';
      console.log(
        status.temporal
          ? `temporal: running (pid ${status.temporal.pid}) at ${status.temporal.address}, UI ${status.temporal.uiUrl}`
          : `temporal: not running${comesBack(recorded.temporal)}`,
      );
      console.log(
        status.worker
          ? `worker: running (pid ${status.worker.pid}) on ${status.worker.taskQueue}`
          : 'worker: not running',
      );
      console.log(
        status.hub
          ? `hub: running (pid ${status.hub.pid}) at ${status.hub.url}`
          : `hub: not running${comesBack(recorded.hub)}`,
      );
      for (const line of platformDaemonLines(platformDaemon)) console.log(line);
    });

  dev
    .command('check')
    .description('run the stack-check workflow through the worker and print where to see it in the UI')
    .action(async () => {
      const { client, connection, config } = await connectClient(settings);
      try {
        const workflowId = `stack-check/${Date.now()}`;
        const handle = await client.workflow.start(stackCheck, {
          taskQueue: LOCAL_TASK_QUEUE,
          workflowId,
          args: [{ requestedBy: process.env.USER ?? 'glm-ops' }],
          staticSummary: 'Stack check: one activity on a real worker',
          workflowExecutionTimeout: '2 minutes',
        });
        const result = await handle.result();
        console.log(`stack check passed: worker pid ${result.worker.pid} on ${result.worker.hostname}`);
        const link = workflowUiLink(config, workflowId, handle.firstExecutionRunId);
        if (link) console.log(`see it in the Temporal UI: ${link}`);
      } finally {
        await connection.close();
      }
    });
}
