import { platformDaemonLines } from '../../src/cli/commands/dev';
import type { PlatformStatus } from '../../src/platforms/local/platform-daemon';

const engine = (version: number, state: 'starting' | 'ready' | 'exited') => ({
  pid: 1000 + version,
  port: 40000 + version,
  version,
  state,
  inFlight: 0,
  startedAt: '2026-12-01T10:00:00.000Z',
});

const app = (patch: Partial<PlatformStatus['apps'][number]>): PlatformStatus['apps'][number] => ({
  app: 'demo',
  url: 'http://127.0.0.1:41000',
  routerPort: 41000,
  currentVersion: 2,
  servingVersion: 2,
  retainedVersion: null,
  minContainers: 0,
  maxContainers: 1,
  engines: [],
  counters: { coldStarts: 0, badGateway502: 0, replacements: 0 },
  lastVerifiedVersion: 2,
  ...patch,
});

const daemon = (apps: PlatformStatus['apps']): PlatformStatus => ({
  pid: 4242,
  controlUrl: 'http://127.0.0.1:40999',
  stateDir: '/state',
  startedAt: '2026-12-01T09:00:00.000Z',
  apps,
});

describe('dev status: what the platform daemon serves', () => {
  it('no daemon: says so and how to start it', () => {
    expect(platformDaemonLines(undefined)).toEqual(['platform daemon: not running (`glm-ops dev up` starts it)']);
  });

  it('one line per app: the serving version, one on its way in, the verified one, engines ready', () => {
    expect(
      platformDaemonLines(
        daemon([
          app({ engines: [engine(2, 'ready')] }),
          app({ app: 'rolling', currentVersion: 3, engines: [engine(2, 'ready'), engine(3, 'starting')] }),
          app({ app: 'idle', engines: [engine(2, 'exited')] }),
          app({ app: 'gone', currentVersion: null, servingVersion: null, lastVerifiedVersion: null }),
        ]),
      ),
    ).toEqual([
      'platform daemon: running (pid 4242), control API http://127.0.0.1:40999',
      '  demo: serving v2, last verified v2 at http://127.0.0.1:41000, 1 of 1 engines ready',
      '  rolling: serving v2, v3 starting, last verified v2 at http://127.0.0.1:41000, 1 of 2 engines ready',
      '  idle: serving v2, last verified v2 at http://127.0.0.1:41000, no engines (scaled to zero)',
      '  gone: stopped at http://127.0.0.1:41000',
    ]);
    expect(platformDaemonLines(daemon([]))).toContain('  no apps deployed');
  });
});
