// Runs only this area's CLI groups from the TypeScript sources (node -r ./ts-register.js cli-entry.ts ...).
import { Command } from 'commander';
import { registerEmulatorCompileCommand } from '../../../src/cli/commands/emulator-compile';
import { registerHubCommand } from '../../../src/cli/commands/hub';
import { registerVerifyCommand } from '../../../src/cli/commands/verify';

const program = new Command('glm-ops').configureOutput({ outputError: (text, write) => write(text) });
registerHubCommand(program);
registerVerifyCommand(program);
registerEmulatorCompileCommand(program);
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`glm-ops: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
