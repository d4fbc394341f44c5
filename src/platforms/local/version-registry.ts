import type { Spec } from '../../spec/schema';
import type { Deployment } from '../platform';
import type { AppState, VersionRecord } from './app-state';
import type { ScalingSpec } from './autoscaler';
import { NotFoundError } from './local-platform-errors';

/**
 * An app's versions as Modal keeps them: each deploy records a numbered version with the spec it runs and the
 * rollout that made it, one version is current (or none, after stop), and rollback points back at an older one.
 * Reads and writes the app's persisted state; saving it is the caller's job.
 */
export class VersionRegistry {
  constructor(private readonly state: AppState) {}

  get app(): string {
    return this.state.app;
  }

  /** The version traffic goes to; null before the first deploy and after stop. */
  get currentVersion(): number | null {
    return this.state.currentVersion;
  }

  /**
   * The version unpinned traffic goes to: the one that served before the last deploy while the current one has no
   * ready engine yet, else the current one.
   */
  get servingVersion(): number | null {
    return this.state.servingVersion ?? this.state.currentVersion;
  }

  /** The version kept alive for an instant rollback, and until when (null: until the new version is ready). */
  get retained(): { version: number; untilMs: number | null } | null {
    return this.state.retainedVersion ?? null;
  }

  /** Versions whose engines the platform keeps: the current one, the one serving and the retained one. */
  keptVersions(): number[] {
    const kept = [this.state.currentVersion, this.state.servingVersion, this.state.retainedVersion?.version];
    return [...new Set(kept.filter((v): v is number => typeof v === 'number'))];
  }

  current(): VersionRecord | undefined {
    return this.find(this.state.currentVersion);
  }

  find(version: number | null): VersionRecord | undefined {
    return this.state.versions.find((v) => v.version === version);
  }

  /** The version a rollout created, so a retried deploy returns it instead of making another. */
  byRollout(rolloutId: string): VersionRecord | undefined {
    return this.state.versions.find((v) => v.rolloutId === rolloutId);
  }

  /** Records the next version and makes it current; a deploy resets the min-containers override, as Modal does. */
  add(spec: Spec, rolloutId: string): VersionRecord {
    const version = Math.max(0, ...this.state.versions.map((v) => v.version)) + 1;
    const record: VersionRecord = { version, rolloutId, spec, deployedAt: new Date().toISOString() };
    this.state.versions.push(record);
    this.state.currentVersion = version;
    this.state.minContainersOverride = null;
    return record;
  }

  /** The record of a version; NotFoundError names the app, the version and the ones it has otherwise. */
  require(version: number): VersionRecord {
    const record = this.find(version);
    if (record) return record;
    const known = this.state.versions.map((v) => `v${v.version}`).join(', ') || 'none';
    throw new NotFoundError(
      `app "${this.app}" has no version ${version} (versions: ${known}): roll back to one listed by history`,
    );
  }

  /** Points traffic at a version (rollback), or at nothing (stop). */
  setCurrent(version: number | null): void {
    this.state.currentVersion = version;
  }

  /** Keeps another version serving until the current one is ready; null: the current one serves. */
  setServing(version: number | null): void {
    this.state.servingVersion = version === this.state.currentVersion ? null : version;
  }

  /** Keeps a version's engines alive for an instant rollback (null: none kept). */
  setRetained(retained: { version: number; untilMs: number | null } | null): void {
    this.state.retainedVersion = retained;
  }

  /** Keeps n engines of the current version warm until the next deploy (Modal's update_autoscaler). */
  setMinContainersOverride(minContainers: number): void {
    this.state.minContainersOverride = minContainers;
  }

  /** The floor in force: the override, else the spec's, never above maxContainers; 0 when nothing is current. */
  minContainers(): number {
    const spec = this.current()?.spec;
    if (!spec) return 0;
    return Math.min(this.state.minContainersOverride ?? spec.modal.minContainers, spec.modal.maxContainers);
  }

  /** The current version's autoscaling settings; undefined when nothing is current. */
  scalingSpec(): ScalingSpec | undefined {
    const record = this.current();
    if (!record) return undefined;
    const { modal, health } = record.spec;
    return {
      version: record.version,
      minContainers: this.minContainers(),
      maxContainers: modal.maxContainers,
      scaledownWindowS: modal.scaledownWindow,
      startupTimeoutS: health.startupTimeout,
    };
  }

  /** Every version, oldest first. */
  history(): Deployment[] {
    return this.state.versions.map((record) => this.toDeployment(record));
  }

  toDeployment(record: VersionRecord): Deployment {
    return {
      app: this.app,
      version: record.version,
      rolloutId: record.rolloutId,
      spec: record.spec,
      deployedAt: record.deployedAt,
      isCurrent: record.version === this.state.currentVersion,
    };
  }
}
