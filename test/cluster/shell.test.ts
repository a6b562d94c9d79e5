/**
 * The admin shell as operators run it: the real `petrel shell` process (spawned, commands on
 * stdin or with -e) against a ProcessCluster of one meta and three replica servers, each with an
 * HTTP status port. Every command of the shell runs at least once and its output is checked; so
 * are the exit status of -e, errors with their code and hint, and Ctrl-C (SIGINT) stopping a
 * long clear_data while the shell goes on.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { freePort } from '@petrel/cli';
import { PetrelClient } from '@petrel/client';
import { ProcessCluster } from './process_cluster.js';

const MAIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

let cluster: ProcessCluster | undefined;
let httpEndpoints: string[] = [];
/** The app_id of the table the first test drops (the second recalls it). */
let droppedId: string | undefined;

interface ShellRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** stdout and stderr as the terminal would show them (one pipe for both). */
  output: string;
}

/**
 * Runs `petrel shell --meta … <args>` with stdout and stderr on one pipe (so errors stay in
 * order with results). `onOutput` sees the output so far each time more arrives.
 */
function runShell(args: string[], stdin: string | undefined, onOutput?: (output: string, child: ReturnType<typeof spawn>) => void): Promise<ShellRun> {
  const command = [process.execPath, ...process.execArgv, MAIN, 'shell', '--meta', cluster!.meta.address, '--http', httpEndpoints.join(','), ...args];
  const child = spawn('sh', ['-c', 'exec "$0" "$@" 2>&1', ...command], { stdio: ['pipe', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString('utf8');
    onOutput?.(output, child);
  });
  if (stdin !== undefined) {
    child.stdin!.write(stdin);
    if (onOutput === undefined) child.stdin!.end();
  } else child.stdin!.end();
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, output });
    });
  });
}

/** Splits `--echo` output into one section per command: `>>> command` and what followed. */
function sections(output: string): { command: string; text: string }[] {
  const result: { command: string; text: string }[] = [];
  for (const line of output.split('\n')) {
    if (line.startsWith('>>> ')) result.push({ command: line.slice(4), text: '' });
    else if (result.length > 0) result[result.length - 1]!.text += `${line}\n`;
  }
  return result;
}

type Expectation = RegExp | string | ((text: string) => void);

/** Runs a script of [command, expectations…] rows in one shell and checks each command's output. */
async function script(rows: [string, ...Expectation[]][]): Promise<ShellRun> {
  const run = await runShell(['--echo'], rows.map(([command]) => command).join('\n') + '\n');
  const got = sections(run.output);
  assert.is(got.length, rows.length, `one section per command; output was:\n${run.output}`);
  rows.forEach(([command, ...expectations], index) => {
    const section = got[index]!;
    assert.is(section.command, command, `command ${index}`);
    for (const expectation of expectations) {
      if (typeof expectation === 'function') expectation(section.text);
      else if (typeof expectation === 'string') assert.ok(section.text.includes(expectation), `${command}: expected ${JSON.stringify(expectation)} in:\n${section.text}`);
      else assert.ok(expectation.test(section.text), `${command}: expected ${expectation} in:\n${section.text}`);
    }
  });
  return run;
}

const not = (unwanted: string | RegExp) => (text: string) =>
  assert.ok(typeof unwanted === 'string' ? !text.includes(unwanted) : !unwanted.test(text), `did not expect ${String(unwanted)} in:\n${text}`);
const lineCount = (pattern: RegExp, count: number) => (text: string) => {
  const found = text.split('\n').filter((line) => pattern.test(line)).length;
  assert.is(found, count, `${count} lines like ${pattern} in:\n${text}`);
};

