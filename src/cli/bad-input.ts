/** Exit code for bad input (arguments, a spec, an app or schedule that does not exist): nothing was changed. */
export const EXIT_BAD_INPUT = 2;

/** Prints why the input cannot be used and sets the exit code; the command then returns without side effects. */
export function reportBadInput(message: string): void {
  console.error(`glm-ops: ${message}`);
  process.exitCode = EXIT_BAD_INPUT;
}
