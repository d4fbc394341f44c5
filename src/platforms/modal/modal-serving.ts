import { ErrorType } from '../../shared/errors';
import type { Spec } from '../../spec/schema';
import type { Deployment, Endpoint, LogLine, ServingPort, VerifiedDeployment } from '../platform';
import { type ModalCli, parseJsonLine } from './modal-cli';
import * as commands from './modal-commands';
import type { ModalScope } from './modal-commands';
import { appLockKey, type DeployGuard } from './modal-deploy-guard';
import type { DeploymentRecord, DeploymentRecordStore } from './modal-deployment-records';
import { type HistoryEntry, parseAppLogs } from './modal-output';
import { ModalCommandError, ModalNotFoundError, ModalOutputError } from './modal-platform-errors';
import type { ModalTimeouts } from './modal-timeouts';

/** The line `modal deploy` prints when Modal found nothing to change (no new version, no tag recorded). */
const NOOP_DEPLOY_LINE = /^\W*Deployment skipped: no changes detected/m;
const ALREADY_STOPPED = /^App is already stopped/;

/**
 * The ServingPort on Modal: versions are Modal's app history (each glm-ops deploy tagged with its rolloutId), the
 * spec of each version is remembered in local deployment records (Modal keeps code, not our spec), deploys of one
 * app are serialised by the deploy guard, and the endpoint and autoscaler go through modal/control.py.
 */
export class ModalServing implements ServingPort {
  /** The environment each app was last deployed to by this adapter, for calls that name only the app. */
  private readonly appEnvironments = new Map<string, string>();

  constructor(
    private readonly cli: ModalCli,
    private readonly options: {
      guard: DeployGuard;
      records: DeploymentRecordStore;
      deployPy: string;
      timeouts: ModalTimeouts;
      /** Modal environment for calls that name only an app; default MODAL_ENVIRONMENT, else the profile's. */
      environment?: string;
    },
  ) {}

  async currentDeployment(app: string): Promise<Deployment | null> {
    const scope = this.scopeFor(app);
    const resolved = await this.cli.resolveApp(app, scope, 'current deployment');
    if (!resolved?.isDeployed) return null;
    const entries = await this.cli.historyEntries(app, scope, 'current deployment');
    const newest = entries[0];
    return newest ? this.toDeployment(app, resolved.appId, newest, entries, true) : null;
  }

