/**
 * Data commands on the table in use, one client call each: set, get, del, exist, ttl, count,
 * incr, multi_set, multi_get, multi_get_range, multi_get_sortkeys, multi_del, multi_del_range,
 * check_and_set. Arguments follow the Pegasus shell; keys and values are bytes (quote them, write
 * bytes as \xNN).
 */
import type { CheckType, Filter, FilterType, MultiGetResult, RangeOptions } from '@petrel/client';
import type { Command } from '../command.js';
import type { ShellContext } from '../context.js';
import { ShellError } from '../errors.js';
import { formatPairs, formatTable } from '../format.js';
import { type OptionSpec, type ParsedArguments, argumentAt, optionBoolean, optionBytes, optionChoice, optionInteger, optionSwitch, parseInteger } from '../options.js';
import { recordLines } from '../records.js';
import { tokenText } from '../tokenizer.js';

export const FILTER_TYPES = ['anywhere', 'prefix', 'postfix'] as const;

/** The range options shared by multi_get_range, multi_del_range and hash_scan. */
export const RANGE_OPTIONS: readonly OptionSpec[] = [
  { short: 'a', long: 'start_inclusive', kind: 'value', valueName: 'true|false', description: 'include start_sort_key (default true)' },
  { short: 'b', long: 'stop_inclusive', kind: 'value', valueName: 'true|false', description: 'include stop_sort_key (default false)' },
  { short: 's', long: 'sort_key_filter_type', kind: 'value', valueName: 'anywhere|prefix|postfix', description: 'keep sort keys holding the pattern anywhere, as prefix or as postfix' },
  { short: 'y', long: 'sort_key_filter_pattern', kind: 'value', valueName: 'str', description: 'the sort key filter pattern' },
];

export const RANGE_DETAILS: readonly string[] = [
  'An empty stop_sort_key ("") means the end of the hash key; an empty start_sort_key its start.',
];

/** A filter from a type option and a pattern option; absent when neither is given. */
export function filterOf(args: ParsedArguments, typeOption: string, patternOption: string): Filter | undefined {
  const type = optionChoice(args, typeOption, FILTER_TYPES);
  const pattern = optionBytes(args, patternOption);
  if (type === undefined) {
    if (pattern !== undefined) throw new ShellError('USAGE', `--${patternOption} needs --${typeOption}`);
    return undefined;
  }
  return { type: type as FilterType, pattern: pattern ?? Buffer.alloc(0) };
}

export function rangeOptionsOf(args: ParsedArguments): RangeOptions {
  const options: RangeOptions = {};
  const startInclusive = optionBoolean(args, 'start_inclusive');
  const stopInclusive = optionBoolean(args, 'stop_inclusive');
  if (startInclusive !== undefined) options.startInclusive = startInclusive;
  if (stopInclusive !== undefined) options.stopInclusive = stopInclusive;
  const filter = filterOf(args, 'sort_key_filter_type', 'sort_key_filter_pattern');
  if (filter !== undefined) options.sortKeyFilter = filter;
  return options;
}

function printResult(context: ShellContext, hashKey: Buffer, result: MultiGetResult, withValues: boolean): void {
  if (result.entries.length > 0) {
    context.lines(recordLines(context, result.entries.map((entry) => ({ hashKey, sortKey: entry.sortKey, value: entry.value })), { value: withValues }));
    context.out('');
  }
  context.out(`${result.entries.length} key-value pairs got, fetch ${result.complete ? 'completed' : 'not completed (a limit stopped it)'}.`);
}

function bytesAt(args: ParsedArguments, index: number): Buffer {
  return argumentAt(args, index).bytes;
}

export const set: Command = {
  name: 'set',
  group: 'data',
  summary: 'write a value',
  args: '<hash_key> <sort_key> <value> [ttl_in_seconds]',
  minArgs: 3,
  maxArgs: 4,
  examples: ['set user:1 name Ada', 'set user:1 session "a b c" 3600', 'set bin key "\\x00\\xff"'],
  async run(context, args) {
    const table = await context.currentTable();
    const ttlToken = args.positional[3];
    const ttlSeconds = ttlToken === undefined ? 0 : parseInteger(tokenText(ttlToken), 'ttl_in_seconds', 1);
    await context.race(table.set(bytesAt(args, 0), bytesAt(args, 1), bytesAt(args, 2), { ...context.call, ttlSeconds }));
    context.out('OK');
  },
};

