import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { RolloutResult } from '../../src/shared/rollout-types';
import { rollout } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testId, withWorker } from '../helpers/temporal';
import { builtCliEntry } from '../helpers/built-lib';

jest.setTimeout(180_000);

/**
 * Every text a history holds: the JSON, plus each payload decoded (payload data is base64 in the JSON, so a secret
 * inside an activity result would not show up in the JSON text alone).
 */
function historyText(json: string): string {
  const decoded: string[] = [];
  JSON.parse(json, (key, value: unknown) => {
    if (key === 'data' && typeof value === 'string') decoded.push(Buffer.from(value, 'base64').toString('utf8'));
    return value;
  });
  return `${json}\n${decoded.join('\n')}`;
}

describe('/server_info carries the API key; what glm-ops reads from it never reaches Temporal', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    builtCliEntry();
    stack = await startLocalStack();
  });
  afterAll(async () => stack?.cleanup());

  it('a rollout reads version and accept length through the engine-info smoke test; the key is nowhere in its history', async () => {
    const app = testId('secret');
    const spec = stack.specFor(app);
    const { result, history } = await withWorker(stack.activities, async ({ client, taskQueue }) => {
      const result: RolloutResult = await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-secret' }],
      });
      const history = historyToJSON(await client.workflow.getHandle(`rollout/${app}`).fetchHistory());
      return { result, history };
    });

    // The control: the engine glm-ops deployed answers /server_info with the key in plain text, as real SGLang does.
    const { url } = await stack.platform.endpoint(app);
    const raw = await (
      await fetch(`${url}/server_info`, { headers: { authorization: `Bearer ${stack.apiKey}` } })
    ).text();
    expect(raw).toContain(stack.apiKey);

    expect(result.outcome).toBe('succeeded');
    const engineInfo = result.smoke.find((s) => s.name === 'engine-info');
    expect(engineInfo).toMatchObject({ passed: true, detail: expect.stringMatching(/^SGLang \d+\.\d+\.\d+/) });
    const text = historyText(history);
    // The decoded payloads are really searched: the smoke results (with the engine-info detail) are among them.
    expect(text).toContain(engineInfo!.detail);
    expect(text).not.toContain(stack.apiKey);
  });
});