  async deploy(spec: Spec, options: { rolloutId: string; signal?: AbortSignal }): Promise<Deployment> {
    const scope = { environment: spec.environment };
    this.appEnvironments.set(spec.app, spec.environment);
    const step = 'deploy';
    return this.options.guard.exclusive(appLockKey(spec.app), async (lease) => {
      const before = await this.cli.resolveApp(spec.app, scope, step);
      const entriesBefore = before?.isDeployed ? await this.cli.historyEntries(spec.app, scope, step) : [];
      const retried = entriesBefore.find((entry) => entry.tag === options.rolloutId);
      if (before?.isDeployed && retried) return this.recordDeployment(spec, before.appId, retried, options.rolloutId);
      const output = await this.cli.withConfig(spec, (env) =>
        this.cli.modalWith(commands.deployArgv(this.options.deployPy, spec.app, options.rolloutId, scope), {
          env: { ...env, GLM_OPS_DEPLOY_ROLE: 'serve', ...lease.env },
          timeoutMs: this.options.timeouts.deployMs,
          failureType: ErrorType.DeployFailed,
          step,
          onSpawn: lease.onSpawn,
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      const after = await this.cli.resolveApp(spec.app, scope, step);
      if (!after?.isDeployed) {
        throw new ModalCommandError(
          `${step}: modal deploy ${spec.app} returned, but the app is not deployed on Modal`,
          ErrorType.DeployFailed,
        );
      }
      const entries = await this.cli.historyEntries(spec.app, scope, step);
      const deployed = entries.find((entry) => entry.tag === options.rolloutId);
      if (deployed) return this.recordDeployment(spec, after.appId, deployed, options.rolloutId);
      const current = entries[0];
      const isNoop =
        NOOP_DEPLOY_LINE.test(output.stdout) &&
        before?.appId === after.appId &&
        current !== undefined &&
        current.version === entriesBefore[0]?.version;
      if (isNoop) return this.recordUnchanged(spec, after.appId, current, options.rolloutId);
      throw new ModalCommandError(
        `${step}: modal deploy ${spec.app} exited 0 but no version in the history of ${after.appId} ` +
          `has tag ${options.rolloutId} and the client did not report a skipped deploy ` +
          `(last output: ${lastLines(output.stdout, 3)})`,
        ErrorType.DeployFailed,
      );
    });
  }

  async history(app: string): Promise<Deployment[]> {
    const scope = this.scopeFor(app);
    const resolved = await this.cli.resolveApp(app, scope, 'history');
    if (!resolved) return [];
    const entries = await this.cli.historyEntries(app, scope, 'history');
    return entries.flatMap((entry, index) => {
      const deployment = this.tryDeployment(app, resolved.appId, entry, entries, resolved.isDeployed && index === 0);
      return deployment ? [deployment] : [];
    });
  }

  async rollback(app: string, version: number): Promise<Deployment> {
    const scope = this.scopeFor(app);
    const step = 'rollback';
    const { records } = this.options;
    return this.options.guard.exclusive(appLockKey(app), async () => {
      const resolved = await this.cli.resolveApp(app, scope, step);
      if (!resolved?.isDeployed)
        throw new ModalNotFoundError(`${step}: app ${app} is not deployed on Modal: nothing to roll back`);
      const before = await this.cli.historyEntries(app, scope, step);
      if (!before.some((entry) => entry.version === version)) {
        const known = before.map((e) => `v${e.version}`).join(', ') || 'none';
        throw new ModalNotFoundError(`${step}: app ${app} has no version v${version} (versions: ${known})`);
      }
      await this.cli.modal(commands.appRollbackArgv(app, version, scope), ErrorType.DeployFailed, step);
      const after = await this.cli.historyEntries(app, scope, step);
      const newest = after[0];
      if (!newest) throw new ModalOutputError(`${step}: modal app history ${app} is empty after a rollback`);
      const source = records.read(app, resolved.appId, version);
      if (source && newest.version !== version && !records.read(app, resolved.appId, newest.version)) {
        records.write({ ...source, version: newest.version, rolledBackFrom: version, confirmedBy: undefined });
      }
      return this.toDeployment(app, resolved.appId, newest, after, true);
    });
  }

  async stop(app: string): Promise<void> {
    const scope = this.scopeFor(app);
    await this.options.guard.exclusive(appLockKey(app), async () => {
      try {
        await this.cli.modal(commands.appStopArgv(app, scope), ErrorType.TransportError, 'stop');
      } catch (err) {
        // Stopping what is stopped (or was never deployed) is done: `app stop` exits 1 for both.
        const isStopped = err instanceof ModalCommandError && ALREADY_STOPPED.test(err.clientMessage ?? '');
        if (!isStopped && !(err instanceof ModalNotFoundError)) throw err;
      }
    });
  }

  async endpoint(app: string): Promise<Endpoint> {
    const output = await this.cli.control(['endpoint', '--app', app, ...this.envArgs(app)], 'endpoint');
    const url = parseJsonLine(output.stdout, 'control.py endpoint').url;
    if (typeof url !== 'string' || !/^https?:\/\//.test(url))
      throw new ModalOutputError(`endpoint: control.py printed no URL for ${app}`);
    return { url };
  }

  async logs(app: string, options: { since?: string; limit?: number } = {}): Promise<LogLine[]> {
    const output = await this.cli.modal(
      commands.appLogsArgv(app, options, this.scopeFor(app)),
      ErrorType.TransportError,
      'logs',
    );
    const lines = parseAppLogs(output.stdout);
    return options.limit !== undefined ? lines.slice(-options.limit) : lines;
  }

  async setMinContainers(app: string, minContainers: number): Promise<void> {
    if (!Number.isInteger(minContainers) || minContainers < 0) {
      throw new RangeError(`minContainers ${minContainers} must be an integer of 0 or more`);
    }
    await this.cli.control(
      ['set-min-containers', '--app', app, ...this.envArgs(app), '--min', String(minContainers)],
      'set min containers',
    );
  }

  /** Kept with the deployment records, per Modal app id: a later app id's v1 never inherits an old verification. */
  async markVerified(app: string, version: number): Promise<void> {
    const step = 'mark verified';
    const scope = this.scopeFor(app);
    const resolved = await this.cli.resolveApp(app, scope, step);
    const entries = resolved ? await this.cli.historyEntries(app, scope, step) : [];
    if (!resolved || !entries.some((entry) => entry.version === version)) {
      const known = entries.map((e) => `v${e.version}`).join(', ') || 'none';
      throw new ModalNotFoundError(`${step}: app ${app} has no version v${version} on Modal (versions: ${known})`);
    }
    this.options.records.markVerified(app, resolved.appId, version, new Date().toISOString());
  }

  async lastVerified(app: string, options: { excluding?: number } = {}): Promise<VerifiedDeployment | null> {
    const step = 'last verified';
    const scope = this.scopeFor(app);
    const resolved = await this.cli.resolveApp(app, scope, step);
    if (!resolved) return null;
    const entries = await this.cli.historyEntries(app, scope, step);
    const latest = this.options.records
      .verifications(app, resolved.appId)
      .filter((v) => v.version !== options.excluding && entries.some((entry) => entry.version === v.version))
      .at(-1);
    const entry = latest && entries.find((e) => e.version === latest.version);
    if (!latest || !entry) return null;
    const isCurrent = resolved.isDeployed && entries[0]?.version === entry.version;
    const deployment = this.tryDeployment(app, resolved.appId, entry, entries, isCurrent);
    return deployment ? { ...deployment, verifiedAt: latest.verifiedAt } : null;
  }

  private scopeFor(app: string): ModalScope {
    const environment =
      this.appEnvironments.get(app) ?? this.options.environment ?? this.cli.env.MODAL_ENVIRONMENT?.trim();
    return environment ? { environment } : {};
  }

  private envArgs(app: string): string[] {
    const { environment } = this.scopeFor(app);
    return environment ? ['--env', environment] : [];
  }

  private recordDeployment(spec: Spec, appId: string, entry: HistoryEntry, rolloutId: string): Deployment {
    const { records } = this.options;
    if (!records.read(spec.app, appId, entry.version)) {
      records.write({ app: spec.app, appId, version: entry.version, rolloutId, spec });
    }
    return { app: spec.app, version: entry.version, rolloutId, spec, deployedAt: entry.deployedAt, isCurrent: true };
  }

  /** Modal skipped the deploy: the version serving now runs exactly this spec's definition, so it is this spec. */
  private recordUnchanged(spec: Spec, appId: string, current: HistoryEntry, rolloutId: string): Deployment {
    const { records } = this.options;
    const existing = records.read(spec.app, appId, current.version);
    const record: DeploymentRecord = {
      ...(existing ?? { app: spec.app, appId, version: current.version, rolloutId: current.tag ?? rolloutId }),
      spec,
      confirmedBy: [...new Set([...(existing?.confirmedBy ?? []), rolloutId])],
    };
    records.write(record);
    return {
      app: spec.app,
      version: current.version,
      rolloutId: record.rolloutId,
      spec,
      deployedAt: current.deployedAt,
      isCurrent: true,
    };
  }

  private tryDeployment(
    app: string,
    appId: string,
    entry: HistoryEntry,
    entries: HistoryEntry[],
    isCurrent: boolean,
  ): Deployment | undefined {
    const { records } = this.options;
    const own = records.read(app, appId, entry.version);
    // Versions deployed outside glm-ops have no record: at best they run the code of the nearest older recorded one.
    const record =
      own ??
      entries
        .filter((e) => e.version < entry.version)
        .map((e) => records.read(app, appId, e.version))
        .find(Boolean);
    if (!record) return undefined;
    return {
      app,
      version: entry.version,
      rolloutId: own?.rolloutId ?? entry.tag ?? `modal-v${entry.version}`,
      spec: record.spec,
      deployedAt: entry.deployedAt,
      isCurrent,
    };
  }

  private toDeployment(
    app: string,
    appId: string,
    entry: HistoryEntry,
    entries: HistoryEntry[],
    isCurrent: boolean,
  ): Deployment {
    const deployment = this.tryDeployment(app, appId, entry, entries, isCurrent);
    if (!deployment) {
      throw new ModalNotFoundError(
        `app ${app} v${entry.version} (${appId}) has no glm-ops record ` +
          `(it was not deployed by glm-ops from this worker's state dir): redeploy it with \`glm-ops rollout\``,
      );
    }
    return deployment;
  }
}

function lastLines(text: string, count: number): string {
  return text.trim().split(/\r?\n/).slice(-count).join(' | ') || '(none)';
}