export const get: Command = {
  name: 'get',
  group: 'data',
  summary: 'read a value (quoted, escaped), or "not found"',
  args: '<hash_key> <sort_key>',
  minArgs: 2,
  examples: ['get user:1 name'],
  async run(context, args) {
    const table = await context.currentTable();
    const value = await context.race(table.get(bytesAt(args, 0), bytesAt(args, 1), context.call));
    context.out(value === null ? 'not found' : context.quote(value));
  },
};

export const del: Command = {
  name: 'del',
  group: 'data',
  summary: 'delete a record (absent records too: it is idempotent)',
  args: '<hash_key> <sort_key>',
  minArgs: 2,
  examples: ['del user:1 name'],
  async run(context, args) {
    const table = await context.currentTable();
    await context.race(table.del(bytesAt(args, 0), bytesAt(args, 1), context.call));
    context.out('OK');
  },
};

export const exist: Command = {
  name: 'exist',
  group: 'data',
  summary: 'whether a record exists (an empty value exists; an expired one does not)',
  args: '<hash_key> <sort_key>',
  minArgs: 2,
  examples: ['exist user:1 name'],
  async run(context, args) {
    const table = await context.currentTable();
    context.out(String(await context.race(table.exist(bytesAt(args, 0), bytesAt(args, 1), context.call))));
  },
};

export const ttl: Command = {
  name: 'ttl',
  group: 'data',
  summary: 'seconds until a record expires',
  args: '<hash_key> <sort_key>',
  minArgs: 2,
  examples: ['ttl user:1 session'],
  async run(context, args) {
    const table = await context.currentTable();
    const seconds = await context.race(table.ttl(bytesAt(args, 0), bytesAt(args, 1), context.call));
    context.out(seconds === null ? 'not found' : seconds < 0 ? 'ttl: infinite (the record does not expire)' : `ttl: ${seconds} s`);
  },
};

export const count: Command = {
  name: 'count',
  group: 'data',
  summary: 'how many sort keys a hash key has',
  args: '<hash_key>',
  minArgs: 1,
  examples: ['count user:1'],
  async run(context, args) {
    const table = await context.currentTable();
    const result = await context.race(table.sortKeyCount(bytesAt(args, 0), context.call));
    context.out(result < 0 ? "count: unknown (the server's iteration time limit stopped the count)" : `count: ${result}`);
  },
};

export const incr: Command = {
  name: 'incr',
  group: 'data',
  summary: 'add to an int64 value atomically and print the result (absent counts as 0)',
  args: '<hash_key> <sort_key> [increment]',
  minArgs: 2,
  maxArgs: 3,
  details: ['The increment defaults to 1 and may be negative. A value that is not a decimal int64 is refused (INVALID_ARGUMENT).'],
  examples: ['incr user:1 visits', 'incr user:1 visits -5'],
  async run(context, args) {
    const table = await context.currentTable();
    const incrementToken = args.positional[2];
    let increment = 1n;
    if (incrementToken !== undefined) {
      const text = tokenText(incrementToken);
      if (!/^[-+]?[0-9]+$/.test(text)) throw new ShellError('USAGE', `the increment must be an integer, not ${JSON.stringify(text)}`);
      increment = BigInt(text);
    }
    const result = await context.race(table.incr(bytesAt(args, 0), bytesAt(args, 1), increment, context.call));
    context.out(String(result));
  },
};

export const multiSet: Command = {
  name: 'multi_set',
  group: 'data',
  summary: 'write several sort keys of one hash key atomically',
  args: '<hash_key> <sort_key> <value> [sort_key value...]',
  minArgs: 3,
  maxArgs: Infinity,
  examples: ['multi_set user:1 name Ada email ada@example.com'],
  async run(context, args) {
    if (args.positional.length % 2 !== 1) throw new ShellError('USAGE', 'multi_set takes a hash key and then sort_key value pairs');
    const entries: [Buffer, Buffer][] = [];
    const seen = new Set<string>();
    for (let i = 1; i < args.positional.length; i += 2) {
      const sortKey = bytesAt(args, i);
      const key = sortKey.toString('latin1');
      if (seen.has(key)) throw new ShellError('USAGE', `sort key ${context.quote(sortKey)} is given twice`);
      seen.add(key);
      entries.push([sortKey, bytesAt(args, i + 1)]);
    }
    const table = await context.currentTable();
    await context.race(table.multiSet(bytesAt(args, 0), entries, context.call));
    context.out('OK');
  },
};

