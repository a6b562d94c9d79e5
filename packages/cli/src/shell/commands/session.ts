/**
 * Commands about the shell session itself: version, exit, timeout, escape_all, use, hash.
 */
import { readFileSync } from 'node:fs';
import { PROTOCOL_VERSION, partitionHash, partitionIndex } from '@petrel/protocol';
import type { Command } from '../command.js';
import { formatPairs } from '../format.js';
import { argumentAt, parseBoolean, parseInteger } from '../options.js';
import { tokenText } from '../tokenizer.js';

function packageVersion(): string {
  try {
    const text = readFileSync(new URL('../../../package.json', import.meta.url), 'utf8');
    return (JSON.parse(text) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export const SHELL_VERSION = packageVersion();

export const version: Command = {
  name: 'version',
  group: 'shell',
  summary: 'show the shell version, the protocol version it speaks and the Node.js version',
  examples: ['version'],
  async run(context) {
    context.lines(formatPairs([
      ['shell', `Petrel shell ${SHELL_VERSION}`],
      ['protocol', PROTOCOL_VERSION],
      ['node', process.version],
    ]));
  },
};

export const exit: Command = {
  name: 'exit',
  group: 'shell',
  summary: 'leave the shell (Ctrl-D does the same); in a script, stop reading it',
  details: ['The exit status is 0 when every command succeeded, 1 otherwise.'],
  examples: ['exit'],
  async run(context) {
    context.exitRequested = true;
  },
};

export const timeout: Command = {
  name: 'timeout',
  group: 'shell',
  summary: 'show or set the per-call timeout in milliseconds',
  args: '[time_in_ms]',
  maxArgs: 1,
  details: [
    'Every call the shell makes finishes within this time or fails with TIMEOUT. Scans apply it',
    'per batch. `create` and `recall` wait at least 30 s, since they wait for the partitions.',
    'The starting value comes from --timeout (default 5000).',
  ],
  examples: ['timeout', 'timeout 10000'],
  async run(context, args) {
    const given = args.positional[0];
    if (given !== undefined) {
      const previous = context.timeoutMs;
      context.timeoutMs = parseInteger(tokenText(given), 'the timeout', 1, 3_600_000);
      context.out(`timeout: ${context.timeoutMs} ms (was ${previous} ms)`);
    } else {
      context.out(`timeout: ${context.timeoutMs} ms`);
    }
  },
};

export const escapeAll: Command = {
  name: 'escape_all',
  group: 'shell',
  summary: 'show or set whether every non-ASCII byte of keys and values prints as \\xNN',
  args: '[true|false]',
  maxArgs: 1,
  details: [
    'Keys and values print in double quotes, in the syntax commands read: printable ASCII as',
    'itself, `\\` and `"` escaped, \\n \\r \\t, other control bytes and binary bytes as \\xNN.',
    'By default well-formed UTF-8 text prints as text; with escape_all true every byte ≥ 0x80',
    'prints as \\xNN, so the output is ASCII and shows the exact bytes.',
  ],
  examples: ['escape_all', 'escape_all true'],
  async run(context, args) {
    const given = args.positional[0];
    if (given !== undefined) context.escapeAll = parseBoolean(tokenText(given), 'escape_all');
    context.out(`escape_all: ${context.escapeAll}`);
  },
};

export const use: Command = {
  name: 'use',
  group: 'table',
  summary: 'pick the table the data commands work on (without a name: show it)',
  args: '[app_name]',
  maxArgs: 1,
  tableArgument: 0,
  examples: ['use temp', 'use'],
  async run(context, args) {
    const given = args.positional[0];
    if (given === undefined) {
      context.out(context.tableName === null ? 'no table is in use; `use <table>` picks one' : `using table ${context.tableName}`);
      return;
    }
    const name = tokenText(given);
    context.forgetTable(name);
    const table = await context.openTable(name);
    context.tableName = name;
    context.out(`OK, using table ${name} (app_id ${table.id}, ${table.partitionCount} partitions)`);
  },
};

export const hash: Command = {
  name: 'hash',
  group: 'data',
  summary: 'show which partition and servers hold a key',
  args: '<hash_key> <sort_key>',
  minArgs: 2,
  details: [
    'The partition is xxh64(hash_key) mod partition_count (xxh64 of the sort key when the hash',
    'key is empty); every record of one hash key lives in one partition.',
  ],
  examples: ['hash user:1 name'],
  async run(context, args) {
    const hashKey = argumentAt(args, 0);
    const sortKey = argumentAt(args, 1);
    const table = await context.currentTable();
    const info = await context.race(context.client.admin.tableInfo(table.name, context.call));
    const index = partitionIndex(hashKey.bytes, sortKey.bytes, info.partitionCount);
    const partition = info.partitions[index];
    context.lines(formatPairs([
      ['hash_key', context.quote(hashKey.bytes)],
      ['sort_key', context.quote(sortKey.bytes)],
      ['key_hash', `0x${partitionHash(hashKey.bytes, sortKey.bytes).toString(16).padStart(16, '0')}`],
      ['app_name', info.name],
      ['app_id', info.id],
      ['partition_count', info.partitionCount],
      ['partition_index', index],
      ['gpid', `${info.id}.${index}`],
      ['ballot', partition?.ballot],
      ['primary', partition?.primary ?? '(none)'],
      ['secondaries', partition === undefined || partition.secondaries.length === 0 ? '(none)' : partition.secondaries.join(', ')],
    ]));
  },
};
