import * as fs from 'node:fs';
import * as path from 'node:path';
import { evaluateWeightsDir, SENTINEL_FILE } from '../../src/storage/download-sentinel';
import { tempDir } from '../helpers/storage-kit';

/** Shared accept/reject vectors: modal/deploy.py is tested against the same files. */
interface SentinelVector {
  name: string;
  sentinel: unknown;
  filesOnDisk: Array<{ path: string; content: string }>;
  expectedContext: { repo: string; commit: string };
  expected: { quick: string; full: string; problemIncludes?: string };
}

const vectorDir = path.join(__dirname, '..', 'fixtures', 'sentinel');
const vectors = fs
  .readdirSync(vectorDir)
  .filter((name) => name.endsWith('.json'))
  .map((name) => JSON.parse(fs.readFileSync(path.join(vectorDir, name), 'utf8')) as SentinelVector);

test('there are accept and reject vectors', () => {
  expect(vectors.length).toBeGreaterThanOrEqual(10);
  expect(new Set(vectors.map((v) => v.expected.quick))).toEqual(new Set(['valid', 'partial', 'missing', 'corrupt']));
});

describe.each(vectors.map((vector) => [vector.name, vector] as const))('sentinel vector %s', (_name, vector) => {
  test.each(['quick', 'full'] as const)('%s check', async (mode) => {
    const dir = tempDir(`vector-${vector.name}`);
    try {
      for (const file of vector.filesOnDisk) {
        fs.mkdirSync(path.dirname(path.join(dir, file.path)), { recursive: true });
        fs.writeFileSync(path.join(dir, file.path), file.content);
      }
      if (vector.sentinel !== null) {
        const text = typeof vector.sentinel === 'string' ? vector.sentinel : JSON.stringify(vector.sentinel);
        fs.writeFileSync(path.join(dir, SENTINEL_FILE), text);
      }
      const verdict = await evaluateWeightsDir(dir, { expected: vector.expectedContext, full: mode === 'full' });
      expect(verdict.state).toBe(vector.expected[mode]);
      if (vector.expected.problemIncludes && verdict.state !== 'valid') {
        expect(verdict.problems.join('\n')).toContain(vector.expected.problemIncludes);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
