import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateWeightsDir, SENTINEL_FILE, type RehashedFile } from '../../src/storage/download-sentinel';
import { setMtimeNs, waitForCtimePast } from '../helpers/fs-clock';
import { tempDir } from '../helpers/storage-kit';

/** What the harness does to a file after the sentinel was written (the vectors' `afterSentinel`). */
type AfterSentinelOp =
  | { op: 'rewrite-in-place'; path: string; content: string; restoreMtime?: boolean }
  | { op: 'replace'; path: string; content: string; restoreMtime?: boolean }
  | { op: 'chmod'; path: string; mode: string }
  | { op: 'mtime-forward'; path: string };

/** Shared accept/reject vectors: modal/deploy.py is tested against the same files. */
interface SentinelVector {
  name: string;
  sentinel: unknown;
  stampFiles?: boolean;
  filesOnDisk: Array<{ path: string; content: string }>;
  afterSentinel?: AfterSentinelOp[];
  expectedContext: { repo: string; commit: string };
  expected: {
    quick: string;
    full: string;
    problemIncludes?: string;
    rehashed?: { quick: RehashedFile[]; full: RehashedFile[] };
  };
}

const vectorDir = path.join(__dirname, '..', 'fixtures', 'sentinel');
const vectors = fs
  .readdirSync(vectorDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(fs.readFileSync(path.join(vectorDir, name), 'utf8')) as SentinelVector);

test('there are accept and reject vectors, stamped and legacy, touched and untouched', () => {
  expect(vectors.length).toBeGreaterThanOrEqual(20);
  expect(new Set(vectors.map((v) => v.expected.quick))).toEqual(new Set(['valid', 'partial', 'missing', 'corrupt']));
  const reasons = new Set(vectors.flatMap((v) => v.expected.rehashed?.quick ?? []).flatMap((file) => file.reasons));
  expect(reasons).toEqual(new Set(['mtime', 'ctime', 'inode', 'legacy-sentinel']));
  expect(vectors.filter((v) => v.stampFiles && v.expected.rehashed?.quick.length === 0).length).toBeGreaterThan(0);
});

/** Writes a vector's files and sentinel (stamped from the files on disk when asked), then applies its touches. */
async function materialise(vector: SentinelVector, dir: string): Promise<void> {
  for (const file of vector.filesOnDisk) {
    fs.mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, file.path), file.content);
  }
  let sentinel = vector.sentinel;
  const stamps = new Map<string, { mtimeNs: bigint; ctimeNs: bigint }>();
  if (vector.stampFiles && sentinel && typeof sentinel === 'object') {
    const body = sentinel as { files: Array<{ path: string }> };
    sentinel = {
      ...body,
      files: body.files.map((file) => {
        const stats = fs.statSync(path.join(dir, file.path), { bigint: true });
        stamps.set(file.path, { mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs });
        const stamp = { mtimeNs: `${stats.mtimeNs}`, ctimeNs: `${stats.ctimeNs}`, ino: `${stats.ino}` };
        return { ...file, stamp };
      }),
    };
    await waitForCtimePast(
      dir,
      [...stamps.values()].reduce((max, s) => (s.ctimeNs > max ? s.ctimeNs : max), 0n),
    );
  }
  if (sentinel !== null) {
    const text = typeof sentinel === 'string' ? sentinel : JSON.stringify(sentinel);
    fs.writeFileSync(path.join(dir, SENTINEL_FILE), text);
  }
  for (const step of vector.afterSentinel ?? []) {
    const target = path.join(dir, step.path);
    const recorded = stamps.get(step.path)!;
    if (step.op === 'rewrite-in-place') {
      const handle = fs.openSync(target, 'r+');
      fs.writeSync(handle, Buffer.from(step.content, 'utf8'), 0, Buffer.byteLength(step.content), 0);
      fs.closeSync(handle);
    } else if (step.op === 'replace') {
      fs.writeFileSync(`${target}.new`, step.content);
      fs.renameSync(`${target}.new`, target);
    } else if (step.op === 'chmod') {
      fs.chmodSync(target, parseInt(step.mode, 8));
    } else {
      setMtimeNs(target, recorded.mtimeNs + 1_000_000_000n);
    }
    if ('restoreMtime' in step && step.restoreMtime) setMtimeNs(target, recorded.mtimeNs);
  }
}

describe.each(vectors.map((vector) => [vector.name, vector] as const))('sentinel vector %s', (_name, vector) => {
  test.each(['quick', 'full'] as const)('%s check', async (mode) => {
    const dir = tempDir(`vector-${vector.name}`);
    try {
      await materialise(vector, dir);
      const verdict = await evaluateWeightsDir(dir, { expected: vector.expectedContext, full: mode === 'full' });
      expect(verdict.state).toBe(vector.expected[mode]);
      if (vector.expected.problemIncludes && verdict.state !== 'valid') {
        expect(verdict.problems.join('\n')).toContain(vector.expected.problemIncludes);
      }
      if (vector.expected.rehashed) expect(verdict.rehashed).toEqual(vector.expected.rehashed[mode]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
