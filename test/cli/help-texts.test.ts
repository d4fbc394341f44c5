import { Command } from 'commander';
import { loadConfig } from '../../src/config/config';
import { registerCommands } from '../../src/cli/commands';

/** Every help text of the command tree, with where it is. */
function helpTexts(): { where: string; kind: 'command' | 'argument' | 'option'; text: string }[] {
  const program = new Command('glm-ops');
  registerCommands(program, loadConfig({ ...process.env, GLM_OPS_HOME: '/nonexistent-glm-ops-home' }));
  const texts: ReturnType<typeof helpTexts> = [];
  const walk = (command: Command, prefix: string): void => {
    for (const sub of command.commands) {
      const where = `${prefix} ${sub.name()}`.trim();
      texts.push({ where, kind: 'command', text: sub.description() });
      for (const argument of sub.registeredArguments)
        texts.push({ where: `${where} <${argument.name()}>`, kind: 'argument', text: argument.description });
      for (const option of sub.options)
        texts.push({ where: `${where} ${option.flags}`, kind: 'option', text: option.description });
      walk(sub, where);
    }
  };
  walk(program, '');
  return texts;
}

/** Proper nouns a help text may start with. */
const PROPER_NOUNS = new Set(['Temporal', 'Modal', 'Poisson']);

describe('help texts: one style (as commander writes its own "display help for command")', () => {
  const texts = helpTexts();

  it('covers the whole tree', () => {
    expect(texts.filter((t) => t.kind === 'command').length).toBeGreaterThan(30);
  });

  it('every command, argument and option text is there, starts in lower case and ends without a full stop', () => {
    const offenders = texts.filter((t) => {
      const firstWord = /^[A-Za-z]+/.exec(t.text)?.[0] ?? '';
      const isCapitalisedWord = /^[A-Z][a-z]+$/.test(firstWord) && !PROPER_NOUNS.has(firstWord);
      return t.text.trim() === '' || isCapitalisedWord || /\.\s*$/.test(t.text);
    });
    expect(offenders).toEqual([]);
  });

  it('every command says what it does (a verb), not what it is ("the …", "a …")', () => {
    const offenders = texts.filter((t) => t.kind === 'command' && /^(the|a|an) /i.test(t.text));
    expect(offenders).toEqual([]);
  });
});
