/**
 * What a shell command is: its name (as in the Pegasus shell), a one-line summary, its usage
 * (positional arguments and options), longer help, examples, and how it runs. Commands report
 * failure by throwing (a PetrelError from the cluster or a ShellError); what they print goes
 * through the ShellContext.
 */
import type { ShellContext } from './context.js';
import { ShellError } from './errors.js';
import { type OptionSpec, type ParsedArguments, optionUsage } from './options.js';

export type CommandGroup = 'shell' | 'cluster' | 'table' | 'data' | 'scan' | 'status';

export const GROUP_TITLES: Record<CommandGroup, string> = {
  shell: 'Shell',
  cluster: 'Cluster',
  table: 'Tables',
  data: 'Data (on the table in use)',
  scan: 'Scans and bulk operations (on the table in use)',
  status: 'Server and table statistics',
};

export interface Command {
  name: string;
  group: CommandGroup;
  summary: string;
  /** Positional arguments as the usage shows them, e.g. `<hash_key> <sort_key> [ttl_in_seconds]`. */
  args?: string;
  options?: readonly OptionSpec[];
  minArgs?: number;
  /** Default: minArgs (no optional positionals); Infinity for lists. */
  maxArgs?: number;
  /** Further help: semantics, defaults, what is not available in Petrel and why. */
  details?: readonly string[];
  /** Example invocations (without the prompt). */
  examples: readonly string[];
  /** The positional argument (0-based) that names a table, for tab completion. */
  tableArgument?: number;
  run(context: ShellContext, args: ParsedArguments): Promise<void>;
}

export function usageLine(command: Command): string {
  const parts = [command.name];
  if (command.args !== undefined && command.args !== '') parts.push(command.args);
  for (const option of command.options ?? []) parts.push(optionUsage(option));
  return parts.join(' ');
}

/** `help <command>`: the usage, the summary, each option, the details and the examples. */
export function commandHelp(command: Command): string[] {
  const lines = [`usage: ${usageLine(command)}`, '', command.summary];
  const options = command.options ?? [];
  if (options.length > 0) {
    lines.push('', 'options:');
    const names = options.map((option) => `${option.short === undefined ? '   ' : `-${option.short},`} --${option.long}${option.kind === 'value' ? ` ${option.valueName ?? 'str'}` : ''}`);
    const width = Math.max(...names.map((name) => name.length));
    options.forEach((option, index) => lines.push(`  ${names[index]!.padEnd(width)}  ${option.description}`));
  }
  if (command.details !== undefined && command.details.length > 0) lines.push('', ...command.details);
  if (command.examples.length > 0) lines.push('', 'examples:', ...command.examples.map((example) => `  ${example}`));
  return lines;
}

export function checkArgumentCount(command: Command, args: ParsedArguments): void {
  const min = command.minArgs ?? 0;
  const max = command.maxArgs ?? min;
  const count = args.positional.length;
  if (count < min || count > max) {
    const expected = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
    throw new ShellError('USAGE', `${command.name} takes ${expected} argument${expected === '1' ? '' : 's'}, got ${count}`, `usage: ${usageLine(command)}`);
  }
}
