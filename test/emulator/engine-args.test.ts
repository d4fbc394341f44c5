import fc from 'fast-check';
import { isSpeculative, parseEngineArgv } from '../../src/emulator/engine-args';
import { SglangArgvError } from '../../src/spec/sglang-argparse';
import { SlotScheduler } from '../../src/emulator/slot-scheduler';
import { loadEmulatorSettings } from '../../src/emulator/emulator-config';

describe('parseEngineArgv', () => {
  test('reads values, switches and --flag=value; lists the flags it accepts but does not model', () => {
    const { args, unknownFlags } = parseEngineArgv(
      [
        '--model-path',
        '/m',
        '--port=8000',
        '--trust-remote-code',
        '--chunked-prefill-size',
        '8192',
        '--enable-metrics',
        '--speculative-algorithm',
        'EAGLE',
        '--disable-radix-cache',
        '--mem-fraction-static',
        '0.85',
      ],
      { env: {} },
    );
    expect(args).toMatchObject({
      modelPath: '/m',
      servedModelName: '/m',
      port: 8000,
      trustRemoteCode: true,
      enableMetrics: true,
      memFractionStatic: 0.85,
    });
    expect(isSpeculative(args)).toBe(true);
    expect(unknownFlags).toEqual(['--chunked-prefill-size', '--disable-radix-cache']);
  });

  test.each([
    [['--port', '1'], /the following arguments are required: --model-path\/--model/],
    [['--model-path', '/m', '--port', 'abc'], /argument --port: invalid int value: 'abc'/],
    [['--model-path', '/m', '--mem-fraction-static', '1.5'], /--mem-fraction-static/],
    [['--model-path', '/m', '--max-running-requests'], /argument --max-running-requests: expected one argument/],
    [['--model-path', '/m', 'stray'], /unrecognized arguments: stray/],
    [['--model-path', '/m', '--mem-fraction-statik', '0.8'], /unrecognized arguments: --mem-fraction-statik 0.8/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseEngineArgv(argv, { env: {} })).toThrow(SglangArgvError);
    expect(() => parseEngineArgv(argv, { env: {} })).toThrow(message);
  });

  test("plays the release GLM_OPS_EMULATOR_SGLANG_IMAGE names (the guide's 0.5.10 when unset)", () => {
    const argv = ['--model-path', '/m', '--tp', '8', '--nsa-decode-backend', 'trtllm', '--attention-backend', 'nsa'];
    const guide = parseEngineArgv(argv, { env: {} });
    expect(guide.sglangVersion).toBe('0.5.10');
    expect(parseEngineArgv(argv, { env: { GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.10' } }).args).toEqual(
      guide.args,
    );
    expect(guide.args).toMatchObject({ tp: 8, nsaDecodeBackend: 'trtllm', attentionBackend: 'nsa' });
    expect(guide.serverArgs.tensor_parallel_size).toBe(8);
    const drill = parseEngineArgv(argv, {
      env: { GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.11-drill-oom' },
    });
    expect(drill).toMatchObject({ sglangVersion: '0.5.11', flagTable: { version: '0.5.10' } });
    let caught: unknown;
    try {
      parseEngineArgv(argv, { env: { GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.23' } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SglangArgvError);
    const error = caught as SglangArgvError;
    expect(error.exitCode).toBe(2);
    expect(error.stderrText).toMatch(/^usage: sglang serve \[-h\] --model-path MODEL_PATH\n/);
    expect(
      error.stderrText.endsWith('sglang serve: error: unrecognized arguments: --nsa-decode-backend trtllm\n'),
    ).toBe(true);
  });

  test('0.5.17: deprecated nsa aliases fill the dsa backends and log what SGLang logs', () => {
    const parsed = parseEngineArgv(['--model-path', '/m', '--nsa-decode-backend', 'trtllm', '--disable-cuda-graph'], {
      env: { GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.17' },
    });
    expect(parsed.args).toMatchObject({ nsaDecodeBackend: 'trtllm', disableCudaGraph: true });
    expect(parsed.serverArgs.dsa_decode_backend).toBe('trtllm');
    expect(parsed.deprecationWarnings).toEqual([
      "\u001b[1;33m'--nsa-decode-backend' is deprecated and will be removed in a future release. Use '--dsa-decode-backend' instead.\u001b[0m",
      "\u001b[1;33m'--disable-cuda-graph' is deprecated and will be removed in a future release. Use '--cuda-graph-backend-{decode,prefill}=disabled' instead.\u001b[0m",
    ]);
    expect(parsed.unknownFlags).toEqual([]);
  });
});

describe('loadEmulatorSettings', () => {
  test('defaults: scale 1, B200, no faults', () => {
    const settings = loadEmulatorSettings({});
    expect(settings).toMatchObject({ timeScale: 1, gpuType: 'B200' });
    expect(settings.config.phases.weightLoadMs).toBe(240_000);
  });

  test('a bad field is named', () => {
    expect(() => loadEmulatorSettings({ GLM_OPS_EMULATOR_CONFIG_JSON: '{"phases":{"weightLoadMs":-1}}' })).toThrow(
      /phases\.weightLoadMs/,
    );
    expect(() => loadEmulatorSettings({ GLM_OPS_EMULATOR_CONFIG_JSON: '{"nope":1}' })).toThrow(/nope/);
    expect(() => loadEmulatorSettings({ GLM_OPS_EMULATOR_CONFIG: '/does/not/exist.json' })).toThrow(
      /GLM_OPS_EMULATOR_CONFIG/,
    );
  });
});

describe('SlotScheduler', () => {
  test('never runs more than the cap and always drains, whatever the order of grants, releases and cancels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        async (cap, cancels) => {
          const scheduler = new SlotScheduler(cap);
          const tickets = cancels.map(() => scheduler.enqueue());
          expect(scheduler.running).toBeLessThanOrEqual(cap);
          cancels.forEach((cancel, i) => {
            if (cancel) tickets[i]!.release();
          });
          for (const ticket of tickets) {
            expect(scheduler.running).toBeLessThanOrEqual(cap);
            ticket.release();
            ticket.release();
          }
          expect(scheduler.running).toBe(0);
          expect(scheduler.queued).toBe(0);
        },
      ),
    );
  });
});