test.before(async () => {
  // Every server gets a status port (for server_info, server_stat, app_stat): the meta is
  // restarted with --http-port 0 before any replica server joins, and the replica servers are
  // started with it.
  cluster = await ProcessCluster.start(0);
  cluster.meta.args.push('--http-port', '0');
  await cluster.restart(cluster.meta);
  for (let i = 1; i <= 3; i++) {
    const name = `replica${i}`;
    const address = `127.0.0.1:${await freePort()}`;
    const dataDir = join(cluster.root, name);
    cluster.replicas.push({ name, address, dataDir, args: ['replica', '--listen', address, '--meta', cluster.meta.address, '--data-dir', dataDir, '--http-port', '0'], child: undefined });
  }
  await Promise.all(cluster.replicas.map((slot) => cluster!.startServer(slot)));
  const ready = await Promise.all([cluster.meta, ...cluster.replicas].map((slot) => slot.child!.ready));
  httpEndpoints = ready.map((server) => `127.0.0.1:${server.httpPort!}`);
});

test.after(async () => {
  await cluster?.stop();
});

test('every command through a script on stdin, each output checked', async () => {
  const replicaAddresses = cluster!.replicas.map((slot) => slot.address);
  const run = await script([
    ['help', /^ {2}cluster_info +show the meta servers/m, /^ {2}multi_get_range +read a range/m, /^ {2}app_stat +/m, '`help <command>`'],
    ['help multi_get_range', 'usage: multi_get_range <hash_key> <start_sort_key> <stop_sort_key> [-a|--start_inclusive true|false]', '-r, --reverse', 'examples:'],
    ['version', /shell +: Petrel shell \d+\.\d+\.\d+/, /protocol +: \d+/],
    ['cluster_info', `meta_leader           : ${cluster!.meta.address}`, /alive_replica_servers +: 3/],
    // The restarted servers rejoin; `nodes` must list all three as alive.
    ['nodes', lineCount(/^127\.0\.0\.1:\d+ +ALIVE +\d+ +\d+ +\d+$/, 3), /total_node_count +: 3/, /unalive_node_count +: 0/],
    ['create shell_t -p 4 -r 3 -e user.owner=tests', /create table shell_t succeeded: app_id \d+, 4 partitions × 3 replicas, healthy after/],
    ['create shell_t', 'ERROR: APP_EXIST: ', 'hint: the table exists already; `ls` lists tables'],
    ['ls', /^app_id +status +app_name +partition_count +replica_count +envs$/m, /^ +\d+ +available +shell_t +4 +3 +1$/m, /^1 table$/m],
    ['ls -d', /^ +\d+ +available +shell_t +4 +3 +1 +4 +0$/m],
    ['nodes -d', lineCount(/^127\.0\.0\.1:\d+ +shell_t +\d+ +\d+$/, 3)],
    ['app shell_t -d', /healthy_partitions : 4 of 4/, /envs +: user\.owner=tests/, lineCount(/^ +[0-3] +\d+ +3\/3 +127\.0\.0\.1:\d+ +127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/, 4), /^node +primary +secondary +total$/m],
    ['app nosuch', 'ERROR: APP_NOT_EXIST: ', 'hint: no such table; `ls` lists tables'],
    ['get h s', 'ERROR: NO_TABLE: no table is in use', 'hint: `use <table>` picks the table'],
    ['use nosuch', 'ERROR: APP_NOT_EXIST: '],
    ['use shell_t', /OK, using table shell_t \(app_id \d+, 4 partitions\)/],
    ['use', 'using table shell_t'],
    ['set_app_envs user.note hello user.other x', 'set 2 envs of table shell_t: OK'],
    ['get_app_envs', /^user\.note +hello$/m, /^user\.other +x$/m, /^user\.owner +tests$/m],
    ['del_app_envs user.other', 'deleted 1 env of table shell_t: OK'],
    ['get_app_envs', /^user\.note +hello$/m, not('user.other')],
    ['hash h s', /partition_count +: 4/, /partition_index +: [0-3]/, /key_hash +: 0x[0-9a-f]{16}/, /primary +: 127\.0\.0\.1:\d+/],
    ['set h s v', /^OK$/m],
    ['get h s', /^"v"$/m],
    ['set h bin "\\x00\\xff\\x01\\n"', /^OK$/m],
    ['get h bin', /^"\\x00\\xff\\x01\\n"$/m],
    ['set h zh 中文', /^OK$/m],
    ['get h zh', /^"中文"$/m],
    ['escape_all', 'escape_all: false'],
    ['escape_all true', 'escape_all: true'],
    ['get h zh', /^"\\xe4\\xb8\\xad\\xe6\\x96\\x87"$/m],
    ['escape_all false', 'escape_all: false'],
    ['set h t v 100', /^OK$/m],
    ['ttl h t', /^ttl: (9\d|100) s$/m],
    ['ttl h s', 'ttl: infinite'],
    ['ttl h nope', /^not found$/m],
    ['exist h s', /^true$/m],
    ['exist h nope', /^false$/m],
    ['del h s', /^OK$/m],
    ['get h s', /^not found$/m],
    ['multi_set m a 1 b 2 c 3 "d d" 4', /^OK$/m],
    ['multi_set m a 1 a 2', 'ERROR: USAGE: sort key "a" is given twice'],
    ['count m', 'count: 4'],
    ['multi_get m', /^hash_key +sort_key +value$/m, /^"m" +"a" +"1"$/m, /^"m" +"d d" +"4"$/m, '4 key-value pairs got, fetch completed.'],
    ['multi_get m a c zz', /^"m" +"a" +"1"$/m, /^"m" +"c" +"3"$/m, '2 key-value pairs got'],
    ['multi_get_range m b d', lineCount(/^"m" /, 2), /^"m" +"b" +"2"$/m, /^"m" +"c" +"3"$/m, '2 key-value pairs got'],
    ['multi_get_range m b "d d" -a false -b true', /^"m" +"c" +"3"$/m, /^"m" +"d d" +"4"$/m, '2 key-value pairs got'],
    ['multi_get_range m "" "" -s prefix -y c -i', /^hash_key +sort_key$/m, /^"m" +"c"$/m, '1 key-value pairs got'],
    ['multi_get_range m "" "" -n 1 -r', /^"m" +"d d" +"4"$/m, '1 key-value pairs got, fetch not completed'],
    ['multi_get_sortkeys m', /^sort_key$/m, /^"a"$/m, /^"d d"$/m, '4 sort keys got, fetch completed.'],
    ['incr m n', /^1$/m],
    ['incr m n 41', /^42$/m],
    ['incr m n -50', /^-8$/m],
    ['incr m a x', 'ERROR: USAGE: the increment must be an integer'],
    ['check_and_set m -c a -t bytes_equal -o 1 -v one -r', 'set succeeded', /check_value +: "1"/, /check_value_exist +: true/],
    ['check_and_set m -c a -t bytes_equal -o 1 -v two', 'set not done: the check failed'],
    ['check_and_set m -c a -t sideways -v 1', 'ERROR: USAGE: --check_type must be one of no_check|not_exist'],
    ['get m a', /^"one"$/m],
    ['incr m a', 'ERROR: INVALID_ARGUMENT: ', 'hint: an argument was refused'],
    ['multi_del m a b', '2 sort keys deleted.'],
    ['multi_get_sortkeys m', /^"c"$/m, /^"n"$/m, not('"a"'), '3 sort keys got'],
    ['multi_del_range m "" ""', '3 key-value pairs deleted.'],
    ['count m', 'count: 0'],
    ['timeout', 'timeout: 5000 ms'],
    ['timeout 8000', 'timeout: 8000 ms (was 5000 ms)'],
    ...Array.from({ length: 10 }, (_, index): [string, Expectation] => [`multi_set r${index} s0 v0 s1 v1 s2 v2 s3 v3 s4 v4`, /^OK$/m]),
    ['hash_scan r1 "" ""', lineCount(/^"r1" +"s\d" +"v\d"$/, 5), '5 key-value pairs got.'],
    ['hash_scan r1 s1 s3 -d', /^hash_key +sort_key +value +ttl$/m, /^"r1" +"s1" +"v1" +-1$/m, /^"r1" +"s2" +"v2" +-1$/m, '2 key-value pairs got.'],
    ['hash_scan r1 "" "" -v exact -z v3', /^"r1" +"s3" +"v3"$/m, '1 key-value pairs got.'],
    // 50 rows of r0–r9 plus h/bin, h/t, h/zh.
    ['full_scan', lineCount(/^"(r\d|h)" +"/, 53), '53 key-value pairs got.'],
    ['full_scan -n 5', lineCount(/^"(r\d|h)" +"/, 5), '5 key-value pairs got (stopped at --max_count).'],
    ['full_scan -h prefix -x r -s postfix -y 4 -i', /^hash_key +sort_key$/m, lineCount(/^"r\d" +"s4"$/, 10), '10 key-value pairs got.'],
    [`full_scan -h prefix -x r1 -o ${join(cluster!.root, 'scan.txt')}`, `5 key-value pairs got, written to ${join(cluster!.root, 'scan.txt')}.`, not('"r1"')],
    ['full_scan -p 0 -d', /^hash_key +sort_key +value +ttl +partition$/m, (text) => assert.ok(text.split('\n').filter((line) => line.startsWith('"')).every((line) => / 0$/.test(line)), text)],
    ['count_data', /^ *total +53$/m, lineCount(/^ +[0-3] +\d+$/, 4), 'count_data: 53 rows in 4 partitions of table shell_t'],
    ['count_data -d -a -n 2', /^ *pidx +rows +hash_keys +key_bytes +value_bytes +total_size$/m, /^ *total +53 +11 +\d+ +\d+ /m, /^hash_key +sort_key +size$/m],
    ['count_data -h prefix -x r -c', /^ *total +50$/m],
    ['create shell_copy -p 2 -r 3', 'create table shell_copy succeeded'],
    ['copy_data -a shell_copy', 'copy_data: 53 rows copied from shell_t to shell_copy'],
    ['copy_data -a shell_copy -n -h prefix -x r1', 'copy_data: 0 rows copied from shell_t to shell_copy, 5 kept (present in the target)'],
    ['copy_data -a nosuch', 'ERROR: APP_NOT_EXIST'],
    ['use shell_copy', 'OK, using table shell_copy'],
    ['count_data', /^ *total +53$/m],
    ['get h bin', /^"\\x00\\xff\\x01\\n"$/m],
    ['clear_data', 'ERROR: REFUSED: clear_data deletes every matching record of table shell_copy', 'hint: add -f (--force)'],
    ['clear_data -f -h prefix -x r', 'clear_data: 50 rows deleted from table shell_copy'],
    ['count_data', /^ *total +3$/m],
    ['drop shell_copy -r 600', /drop table shell_copy \(app_id \d+\) succeeded; `recall \d+` brings it back until \d{4}-/, (text) => (droppedId = /`recall (\d+)`/.exec(text)?.[1])],
    ['use', 'no table is in use'],
    ['ls -a', /^ +\d+ +dropped +shell_copy +2 +3 +0 +\d{4}-\d\d-\d\d [\d:]+Z +\d{4}-/m, /^ +\d+ +available +shell_t /m, '2 tables'],
    ['server_info', /^role +address +alive +healthy +status_endpoint +details$/m, new RegExp(`^meta-server +${cluster!.meta.address.replaceAll('.', '\\.')} +leader +true +127\\.0\\.0\\.1:\\d+ +leader `, 'm'), ...replicaAddresses.map((address) => new RegExp(`^replica-server +${address.replaceAll('.', '\\.')} +ALIVE +true +127\\.0\\.0\\.1:\\d+ +lease valid`, 'm'))],
    ['server_info -t replica-server', lineCount(/^replica-server /, 3), not('meta-server')],
    ['server_stat -i 300', /^replica_server +read_qps +write_qps +scan_qps +error_qps +p99_ms +mean_ms +pri\/sec +sstables +memtables +flushes +compactions +cache_hit +gc_pause +sync_p99_ms +prepare_p99_ms$/m, lineCount(/^127\.0\.0\.1:\d+ +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+ +/, 4), /^meta_server +request_qps +error_qps +tables +alive_nodes +healthy_partitions$/m, /rates over 0\.\d s/],
    ['app_stat -i 300', /^app_name +app_id +partitions +healthy +unhealthy +mutations +mutations_per_s$/m, /^shell_t +\d+ +4 +4 +0 +\d+ +[\d.]+$/m, 'from 3 replica servers'],
    ['app_stat -a shell_t -i 200', /^pidx +primary +secondaries +applied_decree +mutations_per_s$/m, lineCount(/^ +[0-3] +127\.0\.0\.1:\d+ +2 +\d+ +[\d.]+$/, 4)],
    ['exit'],
  ]);
  assert.is(run.code, 1, 'some commands failed on purpose, so the script exits 1');
  const written = readFileSync(join(cluster!.root, 'scan.txt'), 'utf8').trimEnd().split('\n');
  assert.equal(written, ['hash_key  sort_key  value', ...[0, 1, 2, 3, 4].map((k) => `"r1"      "s${k}"      "v${k}"`)]);
});

test('-e runs `;`-separated commands and exits 0 when all succeed, 1 otherwise; recall brings a dropped table back', async () => {
  const id = droppedId;
  assert.ok(id !== undefined, 'the first test dropped shell_copy');
  const recalled = await runShell(['-e', `recall ${id} shell_back; use shell_back; count_data; get h bin`], undefined);
  assert.is(recalled.code, 0, recalled.output);
  assert.match(recalled.output, `recall table ${id} succeeded: available as shell_back`);
  assert.ok(/^ *total +3$/m.test(recalled.output), recalled.output);
  assert.match(recalled.output, /^"\\x00\\xff\\x01\\n"$/m);
  const failed = await runShell(['-e', 'use shell_t; get h bin; get h'], undefined);
  assert.is(failed.code, 1, failed.output);
  assert.match(failed.output, /^"\\x00\\xff\\x01\\n"$/m);
  assert.match(failed.output, 'ERROR: USAGE: get takes 2 arguments, got 1');
  const syntax = await runShell(['-e', 'use shell_t; get "h'], undefined);
  assert.is(syntax.code, 1, syntax.output);
  assert.match(syntax.output, 'ERROR: SYNTAX: unterminated double quote');
  assert.not.match(syntax.output, 'using table', 'a line that does not parse runs none of its commands');
  const exited = await runShell(['-e', 'version; exit; ls'], undefined);
  assert.is(exited.code, 0, exited.output);
  assert.match(exited.output, 'Petrel shell');
  assert.not.match(exited.output, 'table');
  const noEndpoints = await runShell(['--http', '', '-e', 'server_info; server_stat; app_stat -i 100'], undefined);
  assert.is(noEndpoints.code, 1, noEndpoints.output);
  assert.match(noEndpoints.output, /^replica-server +127\.0\.0\.1:\d+ +ALIVE +- +- +-$/m);
  assert.match(noEndpoints.output, 'note: no status endpoints known');
  assert.match(noEndpoints.output, 'ERROR: NOT_AVAILABLE: no status endpoints known');
  assert.match(noEndpoints.output, /^shell_t +\d+ +4 +4 +0 +- +-$/m);
  const usage = await runShell(['--no-such-flag'], undefined);
  assert.is(usage.code, 2, usage.output);
  assert.match(usage.output, 'usage: petrel shell [flags]');
});

test('Ctrl-C (SIGINT) stops a long clear_data, keeps what it deleted, and the shell goes on', async () => {
  // The rows to delete are loaded through the client: only the shell's clear_data is under test here.
  const client = new PetrelClient({ metaServers: [cluster!.meta.address], timeoutMs: 20_000 });
  try {
    await client.admin.createTable('shell_big', { partitionCount: 4, replicaCount: 3 });
    const table = await client.openTable('shell_big');
    await Promise.all(Array.from({ length: 300 }, (_, index) => table.multiSet(`big${index}`, Object.fromEntries(Array.from({ length: 10 }, (_, k) => [`s${k}`, `v${k}`])))));
  } finally {
    await client.close();
  }
  let interruptedAt = '';
  const run = await runShell(['--echo', '--table', 'shell_big'], 'clear_data -f -b 1 -j 1\n', (output, child) => {
    // Progress lines appear once the command has run for a second: then press Ctrl-C.
    if (interruptedAt === '' && /^clear_data: \d+ rows deleted/m.test(output)) {
      interruptedAt = output;
      child.kill('SIGINT');
      setTimeout(() => {
        child.stdin!.write('count_data\nls\n');
        child.stdin!.end();
      }, 200);
    }
  });
  assert.ok(interruptedAt !== '', `progress was shown:\n${run.output}`);
  assert.is(run.signal, null, 'the shell was not killed by SIGINT');
  assert.is(run.code, 1, 'the interrupted command counts as failed');
  const got = sections(run.output);
  assert.equal(got.map((section) => section.command), ['use "shell_big"', 'clear_data -f -b 1 -j 1', 'count_data', 'ls']);
  assert.match(got[1]!.text, 'ERROR: INTERRUPTED: interrupted');
  assert.match(got[1]!.text, "hint: the command was stopped by Ctrl-C; what it did until then stays done");
  const left = Number(/^ *total +(\d+)$/m.exec(got[2]!.text)?.[1]);
  assert.ok(left > 0 && left < 3000, `some rows deleted, some left: ${left}`);
  assert.match(got[3]!.text, /^ +\d+ +available +shell_big /m);
});

test('interactive on a terminal: tab completes commands and table names, history recalls, Ctrl-C clears the prompt or stops the command', async () => {
  if (spawnSync('script', ['--version']).status !== 0) {
    console.log('skipped: the terminal test needs `script` (util-linux) to give the shell a pseudo-terminal');
    return;
  }
  const historyFile = join(cluster!.root, 'shell_history');
  const command = [process.execPath, ...process.execArgv, MAIN, 'shell', '--meta', cluster!.meta.address].map((part) => `'${part}'`).join(' ');
  const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, PETREL_SHELL_HISTORY: historyFile } });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  /** Waits until the output (escape codes stripped) matches `pattern` `count` times. */
  const waitFor = async (pattern: RegExp, count = 1): Promise<void> => {
    const deadline = Date.now() + 15_000;
    const global = new RegExp(pattern.source, 'g');
    for (;;) {
      const plain = output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '');
      if ((plain.match(global)?.length ?? 0) >= count) return;
      assert.ok(Date.now() < deadline, `waiting for ${pattern} ×${count} in:\n${plain}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const type = (keys: string): void => void child.stdin!.write(keys);
  try {
    await waitFor(/>>> /);
    type('use shell_bi\t');
    await waitFor(/use shell_big/);
    type('\r');
    await waitFor(/OK, using table shell_big/);
    await waitFor(/shell_big >>> /);
    type('count_dat\t');
    await waitFor(/count_data/);
    type('\r');
    await waitFor(/rows in 4 partitions of table shell_big/);
    type('\x1b[A');
    await new Promise((resolve) => setTimeout(resolve, 200));
    type('\r');
    await waitFor(/rows in 4 partitions of table shell_big/, 2);
    type('\x03');
    await waitFor(/Ctrl-D or `exit` leaves the shell/);
    // Ctrl-C while a command runs stops the command, not the shell.
    type('clear_data -f -b 1 -j 1\r');
    await waitFor(/clear_data: \d+ rows deleted/);
    type('\x03');
    await waitFor(/ERROR: INTERRUPTED: interrupted/);
    await waitFor(/shell_big >>> /, 5);
    type('exit\r');
    assert.is(await closed, 0, output);
  } finally {
    clearTimeout(killer);
    child.kill('SIGKILL');
  }
  const history = readFileSync(historyFile, 'utf8').split('\n');
  assert.equal(history.slice(0, 5), ['use shell_big', 'count_data', 'count_data', 'clear_data -f -b 1 -j 1', 'exit']);
});

test.run();
