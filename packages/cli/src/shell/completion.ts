/**
 * Tab completion: the first word of a statement completes to command names; the argument of
 * `help` too; a word starting with `-` to the command's long options; a table argument (`use`,
 * `app`, `drop`, the value of `copy_data -a` …) to the cluster's table names.
 */
import type { Command } from './command.js';
import { currentWord } from './tokenizer.js';

function startingWith(candidates: Iterable<string>, prefix: string): string[] {
  return [...candidates].filter((candidate) => candidate.startsWith(prefix)).sort();
}

/** What to complete at the end of `line`; `needsTables` says whether the table names are wanted. */
export function completionTarget(line: string, commands: ReadonlyMap<string, Command>): { word: string; kind: 'command' | 'option' | 'table' | 'none'; command: Command | undefined } {
  const { word, index, words } = currentWord(line);
  if (index === 0) return { word, kind: 'command', command: undefined };
  const name = words[0]!;
  const command = commands.get(name);
  if (name === 'help' && index === 1) return { word, kind: 'command', command };
  if (command === undefined) return { word, kind: 'none', command };
  if (word.startsWith('-')) return { word, kind: 'option', command };
  const previous = words[words.length - 1];
  const options = command.options ?? [];
  if (previous !== undefined && previous.startsWith('-')) {
    const option = options.find((spec) => previous === `--${spec.long}` || (spec.short !== undefined && previous === `-${spec.short}`));
    if (option !== undefined && option.kind === 'value') return { word, kind: option.tableName === true ? 'table' : 'none', command };
  }
  // Count the positional words before this one, skipping options and their values.
  let positional = 0;
  for (let i = 1; i < words.length; i++) {
    const text = words[i]!;
    if (text.startsWith('-') && !/^-[0-9]/.test(text)) {
      const option = options.find((spec) => text === `--${spec.long}` || (spec.short !== undefined && text === `-${spec.short}`));
      if (option?.kind === 'value') i++;
      continue;
    }
    positional++;
  }
  return { word, kind: command.tableArgument === positional ? 'table' : 'none', command };
}

export function complete(line: string, commands: ReadonlyMap<string, Command>, tableNames: readonly string[]): [string[], string] {
  const target = completionTarget(line, commands);
  switch (target.kind) {
    case 'command':
      return [startingWith(commands.keys(), target.word), target.word];
    case 'option':
      return [startingWith((target.command?.options ?? []).map((option) => `--${option.long}`), target.word), target.word];
    case 'table':
      return [startingWith(tableNames, target.word), target.word];
    case 'none':
      return [[], target.word];
  }
}
