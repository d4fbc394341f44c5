import type { Command } from 'commander';
import type { Config } from '../../config/config';
import { secretSource } from '../../config/secrets';
import { createEngineFactory } from '../../platforms/local/default-engine-factory';
import { platformStatus, startPlatform, stopPlatform } from '../../platforms/local/daemon-lifecycle';
import { checkDeploySpec } from '../../platforms/local/deploy-spec-check';
import { localStorageFor } from '../../platforms/local/local-platform';
import type { PlatformStatus } from '../../platforms/local/platform-daemon';
import { platformPathsIn } from '../../platforms/local/platform-paths';
import { runPlatformDaemon } from '../../platforms/local/run-platform-daemon';

/** Platform timings in production: Modal-like grace and replacement delays. */
const DAEMON_TIMINGS = { stopGraceMs: 10_000, replaceDelayMs: 1_000, maxReplaceDelayMs: 30_000, tickMs: 250 };

function printStatus(status: PlatformStatus): void {
  console.log(`daemon pid ${status.pid}, control API ${status.controlUrl}, state in ${status.stateDir}`);
  if (status.apps.length === 0) {
    console.log('no apps deployed');
    return;
  }
  for (const app of status.apps) {
    const version = app.currentVersion === null ? 'stopped' : `v${app.currentVersion}`;
    const { coldStarts, badGateway502, replacements } = app.counters;
    console.log(
      `${app.app}  ${app.url}  ${version}  engines ${app.engines.length} (min ${app.minContainers}, max ${app.maxContainers})  ` +
        `cold starts ${coldStarts}, 502s ${badGateway502}, replacements ${replacements}`,
    );
    for (const engine of app.engines) {
      console.log(
        `  pid ${engine.pid}  port ${engine.port}  v${engine.version}  ${engine.state}  in flight ${engine.inFlight}`,
      );
    }
    if (app.portNote) console.log(`  note: ${app.portNote}`);
  }
}

function fail(err: unknown): void {
  console.error(`glm-ops platform: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
}

/** Registers `glm-ops platform up|down|status` (and the hidden `daemon` that `up` detaches). */
export function registerPlatformCommand(program: Command, settings: Config): void {
  const platform = program
    .command('platform')
    .description('run the local serving platform daemon: routers, engines, versions and logs of local apps');

  platform
    .command('up')
    .description('start the platform daemon in the background (idempotent: reports the running one)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      try {
        const { wasAlreadyRunning, status } = await startPlatform(settings);
        if (options.json) {
          console.log(JSON.stringify({ wasAlreadyRunning, ...status }, null, 2));
          return;
        }
        console.log(
          `${wasAlreadyRunning ? 'platform daemon already running' : 'platform daemon started'}: pid ${status.pid}, control API ${status.controlUrl}`,
        );
        console.log(`state in ${status.stateDir} (log: ${platformPathsIn(settings.stateDir).daemonLog})`);
      } catch (err) {
        fail(err);
      }
    });

  platform
    .command('down')
    .description('stop the platform daemon and every engine it runs')
    .action(async () => {
      try {
        console.log((await stopPlatform(settings)) ? 'platform daemon stopped' : 'platform daemon was not running');
      } catch (err) {
        fail(err);
      }
    });

  platform
    .command('status')
    .description("show the daemon, each app's router URL, version, engines and counters")
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      try {
        const status = await platformStatus(settings);
        if (options.json) console.log(JSON.stringify(status, null, 2));
        else printStatus(status);
      } catch (err) {
        fail(err);
      }
    });

  platform
    .command('daemon', { hidden: true })
    .description('run the platform daemon in the foreground (what `platform up` starts)')
    .action(async () => {
      const log = (text: string): void => console.log(`[${new Date().toISOString()}] ${text}`);
      const storage = localStorageFor(settings);
      const running = await runPlatformDaemon({
        paths: platformPathsIn(settings.stateDir),
        factory: createEngineFactory({
          secrets: secretSource(settings),
          resolveEnginePaths: (spec) => storage.enginePaths(spec),
        }),
        timings: DAEMON_TIMINGS,
        checkSpec: checkDeploySpec,
        log,
      });
      for (const signal of ['SIGTERM', 'SIGINT'] as const) {
        process.once(signal, () => void running.shutdown({ stopEngines: true }));
      }
      await running.closed;
      log('stopped');
      process.exit(0);
    });
}
