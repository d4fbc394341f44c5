import type { Command } from 'commander';
import { closestMatches } from '../spec/edit-distance';

/** An operand where a command group expects one of its subcommands, and the group that expects it. */
export interface UnknownCommand {
  group: Command;
  name: string;
  /** The group's visible subcommands closest to the name (a did-you-mean), best first; may be empty. */
  suggestions: string[];
}

/**
 * Walks the argv down the command tree the way commander dispatches it and returns the first operand that names no
 * subcommand of its group (`help NAME` included). Commander prints the help when `--help` comes with an unknown
 * command (`glm-ops approve --help` would show the top-level help and exit 0), so the CLI checks before parsing.
 * Command groups take no options with values, so every operand of a group is a subcommand name — except in a group
 * that is also a command with arguments of its own (`tune SPEC` beside `tune status APP`): its operand may be its
 * argument, which commander then checks.
 */
export function findUnknownCommand(program: Command, args: readonly string[]): UnknownCommand | undefined {
  let group = program;
  for (const arg of args) {
    if (arg === '--') return undefined;
    if (arg.startsWith('-')) continue;
    if (group.commands.length === 0) return undefined;
    const next = group.commands.find((c) => c.name() === arg || c.aliases().includes(arg));
    if (!next && group.registeredArguments.length > 0) return undefined;
    // `help NAME` asks for NAME's help: NAME must exist in the same group.
    if (arg === 'help') continue;
    if (!next) {
      const visible = group.createHelp().visibleCommands(group);
      const names = visible.flatMap((c) => [c.name(), ...c.aliases()]).filter((n) => n !== 'help');
      return { group, name: arg, suggestions: closestMatches(arg, names, 2) };
    }
    group = next;
  }
  return undefined;
}

/** Commander's wording for an unknown command, with its did-you-mean line. */
export function unknownCommandMessage(unknown: UnknownCommand): string {
  const [first, ...others] = unknown.suggestions;
  const suggestion =
    first === undefined ? '' : `\n(Did you mean ${others.length ? `one of ${[first, ...others].join(', ')}` : first}?)`;
  return `error: unknown command '${unknown.name}'${suggestion}`;
}
