import * as fs from 'node:fs';
import * as path from 'node:path';
import execa from 'execa';
import { stringify } from 'yaml';
import { builtCliEntry } from '../helpers/built-lib';
import type { Spec } from '../../src/spec/schema';
import { rollout } from '../../src/workflows';
import { startLocalStack, type LocalStack } from '../helpers/local-stack';
import { testClient, testId, testTemporalAddress, withWorker } from '../helpers/temporal';

jest.setTimeout(180_000);

describe('glm-ops upgrade (the built CLI against the test Temporal server and a real local platform)', () => {
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
    execa(process.execPath, [builtCliEntry(), 'upgrade', ...args], {
      env: { ...stack.env, TEMPORAL_ADDRESS: testTemporalAddress(), GLM_OPS_TASK_QUEUE: taskQueue },
      reject: false,
    });
  /** Schedules and workflows of any kind that name the app: there must be none after bad input. */
  async function createdFor(app: string): Promise<string[]> {
    const { client, connection } = await testClient();
    try {
      const ids: string[] = [];
      for await (const schedule of client.schedule.list())
        if (schedule.scheduleId.includes(app)) ids.push(schedule.scheduleId);
      for await (const run of client.workflow.list({ query: `GlmOpsApp = "${app}"` })) ids.push(run.workflowId);
      return ids;
    } finally {
      await connection.close();
    }
  }

  it.each([
    ['an unknown GPU', ['--gpu', 'RTX4090'], /--gpu "RTX4090" is not in the GPU catalog/],
    [
      '--at in the past',
      ['--sglang-image', 'x:1', '--at', '2020-01-01T02:00'],
      /--at 2020-01-01T02:00 UTC .* is in the past/,
    ],
    [
      '--at that does not parse',
      ['--sglang-image', 'x:1', '--at', 'next tuesday'],
      /--at "next tuesday" is not a time like/,
    ],
    ['--at on a day that does not exist', ['--sglang-image', 'x:1', '--at', '2099-02-30T02:00'], /is not a real date/],
    [
      'a time zone that does not exist',
      ['--sglang-image', 'x:1', '--at', '2099-01-01T02:00', '--timezone', 'Mars/Olympus'],
      /--timezone "Mars\/Olympus" is not an IANA time zone/,
    ],
    ['no change asked for', [], /give --sglang-image TAG or --gpu TYPE/],
    ['an app that was never rolled out', ['--sglang-image', 'x:1'], /was never rolled out on platform local/],
  ])('refuses %s: one line, exit 2, nothing created', async (_name, args, message) => {
    const app = testId('upcli-bad');
    const run = await cli([writeSpec(specFor(app)), ...args]);
    expect(run.stderr).toMatch(message);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.exitCode).toBe(2);
    expect(await createdFor(app)).toEqual([]);
  });

  describe('a new SGLang release that renamed flags the spec uses (0.5.10 → 0.5.23: nsa → dsa)', () => {
    /** The spec as a person keeps it: comments on the flags glm-ops must rename. */
    const writeCommentedSpec = (app: string): string => {
      const file = path.join(stack.home, `${app}.yaml`);
      const text = stringify(specFor(app))
        .replace(/^(\s+nsa-decode-backend: trtllm)$/m, '$1 # #21291 mitigation')
        .replace(/^app: /m, '# production spec, reviewed weekly\napp: ');
      expect(text).toContain('nsa-decode-backend: trtllm # #21291 mitigation');
      fs.writeFileSync(file, text);
      return file;
    };

    it('names the renames and refuses before anything starts (exit 2)', async () => {
      const app = testId('upcli-renamed');
      const file = writeCommentedSpec(app);
      const run = await cli([file, '--sglang-image', 'lmsysorg/sglang:v0.5.23']);
      expect(run.exitCode).toBe(2);
      expect(run.stdout).toContain(`SGLang flags of ${app}: 0.5.10 → 0.5.23`);
      expect(run.stdout).toMatch(
        /^ {2}renamed {4}nsa-decode-backend → dsa-decode-backend: renamed \(SGLang 0\.5\.17 /m,
      );
      expect(run.stdout).toMatch(/^ {2}renamed {4}nsa-prefill-backend → dsa-prefill-backend: renamed/m);
      expect(run.stdout).toMatch(/^ {2}value {6}attention-backend: nsa → dsa: deprecated value/m);
      expect(run.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /^glm-ops: refusing to upgrade: SGLang 0\.5\.23 rejects 2 flag spelling\(s\) of .* at start-up \(nsa-decode-backend, nsa-prefill-backend\); .* --fix to write .*\.sglang-0\.5\.23\.yaml$/,
        ),
      ]);
      expect(run.stdout).not.toMatch(/upgrade started|scheduled upgrade/);
      expect(await createdFor(app)).toEqual([]);
    });

    it('--fix writes the spec in the new spellings next to it, comments kept, and starts nothing', async () => {
      const app = testId('upcli-fix');
      const file = writeCommentedSpec(app);
      const run = await cli([file, '--sglang-image', 'lmsysorg/sglang:v0.5.23', '--fix']);
      expect(run.stderr).toBe('');
      expect(run.exitCode).toBe(0);
      const fixedFile = file.replace(/\.yaml$/, '.sglang-0.5.23.yaml');
      expect(run.stdout).toContain(`wrote ${fixedFile} (no upgrade started)`);
      const fixed = fs.readFileSync(fixedFile, 'utf8');
      expect(fixed).toContain('# production spec, reviewed weekly\n');
      expect(fixed).toContain('dsa-decode-backend: trtllm # #21291 mitigation');
      expect(fixed).toContain('dsa-prefill-backend: trtllm');
      expect(fixed).toContain('attention-backend: dsa');
      expect(fixed).toContain('image: lmsysorg/sglang:v0.5.23');
      expect(fixed).not.toContain('nsa-');
      expect(fs.readFileSync(file, 'utf8')).toContain('nsa-decode-backend'); // the original is left alone
      expect(await createdFor(app)).toEqual([]);

      const stdout = await cli([file, '--sglang-image', 'lmsysorg/sglang:v0.5.23', '--fix', '-']);
      expect(stdout.exitCode).toBe(0);
      expect(stdout.stdout).toContain('dsa-decode-backend: trtllm # #21291 mitigation');

      // The fixed spec passes the flag check; what stops it now is only that the app was never rolled out.
      const again = await cli([fixedFile, '--sglang-image', 'lmsysorg/sglang:v0.5.23']);
      expect(again.stdout).toContain('every flag of the spec keeps its spelling');
      expect(again.stderr).toMatch(/was never rolled out on platform local/);
      expect(again.exitCode).toBe(2);
    });
  });

  it('shows the diff, upgrades now with --wait, then schedules a maintenance-window upgrade that shows its time', async () => {
    const app = testId('upcli');
    const spec = specFor(app);
    const file = writeSpec(spec);
    await withWorker(stack.activities, async ({ client, taskQueue }) => {
      await client.workflow.execute(rollout, {
        taskQueue,
        workflowId: `rollout/${app}`,
        args: [{ spec, rolloutId: 'r-upcli' }],
      });
      const now = await cli([file, '--gpu', 'H200', '--wait'], taskQueue);
      expect(now.stderr).toBe('');
      expect(now.exitCode).toBe(0);
      expect(now.stdout).toContain('gpu.type: B200 → H200');
      expect(now.stdout).toContain('sglang.args.mem-fraction-static: 0.88 → 0.83');
      expect(now.stdout).toMatch(new RegExp(`upgrade started: workflow upgrade/${app}/\\d{8}T\\d{6}Z`));
      expect(now.stdout).toContain('upgraded');
      expect(now.stdout).toContain('v1 → v2 (DeepGEMM recompiled for the new GPU)');

      const later = await cli(
        [
          file,
          '--sglang-image',
          'lmsysorg/sglang:v0.5.12',
          '--at',
          '2099-06-01T02:30',
          '--timezone',
          'America/New_York',
        ],
        taskQueue,
      );
      expect(later.exitCode).toBe(0);
      expect(later.stdout).toContain(
        `scheduled upgrade upgrade/${app}/20990601T0230 at 20990601T0230 America/New_York (2099-06-01T06:30:00.000Z)`,
      );
      const handle = client.schedule.getHandle(`upgrade/${app}/20990601T0230`);
      try {
        const described = await handle.describe();
        expect(described.info.nextActionTimes[0]?.toISOString()).toBe('2099-06-01T06:30:00.000Z');
        expect(described.state.remainingActions).toBe(1);
      } finally {
        await handle.delete();
      }
    });
  });
});
