/**
 * The command table: every command by name, in the order `help` lists them (grouped), and the
 * `help` command itself, which needs the table.
 */
import { type Command, type CommandGroup, GROUP_TITLES, commandHelp, usageLine } from './command.js';
import { app, clusterInfo, create, delAppEnvs, drop, getAppEnvs, ls, nodes, recall, setAppEnvs } from './commands/cluster.js';
import { checkAndSet, count, del, exist, get, incr, multiDel, multiDelRange, multiGet, multiGetRange, multiGetSortKeys, multiSet, set, ttl } from './commands/data.js';
import { clearData, copyData, countData, fullScan, hashScan } from './commands/scan.js';
import { escapeAll, exit, hash, timeout, use, version } from './commands/session.js';
import { appStat, serverInfo, serverStat } from './commands/status.js';
import { getMetaLevel, manualCompact, setMetaLevel, setReplicaCount } from './commands/operations.js';
import { ShellError } from './errors.js';
import { tokenText } from './tokenizer.js';

const help: Command = {
  name: 'help',
  group: 'shell',
  summary: 'list the commands, or show the usage, options and examples of one',
  args: '[command]',
  maxArgs: 1,
  examples: ['help', 'help multi_get_range'],
  async run(context, args) {
    const given = args.positional[0];
    if (given !== undefined) {
      const name = tokenText(given);
      const command = COMMANDS.get(name);
      if (command === undefined) throw new ShellError('UNKNOWN_COMMAND', `no command ${JSON.stringify(name)}`, `\`help\` lists the commands${suggestion(name)}`);
      context.lines(commandHelp(command));
      return;
    }
    context.lines(overview());
  },
};

const ORDER: readonly Command[] = [
  help, version, exit, timeout, escapeAll,
  clusterInfo, nodes, getMetaLevel, setMetaLevel,
  ls, app, create, drop, recall, use, getAppEnvs, setAppEnvs, delAppEnvs, manualCompact, setReplicaCount,
  hash, set, get, del, exist, ttl, count, incr, multiSet, multiGet, multiGetRange, multiGetSortKeys, multiDel, multiDelRange, checkAndSet,
  hashScan, fullScan, countData, copyData, clearData,
  serverInfo, serverStat, appStat,
];

export const COMMANDS: ReadonlyMap<string, Command> = new Map(ORDER.map((command) => [command.name, command]));

export function commandNames(): string[] {
  return ORDER.map((command) => command.name);
}

/** `help`: the commands by group, each with its usage and summary. */
export function overview(): string[] {
  const lines: string[] = [];
  const groups = new Map<CommandGroup, Command[]>();
  for (const command of ORDER) (groups.get(command.group) ?? groups.set(command.group, []).get(command.group)!).push(command);
  for (const [group, commands] of groups) {
    if (lines.length > 0) lines.push('');
    lines.push(`${GROUP_TITLES[group]}:`);
    const width = Math.max(...commands.map((command) => command.name.length));
    for (const command of commands) lines.push(`  ${command.name.padEnd(width)}  ${command.summary}`);
  }
  lines.push('', '`help <command>` shows its usage, options and examples. Separate commands with `;`.');
  return lines;
}

/** ", did you mean `get`?" for a near miss, or nothing. */
export function suggestion(name: string): string {
  const near = ORDER.map((command) => command.name).filter((candidate) => candidate.startsWith(name) || editDistance(candidate, name) <= 2);
  return near.length === 0 ? '' : `; did you mean ${near.slice(0, 3).map((candidate) => `\`${candidate}\``).join(' or ')}?`;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    previous = current;
  }
  return previous[b.length]!;
}

export { usageLine };
