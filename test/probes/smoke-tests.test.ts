import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runSmokeTests, SMOKE_TEST_NAMES } from '../../src/probes/smoke-tests';
import { diagnose } from '../../src/triage/diagnose';
import { startTestEmulator, TEST_API_KEY, type TestEmulatorOptions } from '../helpers/emulator-fixture';

async function smokeAgainst(options: TestEmulatorOptions) {
  const emulator = await startTestEmulator(options);
  try {
    return await runSmokeTests({
      baseUrl: emulator.url,
      apiKey: TEST_API_KEY,
      servedName: 'glm-5.1',
      timeoutMs: 5_000,
    });
  } finally {
    await emulator.close();
  }
}

const failedNames = (results: Array<{ name: string; passed: boolean }>): string[] =>
  results.filter((r) => !r.passed).map((r) => r.name);

test('a healthy engine passes every smoke test, in order, with a detail each', async () => {
  const results = await smokeAgainst({});
  expect(results.map((r) => r.name)).toEqual([...SMOKE_TEST_NAMES]);
  expect(failedNames(results)).toEqual([]);
  for (const r of results) expect(r.detail).not.toBe('');
  expect(results.find((r) => r.name === 'auth-required')!.detail).toContain('401');
  // The emulator returns the API key in /server_info as SGLang does; the engine-info check reports two fields only.
  expect(results.find((r) => r.name === 'engine-info')!.detail).toMatch(/^SGLang \d+\.\d+\.\d+$/);
  expect(JSON.stringify(results)).not.toContain(TEST_API_KEY);
});

test.each([
  ['no --tool-call-parser', ['--tool-call-parser'], 'tool-call', '--tool-call-parser glm47', 'tool-calls-malformed'],
  ['no --reasoning-parser', ['--reasoning-parser'], 'reasoning-content', '--reasoning-parser glm45', 'reasoning-empty'],
  ['no --enable-metrics', ['--enable-metrics'], 'metrics', '--enable-metrics', undefined],
  ['no --api-key', ['--api-key'], 'auth-required', 'set --api-key', undefined],
])('%s → only the matching smoke test fails, with the fix named', async (_label, omit, failing, fix, diagnosisId) => {
  const results = await smokeAgainst({ omit });
  expect(failedNames(results)).toEqual([failing]);
  expect(results.find((r) => r.name === failing)!.detail).toContain(fix);
  if (diagnosisId) expect(diagnose({ logLines: [], smokeFailures: failedNames(results) })[0]!.id).toBe(diagnosisId);
});

test('a served-name mismatch fails models-list only (SGLang serves any model name a request gives)', async () => {
  const results = await smokeAgainst({ extraArgs: ['--served-model-name', 'other-name'] });
  expect(failedNames(results)).toEqual(['models-list']);
  expect(results.find((r) => r.name === 'models-list')!.detail).toContain('other-name');
});

test('a dead endpoint fails every test quickly instead of throwing', async () => {
  const emulator = await startTestEmulator();
  const url = emulator.url;
  await emulator.close();
  const results = await runSmokeTests({ baseUrl: url, apiKey: TEST_API_KEY, servedName: 'glm-5.1', timeoutMs: 2_000 });
  expect(failedNames(results)).toEqual([...SMOKE_TEST_NAMES]);
  expect(results[0]!.detail).toContain('refused');
});

test('a router answering 502 (dead engine) fails auth-required as not checked, without blaming --api-key', async () => {
  const server = http.createServer((_req, res) => {
    res.writeHead(502, { 'content-type': 'text/plain' });
    res.end('bad gateway: engine is unreachable');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const results = await runSmokeTests({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: TEST_API_KEY,
      servedName: 'glm-5.1',
      timeoutMs: 2_000,
    });
    const auth = results.find((r) => r.name === 'auth-required')!;
    expect(auth.passed).toBe(false);
    expect(auth.detail).toBe('not checked: a request without the API key got HTTP 502 (no engine answered)');
    expect(results.map((r) => r.detail).join('\n')).not.toContain('set --api-key');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
