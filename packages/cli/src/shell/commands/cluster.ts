/**
 * Cluster and table administration: cluster_info, nodes, ls, app, create, drop, recall and the
 * table envs (get_app_envs, set_app_envs, del_app_envs on the table in use). Everything here is a
 * request to the meta leader through the client's Admin API.
 */
import type { PartitionConfig, TableInfo } from '@petrel/client';
import type { Command } from '../command.js';
import type { ShellContext } from '../context.js';
import { ShellError } from '../errors.js';
import { type Cell, formatDuration, formatPairs, formatTable, formatUnixSeconds } from '../format.js';
import { argumentAt, optionChoice, optionInteger, optionSwitch, optionText, parseInteger } from '../options.js';
import { tokenText } from '../tokenizer.js';

/** Admin calls that wait for partitions to become healthy get at least this long. */
const SLOW_ADMIN_TIMEOUT_MS = 30_000;

function snakeCase(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
}

function plain(value: unknown): Cell {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return value;
  return JSON.stringify(value);
}

function envsText(envs: Readonly<Record<string, string>>): string {
  const keys = Object.keys(envs).sort();
  return keys.length === 0 ? '-' : keys.map((key) => `${key}=${envs[key]}`).join(',');
}

function isHealthy(partition: PartitionConfig, replicaCount: number): boolean {
  return partition.primary !== null && partition.secondaries.length >= replicaCount - 1;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export const clusterInfo: Command = {
  name: 'cluster_info',
  group: 'cluster',
  summary: 'show the meta servers, the leader, and counts of tables, replica servers and partitions',
  examples: ['cluster_info'],
  async run(context) {
    const info = await context.race(context.client.admin.clusterInfo(context.call));
    const pairs: [string, Cell][] = [
      ['meta_servers', context.settings.metaServers.join(',')],
      ['meta_leader', context.client.metaLeader],
    ];
    for (const [key, value] of Object.entries(info)) if (key !== 'leader') pairs.push([snakeCase(key), plain(value)]);
    context.lines(formatPairs(pairs));
  },
};

export const nodes: Command = {
  name: 'nodes',
  group: 'cluster',
  summary: 'list the replica servers: alive or not, and how many primaries and secondaries each holds',
  options: [
    { short: 'd', long: 'detailed', kind: 'switch', description: 'also show the replicas of each table on each server' },
    { short: 's', long: 'status', kind: 'value', valueName: 'all|alive|unalive', description: 'only the servers in this state (default all)' },
  ],
  examples: ['nodes', 'nodes -d', 'nodes -s unalive'],
  async run(context, args) {
    const status = optionChoice(args, 'status', ['all', 'alive', 'unalive'] as const) ?? 'all';
    const all = await context.race(context.client.admin.listNodes(context.call));
    const shown = all.filter((node) => status === 'all' || (status === 'alive') === node.alive);
    context.lines(
      formatTable(
        ['address', 'status', 'replica_count', 'primary_count', 'secondary_count'],
        shown.map((node) => [node.address, node.alive ? 'ALIVE' : 'UNALIVE', node.primaries + node.secondaries, node.primaries, node.secondaries]),
      ),
    );
    if (optionSwitch(args, 'detailed')) {
      const tables = await context.race(context.client.admin.listTables(context.call));
      const rows: Cell[][] = [];
      for (const table of tables) {
        const info = await context.race(context.client.admin.tableInfo(table.name, context.call));
        for (const node of shown) {
          const primaries = info.partitions.filter((partition) => partition.primary === node.address).length;
          const secondaries = info.partitions.filter((partition) => partition.secondaries.includes(node.address)).length;
          if (primaries + secondaries > 0) rows.push([node.address, table.name, primaries, secondaries]);
        }
      }
      context.out('');
      context.lines(rows.length === 0 ? ['no replicas on these servers'] : formatTable(['address', 'app_name', 'primary_count', 'secondary_count'], rows));
    }
    const alive = all.filter((node) => node.alive).length;
    context.out('');
    context.lines(formatPairs([
      ['total_node_count', all.length],
      ['alive_node_count', alive],
      ['unalive_node_count', all.length - alive],
    ]));
  },
};

export const ls: Command = {
  name: 'ls',
  group: 'table',
  summary: 'list the tables',
  options: [
    { short: 'a', long: 'all', kind: 'switch', description: 'include dropped tables (recallable until reserve_until)' },
    { short: 'd', long: 'detailed', kind: 'switch', description: 'also count healthy and unhealthy partitions of each table' },
    { short: 's', long: 'status', kind: 'value', valueName: 'all|available|dropped', description: 'only the tables in this state (implies -a for dropped)' },
  ],
  examples: ['ls', 'ls -a', 'ls -d'],
  async run(context, args) {
    const status = optionChoice(args, 'status', ['all', 'available', 'dropped'] as const);
    const includeDropped = optionSwitch(args, 'all') || status === 'all' || status === 'dropped';
    const tables = await context.race(context.client.admin.listTables({ ...context.call, includeDropped }));
    context.rememberTableNames(tables);
    const shown = tables.filter((table) => status === undefined || status === 'all' || table.status === status).sort((a, b) => a.id - b.id);
    const detailed = optionSwitch(args, 'detailed');
    const headers = ['app_id', 'status', 'app_name', 'partition_count', 'replica_count', 'envs'];
    if (detailed) headers.push('healthy', 'unhealthy');
    if (includeDropped) headers.push('drop_time', 'reserve_until');
    const rows: Cell[][] = [];
    for (const table of shown) {
      const row: Cell[] = [table.id, table.status, table.name, table.partitionCount, table.replicaCount, Object.keys(table.envs).length];
      if (detailed) {
        if (table.status === 'available') {
          const info = await context.race(context.client.admin.tableInfo(table.name, context.call));
          const healthy = info.partitions.filter((partition) => isHealthy(partition, info.replicaCount)).length;
          row.push(healthy, info.partitions.length - healthy);
        } else {
          row.push(null, null);
        }
      }
      if (includeDropped) row.push(formatUnixSeconds(table.dropTime), formatUnixSeconds(table.reserveUntil));
      rows.push(row);
    }
    context.lines(formatTable(headers, rows));
    context.out('');
    context.out(`${plural(shown.length, 'table')}`);
  },
};

export const app: Command = {
  name: 'app',
  group: 'table',
  summary: 'show a table: id, counts, envs and partition health (-d: every partition and server)',
  args: '<app_name>',
  minArgs: 1,
  tableArgument: 0,
  options: [{ short: 'd', long: 'detailed', kind: 'switch', description: 'list every partition (ballot, primary, secondaries) and the replicas per server' }],
  examples: ['app temp', 'app temp -d'],
  async run(context, args) {
    const info = await context.race(context.client.admin.tableInfo(tokenText(argumentAt(args, 0)), context.call));
    const healthy = info.partitions.filter((partition) => isHealthy(partition, info.replicaCount)).length;
    context.lines(formatPairs([
      ['app_name', info.name],
      ['app_id', info.id],
      ['status', info.status],
      ['partition_count', info.partitionCount],
      ['replica_count', info.replicaCount],
      ['envs', envsText(info.envs)],
      ['healthy_partitions', `${healthy} of ${info.partitions.length}`],
    ]));
    if (!optionSwitch(args, 'detailed')) return;
    context.out('');
    context.lines(
      formatTable(
        ['pidx', 'ballot', 'replica_count', 'primary', 'secondaries'],
        info.partitions.map((partition) => [
          partition.index,
          partition.ballot,
          `${(partition.primary === null ? 0 : 1) + partition.secondaries.length}/${info.replicaCount}`,
          partition.primary ?? '(none)',
          partition.secondaries.length === 0 ? '-' : partition.secondaries.join(','),
        ]),
        ['right', 'right', 'right', 'left', 'left'],
      ),
    );
    const perNode = new Map<string, { primaries: number; secondaries: number }>();
    const entry = (node: string) => perNode.get(node) ?? perNode.set(node, { primaries: 0, secondaries: 0 }).get(node)!;
    for (const partition of info.partitions) {
      if (partition.primary !== null) entry(partition.primary).primaries++;
      for (const node of partition.secondaries) entry(node).secondaries++;
    }
    context.out('');
    context.lines(
      formatTable(
        ['node', 'primary', 'secondary', 'total'],
        [...perNode].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([node, count]) => [node, count.primaries, count.secondaries, count.primaries + count.secondaries]),
      ),
    );
  },
};

