/**
 * The runner and the commands that need no cluster, against a client that is never connected:
 * help for every command, usage errors with the usage as the hint, unknown commands with a
 * suggestion, data commands without a table, timeout, escape_all, version, exit.
 */
import { PetrelClient } from '@petrel/client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { commandHelp, usageLine } from './command.js';
import { COMMANDS, commandNames } from './command_table.js';
import { ShellContext, type ShellOutput } from './context.js';
import { runLine } from './runner.js';

const REQUIRED = [
  'help', 'version', 'exit', 'cluster_info', 'nodes', 'ls', 'app', 'create', 'drop', 'recall', 'use', 'get_app_envs', 'set_app_envs', 'del_app_envs',
  'hash', 'set', 'get', 'del', 'exist', 'ttl', 'count', 'incr', 'multi_set', 'multi_get', 'multi_get_range', 'multi_get_sortkeys', 'multi_del',
  'multi_del_range', 'check_and_set', 'hash_scan', 'full_scan', 'count_data', 'copy_data', 'clear_data', 'timeout', 'escape_all', 'server_info',
  'server_stat', 'app_stat',
  // The table operations and meta levels of issue 8.
  'get_meta_level', 'set_meta_level', 'manual_compact', 'set_replica_count',
];

function session(): { context: ShellContext; out: string[]; err: string[]; client: PetrelClient } {
  const out: string[] = [];
  const err: string[] = [];
  const output: ShellOutput = { out: (text) => out.push(text), err: (text) => err.push(text), progress: (text) => err.push(text), progressDone: () => undefined, progressInPlace: false };
  const client = new PetrelClient({ metaServers: ['127.0.0.1:1'], timeoutMs: 200 });
  const context = new ShellContext(client, { metaServers: ['127.0.0.1:1'], timeoutMs: 200, httpEndpoints: [], httpPortOffset: undefined }, output);
  return { context, out, err, client };
}

test('every Pegasus shell command of issue 8 exists, and only those', () => {
  assert.equal([...commandNames()].sort(), [...REQUIRED].sort());
});

test('every command has a summary, a usage line and at least one example that parses', () => {
  for (const command of COMMANDS.values()) {
    assert.ok(command.summary.length > 10, command.name);
    assert.ok(command.examples.length > 0, command.name);
    for (const example of command.examples) assert.ok(example.startsWith(command.name), `${command.name}: ${example}`);
    const help = commandHelp(command).join('\n');
    assert.match(help, `usage: ${usageLine(command)}`);
  }
});

test('help lists every command; help <command> shows its usage, options and examples', async () => {
  const { context, out, client } = session();
  assert.is(await runLine(context, 'help'), true);
  for (const name of REQUIRED) assert.match(out.join('\n'), new RegExp(`^  ${name} `, 'm'));
  out.length = 0;
  assert.is(await runLine(context, 'help multi_get_range'), true);
  const text = out.join('\n');
  assert.match(text, 'usage: multi_get_range <hash_key> <start_sort_key> <stop_sort_key> [-a|--start_inclusive true|false]');
  assert.match(text, '-r, --reverse');
  assert.match(text, 'examples:');
  await client.close();
});

test('unknown commands fail with a suggestion; usage errors show the usage as the hint', async () => {
  const { context, err, client } = session();
  assert.is(await runLine(context, 'mutli_get h'), false);
  assert.match(err.join('\n'), 'ERROR: UNKNOWN_COMMAND: no command "mutli_get"');
  assert.match(err.join('\n'), 'did you mean `multi_get`');
  err.length = 0;
  assert.is(await runLine(context, 'get onlyone'), false);
  assert.match(err.join('\n'), 'ERROR: USAGE: get takes 2 arguments, got 1\n  hint: usage: get <hash_key> <sort_key>');
  err.length = 0;
  assert.is(await runLine(context, 'multi_get_range h a b -q'), false);
  assert.match(err.join('\n'), 'ERROR: USAGE: unknown option -q\n  hint: usage: multi_get_range');
  err.length = 0;
  assert.is(await runLine(context, 'get "h s'), false);
  assert.match(err.join('\n'), 'ERROR: SYNTAX: unterminated double quote');
  await client.close();
});

test('data commands without a table in use fail with NO_TABLE and say to `use` one', async () => {
  const { context, err, client } = session();
  assert.is(await runLine(context, 'get h s'), false);
  assert.match(err.join('\n'), 'ERROR: NO_TABLE: no table is in use\n  hint: `use <table>` picks the table; `ls` lists tables');
  await client.close();
});

test('a cluster that cannot be reached fails with the code and what to do', async () => {
  const { context, err, client } = session();
  assert.is(await runLine(context, 'ls'), false);
  assert.match(err.join('\n'), /ERROR: (TIMEOUT|NETWORK_FAILURE): /);
  assert.match(err.join('\n'), 'hint: ');
  await client.close();
});

test('timeout and escape_all show and set the session settings; version; exit skips the rest of the line', async () => {
  const { context, out, client } = session();
  assert.is(await runLine(context, 'timeout; timeout 1234; escape_all; escape_all true; version'), true);
  assert.equal(out.slice(0, 4), ['timeout: 200 ms', 'timeout: 1234 ms (was 200 ms)', 'escape_all: false', 'escape_all: true']);
  assert.is(context.timeoutMs, 1234);
  assert.is(context.escapeAll, true);
  assert.match(out[4]!, /shell +: Petrel shell \d+\.\d+\.\d+/);
  assert.is(await runLine(context, 'timeout 0'), false);
  assert.is(await runLine(context, 'escape_all maybe'), false);
  out.length = 0;
  assert.is(await runLine(context, 'exit; timeout 5'), true);
  assert.is(context.exitRequested, true);
  assert.equal(out, []);
  assert.is(context.timeoutMs, 1234);
  await client.close();
});

test('--echo prints each statement before it runs, quoted where it was quoted', async () => {
  const { context, out, client } = session();
  await runLine(context, 'timeout 300; escape_all "false"', true);
  assert.equal(out, ['>>> timeout 300', 'timeout: 300 ms (was 200 ms)', '>>> escape_all "false"', 'escape_all: false']);
  await client.close();
});

test.run();
