/** What an engine exit code means, per the guide's log triage (§17) and troubleshooting (§18). */
export interface ExitCodeMeaning {
  code: number;
  meaning: string;
  /** The triage rule that explains this exit. */
  ruleId: string;
}

/**
 * Exit codes as the crash monitor reports them (Python's `returncode`: -9 = killed by SIGKILL, which on a GPU host
 * is the OOM killer; 137 = 128 + 9 from a shell or container runtime, i.e. the platform killed it).
 */
export const EXIT_CODE_MEANINGS: readonly ExitCodeMeaning[] = [
  { code: -9, meaning: 'OOM killer (SIGKILL from the kernel)', ruleId: 'engine-oom' },
  { code: 137, meaning: 'SIGKILL / platform kill', ruleId: 'platform-kill' },
];

const MONITOR_EXIT = /SGLang died \(code (-?\d+)\)/;

/** The exit code a `[monitor] FATAL: SGLang died (code N)` line reports, if the line is one. */
export function exitCodeInLine(line: string): number | undefined {
  const match = MONITOR_EXIT.exec(line);
  return match ? Number(match[1]) : undefined;
}
