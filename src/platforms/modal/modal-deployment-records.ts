import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';
import { Spec } from '../../spec/schema';

/** What glm-ops remembers about a version it deployed: Modal's history keeps the tag but not the spec. */
export const DeploymentRecord = z.object({
  app: z.string(),
  version: z.number().int().positive(),
  rolloutId: z.string(),
  spec: Spec,
  /** Set when the version is a rollback: the version whose code it redeployed. */
  rolledBackFrom: z.number().int().positive().optional(),
});
export type DeploymentRecord = z.infer<typeof DeploymentRecord>;

/**
 * Records kept as one JSON file per version under `<dir>/<app>/v<N>.json`, written atomically.
 * A worker on another machine without these files still finds versions by tag; only the spec is unknown there.
 */
export class DeploymentRecordStore {
  constructor(private readonly dir: string) {}

  private file(app: string, version: number): string {
    return path.join(this.dir, app, `v${version}.json`);
  }

  /** The record of one version, or undefined. */
  read(app: string, version: number): DeploymentRecord | undefined {
    try {
      const parsed = DeploymentRecord.safeParse(JSON.parse(fs.readFileSync(this.file(app, version), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Writes a record through a temp file and a rename. */
  write(record: DeploymentRecord): void {
    const target = this.file(record.app, record.version);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    const temp = `${target}.tmp-${process.pid}`;
    fs.writeFileSync(temp, `${JSON.stringify(record, null, 2)}\n`);
    fs.renameSync(temp, target);
  }
}
