import * as fs from 'node:fs';
import * as path from 'node:path';
import { estimateMonthlyCost, type CostReport } from '../spec/cost-model';
import { parseSpecText } from '../spec/parse-spec';
import type { Spec } from '../spec/schema';
import type { TuneResult } from '../shared/tune-types';
import { unifiedDiff } from './line-diff';
import { tunePlot } from './tune-plot';
import { renderTuneReport } from './tune-report';
import { patchSpecText, type SpecChange } from './tune-spec-patch';

// The files a finished tune leaves: the report and its plot in the report folder, the patched spec beside them (or,
// with --write, in place of the spec), and the result as JSON for scripts.

/** What was written, for the command's last lines and `--json`. */
export interface TuneOutputs {
  reportDir: string;
  reportFile: string;
  plotFile: string;
  resultFile: string;
  /** Absent when no trial was chosen (nothing is patched). */
  patch?: {
    changes: SpecChange[];
    diff: string;
    /** The patched YAML: the spec itself with --write, else a copy in the report folder. */
    file: string;
    isWritten: boolean;
    /** Why --write did not write the spec (it changed during the tune), when it did not. */
    notWrittenBecause?: string;
  };
}

/** How to write the outputs of one finished tune. */
export interface TuneOutputInput {
  result: TuneResult;
  spec: Spec;
  specFile: string;
  /** The spec's text when the tune started: the patch applies to it, and --write only over an unchanged file. */
  specText: string;
  workload: string;
  reportDir: string;
  shouldWrite: boolean;
  env: NodeJS.ProcessEnv;
  now: Date;
}

/** Writes the report folder (and the spec with --write) and says what went where. */
export function writeTuneOutputs(input: TuneOutputInput): TuneOutputs {
  const { result } = input;
  fs.mkdirSync(input.reportDir, { recursive: true });
  const plotName = 'throughput-vs-ttft.svg';
  const plotFile = path.join(input.reportDir, plotName);
  fs.writeFileSync(
    plotFile,
    `${tunePlot({ app: result.app, trials: result.trials, chosen: result.chosen, ttftP95LimitMs: input.spec.slo.ttftP95Ms })}\n`,
  );
  const resultFile = path.join(input.reportDir, 'result.json');
  fs.writeFileSync(resultFile, `${JSON.stringify(result, null, 2)}\n`);
  const outputs: TuneOutputs = {
    reportDir: input.reportDir,
    reportFile: path.join(input.reportDir, 'report.md'),
    plotFile,
    resultFile,
  };
  let cost: CostReport | undefined;
  let where = '';
  if (result.chosen) {
    const patch = patchSpecText(input.specText, result.chosen.candidate);
    const parsed = parseSpecText(patch.text);
    if (!parsed.ok) {
      throw new Error(
        `the patched spec does not parse (${parsed.errors.map((e) => `${e.path}: ${e.message}`).join('; ')})`,
      );
    }
    cost = estimateMonthlyCost(parsed.spec, { env: input.env });
    const base = path.basename(input.specFile).replace(/\.ya?ml$/i, '');
    const copy = path.join(input.reportDir, `${base}.tuned.yaml`);
    const diff = unifiedDiff(input.specText, patch.text, {
      before: input.specFile,
      after: `${input.specFile} (tuned)`,
    });
    const current = readIfExists(input.specFile);
    const notWrittenBecause =
      input.shouldWrite && current !== input.specText
        ? `${input.specFile} changed while the tune ran: not overwritten`
        : undefined;
    const isWritten = input.shouldWrite && notWrittenBecause === undefined && patch.changes.length > 0;
    if (isWritten) fs.writeFileSync(input.specFile, patch.text);
    fs.writeFileSync(copy, patch.text);
    where = isWritten
      ? `Applied to \`${input.specFile}\` (a copy is \`${path.basename(copy)}\` beside this report)`
      : `Saved as \`${path.basename(copy)}\` beside this report${notWrittenBecause ? ` (${notWrittenBecause})` : ''}; apply it with \`cp ${copy} ${input.specFile}\``;
    outputs.patch = {
      changes: patch.changes,
      diff,
      file: isWritten ? input.specFile : copy,
      isWritten,
      ...(notWrittenBecause ? { notWrittenBecause } : {}),
    };
  }
  const report = renderTuneReport({
    result,
    spec: input.spec,
    specFile: input.specFile,
    workload: input.workload,
    plotFile: plotName,
    ...(cost ? { cost } : {}),
    ...(outputs.patch ? { patch: { changes: outputs.patch.changes, diff: outputs.patch.diff, where } } : {}),
    generatedAt: input.now.toISOString(),
  });
  fs.writeFileSync(outputs.reportFile, report);
  return outputs;
}

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
