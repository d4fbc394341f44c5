import { checkExitCode, checkSpecText } from '../../src/spec/check-spec';
import type { Finding } from '../../src/spec/finding';
import { resolveFlagTable, sglangVersionFromImage } from '../../src/spec/sglang-version';
import { readRepoFile } from '../helpers/repo-files';

const B200 = readRepoFile('examples/glm-5.1-b200.yaml');

/** The b200 example with text replaced, checked; fails the test when the replacement did not apply. */
function checkVariant(...replacements: [string, string][]): ReturnType<typeof checkSpecText> {
  let text = B200;
  for (const [from, to] of replacements) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  return checkSpecText(text);
}

function only(findings: Finding[], rule: string): Finding[] {
  return findings.filter((finding) => finding.rule === rule);
}

describe('the SGLang version comes from the image tag', () => {
  it.each([
    ['lmsysorg/sglang:v0.5.10', '0.5.10'],
    ['lmsysorg/sglang:v0.5.11-drill-oom', '0.5.11'],
    ['lmsysorg/sglang:v0.5.10-cu129', '0.5.10'],
    ['registry.example.com:5000/lmsysorg/sglang:0.5.23', '0.5.23'],
    ['lmsysorg/sglang:latest', undefined],
    ['lmsysorg/sglang', undefined],
    ['lmsysorg/sglang@sha256:0123abcd', undefined],
    ['lmsysorg/sglang:v0.5.100', '0.5.100'],
  ])('%s → %s', (image, version) => {
    expect(sglangVersionFromImage(image)).toBe(version);
  });

  it.each([
    ['lmsysorg/sglang:v0.5.10', '0.5.10', 'exact'],
    ['lmsysorg/sglang:v0.5.11-drill-oom', '0.5.10', 'nearest-below'],
    ['lmsysorg/sglang:v0.5.20', '0.5.17', 'nearest-below'],
    ['lmsysorg/sglang:v0.6.0', '0.5.23', 'nearest-below'],
    ['lmsysorg/sglang:v0.4.9', '0.5.10', 'older-than-tables'],
    ['lmsysorg/sglang:latest', '0.5.23', 'no-version'],
  ])('%s is checked against the %s table (%s), and the note says which', (image, table, choice) => {
    const resolved = resolveFlagTable(image);
    expect(resolved.table.version).toBe(table);
    expect(resolved.choice).toBe(choice);
    expect(resolved.note).toContain(`SGLang ${table}`);
  });
});

