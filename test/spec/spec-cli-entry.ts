import { Command } from 'commander';
import { registerCostCommand } from '../../src/cli/commands/cost';
import { registerSpecCommand } from '../../src/cli/commands/spec';

/**
 * The CLI's entry with only the spec and cost groups registered, so these tests build and run the real command
 * code without compiling every other group. Mirrors src/cli/main.ts.
 */
async function main(): Promise<void> {
  const program = new Command('glm-ops')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerSpecCommand(program);
  registerCostCommand(program);
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `glm-ops: ${err.message}` : err);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
