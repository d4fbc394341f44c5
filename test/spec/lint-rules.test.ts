import * as fs from 'node:fs';
import * as path from 'node:path';
import { checkExitCode, checkSpecText } from '../../src/spec/check-spec';
import type { LintContext } from '../../src/spec/finding';
import { lintSpec } from '../../src/spec/lint';
import { LINT_RULES } from '../../src/spec/rules';
import { readRepoFile, REPO_ROOT } from '../helpers/repo-files';
import { loadExampleSpec } from '../helpers/test-spec';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'spec', 'rules');

function fixture(rule: string, kind: 'trigger' | 'clean'): { text: string; context: LintContext } {
  const contextFile = path.join(FIXTURES, `${rule}.${kind}.context.json`);
  return {
    text: fs.readFileSync(path.join(FIXTURES, `${rule}.${kind}.yaml`), 'utf8'),
    context: fs.existsSync(contextFile) ? (JSON.parse(fs.readFileSync(contextFile, 'utf8')) as LintContext) : {},
  };
}

describe('lint rules: one triggering and one clean fixture each', () => {
  it('has a fixture pair for every rule and no orphan fixtures', () => {
    const ruleIds = LINT_RULES.map((rule) => rule.id).sort();
    const fixtureIds = [
      ...new Set(
        fs
          .readdirSync(FIXTURES)
          .filter((f) => f.endsWith('.yaml'))
          .map((f) => f.replace(/\.(trigger|clean)\.yaml$/, '')),
      ),
    ].sort();
    expect(fixtureIds).toEqual(ruleIds);
    expect(new Set(ruleIds).size).toBe(ruleIds.length);
  });

  describe.each(LINT_RULES.map((rule) => [rule.id, rule] as const))('%s', (id, rule) => {
    it('fires on its triggering fixture, citing its reason and a fix', () => {
      const { text, context } = fixture(id, 'trigger');
      const result = checkSpecText(text, { context });
      expect(result.errors).toEqual([]);
      const hits = result.findings.filter((finding) => finding.rule === id);
      expect(hits.length).toBeGreaterThan(0);
      for (const hit of hits) {
        expect(hit.reason).toBe(rule.reason);
        expect(hit.reason).toMatch(/§\d+|#\d+|guide|SGLang/);
        expect(hit.fix.length).toBeGreaterThan(5);
        expect(hit.path).toMatch(/^[a-zA-Z]/);
      }
    });

    it('stays quiet on its clean fixture', () => {
      const { text, context } = fixture(id, 'clean');
      const result = checkSpecText(text, { context });
      expect(result.errors).toEqual([]);
      expect(result.findings.filter((finding) => finding.rule === id)).toEqual([]);
    });
  });
});

describe('examples', () => {
  it.each(['examples/glm-5.1-b200.yaml', 'examples/glm-5.1-h200.yaml', 'examples/local-demo.yaml'])(
    '%s is lint-clean',
    (file) => {
      const result = checkSpecText(readRepoFile(file));
      expect(result.errors).toEqual([]);
      expect(result.findings).toEqual([]);
      expect(checkExitCode(result)).toBe(0);
    },
  );

  it('local-demo is lint-clean only because of its time scale', () => {
    const spec = loadExampleSpec('examples/local-demo.yaml');
    expect(spec.platform).toBe('local');
    expect(spec.app).toBe('glm-5.1-local-demo');
    expect(lintSpec({ ...spec, local: { ...spec.local, timeScale: 1 } }).map((finding) => finding.rule)).toEqual(
      expect.arrayContaining(['health-timeout-shorter-than-startup', 'warmup-timeout-shorter-than-capture']),
    );
  });

  it('local-demo runs the production flags', () => {
    expect(loadExampleSpec('examples/local-demo.yaml').sglang.args).toEqual(
      loadExampleSpec('examples/glm-5.1-b200.yaml').sglang.args,
    );
  });
});

describe('acknowledgements', () => {
  it('hide acknowledged warnings but never errors, and report unknown rule ids', () => {
    const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');
    const withError = {
      ...spec,
      sglang: { ...spec.sglang, args: { ...spec.sglang.args, 'kv-cache-dtype': 'fp8_e4m3' } },
    };
    const acknowledged = {
      ...withError,
      lint: {
        acknowledge: { 'fp8-kv-with-eagle': 'I know', 'fp8-kv-on-blackwell': 'measured', 'no-such-rule': 'typo' },
      },
    };
    const rules = lintSpec(acknowledged).map((finding) => finding.rule);
    expect(rules).toContain('fp8-kv-with-eagle');
    expect(rules).not.toContain('fp8-kv-on-blackwell');
    expect(rules).toContain('lint-acknowledge-unknown');
  });

  it('without its acknowledgements the b200 example shows the two warnings it accepts', () => {
    const spec = loadExampleSpec('examples/glm-5.1-b200.yaml');
    const findings = lintSpec({ ...spec, lint: undefined });
    expect(findings.map((finding) => finding.rule).sort()).toEqual([
      'max-inputs-below-running-requests',
      'revision-not-pinned',
    ]);
    expect(findings.every((finding) => finding.level === 'warning')).toBe(true);
  });
});

describe('rule details', () => {
  const base = loadExampleSpec('examples/glm-5.1-b200.yaml');
  const withArgs = (args: Record<string, string | number | boolean>) => ({
    ...base,
    sglang: { ...base.sglang, args: { ...base.sglang.args, ...args } },
  });

  it('the watchdog follows the configurable volume throughput', () => {
    const slowVolume = lintSpec(base, { volumeThroughputGBps: 0.5 }).map((finding) => finding.rule);
    expect(slowVolume).toContain('watchdog-shorter-than-load');
    expect(lintSpec(base, { volumeThroughputGBps: 3 }).map((finding) => finding.rule)).not.toContain(
      'watchdog-shorter-than-load',
    );
  });

  it('the local watchdog is compared unscaled while health is scaled', () => {
    const local = loadExampleSpec('examples/local-demo.yaml');
    const rules = lintSpec({
      ...local,
      sglang: { ...local.sglang, args: { ...local.sglang.args, 'watchdog-timeout': 60 } },
    }).map((f) => f.rule);
    expect(rules).toEqual(['watchdog-shorter-than-load']);
  });

  it('both NSA backends are reported separately', () => {
    const findings = lintSpec(withArgs({ 'nsa-decode-backend': 'flashmla_kv', 'nsa-prefill-backend': false }));
    expect(findings.filter((f) => f.rule === 'nsa-backend-on-blackwell').map((f) => f.path)).toEqual([
      'sglang.args.nsa-decode-backend',
      'sglang.args.nsa-prefill-backend',
    ]);
  });

  it('kv headroom is an error when the weights eat the whole static pool', () => {
    const findings = lintSpec({ ...base, model: { ...base.model, weightsGB: 1400 } });
    expect(findings.find((f) => f.rule === 'kv-headroom')?.level).toBe('error');
  });

  it('an SGLang alias for tp is checked too', () => {
    const { tp: _tp, ...args } = base.sglang.args;
    const findings = lintSpec({ ...base, sglang: { ...base.sglang, args: { ...args, 'tensor-parallel-size': 4 } } });
    expect(findings.find((f) => f.rule === 'tp-matches-gpu-count')?.path).toBe('sglang.args.tensor-parallel-size');
  });

  it('an invalid time zone is an error on keepWarm.timezone', () => {
    const findings = lintSpec({ ...base, keepWarm: { ...base.keepWarm, timezone: 'Mars/Olympus_Mons' } });
    expect(findings.find((f) => f.path === 'keepWarm.timezone')?.level).toBe('error');
  });
});
