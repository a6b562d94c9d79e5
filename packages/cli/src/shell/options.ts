/**
 * Command options the way the Pegasus shell takes them (getopt_long): `-a value`,
 * `--start_inclusive value`, `--start_inclusive=value`, switches such as `-d`, in any order among
 * the positional arguments; `--` ends the options. A quoted word is never an option, and neither
 * is a negative number (`incr h s -5`) unless the command has that letter as an option.
 */
import { ShellError } from './errors.js';
import { type Token, tokenText } from './tokenizer.js';

export interface OptionSpec {
  /** One letter, used as `-x`. */
  short?: string;
  /** The long name, used as `--name`; also the key in ParsedOptions. */
  long: string;
  /** A switch takes no value. */
  kind: 'value' | 'switch';
  /** How the usage names the value: `num`, `true|false`, `anywhere|prefix|postfix` … */
  valueName?: string;
  description: string;
  /** The option must be given (shown as `<…>` in the usage). */
  required?: boolean;
  /** Its value names a table (for tab completion). */
  tableName?: boolean;
}

export interface ParsedArguments {
  positional: Token[];
  /** Values by long name; a switch that was given maps to an empty buffer. */
  options: Map<string, Token>;
}

export function parseArguments(tokens: readonly Token[], specs: readonly OptionSpec[]): ParsedArguments {
  const positional: Token[] = [];
  const options = new Map<string, Token>();
  const byShort = new Map<string, OptionSpec>();
  const byLong = new Map<string, OptionSpec>();
  for (const spec of specs) {
    if (spec.short !== undefined) byShort.set(spec.short, spec);
    byLong.set(spec.long, spec);
  }
  let optionsEnded = false;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const text = tokenText(token);
    if (optionsEnded || token.quoted || !text.startsWith('-') || text === '-') {
      positional.push(token);
      continue;
    }
    if (text === '--') {
      optionsEnded = true;
      continue;
    }
    let spec: OptionSpec | undefined;
    let inlineValue: string | undefined;
    if (text.startsWith('--')) {
      const eq = text.indexOf('=');
      const name = eq < 0 ? text.slice(2) : text.slice(2, eq);
      if (eq >= 0) inlineValue = text.slice(eq + 1);
      spec = byLong.get(name);
      if (spec === undefined) throw new ShellError('USAGE', `unknown option --${name}`);
    } else {
      spec = text.length === 2 ? byShort.get(text[1]!) : undefined;
      if (spec === undefined) {
        if (/^-[0-9]/.test(text)) {
          positional.push(token);
          continue;
        }
        throw new ShellError('USAGE', `unknown option ${text}`);
      }
    }
    if (spec.kind === 'switch') {
      if (inlineValue !== undefined) throw new ShellError('USAGE', `--${spec.long} takes no value`);
      options.set(spec.long, { bytes: Buffer.alloc(0), quoted: false });
      continue;
    }
    if (inlineValue !== undefined) {
      options.set(spec.long, { bytes: Buffer.from(inlineValue, 'utf8'), quoted: true });
      continue;
    }
    const value = tokens[i + 1];
    if (value === undefined) throw new ShellError('USAGE', `${text} needs a value (${spec.valueName ?? 'str'})`);
    options.set(spec.long, value);
    i++;
  }
  for (const spec of specs) {
    if (spec.required === true && !options.has(spec.long)) throw new ShellError('USAGE', `${spec.short === undefined ? '' : `-${spec.short}|`}--${spec.long} is required`);
  }
  return { positional, options };
}

/** `[-a|--start_inclusive true|false]`, `<-a|--target_app_name str>` or `[-d|--detailed]`. */
export function optionUsage(spec: OptionSpec): string {
  const names = spec.short === undefined ? `--${spec.long}` : `-${spec.short}|--${spec.long}`;
  const body = spec.kind === 'switch' ? names : `${names} ${spec.valueName ?? 'str'}`;
  return spec.required === true ? `<${body}>` : `[${body}]`;
}

// ---- typed reads of parsed options --------------------------------------------------------------

export function optionText(parsed: ParsedArguments, long: string): string | undefined {
  const token = parsed.options.get(long);
  return token === undefined ? undefined : tokenText(token);
}

export function optionBytes(parsed: ParsedArguments, long: string): Buffer | undefined {
  return parsed.options.get(long)?.bytes;
}

export function optionSwitch(parsed: ParsedArguments, long: string): boolean {
  return parsed.options.has(long);
}

export function parseInteger(text: string, what: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (!/^[-+]?[0-9]+$/.test(text)) throw new ShellError('USAGE', `${what} must be an integer, not ${JSON.stringify(text)}`);
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ShellError('USAGE', `${what} must be ${max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`}, not ${text}`);
  }
  return value;
}

export function optionInteger(parsed: ParsedArguments, long: string, min: number, max?: number): number | undefined {
  const text = optionText(parsed, long);
  return text === undefined ? undefined : parseInteger(text, `--${long}`, min, max);
}

export function parseBoolean(text: string, what: string): boolean {
  const lower = text.toLowerCase();
  if (lower === 'true' || lower === '1' || lower === 'yes') return true;
  if (lower === 'false' || lower === '0' || lower === 'no') return false;
  throw new ShellError('USAGE', `${what} must be true or false, not ${JSON.stringify(text)}`);
}

export function optionBoolean(parsed: ParsedArguments, long: string): boolean | undefined {
  const text = optionText(parsed, long);
  return text === undefined ? undefined : parseBoolean(text, `--${long}`);
}

export function optionChoice<T extends string>(parsed: ParsedArguments, long: string, choices: readonly T[]): T | undefined {
  const text = optionText(parsed, long);
  if (text === undefined) return undefined;
  if (!(choices as readonly string[]).includes(text)) throw new ShellError('USAGE', `--${long} must be one of ${choices.join('|')}, not ${JSON.stringify(text)}`);
  return text as T;
}

/** The positional argument at `index` (the count was checked before the command ran). */
export function argumentAt(parsed: ParsedArguments, index: number): Token {
  const token = parsed.positional[index];
  if (token === undefined) throw new ShellError('USAGE', `argument ${index + 1} is missing`);
  return token;
}