describe('spec check against the flag table of the image’s release', () => {
  it('the b200 example checks clean against 0.5.10 (its acknowledged warnings only)', () => {
    const result = checkSpecText(B200);
    expect(result.findings).toEqual([]);
    expect(result.acknowledged.map((f) => f.rule).sort()).toEqual([
      'max-inputs-below-running-requests',
      'revision-not-pinned',
    ]);
    expect(checkExitCode(result)).toBe(0);
    expect(result.flagTable).toEqual({
      version: '0.5.10',
      imageVersion: '0.5.10',
      choice: 'exact',
      note: "checked against SGLang 0.5.10's flag table",
    });
  });

  it('a misspelled flag is an error with a did-you-mean (exit 2)', () => {
    const result = checkVariant(['mem-fraction-static: 0.88', 'mem-fraction-statik: 0.8']);
    const [unknown] = only(result.findings, 'sglang-flag-unknown');
    expect(unknown).toMatchObject({
      level: 'error',
      path: 'sglang.args.mem-fraction-statik',
      message: '"mem-fraction-statik" is not a flag of SGLang 0.5.10: did you mean mem-fraction-static?',
      fix: 'rename it to mem-fraction-static',
    });
    expect(checkExitCode(result)).toBe(2);
  });

  it('on a release between tables, the unknown-flag message says which table was used', () => {
    const result = checkVariant(['v0.5.10', 'v0.5.12'], ['max-total-tokens: 65536', 'max-total-tokenz: 65536']);
    expect(only(result.findings, 'sglang-flag-unknown')[0]?.message).toMatch(
      /did you mean max-total-tokens\?.*no flag table for SGLang 0\.5\.12: checked against SGLang 0\.5\.10's/,
    );
    expect(result.flagTable).toMatchObject({ version: '0.5.10', imageVersion: '0.5.12', choice: 'nearest-below' });
  });

  it('a flag renamed in the release names its new spelling and the source that says so', () => {
    const result = checkVariant(['v0.5.10', 'v0.5.23']);
    const unknown = only(result.findings, 'sglang-flag-unknown');
    expect(unknown.map((f) => f.path)).toEqual(['sglang.args.nsa-decode-backend', 'sglang.args.nsa-prefill-backend']);
    expect(unknown[0]?.message).toMatch(/it was renamed dsa-decode-backend \(SGLang 0\.5\.17 server_args\.py/);
    expect(checkExitCode(result)).toBe(2);
  });

  it('a value of the wrong type, or not among the choices, names the flag and what it accepts', () => {
    const result = checkVariant(
      ['attention-backend: nsa', 'attention-backend: nsaa'],
      [
        '    ep: 1\n',
        '    ep: 1\n    cuda-graph-max-bs: 8.5\n    schedule-policy: fastest\n    enable-mixed-chunk: 3\n',
      ],
    );
    const messages = only(result.findings, 'sglang-flag-value').map((f) => `${f.path}: ${f.message}`);
    expect(messages).toEqual([
      expect.stringMatching(
        /^sglang\.args\.cuda-graph-max-bs: "cuda-graph-max-bs" takes an integer in SGLang 0\.5\.10, got 8\.5 \(argparse: invalid int value: '8\.5'\)$/,
      ),
      expect.stringMatching(
        /^sglang\.args\.schedule-policy: "schedule-policy" must be one of lpm, random, fcfs, dfs-weight, lof, priority.* got "fastest"/,
      ),
      expect.stringMatching(/^sglang\.args\.enable-mixed-chunk: "enable-mixed-chunk" is a switch in SGLang 0\.5\.10/),
      expect.stringMatching(
        /^sglang\.args\.attention-backend: "attention-backend" must be one of triton, .*nsa.* got "nsaa": did you mean nsa\?$/,
      ),
    ]);
  });

  it('a deprecated flag or value is a warning naming the canonical spelling (0.5.17)', () => {
    const result = checkVariant(['v0.5.10', 'v0.5.17']);
    const deprecated = only(result.findings, 'sglang-flag-deprecated');
    expect(deprecated.length).toBeGreaterThan(0);
    expect(deprecated.every((f) => f.level === 'warning')).toBe(true);
    expect(deprecated.map((f) => f.message)).toEqual(
      expect.arrayContaining([
        expect.stringContaining('attention-backend: nsa is a deprecated alias of dsa in SGLang 0.5.17'),
        '"nsa-decode-backend" is deprecated in SGLang 0.5.17: use --dsa-decode-backend (glm-ops renders --dsa-decode-backend)',
      ]),
    );
    expect(checkExitCode(result)).toBe(1);
  });

  it('an abbreviation is a warning asking for the full name; an ambiguous prefix is an error', () => {
    const result = checkVariant(
      ['max-prefill-tokens: 32768', 'max-prefill: 32768'],
      ['    ep: 1\n', '    ep: 1\n    speculative-num: 3\n'],
    );
    const findings = only(result.findings, 'sglang-flag-abbreviation');
    expect(findings.map((f) => [f.level, f.path])).toEqual([
      ['error', 'sglang.args.speculative-num'],
      ['warning', 'sglang.args.max-prefill'],
    ]);
    expect(findings.find((f) => f.level === 'warning')?.message).toBe(
      '"max-prefill" is an abbreviation of max-prefill-tokens in SGLang 0.5.10; write the full name: a later release can add a flag that makes the prefix ambiguous',
    );
    expect(findings.find((f) => f.level === 'error')?.message).toMatch(
      /could match speculative-num-steps, speculative-num-draft-tokens \(argparse exits 2\)/,
    );
  });

  it("glm-ops' own tp key is not an abbreviation finding (the builder renders --tp-size)", () => {
    expect(only(checkSpecText(B200).findings, 'sglang-flag-abbreviation')).toEqual([]);
  });

  it('flags glm-ops sets stay reserved, under SGLang’s aliases and prefixes too', () => {
    const parsed = checkVariant(['    ep: 1\n', '    ep: 1\n    served-model-name: x\n']);
    expect(parsed.errors).toEqual([
      expect.objectContaining({ path: 'sglang.args.served-model-name', message: expect.stringContaining('reserved') }),
    ]);
    const aliased = checkVariant(['    ep: 1\n', '    ep: 1\n    model: /weights\n    served-model: x\n']);
    expect(only(aliased.findings, 'sglang-flag-reserved').map((f) => f.message)).toEqual([
      expect.stringMatching(/^"model" is SGLang 0\.5\.10's alias of --model-path, which glm-ops sets itself/),
      expect.stringMatching(/^"served-model" is SGLang 0\.5\.10's abbreviation of --served-model-name/),
    ]);
  });

  it('two spellings of one setting are an error', () => {
    const result = checkVariant(['    ep: 1\n', '    ep: 1\n    ep-size: 1\n']);
    expect(only(result.findings, 'sglang-flag-duplicate')).toEqual([
      expect.objectContaining({ level: 'error', message: expect.stringContaining('"ep" and "ep-size" all set') }),
    ]);
  });

  it('an image without a version is checked against the newest table, with a warning saying so', () => {
    const result = checkVariant(['lmsysorg/sglang:v0.5.10', 'lmsysorg/sglang:latest']);
    expect(only(result.findings, 'sglang-version-untabled')).toEqual([
      expect.objectContaining({
        level: 'warning',
        path: 'sglang.image',
        message: expect.stringContaining('SGLang 0.5.23'),
      }),
    ]);
  });
});
