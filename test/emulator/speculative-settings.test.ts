import { TimingModel } from '../../src/emulator/emulator-config';
import { decodeProfile } from '../../src/emulator/timing-model';
import { measureStreamingChat } from '../../src/probes/stream-timing';
import { fastEnv, guideArgv, launchReady, makeModelDir, metricValue, withFlag } from '../helpers/emulator-fixture';

// The EAGLE settings over HTTP: SGLang's topk-1 rule, and the plan each setting gives.
const planned = () =>
  fastEnv(
    { phases: { weightLoadMs: 0, graphCaptureMs: 0, serverWarmupMs: 0 }, reportTiming: true },
    { GLM_OPS_EMULATOR_TIME_SCALE: '1' },
  );
const body = {
  messages: [{ role: 'user', content: 'Hi' }],
  max_tokens: 8,
  ignore_eos: true,
  chat_template_kwargs: { enable_thinking: false },
};
const guide = TimingModel.parse({});

describe('EAGLE settings (live emulator)', () => {
  test('topk 1 with draft tokens ≠ steps + 1: SGLang’s warning, steps + 1 served and reported, the plan follows', async () => {
    const argv = withFlag(guideArgv(makeModelDir()), '--speculative-num-steps', '5');
    const emulator = await launchReady(argv, planned());
    try {
      const warning =
        'speculative_num_draft_tokens is adjusted to speculative_num_steps + 1 when speculative_eagle_topk == 1';
      const at = emulator.logs.findIndex((l) => l.endsWith(warning));
      expect(at).toBeGreaterThan(-1);
      expect(at).toBeLessThan(emulator.logs.findIndex((l) => l.includes('server_args=ServerArgs(')));
      const info = (await (await fetch(`${emulator.url}/server_info`)).json()) as Record<string, unknown>;
      expect(info).toMatchObject({ speculative_num_steps: 5, speculative_num_draft_tokens: 6 });
      const metrics = await (await fetch(`${emulator.url}/metrics`)).text();
      expect(metricValue(metrics, 'sglang:spec_num_draft_tokens')).toBe(6);
      const timing = (await measureStreamingChat({ baseUrl: emulator.url, body })).finalChunkExtras.emulator_timing as {
        tpot_ms: number;
      };
      const deep = decodeProfile(guide, true, { numSteps: 5, topk: 1, numDraftTokens: 6 });
      expect(timing.tpot_ms).toBeCloseTo(deep.tpotMs, 6);
      expect(timing.tpot_ms).not.toBeCloseTo(7.7, 3);
    } finally {
      await emulator.close();
    }
  });

  test('the guide’s 3 / 1 / 4: no warning, TPOT 7.7 ms', async () => {
    const emulator = await launchReady(guideArgv(makeModelDir()), planned());
    try {
      expect(emulator.logs.some((l) => l.includes('speculative_num_draft_tokens is adjusted'))).toBe(false);
      const timing = (await measureStreamingChat({ baseUrl: emulator.url, body })).finalChunkExtras.emulator_timing as {
        tpot_ms: number;
      };
      expect(timing.tpot_ms).toBeCloseTo(7.7, 6);
    } finally {
      await emulator.close();
    }
  });
});
