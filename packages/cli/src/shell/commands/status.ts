/**
 * Server and table statistics: server_info (who the servers are and whether they are healthy),
 * server_stat (request rates, latency and storage per server, from two scrapes of /metrics), and
 * app_stat (partition health per table and, from the replica servers' applied decrees, the
 * mutations applied to each table and their rate). See status_endpoints.ts for how the shell
 * finds the servers' HTTP endpoints, and each command's help for what Petrel does not export.
 */
import type { Command } from '../command.js';
import type { ShellContext } from '../context.js';
import { ShellError } from '../errors.js';
import { type Cell, formatBytes, formatNumber, formatTable } from '../format.js';
import { difference, groupBy, histogramQuantile, type Sample, sumOf } from '../metrics_text.js';
import { optionInteger, optionText } from '../options.js';
import { ENDPOINT_DETAILS, ENDPOINT_OPTIONS, type StatusEndpoint, discoverEndpoints, fetchMetrics, noEndpointsNote } from '../status_endpoints.js';

const READ_OPS = ['get', 'exist', 'ttl', 'multiGet', 'sortKeyCount', 'batchGet'];
const WRITE_OPS = ['set', 'multiSet', 'del', 'multiDel', 'incr', 'checkAndSet', 'checkAndMutate'];

const INTERVAL_OPTION = { short: 'i', long: 'interval_ms', kind: 'value', valueName: 'num', description: 'time between the two scrapes rates come from (default 1000)' } as const;

async function replicaAddresses(context: ShellContext): Promise<string[]> {
  return (await context.race(context.client.admin.listNodes(context.call))).map((node) => node.address);
}

function sleep(context: ShellContext, ms: number): Promise<void> {
  return context.race(new Promise<void>((resolve) => setTimeout(resolve, ms)));
}

function healthText(endpoint: StatusEndpoint): string {
  const health = endpoint.health;
  if (health === undefined) return endpoint.error ?? 'no answer';
  if (endpoint.role === 'meta-server') {
    return `leader ${String(health.leader)}, ${String(health.tables)} tables, ${String(health.healthyPartitions)}/${String(health.partitions)} partitions healthy, ${String(health.aliveReplicaServers)}/${String(health.replicaServers)} replica servers alive`;
  }
  const roles = health.replicas !== null && typeof health.replicas === 'object' ? Object.entries(health.replicas as Record<string, number>).map(([role, count]) => `${count} ${role}`) : [];
  return [`lease ${health.lease === true ? 'valid' : 'not valid'}`, ...roles].join(', ');
}

