import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { Spec } from '../../spec/schema';

/**
 * What glm-ops remembers about a version it deployed: Modal's history keeps the tag but not the spec. Keyed by the
 * Modal app id and the version, because Modal numbers versions per app id: after `modal app stop` the next deploy
 * creates a new app whose history starts at v1 again, and that v1 must never inherit the old v1's spec.
 */
export const DeploymentRecord = z.object({
  app: z.string(),
  /** Modal's app id (`ap-...`) the version belongs to. */
  appId: z.string().min(1),
  version: z.number().int().positive(),
  /** The rollout that created the version. */
  rolloutId: z.string(),
  spec: Spec,
  /** Set when the version is a rollback: the version whose code it redeployed. */
  rolledBackFrom: z.number().int().positive().optional(),
  /** Later rollouts whose deploy Modal skipped ("no changes detected"): they found this version to be their spec. */
  confirmedBy: z.array(z.string()).optional(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

/** Versions of one Modal app id that passed their gates, oldest verification first; a version appears once. */
export const VerifiedRecord = z.object({
  app: z.string(),
  appId: z.string().min(1),
  verifications: z.array(z.object({ version: z.number().int().positive(), verifiedAt: z.string() })).default([]),
});
export type VerifiedRecord = z.infer<typeof VerifiedRecord>;

/**
 * Records kept as one JSON file per version under `<dir>/<app>/<appId>/v<N>.json`, written atomically.
 * A worker on another machine without these files still finds versions by tag; only the spec is unknown there.
 */
export class DeploymentRecordStore {
  constructor(private readonly dir: string) {}

  private file(app: string, appId: string, version: number): string {
    return path.join(this.dir, app, appId, `v${version}.json`);
  }

  /** The record of one version of one app id, or undefined. */
  read(app: string, appId: string, version: number): DeploymentRecord | undefined {
    try {
      const json = JSON.parse(fs.readFileSync(this.file(app, appId, version), 'utf8')) as unknown;
      const parsed = DeploymentRecord.safeParse(json);
      return parsed.success && parsed.data.appId === appId ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes a record through a temp file and a rename. */
  write(record: DeploymentRecord): void {
    writeAtomically(this.file(record.app, record.appId, record.version), record);
  }

  /** The verifications of an app id (`verified.json` beside its version records), oldest first. */
  verifications(app: string, appId: string): VerifiedRecord['verifications'] {
    try {
      const json = JSON.parse(fs.readFileSync(this.verifiedFile(app, appId), 'utf8')) as unknown;
      const parsed = VerifiedRecord.safeParse(json);
      return parsed.success && parsed.data.appId === appId ? parsed.data.verifications : [];
    } catch {
      return [];
    }
  }

  /** Records that a version of an app id passed its gates now: it becomes the latest verification. */
  markVerified(app: string, appId: string, version: number, verifiedAt: string): void {
    const verifications = [
      ...this.verifications(app, appId).filter((v) => v.version !== version),
      { version, verifiedAt },
    ];
    writeAtomically(this.verifiedFile(app, appId), { app, appId, verifications } satisfies VerifiedRecord);
  }

  private verifiedFile(app: string, appId: string): string {
    return path.join(this.dir, app, appId, 'verified.json');
  }
}

function writeAtomically(target: string, content: unknown): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const temp = `${target}.tmp-${process.pid}`;
  fs.writeFileSync(temp, `${JSON.stringify(content, null, 2)}\n`);
  fs.renameSync(temp, target);
}
