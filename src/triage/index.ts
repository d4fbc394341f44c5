export { diagnose, hasFindings, TRIAGE_RULES, type DiagnoseInput } from './diagnose';
export { COMPILE_WARNINGS, type CompileWarning } from './compile-warnings';
export { LOG_TRIAGE_RULES } from './log-triage-patterns';
export { TROUBLESHOOTING_SCENARIOS, type TroubleshootingScenario } from './troubleshooting-scenarios';
export { EXIT_CODE_MEANINGS, exitCodeInLine } from './exit-codes';
export { logTextToLines } from './log-text';
export { redactLogLine } from './redact-log-line';
export type { Diagnosis, TriageRule, TriageSeverity } from './triage-rule';
