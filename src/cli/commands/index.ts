import type { Command } from 'commander';

/** Each command group registers itself on the program; add one line per group. */
export function registerCommands(program: Command): void {
  void program;
}
