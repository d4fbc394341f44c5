import * as fs from 'node:fs';
import type { Command } from 'commander';
import { diagnose, hasFindings, logTextToLines, type Diagnosis } from '../../triage';

/** Exit codes of `glm-ops doctor`: clean (only benign noise), findings, or the file could not be read. */
export const DOCTOR_EXIT = { clean: 0, findings: 1, unreadable: 2 } as const;

/** Registers `glm-ops doctor LOGFILE [--json]`: runs the guide's log triage (§12, §17, §18) over a log file. */
export function registerDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description("match a log file (engine output, `modal app logs`, or logs.jsonl) against the guide's triage tables")
    .argument('<logfile>', 'the log file to read')
    .option('--json', 'print the diagnoses as JSON')
    .option('--exit-code <code>', "the engine's exit code, when known (e.g. -9)")
    .action((logfile: string, options: { json?: boolean; exitCode?: string }) => {
      let text: string;
      try {
        text = fs.readFileSync(logfile, 'utf8');
      } catch (err) {
        const reason = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
        process.stderr.write(`glm-ops doctor: LOGFILE ${logfile}: ${reason}\n`);
        process.exitCode = DOCTOR_EXIT.unreadable;
        return;
      }
      let exitCode: number | undefined;
      if (options.exitCode !== undefined) {
        exitCode = Number(options.exitCode);
        if (!Number.isInteger(exitCode)) {
          process.stderr.write(
            `glm-ops doctor: --exit-code "${options.exitCode}" is not an integer (e.g. -9 or 137)\n`,
          );
          process.exitCode = DOCTOR_EXIT.unreadable;
          return;
        }
      }
      const diagnoses = diagnose({ logLines: logTextToLines(text), exitCode });
      process.stdout.write(
        options.json ? `${JSON.stringify(diagnoses, null, 2)}\n` : renderDiagnoses(logfile, diagnoses),
      );
      process.exitCode = hasFindings(diagnoses) ? DOCTOR_EXIT.findings : DOCTOR_EXIT.clean;
    });
}

const MARK: Record<Diagnosis['severity'], string> = { error: 'ERROR', warning: 'WARN ', benign: 'ok   ' };

function renderDiagnoses(logfile: string, diagnoses: Diagnosis[]): string {
  const findings = diagnoses.filter((d) => d.severity !== 'benign');
  const benign = diagnoses.filter((d) => d.severity === 'benign');
  const out: string[] = [];
  if (findings.length === 0) {
    out.push(`${logfile}: no findings${benign.length ? ` (${benign.length} kinds of benign noise recognised)` : ''}`);
  } else {
    out.push(`${logfile}: ${findings.length} finding${findings.length === 1 ? '' : 's'}`);
  }
  for (const d of findings) {
    out.push('', `${MARK[d.severity]} ${d.title}  [${d.guideSection}]`);
    out.push(`  likely cause: ${d.likelyCause}`);
    out.push(`  resolution:   ${d.resolution}`);
    for (const line of d.evidence) out.push(`  > ${line}`);
  }
  if (benign.length > 0) {
    out.push('', 'Benign (no action):');
    for (const d of benign) out.push(`  ${MARK.benign} ${d.title}: ${d.resolution}  [${d.guideSection}]`);
  }
  return `${out.join('\n')}\n`;
}