export const serverInfo: Command = {
  name: 'server_info',
  group: 'status',
  summary: 'show every server: role, address, alive (as the meta sees it), healthy (as it says itself)',
  options: ENDPOINT_OPTIONS,
  details: [
    ...ENDPOINT_DETAILS,
    '',
    'Without status endpoints it shows what the meta knows: the meta servers and the replica servers',
    'with their liveness. Pegasus also shows each server\'s version and start time; Petrel servers',
    'do not export them.',
  ],
  examples: ['server_info', 'server_info -t replica-server', 'server_info -l 127.0.0.1:35601,127.0.0.1:35801'],
  async run(context, args) {
    const type = optionText(args, 'type') ?? 'all';
    const nodes = await context.race(context.client.admin.listNodes(context.call));
    const endpoints = await discoverEndpoints(context, args, async () => nodes.map((node) => node.address));
    const byAddress = new Map(endpoints.filter((endpoint) => endpoint.address !== undefined).map((endpoint) => [endpoint.address!, endpoint]));
    const leader = context.client.metaLeader;
    const rows: Cell[][] = [];
    if (type === 'all' || type === 'meta-server') {
      const metas = new Set([...context.settings.metaServers.map((address) => address.replace(/^wss?:\/\//, '')), ...endpoints.filter((endpoint) => endpoint.role === 'meta-server').map((endpoint) => endpoint.address!)]);
      for (const address of metas) {
        const endpoint = byAddress.get(address);
        rows.push(['meta-server', address, address === leader ? 'leader' : '-', endpoint?.health === undefined ? '-' : String(endpoint.health.healthy), endpoint?.http ?? '-', endpoint === undefined ? '-' : healthText(endpoint)]);
      }
    }
    if (type === 'all' || type === 'replica-server') {
      for (const node of nodes) {
        const endpoint = byAddress.get(node.address);
        rows.push(['replica-server', node.address, node.alive ? 'ALIVE' : 'UNALIVE', endpoint?.health === undefined ? '-' : String(endpoint.health.healthy), endpoint?.http ?? '-', endpoint === undefined ? '-' : healthText(endpoint)]);
      }
    }
    for (const endpoint of endpoints) {
      if (endpoint.address === undefined) rows.push([endpoint.role ?? '?', '-', '-', '-', endpoint.http, endpoint.error ?? 'unrecognised /health']);
    }
    context.lines(formatTable(['role', 'address', 'alive', 'healthy', 'status_endpoint', 'details'], rows));
    if (endpoints.length === 0) context.note(`note: ${noEndpointsNote()}`);
  },
};

function sumOps(samples: readonly Sample[], ops: readonly string[], outcome?: string): number {
  let sum = 0;
  for (const op of ops) sum += sumOf(samples, 'petrel_replica_requests_total', outcome === undefined ? { op } : { op, outcome }) ?? 0;
  return sum;
}

/** A histogram's p99 over the interval in ms, as an upper bound from its buckets ('-' when nothing was observed). */
function p99Ms(delta: readonly Sample[], name: string, where?: Readonly<Record<string, string>>): string {
  const p99 = histogramQuantile(delta, name, 0.99, where);
  return p99 === undefined ? '-' : p99 === Infinity ? '>max' : formatNumber(p99 * 1000);
}

/** The share of the interval spent in garbage-collection pauses (petrel_gc_pause_seconds). */
function gcPause(delta: readonly Sample[], seconds: number): string {
  const paused = sumOf(delta, 'petrel_gc_pause_seconds_sum');
  return paused === undefined ? '-' : `${formatNumber((100 * paused) / seconds)}%`;
}

export const serverStat: Command = {
  name: 'server_stat',
  group: 'status',
  summary: 'show request rates, latency and storage of every server (from its /metrics)',
  options: [...ENDPOINT_OPTIONS, INTERVAL_OPTION],
  details: [
    ...ENDPOINT_DETAILS,
    '',
    'Rates are the change between two scrapes --interval_ms apart. Replica servers: reads (get, exist,',
    'ttl, multi_get, count, batch get), writes (set, multi_set, del, multi_del, incr, check_and_*),',
    'scans, refused or failed requests, the p99 (an upper bound from histogram buckets) and mean',
    'latency over the interval, replicas, SSTable and memtable bytes, flushes, compactions and the',
    'block cache hit ratio since start, the share of the interval the server\'s main thread spent',
    'in garbage-collection pauses, the p99 of its mutation logs\' fsyncs, and the p99 of the prepares',
    'it sent as a primary, from sending to the secondary\'s ack. Meta servers: requests per second',
    'and errors. Pegasus also shows per-server CPU, memory and disk numbers; Petrel servers do not',
    'export them.',
  ],
  examples: ['server_stat', 'server_stat -t replica-server -i 5000'],
  async run(context, args) {
    const intervalMs = optionInteger(args, 'interval_ms', 10, 600_000) ?? 1000;
    const endpoints = (await discoverEndpoints(context, args, () => replicaAddresses(context))).filter((endpoint) => endpoint.role !== undefined);
    if (endpoints.length === 0) throw new ShellError('NOT_AVAILABLE', noEndpointsNote());
    const first = await Promise.all(endpoints.map((endpoint) => fetchMetrics(context, endpoint.http)));
    const startMs = Date.now();
    await sleep(context, intervalMs);
    const second = await Promise.all(endpoints.map((endpoint) => fetchMetrics(context, endpoint.http)));
    const seconds = (Date.now() - startMs) / 1000;
    const replicaRows: Cell[][] = [];
    const metaRows: Cell[][] = [];
    endpoints.forEach((endpoint, index) => {
      const now = second[index]!;
      const delta = difference(now, first[index]!);
      const address = endpoint.address ?? endpoint.http;
      if (endpoint.role === 'meta-server') {
        const requests = sumOf(delta, 'petrel_meta_requests_total') ?? 0;
        const ok = sumOf(delta, 'petrel_meta_requests_total', { outcome: 'ok' }) ?? 0;
        metaRows.push([address, formatNumber(requests / seconds), formatNumber((requests - ok) / seconds), sumOf(now, 'petrel_meta_tables') ?? null, sumOf(now, 'petrel_meta_nodes', { state: 'alive' }) ?? null, sumOf(now, 'petrel_meta_partitions', { state: 'healthy' }) ?? null]);
        return;
      }
      const all = sumOf(delta, 'petrel_replica_requests_total') ?? 0;
      const ok = sumOf(delta, 'petrel_replica_requests_total', { outcome: 'ok' }) ?? 0;
      const latencyCount = sumOf(delta, 'petrel_replica_request_seconds_count') ?? 0;
      const latencySum = sumOf(delta, 'petrel_replica_request_seconds_sum') ?? 0;
      const roles = groupBy(now, 'petrel_replica_partitions', 'role');
      const hits = sumOf(now, 'petrel_block_cache_hits') ?? 0;
      const misses = sumOf(now, 'petrel_block_cache_misses') ?? 0;
      replicaRows.push([
        address,
        formatNumber(sumOps(delta, READ_OPS) / seconds),
        formatNumber(sumOps(delta, WRITE_OPS) / seconds),
        formatNumber(sumOps(delta, ['scan']) / seconds),
        formatNumber((all - ok) / seconds),
        p99Ms(delta, 'petrel_replica_request_seconds'),
        latencyCount === 0 ? '-' : formatNumber((latencySum / latencyCount) * 1000),
        `${roles.get('primary') ?? 0}/${roles.get('secondary') ?? 0}`,
        formatBytes(sumOf(now, 'petrel_lsm_bytes') ?? 0),
        formatBytes(sumOf(now, 'petrel_lsm_memtable_bytes') ?? 0),
        sumOf(now, 'petrel_lsm_flushes') ?? 0,
        sumOf(now, 'petrel_lsm_compactions') ?? 0,
        hits + misses === 0 ? '-' : `${formatNumber((100 * hits) / (hits + misses))}%`,
        gcPause(delta, seconds),
        p99Ms(delta, 'petrel_log_sync_seconds'),
        p99Ms(delta, 'petrel_replica_prepare_seconds', { side: 'primary' }),
      ]);
    });
    const right = (count: number) => ['left' as const, ...Array.from({ length: count - 1 }, () => 'right' as const)];
    if (replicaRows.length > 0) {
      const headers = ['replica_server', 'read_qps', 'write_qps', 'scan_qps', 'error_qps', 'p99_ms', 'mean_ms', 'pri/sec', 'sstables', 'memtables', 'flushes', 'compactions', 'cache_hit', 'gc_pause', 'sync_p99_ms', 'prepare_p99_ms'];
      context.lines(formatTable(headers, replicaRows, right(headers.length)));
    }
    if (metaRows.length > 0) {
      if (replicaRows.length > 0) context.out('');
      const headers = ['meta_server', 'request_qps', 'error_qps', 'tables', 'alive_nodes', 'healthy_partitions'];
      context.lines(formatTable(headers, metaRows, right(headers.length)));
    }
    context.out('');
    context.out(`rates over ${seconds.toFixed(1)} s`);
  },
};

/** The highest applied decree of each gpid across the replica servers' scrapes. */
function appliedDecrees(scrapes: readonly Sample[][]): Map<string, number> {
  const decrees = new Map<string, number>();
  for (const samples of scrapes) {
    for (const sample of samples) {
      if (sample.name !== 'petrel_replica_applied_decree') continue;
      const gpid = sample.labels.gpid;
      if (gpid !== undefined) decrees.set(gpid, Math.max(decrees.get(gpid) ?? 0, sample.value));
    }
  }
  return decrees;
}

export const appStat: Command = {
  name: 'app_stat',
  group: 'status',
  summary: 'show each table: partition health, and mutations applied (total and per second)',
  options: [
    { short: 'a', long: 'app_name', kind: 'value', valueName: 'str', description: 'one table, partition by partition', tableName: true },
    { short: 'l', long: 'list', kind: 'value', valueName: 'host:port,...', description: 'status endpoints (HTTP) to ask, instead of the session ones' },
    INTERVAL_OPTION,
  ],
  details: [
    'Partition health comes from the meta. Mutations come from the replica servers\' applied decree',
    'of each partition (petrel_replica_applied_decree in /metrics): the total is the sum over the',
    "partitions, the rate its change over --interval_ms. Pegasus's app_stat also shows per-table",
    'read/write QPS by operation and storage size; Petrel replica servers export requests and',
    'storage per server, not per table (`server_stat` shows them). An idle partition still applies',
    'an empty mutation at each group check, so an idle table shows a small steady rate.',
    '',
    ...ENDPOINT_DETAILS,
  ],
  examples: ['app_stat', 'app_stat -a temp'],
  async run(context, args) {
    const only = optionText(args, 'app_name');
    const intervalMs = optionInteger(args, 'interval_ms', 10, 600_000) ?? 1000;
    const tables = only === undefined ? await context.race(context.client.admin.listTables(context.call)) : [await context.race(context.client.admin.tableInfo(only, context.call))];
    const infos = [];
    for (const table of tables) infos.push(await context.race(context.client.admin.tableInfo(table.name, context.call)));
    const endpoints = (await discoverEndpoints(context, args, () => replicaAddresses(context))).filter((endpoint) => endpoint.role === 'replica-server');
    let before: Map<string, number> | undefined;
    let after: Map<string, number> | undefined;
    let seconds = 0;
    if (endpoints.length > 0) {
      before = appliedDecrees(await Promise.all(endpoints.map((endpoint) => fetchMetrics(context, endpoint.http))));
      const startMs = Date.now();
      await sleep(context, intervalMs);
      after = appliedDecrees(await Promise.all(endpoints.map((endpoint) => fetchMetrics(context, endpoint.http))));
      seconds = (Date.now() - startMs) / 1000;
    }
    const decreeOf = (decrees: Map<string, number> | undefined, gpid: string): number | undefined => decrees?.get(gpid);
    if (only !== undefined) {
      const info = infos[0]!;
      const rows: Cell[][] = info.partitions.map((partition) => {
        const gpid = `${info.id}.${partition.index}`;
        const now = decreeOf(after, gpid);
        const then = decreeOf(before, gpid);
        return [partition.index, partition.primary ?? '(none)', partition.secondaries.length, now ?? null, now === undefined || then === undefined ? '-' : formatNumber((now - then) / seconds)];
      });
      context.lines(formatTable(['pidx', 'primary', 'secondaries', 'applied_decree', 'mutations_per_s'], rows));
    } else {
      const rows: Cell[][] = infos.map((info) => {
        const healthy = info.partitions.filter((partition) => partition.primary !== null && partition.secondaries.length >= info.replicaCount - 1).length;
        let total: number | undefined;
        let change = 0;
        for (const partition of info.partitions) {
          const gpid = `${info.id}.${partition.index}`;
          const now = decreeOf(after, gpid);
          if (now === undefined) continue;
          total = (total ?? 0) + now;
          change += now - (decreeOf(before, gpid) ?? now);
        }
        return [info.name, info.id, info.partitionCount, healthy, info.partitionCount - healthy, total ?? null, total === undefined ? '-' : formatNumber(change / seconds)];
      });
      context.lines(formatTable(['app_name', 'app_id', 'partitions', 'healthy', 'unhealthy', 'mutations', 'mutations_per_s'], rows));
    }
    if (endpoints.length === 0) context.note(`note: mutation counts need the replica servers' /metrics; ${noEndpointsNote()}`);
    else {
      context.out('');
      context.out(`rates over ${seconds.toFixed(1)} s, from ${endpoints.length} replica servers`);
    }
  },
};