function parseEnvs(text: string): Record<string, string> {
  const envs: Record<string, string> = {};
  for (const part of text.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new ShellError('USAGE', `envs are k1=v1,k2=v2…; ${JSON.stringify(part)} has no key=value`);
    envs[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return envs;
}

export const create: Command = {
  name: 'create',
  group: 'table',
  summary: 'create a table and wait until every partition is healthy',
  args: '<app_name>',
  minArgs: 1,
  options: [
    { short: 'p', long: 'partition_count', kind: 'value', valueName: 'num', description: 'partitions (default 8)' },
    { short: 'r', long: 'replica_count', kind: 'value', valueName: 'num', description: 'replicas of each partition (default 3)' },
    { short: 'e', long: 'envs', kind: 'value', valueName: 'k1=v1,k2=v2...', description: 'table envs to start with' },
  ],
  details: ['Fails with APP_EXIST when the table exists. Waits at least 30 s (or the `timeout`, if longer).'],
  examples: ['create temp', 'create users -p 16 -r 3', 'create cache -p 4 -e default_ttl=3600'],
  async run(context, args) {
    const name = tokenText(argumentAt(args, 0));
    const partitionCount = optionInteger(args, 'partition_count', 1, 65_536) ?? 8;
    const replicaCount = optionInteger(args, 'replica_count', 1, 100) ?? 3;
    const envsOption = optionText(args, 'envs');
    const envs = envsOption === undefined ? {} : parseEnvs(envsOption);
    const startMs = Date.now();
    const table = await context.race(
      context.client.admin.createTable(name, { partitionCount, replicaCount, envs, timeoutMs: Math.max(context.timeoutMs, SLOW_ADMIN_TIMEOUT_MS) }),
    );
    context.forgetTable(name);
    context.out(`create table ${table.name} succeeded: app_id ${table.id}, ${table.partitionCount} partitions × ${table.replicaCount} replicas, healthy after ${formatDuration(Date.now() - startMs)}`);
  },
};

export const drop: Command = {
  name: 'drop',
  group: 'table',
  summary: 'drop a table (soft delete: `recall <app_id>` brings it back within the reserve time)',
  args: '<app_name>',
  minArgs: 1,
  tableArgument: 0,
  options: [{ short: 'r', long: 'reserve_seconds', kind: 'value', valueName: 'num', description: "how long the data stays recallable (default: the meta server's)" }],
  examples: ['drop temp', 'drop temp -r 3600'],
  async run(context, args) {
    const name = tokenText(argumentAt(args, 0));
    const reserveSeconds = optionInteger(args, 'reserve_seconds', 0);
    const before = await context.race(context.client.admin.tableInfo(name, context.call));
    await context.race(context.client.admin.dropTable(name, { ...context.call, ...(reserveSeconds === undefined ? {} : { reserveSeconds }) }));
    context.forgetTable(name);
    if (context.tableName === name) context.tableName = null;
    let reserve = '';
    try {
      const dropped = (await context.client.admin.listTables({ ...context.call, includeDropped: true })).find((table: TableInfo) => table.id === before.id);
      if (dropped?.reserveUntil !== undefined) reserve = ` until ${formatUnixSeconds(dropped.reserveUntil)}`;
    } catch {
      // The drop succeeded; the reserve time is only a courtesy.
    }
    context.out(`drop table ${name} (app_id ${before.id}) succeeded; \`recall ${before.id}\` brings it back${reserve}`);
  },
};

export const recall: Command = {
  name: 'recall',
  group: 'table',
  summary: 'bring back a dropped table by its app_id (`ls -a` shows them), optionally under a new name',
  args: '<app_id> [new_app_name]',
  minArgs: 1,
  maxArgs: 2,
  examples: ['recall 3', 'recall 3 temp_restored'],
  async run(context, args) {
    const id = parseInteger(tokenText(argumentAt(args, 0)), 'app_id', 0);
    const newName = args.positional[1] === undefined ? undefined : tokenText(args.positional[1]);
    const table = await context.race(context.client.admin.recallTable(id, newName, { timeoutMs: Math.max(context.timeoutMs, SLOW_ADMIN_TIMEOUT_MS) }));
    context.forgetTable(table.name);
    context.out(`recall table ${id} succeeded: available as ${table.name} (${table.partitionCount} partitions × ${table.replicaCount} replicas)`);
  },
};

async function currentTableName(context: ShellContext): Promise<string> {
  return (await context.currentTable()).name;
}

export const getAppEnvs: Command = {
  name: 'get_app_envs',
  group: 'table',
  summary: 'show the envs of the table in use',
  examples: ['get_app_envs'],
  async run(context) {
    const name = await currentTableName(context);
    const info = await context.race(context.client.admin.tableInfo(name, context.call));
    const keys = Object.keys(info.envs).sort();
    if (keys.length === 0) {
      context.out(`table ${name} has no envs`);
      return;
    }
    context.lines(formatTable(['key', 'value'], keys.map((key) => [key, info.envs[key]!]), ['left', 'left']));
  },
};

export const setAppEnvs: Command = {
  name: 'set_app_envs',
  group: 'table',
  summary: 'set envs of the table in use',
  args: '<key> <value> [key value...]',
  minArgs: 2,
  maxArgs: Infinity,
  details: ['Envs the servers act on include default_ttl (seconds), replica.write_throttling and replica.deny_client_request.'],
  examples: ['set_app_envs default_ttl 86400', 'set_app_envs k1 v1 k2 v2'],
  async run(context, args) {
    if (args.positional.length % 2 !== 0) throw new ShellError('USAGE', 'set_app_envs takes key value pairs: an even number of arguments');
    const name = await currentTableName(context);
    const envs: Record<string, string> = {};
    for (let i = 0; i < args.positional.length; i += 2) envs[tokenText(argumentAt(args, i))] = tokenText(argumentAt(args, i + 1));
    await context.race(context.client.admin.setTableEnvs(name, envs, context.call));
    context.out(`set ${plural(Object.keys(envs).length, 'env')} of table ${name}: OK`);
  },
};

export const delAppEnvs: Command = {
  name: 'del_app_envs',
  group: 'table',
  summary: 'delete envs of the table in use',
  args: '<key> [key...]',
  minArgs: 1,
  maxArgs: Infinity,
  examples: ['del_app_envs default_ttl'],
  async run(context, args) {
    const name = await currentTableName(context);
    const keys = args.positional.map(tokenText);
    await context.race(context.client.admin.delTableEnvs(name, keys, context.call));
    context.out(`deleted ${plural(keys.length, 'env')} of table ${name}: OK`);
  },
};
