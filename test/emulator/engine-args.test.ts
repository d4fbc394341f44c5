import fc from 'fast-check';
import { EngineArgsError, isSpeculative, parseEngineArgv } from '../../src/emulator/engine-args';
import { SlotScheduler } from '../../src/emulator/slot-scheduler';
import { loadEmulatorSettings } from '../../src/emulator/emulator-config';

describe('parseEngineArgv', () => {
  test('reads values, switches and --flag=value; keeps unknown flags with their values out of the way', () => {
    const { args, unknownFlags } = parseEngineArgv([
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
    ]);
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
    [['--port', '1'], /--model-path/],
    [['--model-path', '/m', '--port', 'abc'], /--port: invalid int value: 'abc'/],
    [['--model-path', '/m', '--mem-fraction-static', '1.5'], /--mem-fraction-static/],
    [['--model-path', '/m', '--max-running-requests'], /--max-running-requests: expected one argument/],
    [['--model-path', '/m', 'stray'], /unrecognized argument: stray/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseEngineArgv(argv)).toThrow(EngineArgsError);
    expect(() => parseEngineArgv(argv)).toThrow(message);
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
