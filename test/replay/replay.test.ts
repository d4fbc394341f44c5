import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import { testWorkflowBundle } from '../helpers/temporal';

const dir = path.resolve(__dirname, '..', 'histories');
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.json')) : [];

describe('replay of recorded histories against the current workflow code', () => {
  it('has recorded histories to replay', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  it.each(files)('%s holds no API key value', (file) => {
    // Test stacks use keys shaped sk-stack-<hex>; a value in a history would mean a secret crossed into Temporal.
    expect(fs.readFileSync(path.join(dir, file), 'utf8')).not.toMatch(/sk-(stack|test|local|bench)-[0-9a-f]{8,}/);
  });

  it.each(files)('%s replays without a determinism violation', async (file) => {
    const history = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    await expect(
      Worker.runReplayHistory({ workflowBundle: testWorkflowBundle(), replayName: file }, history),
    ).resolves.toBeUndefined();
  });
});
