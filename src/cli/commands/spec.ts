import * as fs from 'node:fs/promises';
import type { Command } from 'commander';
import { checkExitCode, checkSpecFile, type CheckResult } from '../../spec/check-spec';
import { renderDeployConfig } from '../../platforms/modal/deploy-config';
import { formatFinding, type LintContext } from '../../spec/finding';
import { describeAcknowledgement } from '../../spec/lint';
import { LINT_RULES } from '../../spec/rules';
import { positiveNumberOption, printSpecIssues } from './spec-output';

interface CheckOptions {
  json?: boolean;
  kernelGpu?: string;
  kernelImage?: string;
  volumeThroughputGbps?: number;
}

function contextFrom(options: CheckOptions): LintContext {
  return {
    ...(options.kernelGpu
      ? {
          kernelMarker: {
            gpuType: options.kernelGpu,
            ...(options.kernelImage ? { sglangImage: options.kernelImage } : {}),
          },
        }
      : {}),
    ...(options.volumeThroughputGbps ? { volumeThroughputGBps: options.volumeThroughputGbps } : {}),
  };
}

function printHumanReport(file: string, result: CheckResult): void {
  const errors = result.findings.filter((finding) => finding.level === 'error').length;
  const warnings = result.findings.length - errors;
  const acknowledged = result.acknowledged.length;
  if (result.findings.length === 0) {
    console.log(
      `${file}: ok${acknowledged ? ` (${acknowledged} acknowledged warning${acknowledged > 1 ? 's' : ''})` : ''}`,
    );
  } else {
    console.log(
      `${file}: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}${acknowledged ? `, ${acknowledged} acknowledged` : ''}`,
    );
  }
  for (const finding of result.findings) {
    console.log(`${finding.level.padEnd(7)} ${formatFinding(finding)}`);
  }
  for (const finding of result.acknowledged) {
    console.log(`ack     ${formatFinding(finding)}`);
    console.log(`        ${describeAcknowledgement(finding)}`);
  }
  if (result.flagTable) console.log(`sglang.args: ${result.flagTable.note}`);
}

/** `glm-ops spec check|render|rules`: validate a deployment spec against the guide, render deploy.py's JSON. */
export function registerSpecCommand(program: Command): void {
  const spec = program.command('spec').description('validate and render deployment specs');

  spec
    .command('check')
    .description('validate a spec and lint it against the guide (exit 0 clean, 1 warnings only, 2 errors)')
    .argument('<file>', 'spec YAML file')
    .option('--json', 'print a JSON report')
    .option('--kernel-gpu <type>', 'GPU type the existing DeepGEMM cache was compiled for')
    .option('--kernel-image <image>', 'SGLang image the existing DeepGEMM cache was compiled with')
    .option(
      '--volume-throughput-gbps <n>',
      'volume read throughput for the weight-load estimate',
      positiveNumberOption('--volume-throughput-gbps'),
    )
    .action(async (file: string, options: CheckOptions) => {
      const result = await checkSpecFile(file, { context: contextFrom(options) });
      const exitCode = checkExitCode(result);
      if (options.json) {
        const { spec: _spec, ...report } = result;
        console.log(JSON.stringify({ file, exitCode, ...report }, null, 2));
      } else if (result.errors.length > 0) {
        printSpecIssues(result, file);
      } else {
        printHumanReport(file, result);
      }
      process.exitCode = exitCode;
    });

  spec
    .command('render')
    .description('render the JSON modal/deploy.py reads (argv without the API key, Modal settings, volumes)')
    .argument('<file>', 'spec YAML file')
    .option('--out <file>', 'write the JSON to a file instead of stdout')
    .action(async (file: string, options: { out?: string }) => {
      const result = await checkSpecFile(file);
      if (result.errors.length > 0 || !result.spec) {
        printSpecIssues(result, file);
        process.exitCode = 2;
        return;
      }
      for (const finding of result.findings) {
        console.error(`glm-ops: ${finding.level}: ${formatFinding(finding)}`);
      }
      if (checkExitCode(result) === 2) {
        console.error(`glm-ops: ${file} has lint errors; fix them (glm-ops spec check ${file}) before rendering`);
        process.exitCode = 2;
        return;
      }
      const json = `${JSON.stringify(renderDeployConfig(result.spec), null, 2)}\n`;
      if (options.out) await fs.writeFile(options.out, json);
      else process.stdout.write(json);
    });

  spec
    .command('rules')
    .description('list every lint rule with the guide section or upstream issue it encodes')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) => {
      const rules = LINT_RULES.map(({ id, summary, reason }) => ({ id, summary, reason }));
      if (options.json) console.log(JSON.stringify(rules, null, 2));
      else for (const rule of rules) console.log(`${rule.id}\n  checks: ${rule.summary}\n  source: ${rule.reason}`);
    });
}
