import { Command } from 'commander';
import { registerCommands } from './commands';

async function main(): Promise<void> {
  const program = new Command('glm-ops')
    .description('Deploy and operate GLM-5.1 FP8 on Modal with SGLang, as durable Temporal workflows')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  registerCommands(program);
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `glm-ops: ${err.message}` : err);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
