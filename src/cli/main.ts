import * as fs from 'node:fs';
import * as path from 'node:path';
import { Command, type CommanderError } from 'commander';
import * as z from 'zod';
import { loadConfig, type Config } from '../config/config';
import { EXIT_BAD_INPUT } from './bad-input';
import { registerCommands } from './commands';
import { findUnknownCommand, unknownCommandMessage } from './unknown-command';

const PackageJson = z.object({ version: z.string().min(1) });

/** The version `--version` prints: package.json's, the one npm and the README name. */
function packageVersion(config: Config): string {
  const file = path.join(config.projectRoot, 'package.json');
  return PackageJson.parse(JSON.parse(fs.readFileSync(file, 'utf8'))).version;
}

/**
 * Commander exits 1 on its own usage errors (unknown option or command, missing argument, a group without its
 * subcommand); the README's contract is 2 for any bad input. Help and --version stay 0.
 */
function exitForUsage(err: CommanderError): never {
  process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
}

async function main(): Promise<void> {
  // The environment is read and checked once, here; commands get the parsed settings.
  const config = loadConfig(process.env);
  const program = new Command('glm-ops')
    .description('Deploy and operate GLM-5.1 FP8 on Modal with SGLang, as durable Temporal workflows')
    .version(packageVersion(config), '-V, --version', 'print the glm-ops version')
    .showHelpAfterError('(add --help for additional information)')
    .showSuggestionAfterError()
    // Set before the commands are added: each command inherits these settings when it is created.
    .exitOverride(exitForUsage)
    .configureOutput({ outputError: (text, write) => write(text) });
  registerCommands(program, config);
  const unknown = findUnknownCommand(program, process.argv.slice(2));
  if (unknown) unknown.group.error(unknownCommandMessage(unknown), { code: 'commander.unknownCommand' });
  await program.parseAsync(process.argv);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? `glm-ops: ${err.message}` : err);
  process.exit(process.exitCode && process.exitCode !== 0 ? process.exitCode : 1);
});
