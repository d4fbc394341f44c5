import * as fs from 'node:fs';
import * as path from 'node:path';
import * as z from 'zod';

/** One verification: the version and when it passed its gates. */
export const Verification = z.object({
  version: z.number().int().positive(),
  verifiedAt: z.string(),
});
export type Verification = z.infer<typeof Verification>;

/** An app's verifications, oldest first; a version appears once, at the place of its latest verification. */
export const VerifiedVersions = z.object({
  app: z.string(),
  verifications: z.array(Verification).default([]),
});
export type VerifiedVersions = z.infer<typeof VerifiedVersions>;

/**
 * Which versions of an app passed their gates, kept in the app's folder beside its state (`verified.json`), written
 * atomically. A file of its own: the daemon's serving state is rewritten on every engine event, this only when a
 * workflow says a version is verified, and an app state from before it simply has no verifications.
 */
export class VerifiedVersionStore {
  constructor(
    private readonly dir: string,
    private readonly app: string,
  ) {}

  private get file(): string {
    return path.join(this.dir, 'verified.json');
  }

  /** The verifications, oldest first; none when nothing was ever verified. */
  read(): Verification[] {
    if (!fs.existsSync(this.file)) return [];
    const parsed = VerifiedVersions.safeParse(JSON.parse(fs.readFileSync(this.file, 'utf8')));
    if (!parsed.success) {
      throw new Error(`verified versions ${this.file} are unreadable: ${z.prettifyError(parsed.error)}; move it away`);
    }
    return parsed.data.verifications;
  }

  /** Records `version` as verified now: it becomes the latest verification. */
  mark(version: number, verifiedAt: string): void {
    const verifications = [...this.read().filter((v) => v.version !== version), { version, verifiedAt }];
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.tmp`;
    const content: VerifiedVersions = { app: this.app, verifications };
    fs.writeFileSync(temp, JSON.stringify(content, null, 2), { mode: 0o600 });
    fs.renameSync(temp, this.file);
  }

  /** The latest verification of a version other than `excluding` that `exists` still, or undefined. */
  latest(options: { excluding?: number; exists: (version: number) => boolean }): Verification | undefined {
    return this.read()
      .filter((v) => v.version !== options.excluding && options.exists(v.version))
      .at(-1);
  }
}
