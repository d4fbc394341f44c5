import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Command } from 'commander';
import {
  WorkflowFailedError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionInfo,
  type WorkflowHandle,
} from '@temporalio/client';
import type { Config } from '../../config/config';
import { describeGateLoad } from '../../activities/performance-activities';
import { describeLoad } from '../../workflows/performance-gate-judge';
import { gridSize } from '../../workflows/tune-space';
import { resolveGpuPrice } from '../../spec/gpu-catalog';
import { formatSpecIssue } from '../../spec/parse-spec';
import type { Spec } from '../../spec/schema';
import { APP } from '../../shared/search-attributes';
import { abortTune, tuneStatusQuery } from '../../shared/tune-messages';
import type { TuneInput, TunePricing, TuneResult, TuneStatus } from '../../shared/tune-types';
import { reportBadInput } from '../bad-input';
import { describeFailureCause } from '../failure-cause';
import { loadDeployableSpec } from '../load-deployable-spec';
import { resultThroughOutages } from '../result-through-outages';
import { DEFAULT_RECONNECT_TIMEOUT_SEC, EXIT, parseReconnectTimeout } from '../rollout-end';
import { ensureStackForSpec, PlatformNotReadyError, specTaskQueue } from '../stack-for-spec';
import { connectClient, workflowUiLink } from '../temporal-client';
import { writeTuneOutputs, type TuneOutputs } from '../tune-outputs';
import { tuneProgressLine, tuneStatusLines } from '../tune-progress';
import { noChoiceReason } from '../tune-report';
import { locateIssues, resolveTuneSection } from '../tune-section';
import { trialEstimateSec } from '../tune-trial-estimate';

interface TuneFlags {
  space?: string;
  write?: boolean;
  wait: boolean;
  report?: string;
  json?: boolean;
  reconnectTimeout: number;
}

/** The tune's workflow type, as the worker registers it. */
const TUNE_WORKFLOW = 'tune';

/** How often the progress line reads the tune's status query. */
const POLL_MS = 1_000;

/**
 * `glm-ops tune SPEC`: a durable search over the SGLang and Modal levers for the most throughput that still meets the
 * spec's SLO (the `tune/<app>/<time>` workflow; each trial a throw-away app), then the report, the plot and the spec
 * patch. `tune status APP` and `tune abort APP` act on the app's latest tune.
 */
export function registerTuneCommand(program: Command, settings: Config): void {
  const tune = program
    .command('tune')
    .description(
      'search the SGLang and Modal levers for the most throughput that meets the SLO (durable), then report and patch the spec',
    )
    .argument('<spec>', 'deployment spec (YAML) whose tune section names the levers, the workload and the budget')
    .option(
      '--space <file>',
      "a YAML file holding a tune section (space, workload, objective, budget), used instead of the spec's",
    )
    .option('--write', 'apply the chosen values to the spec file in place (comments and layout kept)')
    .option('--no-wait', 'start the tune and return (follow it with `glm-ops tune status APP`)')
    .option(
      '--report <dir>',
      'where the report, the plot and the patched spec go (default ./tune-reports/<app>-<time>)',
    )
    .option('--json', 'print the result and the files written as JSON (progress still goes to stderr)')
    .option(
      '--reconnect-timeout <seconds>',
      'how long to keep reconnecting to a lost Temporal server before exiting 4 (state unknown)',
      parseReconnectTimeout,
      DEFAULT_RECONNECT_TIMEOUT_SEC,
    )
    .action((file: string, flags: TuneFlags) => startTune(file, flags, settings));

  tune
    .command('status')
    .description("show an app's latest tune: trials done, running and planned, the best so far, the budget spent")
    .argument('<app>', 'app name (the serving app the tune started from)')
    .option('--json', 'print the status (or the result, once the tune ended) as JSON')
    // The root parses options before it dispatches, so `tune status APP --json` may land on the tune's own --json.
    .action((app: string, _flags: unknown, command: Command) =>
      tuneStatus(app, command.optsWithGlobals<{ json?: boolean }>(), settings),
    );

  tune
    .command('abort')
    .description("stop an app's running tune cleanly: the running trial's app is torn down, the trials done are kept")
    .argument('<app>', 'app name')
    .requiredOption('--reason <text>', 'why (recorded in the tune history)')
    .option('--by <name>', 'who stops it (recorded in the tune history); default: the OS user')
    .action((app: string, flags: { reason: string; by?: string }) => abortLatestTune(app, flags, settings));
}

