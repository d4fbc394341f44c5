import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { projectRoot } from '../../src/config/paths';
import { keepWarmCost, type StoredKeepWarmCost } from '../../src/schedules/keep-warm-cost';
import { disableKeepWarm, enableKeepWarm, keepWarmStatus } from '../../src/schedules/keep-warm-schedules-client';
import { parseSpecText } from '../../src/spec/parse-spec';
import type { Spec } from '../../src/spec/schema';
import { testClient, testId } from '../helpers/temporal';

function demoSpec(app: string, strategy: Spec['keepWarm']['strategy']): Spec {
  const parsed = parseSpecText(fs.readFileSync(path.join(projectRoot(), 'examples', 'local-demo.yaml'), 'utf8'));
  if (!parsed.ok) throw new Error('demo spec does not parse');
  return { ...parsed.spec, app, keepWarm: { ...parsed.spec.keepWarm, strategy } };
}

/**
 * What `keepwarm status APP` reads without a spec: the strategy and the cost, from the schedule as the server holds
 * it after `enable` (real schedules on the test server; no worker, so nothing they start runs).
 */
describe('keep-warm status by app name (the schedule action holds the strategy and the priced cost)', () => {
  let client: Client;
  let connection: Connection;
  beforeAll(async () => {
    ({ client, connection } = await testClient());
  });
  afterAll(async () => {
    await connection?.close();
  });

  it('reads back the strategy and cost of the latest enable, also after switching pin → ping', async () => {
    const app = testId('kw-status');
    const taskQueue = testId('unused-queue');
    const priced = (spec: Spec, pricedAt: string): StoredKeepWarmCost => ({ ...keepWarmCost(spec, {}), pricedAt });
    try {
      const pin = demoSpec(app, 'pin');
      await enableKeepWarm(client, pin, { taskQueue, cost: priced(pin, '2026-12-01T10:00:00.000Z') });
      const pinned = await keepWarmStatus(client, app, { recentLimit: 0 });
      expect(pinned.strategy).toBe('pin');
      expect(pinned.storedCost).toEqual(priced(pin, '2026-12-01T10:00:00.000Z'));
      expect(pinned.storedCost?.pin?.replicaHoursPerMonth).toBeGreaterThan(0);

      const ping = { ...demoSpec(app, 'ping'), modal: { ...pin.modal, scaledownWindow: 600 } };
      await enableKeepWarm(client, ping, { taskQueue, cost: priced(ping, '2026-12-01T11:00:00.000Z') });
      const switched = await keepWarmStatus(client, app, { recentLimit: 0 });
      expect(switched.strategy).toBe('ping');
      expect(switched.storedCost).toEqual(priced(ping, '2026-12-01T11:00:00.000Z'));
      expect(switched.storedCost?.ping.dollarsPerMonth).not.toBe(pinned.storedCost?.ping.dollarsPerMonth);
      expect(switched.hasReleaseSchedule).toBe(false);
    } finally {
      await disableKeepWarm(client, app).catch(() => undefined);
    }
  });

  it('a schedule enabled without a stored cost reports none (the CLI then prints no cost table)', async () => {
    const app = testId('kw-status-nocost');
    try {
      await enableKeepWarm(client, demoSpec(app, 'ping'), { taskQueue: testId('unused-queue') });
      const status = await keepWarmStatus(client, app, { recentLimit: 0 });
      expect(status.strategy).toBe('ping');
      expect(status.storedCost).toBeUndefined();
    } finally {
      await disableKeepWarm(client, app).catch(() => undefined);
    }
  });
});
