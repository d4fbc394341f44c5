import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeTuneOutputs, type TuneOutputInput } from '../../src/cli/tune-outputs';
import { parseSpecText } from '../../src/spec/parse-spec';
import { readRepoFile } from '../helpers/repo-files';
import { loadExampleSpec } from '../helpers/test-spec';
import { finishedTune } from './tune-result-fixture';

describe('the files a finished tune leaves (report, plot, result, patched spec; the spec itself with --write)', () => {
  const demo = readRepoFile('examples/local-demo.yaml');
  const spec = loadExampleSpec('examples/local-demo.yaml');
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'glm-ops-tune-out-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The fixture tune with trial 1 (max-running-requests 32) chosen, so the patch changes a line. */
  function input(overrides: Partial<TuneOutputInput> = {}): TuneOutputInput {
    const tune = finishedTune();
    const specFile = path.join(dir, 'local-demo.yaml');
    fs.writeFileSync(specFile, demo);
    return {
      result: { ...tune, chosen: tune.trials[0]!, best: tune.trials[0]! },
      spec,
      specFile,
      specText: demo,
      workload: '48 users, 96 requests (2 warm-up), random 256→32 tokens',
      reportDir: path.join(dir, 'reports', 'run'),
      shouldWrite: false,
      env: {},
      now: new Date('2026-12-02T03:00:00.000Z'),
      ...overrides,
    };
  }

  it('without --write: the report folder holds the report, the plot, the result and the patched copy; the spec is untouched', () => {
    const given = input();
    const outputs = writeTuneOutputs(given);
    expect(fs.readdirSync(given.reportDir).sort()).toEqual([
      'local-demo.tuned.yaml',
      'report.md',
      'result.json',
      'throughput-vs-ttft.svg',
    ]);
    expect(fs.readFileSync(given.specFile, 'utf8')).toBe(demo);
    const copy = fs.readFileSync(path.join(given.reportDir, 'local-demo.tuned.yaml'), 'utf8');
    const parsed = parseSpecText(copy);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    expect(parsed.spec.sglang.args['max-running-requests']).toBe(32);
    expect(outputs.patch).toMatchObject({
      isWritten: false,
      file: path.join(given.reportDir, 'local-demo.tuned.yaml'),
    });
    expect(outputs.patch!.changes).toEqual([{ path: 'sglang.args.max-running-requests', before: 48, after: 32 }]);
    expect(JSON.parse(fs.readFileSync(outputs.resultFile, 'utf8'))).toEqual(given.result);
    const report = fs.readFileSync(outputs.reportFile, 'utf8');
    expect(report).toContain('Saved as `local-demo.tuned.yaml` beside this report; apply it with `cp ');
    expect(report).toContain('![throughput against TTFT p95 per trial](throughput-vs-ttft.svg)');
    expect(fs.readFileSync(outputs.plotFile, 'utf8')).toMatch(/^<svg /);
  });

  it('with --write: the spec gets the patch in place, and the report says so', () => {
    const given = input({ shouldWrite: true });
    const outputs = writeTuneOutputs(given);
    const written = fs.readFileSync(given.specFile, 'utf8');
    expect(written).toBe(demo.replace('    max-running-requests: 48\n', '    max-running-requests: 32\n'));
    expect(outputs.patch).toMatchObject({ isWritten: true, file: given.specFile });
    expect(fs.readFileSync(outputs.reportFile, 'utf8')).toContain(`Applied to \`${given.specFile}\``);
  });

  it('with --write, a spec edited while the tune ran is not overwritten (the copy is saved, and why)', () => {
    const given = input({ shouldWrite: true });
    fs.writeFileSync(given.specFile, `${demo}# edited meanwhile\n`);
    const outputs = writeTuneOutputs(given);
    expect(fs.readFileSync(given.specFile, 'utf8')).toBe(`${demo}# edited meanwhile\n`);
    expect(outputs.patch).toMatchObject({
      isWritten: false,
      notWrittenBecause: `${given.specFile} changed while the tune ran: not overwritten`,
    });
  });

  it('without a chosen trial: the report and the plot, no patch, and the spec untouched even with --write', () => {
    const tune = finishedTune();
    const given = input({ result: { ...tune, chosen: null, best: null }, shouldWrite: true });
    const outputs = writeTuneOutputs(given);
    expect(outputs.patch).toBeUndefined();
    expect(fs.readdirSync(given.reportDir).sort()).toEqual(['report.md', 'result.json', 'throughput-vs-ttft.svg']);
    expect(fs.readFileSync(given.specFile, 'utf8')).toBe(demo);
    expect(fs.readFileSync(outputs.reportFile, 'utf8')).toContain('## No point chosen');
  });
});
