import { Command } from 'commander';
import { loadConfig } from '../config/config';
import { registerCommands } from './commands';

async function main(): Promise<void> {
  const program = new Command('glm-ops')
    .description('Deploy and operate GLM-5.1 FP8 on Modal with SGLang, as durable Temporal workflows')
    .showHelpAfterError()
    .configureOutput({ outputError: (text, write) => write(text) });
  // The environment is read and checked once, here; commands get the parsed settings.
  registerCommands(program, loadConfig(process.env));
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `glm-ops: ${err.message}` : err);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
