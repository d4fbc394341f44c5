import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Spec } from '../../spec/schema';
import type { Deployment, Endpoint, LogLine, VerifiedDeployment } from '../platform';
import { type AppState, readAppState } from './app-state';
import { assertEngineAvailable } from './engine-command';
import { EngineUnavailableError, NotFoundError, SpecRefusedError } from './local-platform-errors';
import { appDir, type PlatformPaths } from './platform-paths';
import {
  DAEMON_OWNER_ENV,
  ENGINE_OWNER_ENV,
  findProcessesWithMarker,
  hasEnvMarker,
  terminateProcessGroup,
} from '../../process/process-identity';
import type { EngineFactory } from './engine-factory';
import { type AppStatus, ServingApp, type ServingTimings } from './serving-app';
import { VerifiedVersionStore } from './verified-versions';

/** What the daemon is built from; tests inject temp folders, fast timings and a spec checker. */
export interface PlatformDaemonDeps {
  paths: PlatformPaths;
  factory: EngineFactory;
  timings: ServingTimings;
  /** Parses and lints a spec (a tune's trial: parses only); throws SpecRefusedError before anything starts. */
  checkSpec(input: unknown, options?: { isTrial?: boolean }): Spec;
  /** Throws when the spec's engine cannot run here (no SGLang, emulator not built). */
  assertEngine?(spec: Spec): void;
  /** Where the daemon's own notes go (its log file when detached). */
  log?(text: string): void;
}

/** The address a running daemon publishes in `daemon.json`. */
export interface DaemonInfo {
  pid: number;
  controlUrl: string;
  stateDir: string;
  startedAt: string;
}

/** One app in `status`: what serves, and the version the platform last saw pass its gates. */
export interface AppStatusWithVerified extends AppStatus {
  lastVerifiedVersion: number | null;
}

/** What `status` shows. */
export interface PlatformStatus extends DaemonInfo {
  apps: AppStatusWithVerified[];
}

/** Another daemon already owns this state folder. */
export class DaemonAlreadyRunningError extends Error {
  constructor(
    readonly pid: number,
    root: string,
  ) {
    super(`a platform daemon (pid ${pid}) already owns ${root}: use it, or stop it with \`glm-ops platform down\``);
    this.name = 'DaemonAlreadyRunningError';
  }
}

