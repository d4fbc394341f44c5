/** What an engine exit code means, per the guide's log triage (§17) and troubleshooting (§18). */
export interface ExitCodeMeaning {
  code: number;
  meaning: string;
  /** The triage rule that explains this exit. */
  ruleId: string;
}

/**
 * Exit codes as the crash monitor reports them (Python's `returncode`). -9 = SIGKILL: real SGLang ends every failure
 * and every SIGTERM drain with `kill_process_tree` on itself, so -9 is its normal way out (the guide reads it as the
 * OOM killer, which also gives -9); 137 = 128 + 9 from a shell or container runtime, i.e. the platform killed it.
 */
export const EXIT_CODE_MEANINGS: readonly ExitCodeMeaning[] = [
  {
    code: -9,
    meaning: "SIGKILL: SGLang's own kill_process_tree after a failure or SIGTERM, or the OOM killer",
    ruleId: 'engine-exit-minus-9',
  },
  { code: 137, meaning: 'SIGKILL / platform kill', ruleId: 'platform-kill' },
];

const MONITOR_EXIT = /SGLang died \(code (-?\d+)\)/;

/** The exit code a `[monitor] FATAL: SGLang died (code N)` line reports, if the line is one. */
export function exitCodeInLine(line: string): number | undefined {
  const match = MONITOR_EXIT.exec(line);
  return match ? Number(match[1]) : undefined;
}