export const multiGet: Command = {
  name: 'multi_get',
  group: 'data',
  summary: 'read sort keys of one hash key (all of them when none is named)',
  args: '<hash_key> [sort_key...]',
  minArgs: 1,
  maxArgs: Infinity,
  details: ["No count or size limit is set; the server's cap (3000 rows per read) can still stop a read (fetch not completed)."],
  examples: ['multi_get user:1', 'multi_get user:1 name email'],
  async run(context, args) {
    const table = await context.currentTable();
    const hashKey = bytesAt(args, 0);
    const sortKeys = args.positional.slice(1).map((token) => token.bytes);
    const result = await context.race(table.multiGet(hashKey, sortKeys, { ...context.call, maxCount: 0, maxBytes: 0 }));
    printResult(context, hashKey, result, true);
  },
};

export const multiGetRange: Command = {
  name: 'multi_get_range',
  group: 'data',
  summary: 'read a range of sort keys of one hash key',
  args: '<hash_key> <start_sort_key> <stop_sort_key>',
  minArgs: 3,
  options: [
    ...RANGE_OPTIONS,
    { short: 'n', long: 'max_count', kind: 'value', valueName: 'num', description: 'at most this many records (default: no limit)' },
    { short: 'i', long: 'no_value', kind: 'switch', description: 'sort keys only' },
    { short: 'r', long: 'reverse', kind: 'switch', description: 'with --max_count, keep the last records of the range (still printed ascending)' },
  ],
  details: RANGE_DETAILS,
  examples: ['multi_get_range user:1 a z', 'multi_get_range user:1 "" "" -s prefix -y e', 'multi_get_range user:1 a z -b true -n 10 -r'],
  async run(context, args) {
    const table = await context.currentTable();
    const hashKey = bytesAt(args, 0);
    const noValue = optionSwitch(args, 'no_value');
    const result = await context.race(
      table.multiGetRange(hashKey, bytesAt(args, 1), bytesAt(args, 2), {
        ...rangeOptionsOf(args),
        ...context.call,
        maxCount: optionInteger(args, 'max_count', 1) ?? 0,
        maxBytes: 0,
        noValue,
        reverse: optionSwitch(args, 'reverse'),
      }),
    );
    printResult(context, hashKey, result, !noValue);
  },
};

export const multiGetSortKeys: Command = {
  name: 'multi_get_sortkeys',
  group: 'data',
  summary: 'list the sort keys of one hash key',
  args: '<hash_key>',
  minArgs: 1,
  examples: ['multi_get_sortkeys user:1'],
  async run(context, args) {
    const table = await context.currentTable();
    const result = await context.race(table.multiGetSortKeys(bytesAt(args, 0), { ...context.call, maxCount: 0, maxBytes: 0 }));
    if (result.sortKeys.length > 0) {
      context.lines(formatTable(['sort_key'], result.sortKeys.map((sortKey) => [context.quote(sortKey)])));
      context.out('');
    }
    context.out(`${result.sortKeys.length} sort keys got, fetch ${result.complete ? 'completed' : 'not completed (a limit stopped it)'}.`);
  },
};

export const multiDel: Command = {
  name: 'multi_del',
  group: 'data',
  summary: 'delete several sort keys of one hash key atomically',
  args: '<hash_key> <sort_key> [sort_key...]',
  minArgs: 2,
  maxArgs: Infinity,
  details: ['Absent sort keys count as deleted, as in Pegasus.'],
  examples: ['multi_del user:1 name email'],
  async run(context, args) {
    const table = await context.currentTable();
    const deleted = await context.race(table.multiDel(bytesAt(args, 0), args.positional.slice(1).map((token) => token.bytes), context.call));
    context.out(`${deleted} sort keys deleted.`);
  },
};