async function startTune(file: string, flags: TuneFlags, settings: Config): Promise<void> {
  // Everything is checked before anything starts: the spec, the tune section, the price, the files to write.
  if (!flags.wait && (flags.write || flags.report)) {
    return reportBadInput(`--${flags.write ? 'write' : 'report'} needs the tune's end: drop --no-wait`);
  }
  const spec = await loadDeployableSpec(file);
  if (!spec) return;
  const specText = fs.readFileSync(file, 'utf8');
  let spaceText: string | undefined;
  if (flags.space !== undefined) {
    try {
      spaceText = fs.readFileSync(flags.space, 'utf8');
    } catch (err) {
      return reportBadInput(`--space ${flags.space}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  const section = resolveTuneSection(spec, spaceText === undefined ? undefined : { text: spaceText });
  if (!section.ok) {
    const located = spaceText === undefined ? locateIssues(specText, section.errors) : section.errors;
    for (const issue of located) console.error(formatSpecIssue(issue, flags.space ?? file));
    process.exitCode = EXIT.badInput;
    return;
  }
  const pricing = resolvePricing(spec, settings);
  if (typeof pricing === 'string') return reportBadInput(pricing);
  const startedAt = new Date();
  const reportDir =
    flags.report ?? path.join('tune-reports', `${spec.app}-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
  const fileProblem = outputProblem(file, reportDir, flags);
  if (fileProblem) return reportBadInput(fileProblem);

  try {
    await ensureStackForSpec(spec, (line) => console.error(line), settings, { requireWorker: true });
  } catch (err) {
    if (!(err instanceof PlatformNotReadyError)) throw err;
    return reportBadInput(err.message);
  }
  const { client, connection, config } = await connectClient(settings, { callAttempts: 6 });
  try {
    const tuneId = `tune/${spec.app}/${startedAt.toISOString()}`;
    const input: TuneInput = {
      spec,
      tune: section.tune,
      tuneId,
      pricing,
      trialEstimateSec: trialEstimateSec(spec, section.tune.workload),
      requestedBy: currentUser(),
    };
    // Trials of two tunes of one app would share the `<app>-t<n>` names: one tune per app at a time.
    const running = await latestTune(client, spec.app, { isRunning: true });
    if (running) {
      console.error(
        `a tune of ${spec.app} is already running (workflow ${running.workflowId}): follow it with \`glm-ops tune status ${spec.app}\` or stop it with \`glm-ops tune abort ${spec.app} --reason …\``,
      );
      process.exitCode = EXIT.refused;
      return;
    }
    const points = gridSize(section.tune.space);
    const handle = await client.workflow.start(TUNE_WORKFLOW, {
      taskQueue: specTaskQueue(spec, settings),
      workflowId: tuneId,
      args: [input],
      staticSummary: `Tune of ${spec.app}: ${section.tune.strategy} search over ${points} point(s), budget ${section.tune.budget.trials} trials`,
      staticDetails: [
        `**App** ${spec.app} (platform ${spec.platform}); every trial is its own throw-away app, never this one`,
        `**Levers** ${Object.keys(section.tune.space.args)
          .concat(Object.keys(section.tune.space.modal).map((field) => `modal.${field}`))
          .join(', ')}`,
        `**Objective** ${section.tune.objective} under TTFT p95 ≤ ${spec.slo.ttftP95Ms} ms`,
        `**Price** $${pricing.dollarsPerGpuHour}/GPU-h (${pricing.source})`,
      ].join('\n\n'),
      typedSearchAttributes: [{ key: APP, value: spec.app }],
    });
    const link = workflowUiLink(config, tuneId, handle.firstExecutionRunId);
    console.error(`tune started: workflow ${tuneId}${link ? `\n  ${link}` : ''}`);
    console.error(
      `  ${section.tune.strategy} search over a grid of ${points} point(s); budget ${section.tune.budget.trials} trials; each trial deploys ${spec.app}-t<n>, measures, tears down`,
    );
    if (!flags.wait) {
      console.log(
        `follow it with \`glm-ops tune status ${spec.app}\`, stop it with \`glm-ops tune abort ${spec.app} --reason …\``,
      );
      return;
    }
    console.error(
      `  Ctrl-C stops watching, not the tune (\`glm-ops tune status ${spec.app}\`, \`glm-ops tune abort ${spec.app} --reason …\`)`,
    );
    const outcome = await followTune(handle, config.connectionOptions.address, flags.reconnectTimeout);
    if (outcome.kind === 'failed') {
      console.error(`tune failed: ${describeFailureCause(outcome.error)}`);
      process.exitCode = EXIT.failed;
      return;
    }
    if (outcome.kind === 'unknown') {
      console.error(
        `tune state unknown: still running as far as we know (${outcome.reason}); see \`glm-ops tune status ${spec.app}\` once the server answers`,
      );
      process.exitCode = EXIT.unknown;
      return;
    }
    const result = outcome.result;
    const outputs = writeTuneOutputs({
      result,
      spec,
      specFile: file,
      specText,
      workload: describeLoad(describeGateLoad(section.tune.workload)),
      reportDir,
      shouldWrite: flags.write === true,
      env: settings.env,
      now: new Date(),
    });
    printEnd(result, outputs, flags.json === true);
    if (link) console.error(`history in the Temporal UI: ${link}`);
    process.exitCode = result.chosen ? EXIT.succeeded : EXIT.failed;
  } finally {
    await connection.close();
  }
}

/** The GPU price the budget and the report use, or why there is none. */
function resolvePricing(spec: Spec, settings: Config): TunePricing | string {
  try {
    const price = resolveGpuPrice(spec.gpu, settings.env);
    if (!price) {
      return `gpu.type ${JSON.stringify(spec.gpu.type)} has no known price, so the budget cannot be priced: set gpu.dollarsPerGpuHour`;
    }
    return { dollarsPerGpuHour: price.dollarsPerGpuHour, source: price.source };
  } catch (err) {
    if (err instanceof RangeError) return err.message;
    throw err;
  }
}

/** Why the spec (with --write) or the report folder cannot be written, before a tune runs for an hour. */
function outputProblem(file: string, reportDir: string, flags: TuneFlags): string | undefined {
  if (flags.write) {
    try {
      fs.accessSync(file, fs.constants.W_OK);
    } catch {
      return `--write: ${file} is not writable`;
    }
  }
  if (!flags.wait) return undefined;
  for (let dir = path.resolve(reportDir); ; dir = path.dirname(dir)) {
    if (fs.existsSync(dir)) {
      if (!fs.statSync(dir).isDirectory()) return `--report ${reportDir}: ${dir} is not a folder`;
      try {
        fs.accessSync(dir, fs.constants.W_OK);
      } catch {
        return `--report ${reportDir}: ${dir} is not writable`;
      }
      return undefined;
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** Shows the progress line until the tune ends and returns how it ended (a lost server ridden out). */
async function followTune(
  handle: WorkflowHandle,
  address: string,
  reconnectTimeoutSec: number,
): Promise<Awaited<ReturnType<typeof resultThroughOutages<TuneResult>>>> {
  const isTerminal = Boolean(process.stderr.isTTY);
  let finished = false;
  let shown = '';
  const show = (line: string): void => {
    if (line === shown) return;
    shown = line;
    process.stderr.write(isTerminal ? `\r${line}\x1b[K` : `${line}\n`);
  };
  const poller = (async () => {
    while (!finished) {
      const status = await handle.query(tuneStatusQuery).catch(() => undefined);
      if (status && !finished) show(tuneProgressLine(status));
      await sleep(POLL_MS);
    }
  })();
  try {
    return await resultThroughOutages<TuneResult>(handle, {
      address,
      reconnectForMs: reconnectTimeoutSec * 1000,
      onLine: (line) => process.stderr.write(`${isTerminal ? '\n' : ''}${line}\n`),
    });
  } finally {
    finished = true;
    await poller;
    if (isTerminal && shown) process.stderr.write('\n');
  }
}

function printEnd(result: TuneResult, outputs: TuneOutputs, isJson: boolean): void {
  if (isJson) {
    console.log(JSON.stringify({ result, outputs }, null, 2));
    return;
  }
  for (const line of tuneStatusLines(result)) console.log(line);
  console.log('');
  if (!result.chosen) console.log(noChoiceReason(result));
  if (outputs.patch) {
    if (outputs.patch.changes.length === 0) console.log('the spec already holds the chosen values: nothing to patch');
    else {
      console.log(outputs.patch.diff.trimEnd());
      console.log(
        outputs.patch.isWritten
          ? `applied to ${outputs.patch.file}`
          : `patched spec saved as ${outputs.patch.file}${outputs.patch.notWrittenBecause ? ` (${outputs.patch.notWrittenBecause})` : ' (apply it with --write)'}`,
      );
    }
  }
  console.log(`report: ${outputs.reportFile} (plot ${outputs.plotFile})`);
}

/** The newest tune of an app (visibility: the tune sets GlmOpsApp to the app it tunes). */
async function latestTune(
  client: Client,
  app: string,
  options: { isRunning?: boolean } = {},
): Promise<WorkflowExecutionInfo | undefined> {
  let newest: WorkflowExecutionInfo | undefined;
  const running = options.isRunning ? ' AND ExecutionStatus = "Running"' : '';
  const query = `WorkflowType = "${TUNE_WORKFLOW}" AND ${APP.name} = "${app.replace(/"/g, '\\"')}"${running}`;
  for await (const run of client.workflow.list({ query })) {
    if (!newest || run.startTime > newest.startTime) newest = run;
  }
  return newest;
}

async function tuneStatus(app: string, flags: { json?: boolean }, settings: Config): Promise<void> {
  const { client, connection } = await connectClient(settings);
  try {
    const run = await latestTune(client, app);
    if (!run) return reportBadInput(`no tune of ${app} found: start one with \`glm-ops tune SPEC\``);
    const handle = client.workflow.getHandle(run.workflowId, run.runId);
    let state: TuneStatus | TuneResult | undefined;
    if (run.status.name === 'COMPLETED') state = await handle.result();
    else if (run.status.name === 'RUNNING') state = await handle.query(tuneStatusQuery);
    else {
      state = await handle.query(tuneStatusQuery).catch(() => undefined);
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => (err instanceof WorkflowFailedError ? describeFailureCause(err) : undefined),
      );
      console.error(`tune ${run.workflowId}: ${run.status.name.toLowerCase()}${failure ? `: ${failure}` : ''}`);
      process.exitCode = EXIT.failed;
      if (!state) return;
    }
    if (!state) return;
    if (flags.json) console.log(JSON.stringify(state, null, 2));
    else for (const line of tuneStatusLines(state)) console.log(line);
  } finally {
    await connection.close();
  }
}

async function abortLatestTune(app: string, flags: { reason: string; by?: string }, settings: Config): Promise<void> {
  const { client, connection } = await connectClient(settings);
  try {
    const run = await latestTune(client, app);
    if (!run || run.status.name !== 'RUNNING') {
      console.error(
        run
          ? `no running tune of ${app}: the latest, ${run.workflowId}, is ${run.status.name.toLowerCase()}`
          : `no tune of ${app} found`,
      );
      process.exitCode = run ? EXIT.refused : EXIT.badInput;
      return;
    }
    const handle = client.workflow.getHandle(run.workflowId, run.runId);
    const by = flags.by ?? currentUser();
    const accepted = await handle
      .executeUpdate(abortTune, { args: [{ reason: flags.reason, by }] })
      .catch((err: unknown) => {
        if (err instanceof WorkflowUpdateFailedError) {
          console.error(`abort refused: ${describeFailureCause(err)}`);
          return undefined;
        }
        throw err;
      });
    if (!accepted) {
      process.exitCode = EXIT.refused;
      return;
    }
    console.log(`abort of ${run.workflowId} accepted (by ${by}: ${flags.reason}); the running trial is torn down`);
    const result = await handle.result().then(
      (value: TuneResult) => value,
      (err: unknown) => {
        if (!(err instanceof WorkflowFailedError)) throw err;
        console.error(`tune failed: ${describeFailureCause(err)}`);
        return undefined;
      },
    );
    if (!result) {
      process.exitCode = EXIT.failed;
      return;
    }
    for (const line of tuneStatusLines(result)) console.log(line);
  } finally {
    await connection.close();
  }
}

/** The OS user, recorded as who started or stopped a tune (as `decide` records who decided). */
function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
