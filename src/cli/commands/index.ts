import type { Command } from 'commander';
import { registerDevCommand } from './dev';
import { registerWorkerCommand } from './worker';

/** Each command group registers itself on the program; add one line per group. */
export function registerCommands(program: Command): void {
  registerDevCommand(program);
  registerWorkerCommand(program);
}
