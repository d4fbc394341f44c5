import { Listr } from 'listr2';
import type { WorkflowHandle } from '@temporalio/client';
import { ROLLOUT_PHASES, type RolloutPhaseName, type RolloutStatus } from '../shared/rollout-types';
import { status as statusQuery } from '../shared/rollout-messages';
import { formatMs } from './format-ms';
import { liveActivityLine, pendingHeartbeats } from './live-activity';
import { fitLine, terminalColumns } from './terminal-width';

const TITLES: Record<RolloutPhaseName, string> = {
  validate: 'Validate the spec',
  weights: 'Weights: download with sentinel, commit volume',
  kernels: 'Kernels: DeepGEMM compile (GPU-keyed marker), commit volume',
  deploy: 'Deploy a new version',
  health: 'Health: poll /health until 200',
  warmup: 'Warmup: four diverse chat completions',
  smoke: 'Smoke tests',
  performance: 'Performance gate: the spec’s SLO under its load',
};

const POLL_MS = 300;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Extra things the progress display shows. */
export interface FollowOptions {
  /** A line to show under the current step while it holds (e.g. "waiting for a worker on …"), read on each tick. */
  notice?: () => string | undefined;
  /**
   * Settles when the workflow has ended (or the CLI gave up on knowing): the caller's wait for the result, which
   * rides out server restarts. @default handle.result()
   */
  ended?: Promise<unknown>;
  /** The spec's `health.startupTimeout`, which the live /health line counts the polled time against. */
  startupTimeoutSec?: number;
}

/** How often the live view reads the running activity's heartbeat (bytes, /health attempt) from the server. */
const DESCRIBE_MS = 1_000;

/**
 * Shows live progress of a running rollout as a task list driven by its `status` query, until the workflow ends.
 * Returns the last status seen; the caller reads the result or failure from the handle. A status query that fails
 * (the server restarting) keeps the last status shown.
 */
export async function followRollout(
  handle: WorkflowHandle,
  options: FollowOptions = {},
): Promise<RolloutStatus | undefined> {
  // Without a terminal, print one line per finished step rather than a ticking clock.
  const isInteractive = Boolean(process.stdout.isTTY);
  let latest: RolloutStatus | undefined;
  let finished = false;
  const ended = (options.ended ?? handle.result())
    .catch(() => undefined)
    .finally(() => {
      finished = true;
    });
  const poller = (async () => {
    while (!finished) {
      latest = (await handle.query(statusQuery).catch(() => undefined)) ?? latest;
      await sleep(POLL_MS);
    }
    latest = (await handle.query(statusQuery).catch(() => undefined)) ?? latest;
  })();
  // A running step's own progress lives in its activity's heartbeats, which the status query cannot see.
  let live: string | undefined;
  const describer = (async () => {
    while (isInteractive && !finished) {
      const description = await handle.describe().catch(() => undefined);
      if (description) {
        live = liveActivityLine(pendingHeartbeats(description.raw), {
          nowMs: Date.now(),
          ...(options.startupTimeoutSec ? { startupTimeoutSec: options.startupTimeoutSec } : {}),
        });
      }
      await sleep(DESCRIBE_MS);
    }
  })();
  const columns = terminalColumns(process.stdout);

  const list = new Listr(
    ROLLOUT_PHASES.map((name) => ({
      title: TITLES[name],
      task: async (_ctx: unknown, task: { title: string; output: string; skip: (message?: string) => void }) => {
        let lastShown = '';
        let shownNotice: string | undefined;
        for (;;) {
          const report = latest?.phases.find((p) => p.name === name);
          // A phase this rollout does not have (the performance gate with slo.enabled false) is not shown.
          if (latest && !report) return task.skip(`${TITLES[name]} — not in this rollout`);
          const notice = isInteractive ? options.notice?.() : undefined;
          if (notice) {
            if (notice !== shownNotice) task.output = notice;
            shownNotice = notice;
            lastShown = '';
          } else if (report?.state === 'running' && isInteractive) {
            const runningS = Math.floor((Date.now() - Date.parse(report.startedAt!)) / 1000);
            const line = fitLine(`running for ${formatMs(runningS * 1000)}${live ? ` — ${live}` : ''}`, columns - 4);
            if (line !== lastShown) {
              shownNotice = undefined;
              lastShown = line;
              task.output = line;
            }
          }
          if (report?.state === 'done') {
            task.title = `${TITLES[name]} — ${report.detail} (${formatMs(report.durationMs)})`;
            return;
          }
          if (report?.state === 'skipped') {
            task.skip(`${TITLES[name]} — ${report.detail} (${formatMs(report.durationMs)})`);
            return;
          }
          // One line: the report below gives the whole cause.
          if (report?.state === 'failed') throw new Error(fitLine(`${TITLES[name]} — ${report.detail}`, columns - 14));
          if (finished) {
            await poller;
            const final = latest?.phases.find((p) => p.name === name);
            if (final?.state === 'done' || final?.state === 'skipped' || final?.state === 'failed') continue;
            // Still running: the CLI stopped following (the server stayed unreachable), not the rollout.
            task.skip(
              `${TITLES[name]} — ${final?.state === 'running' ? 'still running when the CLI lost track' : 'not reached'}`,
            );
            return;
          }
          await sleep(100);
        }
      },
    })),
    {
      exitOnError: true,
      fallbackRendererCondition: !isInteractive,
      rendererOptions: { collapseSubtasks: false },
    },
  );
  await list.run().catch(() => undefined);
  await ended;
  await poller;
  await describer;
  return latest;
}