export const multiDelRange: Command = {
  name: 'multi_del_range',
  group: 'data',
  summary: 'delete a range of sort keys of one hash key',
  args: '<hash_key> <start_sort_key> <stop_sort_key>',
  minArgs: 3,
  options: RANGE_OPTIONS,
  details: [...RANGE_DETAILS, 'Reads the keys of the range and deletes them in batches; it is not atomic as a whole.'],
  examples: ['multi_del_range user:1 a m', 'multi_del_range user:1 "" "" -s prefix -y tmp_'],
  async run(context, args) {
    const table = await context.currentTable();
    const deleted = await context.race(table.delRange(bytesAt(args, 0), bytesAt(args, 1), bytesAt(args, 2), { ...rangeOptionsOf(args), ...context.call }));
    context.out(`${deleted} key-value pairs deleted.`);
  },
};

/** Pegasus check type names → the client's. */
export const CHECK_TYPES: Readonly<Record<string, CheckType>> = {
  no_check: 'noCheck',
  not_exist: 'notExist',
  not_exist_or_empty: 'notExistOrEmpty',
  exist: 'exist',
  not_empty: 'notEmpty',
  match_anywhere: 'matchAnywhere',
  match_prefix: 'matchPrefix',
  match_postfix: 'matchPostfix',
  bytes_less: 'bytesLess',
  bytes_less_or_equal: 'bytesLessOrEqual',
  bytes_equal: 'bytesEqual',
  bytes_greater_or_equal: 'bytesGreaterOrEqual',
  bytes_greater: 'bytesGreater',
  int_less: 'intLess',
  int_less_or_equal: 'intLessOrEqual',
  int_equal: 'intEqual',
  int_greater_or_equal: 'intGreaterOrEqual',
  int_greater: 'intGreater',
};

export const checkAndSet: Command = {
  name: 'check_and_set',
  group: 'data',
  summary: 'atomically check one sort key of a hash key and, if the check passes, set one',
  args: '<hash_key>',
  minArgs: 1,
  options: [
    { short: 'c', long: 'check_sort_key', kind: 'value', valueName: 'str', description: 'the sort key to check (default "")' },
    { short: 't', long: 'check_type', kind: 'value', valueName: 'type', description: `the check: ${Object.keys(CHECK_TYPES).join('|')}`, required: true },
    { short: 'o', long: 'check_operand', kind: 'value', valueName: 'str', description: 'what match_*, bytes_* and int_* compare with (default "")' },
    { short: 's', long: 'set_sort_key', kind: 'value', valueName: 'str', description: 'the sort key to set (default: the checked one)' },
    { short: 'v', long: 'set_value', kind: 'value', valueName: 'str', description: 'the value to set', required: true },
    { short: 'l', long: 'set_value_ttl_seconds', kind: 'value', valueName: 'num', description: 'TTL of the value set (default none)' },
    { short: 'r', long: 'return_check_value', kind: 'switch', description: 'also show the checked value' },
  ],
  details: ['A failed check is not an error: the command prints that the set was not done.'],
  examples: ['check_and_set user:1 -c name -t not_exist -v Ada', 'check_and_set user:1 -c version -t int_equal -o 3 -s name -v Ada -r'],
  async run(context, args) {
    const checkTypeName = optionChoice(args, 'check_type', Object.keys(CHECK_TYPES))!;
    const checkSortKey = optionBytes(args, 'check_sort_key') ?? Buffer.alloc(0);
    const ttlSeconds = optionInteger(args, 'set_value_ttl_seconds', 0) ?? 0;
    const returnCheckValue = optionSwitch(args, 'return_check_value');
    const table = await context.currentTable();
    const result = await context.race(
      table.checkAndSet(
        bytesAt(args, 0),
        checkSortKey,
        CHECK_TYPES[checkTypeName]!,
        optionBytes(args, 'check_operand') ?? Buffer.alloc(0),
        optionBytes(args, 'set_sort_key') ?? checkSortKey,
        optionBytes(args, 'set_value')!,
        { ...context.call, ttlSeconds, returnCheckValue },
      ),
    );
    context.out(result.succeeded ? 'set succeeded' : 'set not done: the check failed');
    if (returnCheckValue) {
      context.lines(formatPairs([
        ['check_value_returned', result.checkValueReturned],
        ['check_value_exist', result.checkValueExists],
        ['check_value', result.checkValue === null ? '-' : context.quote(result.checkValue)],
      ]));
    }
  },
};
