import * as fs from 'node:fs';
import * as path from 'node:path';
import { calculateMetrics, peakFigures, type RequestRecord } from '../../src/loadgen';

// The same per-request records fed to glm-ops' metric code and to SGLang's own `calculate_metrics` (sglang 0.5.17's
// sglang.benchmark.serving, run by scripts/bench-serving-oracle.py, which wrote its figures into the fixture).
interface OracleCase {
  name: string;
  durationS: number;
  acceptLength: number | null;
  records: RequestRecord[];
  bench_serving: Record<string, number>;
}
const fixture = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'loadgen', 'bench-serving-cases.json'), 'utf8'),
) as { cases: OracleCase[]; oracle: { sglang: string; resultKeys: string[] } };

// bench_serving's BenchmarkMetrics names where they differ from its JSON keys (which glm-ops uses).
const JSON_KEY_OF: Record<string, string> = { total_input: 'total_input_tokens', total_output: 'total_output_tokens' };
// Figures glm-ops does not compute: it takes token counts from the server and never re-tokenises.
const NOT_COMPUTED = new Set([
  'total_input_text',
  'total_input_vision',
  'total_output_retokenized',
  'output_throughput_retokenized',
  'total_throughput_retokenized',
]);

describe(`loadgen metrics = bench_serving's calculate_metrics (sglang ${fixture.oracle.sglang})`, () => {
  test('the fixture holds the three cases and bench_serving figures for each', () => {
    expect(fixture.cases.map((c) => c.records.length)).toEqual([4, 2, 96]);
    for (const c of fixture.cases) expect(Object.keys(c.bench_serving).length).toBeGreaterThan(30);
  });

  test.each(fixture.cases.map((c) => [c.name, c] as const))('%s: every figure agrees', (_name, c) => {
    const ours: Record<string, number> = { ...calculateMetrics(c.records, c.durationS), ...peakFigures(c.records) };
    const compared: string[] = [];
    for (const [name, theirs] of Object.entries(c.bench_serving)) {
      if (NOT_COMPUTED.has(name)) continue;
      const key = JSON_KEY_OF[name] ?? name;
      expect({ key, value: ours[key] }).toEqual({ key, value: expect.any(Number) });
      // numpy sums pairwise and interpolates with a slightly different formula: equal to ~1e-12 relative.
      expect({ key, off: Math.abs(ours[key]! - theirs) <= 1e-9 * Math.max(1, Math.abs(theirs)) }).toEqual({
        key,
        off: true,
      });
      compared.push(key);
    }
    expect(compared).toHaveLength(Object.keys(c.bench_serving).length - NOT_COMPUTED.size);
  });

  test('a gap of a chunk with several tokens is spread over them only where bench_serving spreads it', () => {
    // The speculative case reports an accept length, so bench_serving re-tokenises each chunk and spreads its gap.
    const speculative = fixture.cases[1]!;
    expect(speculative.acceptLength).toBe(3.5);
    // 30, 30, 24 ms over 3, 3, 2 tokens and 20, 20 ms over 4, 1: thirteen gaps summing to 124 ms.
    expect(speculative.bench_serving.mean_itl_ms).toBeCloseTo(124 / 13, 9);
    expect(calculateMetrics(speculative.records, speculative.durationS).mean_itl_ms).toBeCloseTo(124 / 13, 9);
  });
});