/** Reads the control API's token, creating it (mode 600) on first use. */
export function ensureToken(paths: PlatformPaths): string {
  fs.mkdirSync(paths.root, { recursive: true, mode: 0o700 });
  if (!fs.existsSync(paths.token)) {
    try {
      fs.writeFileSync(paths.token, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return fs.readFileSync(paths.token, 'utf8').trim();
}

/**
 * The local platform: one process per state folder that owns the apps, their routers and their engines.
 * It outlives workers; restarted from its state it adopts live engines of current versions and kills the rest.
 */
export class PlatformDaemon {
  private readonly apps = new Map<string, ServingApp>();
  private readonly startedAt = new Date().toISOString();
  private readonly log: (text: string) => void;
  private isLockHeld = false;
  private readonly appLocks = new Map<string, Promise<unknown>>();

  private constructor(private readonly deps: PlatformDaemonDeps) {
    this.log = deps.log ?? (() => undefined);
  }

  /** Takes the single-daemon lock, then opens every app found in the state folder. */
  static async start(deps: PlatformDaemonDeps): Promise<PlatformDaemon> {
    const daemon = new PlatformDaemon(deps);
    daemon.acquireLock();
    try {
      await daemon.openApps();
      daemon.killLeftovers();
    } catch (err) {
      await daemon.close({ stopEngines: false });
      throw err;
    }
    return daemon;
  }

  /** The state folder this daemon owns. */
  get root(): string {
    return this.deps.paths.root;
  }

  /** Writes `daemon.json` once the control API listens, so clients can find it. */
  publish(controlUrl: string): DaemonInfo {
    const info: DaemonInfo = { pid: process.pid, controlUrl, stateDir: this.root, startedAt: this.startedAt };
    const temp = `${this.deps.paths.daemonFile}.tmp`;
    fs.writeFileSync(temp, JSON.stringify(info, null, 2), { mode: 0o600 });
    fs.renameSync(temp, this.deps.paths.daemonFile);
    return info;
  }

  /**
   * Records a new version (idempotent by rolloutId) after validating everything that could refuse it; a tune's trial
   * (`isTrial`) is not refused for the guide's lint errors, which it is deployed to measure.
   */
  async deploy(specInput: unknown, rolloutId: string, options: { isTrial?: boolean } = {}): Promise<Deployment> {
    const spec = this.deps.checkSpec(specInput, options);
    if (!rolloutId.trim()) throw new SpecRefusedError('deploy refused: rolloutId is empty; pass the rollout id');
    (this.deps.assertEngine ?? ((s: Spec) => assertEngineAvailable(s)))(spec);
    try {
      this.deps.factory.resolveApiKey(spec);
    } catch (err) {
      throw new EngineUnavailableError(`deploy refused: ${(err as Error).message}`);
    }
    try {
      await this.deps.factory.resolveEnginePaths(spec);
    } catch (err) {
      throw new EngineUnavailableError(`deploy refused: ${(err as Error).message}`);
    }
    return this.withAppLock(spec.app, async () => {
      const app = this.apps.get(spec.app) ?? (await this.createApp(spec.app));
      return app.deploy(spec, rolloutId);
    });
  }

  /** Routes an app back to one of its versions. */
  rollback(app: string, version: number): Promise<Deployment> {
    return this.withAppLock(app, async () => this.app(app).rollback(version));
  }

  /** Stops an app's engines; its versions stay in history. */
  stop(app: string): Promise<void> {
    return this.withAppLock(app, () => this.app(app).stop());
  }

  /** Keeps n engines of an app warm. */
  setMinContainers(app: string, minContainers: number): void {
    this.app(app).setMinContainers(minContainers);
  }

  currentDeployment(app: string): Deployment | null {
    return this.apps.get(app)?.currentDeployment() ?? null;
  }

  history(app: string): Deployment[] {
    return this.apps.get(app)?.history() ?? [];
  }

  /**
   * Records that a version passed its gates (the rollout's smoke tests, a rollback's health check). Kept by the
   * daemon, not the workflow: a terminated rollout leaves its unverified version routed, and the next rollout must
   * still know the way back to the last version that was verified.
   */
  markVerified(app: string, version: number): Promise<void> {
    return this.withAppLock(app, async () => {
      const known = this.app(app).history();
      if (!known.some((d) => d.version === version)) {
        const versions = known.map((d) => `v${d.version}`).join(', ') || 'none';
        throw new NotFoundError(
          `cannot mark v${version} of app "${app}" verified: it has no such version (versions: ${versions})`,
        );
      }
      this.verified(app).mark(version, new Date().toISOString());
      // The version serving passed its gates: the engines a rolling deploy kept for an instant rollback can go.
      const serving = this.app(app);
      if (serving.currentDeployment()?.version === version) serving.retirePrevious(`v${version} verified`);
    });
  }

  /** The latest verified version the app still has (other than `excluding`), or null when none was verified. */
  lastVerified(app: string, options: { excluding?: number } = {}): VerifiedDeployment | null {
    const history = this.apps.get(app)?.history() ?? [];
    const latest = this.verified(app).latest({
      excluding: options.excluding,
      exists: (version) => history.some((d) => d.version === version),
    });
    const deployment = latest && history.find((d) => d.version === latest.version);
    return deployment ? { ...deployment, verifiedAt: latest.verifiedAt } : null;
  }

  endpoint(app: string): Endpoint {
    return { url: this.app(app).url() };
  }

  logs(app: string, options: { since?: string; limit?: number }): LogLine[] {
    return this.app(app).logs(options);
  }

  /** Every app, for `status`. */
  status(info: DaemonInfo): PlatformStatus {
    return {
      ...info,
      apps: [...this.apps.values()].map((app) => ({
        ...app.status(),
        lastVerifiedVersion: this.lastVerified(app.name)?.version ?? null,
      })),
    };
  }

  /**
   * Closes routers and releases the lock. With `stopEngines` engines are stopped too (platform down); without,
   * they are left running exactly as a SIGKILLed daemon leaves them (used by tests of adoption).
   */
  async close(options: { stopEngines: boolean }): Promise<void> {
    await Promise.all([...this.apps.values()].map((app) => app.close(options)));
    this.apps.clear();
    if (this.isLockHeld) {
      fs.rmSync(this.deps.paths.daemonFile, { force: true });
      fs.rmSync(this.deps.paths.pidFile, { force: true });
      this.isLockHeld = false;
    }
  }

  private verified(app: string): VerifiedVersionStore {
    return new VerifiedVersionStore(appDir(this.deps.paths, app), app);
  }

  private app(name: string): ServingApp {
    const app = this.apps.get(name);
    if (!app) throw new NotFoundError(`app "${name}" has no deployments on the local platform: deploy it first`);
    return app;
  }

  /** Serialises mutations of one app so a retried deploy racing its original cannot create two versions. */
  private withAppLock<T>(app: string, action: () => Promise<T>): Promise<T> {
    const previous = this.appLocks.get(app) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(action);
    this.appLocks.set(app, next);
    return next;
  }

  private async createApp(name: string): Promise<ServingApp> {
    const state: AppState = {
      app: name,
      routerPort: 0,
      currentVersion: null,
      minContainersOverride: null,
      versions: [],
      counters: { coldStarts: 0, badGateway502: 0, replacements: 0 },
      engines: [],
    };
    return this.openApp(name, state);
  }

  private async openApp(name: string, state: AppState): Promise<ServingApp> {
    const app = await ServingApp.open({
      dir: appDir(this.deps.paths, name),
      state,
      factory: this.deps.factory,
      timings: this.deps.timings,
      owner: this.root,
      daemonLog: this.log,
    });
    this.apps.set(name, app);
    return app;
  }

  private async openApps(): Promise<void> {
    if (!fs.existsSync(this.deps.paths.appsDir)) return;
    for (const name of fs.readdirSync(this.deps.paths.appsDir)) {
      const state = readAppState(path.join(this.deps.paths.appsDir, name));
      if (state) await this.openApp(name, state);
    }
  }

  /** Engines of this state folder that no app adopted (say, spawned just before a SIGKILL) are killed. */
  private killLeftovers(): void {
    const owned = new Set([...this.apps.values()].flatMap((app) => app.enginePids()));
    for (const pid of findProcessesWithMarker(ENGINE_OWNER_ENV, this.root)) {
      if (owned.has(pid)) continue;
      this.log(`killing leftover engine pid ${pid} that no app state records`);
      void terminateProcessGroup(pid, this.deps.timings.stopGraceMs);
    }
  }

  /** One daemon per state folder: an exclusive pid file, reclaimed when its owner is gone. */
  private acquireLock(): void {
    fs.mkdirSync(this.deps.paths.root, { recursive: true, mode: 0o700 });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        fs.writeFileSync(this.deps.paths.pidFile, String(process.pid), { flag: 'wx', mode: 0o600 });
        this.isLockHeld = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const holder = Number(fs.readFileSync(this.deps.paths.pidFile, 'utf8').trim());
      const isHolderAlive =
        holder > 0 && (holder === process.pid || hasEnvMarker(holder, DAEMON_OWNER_ENV, this.deps.paths.root));
      if (isHolderAlive) throw new DaemonAlreadyRunningError(holder, this.deps.paths.root);
      fs.rmSync(this.deps.paths.pidFile, { force: true });
    }
    throw new Error(`could not take the daemon lock ${this.deps.paths.pidFile}: remove it if no daemon runs`);
  }
}
