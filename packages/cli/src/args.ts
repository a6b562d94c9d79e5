/**
 * Command-line flags: `--name value`, `--name=value` and bare `--flag` (true). Unknown flags and
 * missing values are errors that name the flag and show the command's usage.
 */
export interface FlagSpec {
  /** Takes a value (default) or is a switch. */
  kind?: 'value' | 'switch';
  description: string;
  default?: string;
}

export class UsageError extends Error {}

export function parseFlags(args: readonly string[], specs: Record<string, FlagSpec>): { flags: Record<string, string>; rest: string[] } {
  const flags: Record<string, string> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      rest.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const spec = specs[name];
    if (spec === undefined) throw new UsageError(`unknown flag --${name}`);
    if (spec.kind === 'switch') {
      flags[name] = eq < 0 ? 'true' : arg.slice(eq + 1);
      continue;
    }
    const value = eq < 0 ? args[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    flags[name] = value;
  }
  for (const [name, spec] of Object.entries(specs)) if (flags[name] === undefined && spec.default !== undefined) flags[name] = spec.default;
  return { flags, rest };
}

export function usage(command: string, summary: string, specs: Record<string, FlagSpec>): string {
  const lines = [`usage: petrel ${command} [flags]`, '', summary, '', 'flags:'];
  for (const [name, spec] of Object.entries(specs)) {
    const left = spec.kind === 'switch' ? `--${name}` : `--${name} <value>`;
    lines.push(`  ${left.padEnd(28)} ${spec.description}${spec.default !== undefined ? ` (default ${spec.default})` : ''}`);
  }
  return lines.join('\n');
}

export function requireFlag(flags: Record<string, string>, name: string): string {
  const value = flags[name];
  if (value === undefined) throw new UsageError(`--${name} is required`);
  return value;
}

export function integerFlag(flags: Record<string, string>, name: string): number | undefined {
  const value = flags[name];
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) throw new UsageError(`--${name} must be a non-negative integer, not ${JSON.stringify(value)}`);
  return number;
}
