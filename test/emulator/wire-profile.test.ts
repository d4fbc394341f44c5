import { wireProfileFor } from '../../src/emulator/wire-profile';
import { fastEnv, launchReady, type LooseJson, type RunningEmulator } from '../helpers/emulator-fixture';
import { recordingArgv, recordingLikeModelDir } from '../helpers/recorded-exchanges';

/**
 * Where SGLang releases differ on the wire. 0.5.17 is recorded (golden-recordings.test.ts); these are 0.5.23's
 * differences as its release source has them (http_server.py, usage_processor.py, utils/auth.py).
 */

test('the profile follows the image release: 0.5.10 and 0.5.17 as recorded, 0.5.23 and later with its routes', () => {
  expect(wireProfileFor('0.5.10')).toMatchObject({ version: '0.5.10', hasReadyRoute: false, hasGetLoadRoute: true });
  expect(wireProfileFor('0.5.17')).toMatchObject({ hasExtendedModelInfo: false, hasCompletionTokensDetails: false });
  expect(wireProfileFor('v0.5.23')).toMatchObject({ version: '0.5.23', hasReadyRoute: true, hasGetLoadRoute: false });
  expect(wireProfileFor('0.5.24.post1')).toMatchObject({ hasLaunchCommand: true, hasExtendedModelInfo: true });
});

describe('an emulator playing SGLang 0.5.23', () => {
  let emulator: RunningEmulator;
  const auth = { authorization: 'Bearer testkey' };
  beforeAll(async () => {
    emulator = await launchReady(recordingArgv(recordingLikeModelDir()), {
      ...fastEnv(),
      GLM_OPS_EMULATOR_SGLANG_IMAGE: 'lmsysorg/sglang:v0.5.23',
    });
  });
  afterAll(async () => emulator?.close());

  test('/ready answers 200 without the key (probes are exempt); /get_load is gone', async () => {
    expect((await fetch(`${emulator.url}/ready`)).status).toBe(200);
    const load = await fetch(`${emulator.url}/get_load`, { headers: auth });
    expect([load.status, await load.json()]).toEqual([404, { detail: 'Not Found' }]);
  });

  test('/model_info has the 14 keys, served name and parsers among them', async () => {
    const body = (await (await fetch(`${emulator.url}/model_info`, { headers: auth })).json()) as LooseJson;
    expect(Object.keys(body)).toEqual([
      'model_path',
      'served_model_name',
      'tokenizer_path',
      'is_generation',
      'preferred_sampling_params',
      'weight_version',
      'load_format',
      'reasoning_parser',
      'tool_call_parser',
      'disaggregation_mode',
      'has_image_understanding',
      'has_audio_understanding',
      'model_type',
      'architectures',
    ]);
    expect(body).toMatchObject({
      served_model_name: 'glm-4.7',
      reasoning_parser: 'glm45',
      tool_call_parser: 'glm47',
      architectures: ['LlamaForCausalLM'],
    });
  });

  test('usage carries completion_tokens_details.reasoning_tokens when there are some, null otherwise', async () => {
    const ask = async (extra: Record<string, unknown>) =>
      (await (
        await fetch(`${emulator.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/json' },
          body: JSON.stringify({ messages: [{ role: 'user', content: 'Hi' }], max_tokens: 200, ...extra }),
        })
      ).json()) as LooseJson;
    const thinking = await ask({});
    expect(thinking.usage.reasoning_tokens).toBeGreaterThan(0);
    expect(thinking.usage.completion_tokens_details).toEqual({ reasoning_tokens: thinking.usage.reasoning_tokens });
    const off = await ask({ chat_template_kwargs: { enable_thinking: false } });
    expect([off.usage.reasoning_tokens, off.usage.completion_tokens_details]).toEqual([0, null]);
  });

  test('/server_info adds launch_command and frontend, version 0.5.23', async () => {
    const body = (await (await fetch(`${emulator.url}/server_info`, { headers: auth })).json()) as LooseJson;
    expect(body.version).toBe('0.5.23');
    expect(body.frontend).toBe('python');
    expect(body.launch_command).toMatch(/^python3 -m sglang\.launch_server .*--served-model-name glm-4\.7/);
    expect(body).not.toHaveProperty('kv_events');
  });
});
