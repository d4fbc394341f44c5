import * as fs from 'node:fs';
import * as path from 'node:path';
import execa from 'execa';
import { stringify } from 'yaml';
import { builtCliEntry } from '../helpers/built-lib';
import type { Spec } from '../../src/spec/schema';
import { rollout } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testClient, testId, testTemporalAddress, withWorker } from '../helpers/temporal';

// A rollout and nine CLI processes: at a load of 30 on 2 cores this took over 180 s. A hang guard, not a budget.
jest.setTimeout(600_000);

describe('glm-ops keepwarm (the built CLI against the test Temporal server and a real local platform)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await startLocalStack();
  });
  afterAll(async () => {
    await stack?.cleanup();
  });

  /** The guide's 900 s scaledown window, so the 14-minute ping cadence lints clean and stderr stays empty. */
  const specFor = (app: string, patch?: (spec: Spec) => void): Spec =>
    stack.specFor(app, (s) => {
      s.modal.scaledownWindow = 900;
      patch?.(s);
    });
  const writeSpec = (spec: Spec): string => {
    const file = path.join(stack.home, `${spec.app}.yaml`);
    fs.writeFileSync(file, stringify(spec));
    return file;
  };
  const cli = (args: string[], taskQueue = 'unused-queue') =>
    execa(process.execPath, [builtCliEntry(), 'keepwarm', ...args], {
      env: { ...stack.env, TEMPORAL_ADDRESS: testTemporalAddress(), GLM_OPS_TASK_QUEUE: taskQueue },
      reject: false,
    });
  async function scheduleIds(app: string): Promise<string[]> {
    const { client, connection } = await testClient();
    try {
      const ids: string[] = [];
      for await (const schedule of client.schedule.list())
        if (schedule.scheduleId.includes(app)) ids.push(schedule.scheduleId);
      return ids;
    } finally {
      await connection.close();
    }
  }

  it.each([
    [
      'a cron that is not valid',
      (s: Spec) => (s.keepWarm.cron = '*/14 6-25 * * MON-FRI'),
      /keepWarm\.cron.*hour 25 is outside 0–23/,
    ],
    [
      'a time zone that does not exist',
      (s: Spec) => (s.keepWarm.timezone = 'Europe/Atlantis'),
      /keepWarm\.timezone "Europe\/Atlantis" is not an IANA time zone/,
    ],
    [
      'pin with a cron that restricts days of the month',
      (s: Spec) => Object.assign(s.keepWarm, { cron: '0 6 1 * *', strategy: 'pin' }),
      /strategy pin needs a daily window/,
    ],
  ])('enable refuses %s: one line naming the field, exit 2, no schedule', async (_name, patch, message) => {
    const app = testId('kwcli-bad');
    const spec = specFor(app, patch);
    const run = await cli(['enable', writeSpec(spec)]);
    expect(run.exitCode).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(await scheduleIds(app)).toEqual([]);
  });

  it('enable → trigger --wait (warm) → status with results, cold-hit rate and both strategies’ cost → pause → disable', async () => {
    const app = testId('kwcli');
    const spec = specFor(app);
    const file = writeSpec(spec);
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-kwcli' }],
      });
      const enabled = await cli(['enable', file], taskQueue);
      expect(enabled.stderr).toBe('');
      expect(enabled.exitCode).toBe(0);
      expect(enabled.stdout).toContain(`created schedule keepwarm/${app}`);
      // The calendar as a sentence, the next runs on the schedule zone's wall clock (the spec's America/New_York).
      expect(enabled.stdout).toContain(
        'strategy ping ("*/14 6-22 * * MON-FRI"): every 14 minutes from 06:00 to 22:59, Monday to Friday, New York time',
      );
      expect(enabled.stdout).toMatch(
        /\nnext runs: (Mon|Tue|Wed|Thu|Fri) \d{4}-\d{2}-\d{2} (0[6-9]|1\d|2[0-2]):\d{2} E[SD]T, /,
      );
      const again = await cli(['enable', file], taskQueue);
      expect(again.stdout).toContain(`updated schedule keepwarm/${app}`);

      const triggered = await cli(['trigger', file, '--wait'], taskQueue);
      expect(triggered.exitCode).toBe(0);
      expect(triggered.stdout).toMatch(/warm: \/health 200 in \d+ ms/);

      const status = await cli(['status', file], taskQueue);
      expect(status.exitCode).toBe(0);
      expect(status.stdout).toContain('cold-hit rate: 0%');
      expect(status.stdout).toMatch(/\| .* \| warm \| \d+ ms \| keepwarm\//);
      expect(status.stdout).toMatch(/\| ping \| \d+ \| \$[\d,]+ \|/);
      expect(status.stdout).toMatch(/\| pin \| \d+ \| \$[\d,]+ \|/);
      expect(status.stdout).toContain(
        'calendar: every 14 minutes from 06:00 to 22:59, Monday to Friday, New York time (America/New_York)',
      );
      expect(status.stdout).toContain('strategy: ping\n');

      const paused = await cli(['pause', app, '--note', 'load test tonight'], taskQueue);
      expect(paused.stdout).toContain('paused schedule');
      expect((await client.schedule.getHandle(`keepwarm/${app}`).describe()).state).toMatchObject({
        paused: true,
        note: 'load test tonight',
      });
      // By app name (no spec at hand): the strategy and the cost `enable` stored with the schedule, as SPEC shows them.
      const byApp = await cli(['status', app], taskQueue);
      expect(byApp.stdout).toContain('(PAUSED)');
      expect(byApp.stdout).toContain('strategy: ping\n');
      const costRows = (text: string) =>
        text.split('\n').filter((line) => /^\| (ping|pin) \| \d+ \| \$[\d,]+ \|/.test(line));
      expect(costRows(byApp.stdout)).toHaveLength(2);
      expect(costRows(byApp.stdout)).toEqual(costRows(status.stdout));
      expect(byApp.stdout).toMatch(/priced by `keepwarm enable` at \d{4}-\d{2}-\d{2}T/);
      expect(byApp.stdout).toContain('New York time (America/New_York)');

      const disabled = await cli(['disable', app], taskQueue);
      expect(disabled.exitCode).toBe(0);
      expect(await scheduleIds(app)).toEqual([]);
      const missing = await cli(['status', app], taskQueue);
      expect(missing.exitCode).toBe(2);
      expect(missing.stderr).toContain('keep-warm is not enabled');
    });
  });
});
