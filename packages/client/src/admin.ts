/**
 * AdminClient: the table and cluster administration of CLIENT_API.md, as requests to the meta
 * leader (meta_client.ts). Names and counts are checked here first (INVALID_APP_NAME,
 * INVALID_PAR_COUNT, INVALID_REP_COUNT); the meta checks them again, and checks what only it
 * knows (APP_EXIST, APP_NOT_EXIST, enough replica servers).
 *
 * `createTable` resolves once every partition has a primary and `replicaCount - 1` secondaries:
 * after the meta accepted the table, the client polls its routing (20 ms doubling to 200 ms)
 * until it is healthy, or fails with TIMEOUT. Each call has the client's timeout unless its
 * options give one.
 */
import { PetrelError } from '@petrel/base';
import type { PlainValue } from '@petrel/protocol';
import { boolOf, envsOf, invalid, optionsOf, tableNameOf, timeoutOf } from './arguments.js';
import { type CallContext, type LiveCalls, withDeadline } from './call_context.js';
import type { MetaClient } from './meta_client.js';
import { nodeListOf, plainRecordOf, routingOf, tableInfoOf, tableListOf } from './meta_results.js';
import type { Admin, CreateTableOptions, NodeInfo, PartitionConfig, TableInfo, Timeout } from './types.js';

/** What the client needs to know of admin calls that change what it caches. */
export interface AdminHooks {
  tableDropped(name: string): void;
}

function countOf(value: unknown, defaultValue: number, code: 'INVALID_PAR_COUNT' | 'INVALID_REP_COUNT', field: string): number {
  if (value === undefined) return defaultValue;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new PetrelError(code, `${field} must be a positive integer (got ${String(value)})`);
  return value;
}

export class AdminClient implements Admin {
  constructor(
    private readonly meta: MetaClient,
    private readonly defaultTimeoutMs: number,
    private readonly live: LiveCalls,
    private readonly hooks: AdminHooks,
  ) {}

  private run<T>(operation: string, options: { timeoutMs?: number | undefined }, body: (context: CallContext) => Promise<T>): Promise<T> {
    return withDeadline(operation, timeoutOf(options.timeoutMs, this.defaultTimeoutMs), body, this.live);
  }

  private request(operation: Parameters<MetaClient['call']>[0], body: unknown, options: { timeoutMs?: number | undefined }, idempotent: boolean): Promise<PlainValue> {
    return this.run(operation, options, (context) => this.meta.call(operation, body, context, idempotent));
  }

  async createTable(name: string, o?: CreateTableOptions): Promise<TableInfo> {
    const options = optionsOf(o);
    const request = {
      name: tableNameOf(name),
      partitionCount: countOf(options.partitionCount, 8, 'INVALID_PAR_COUNT', 'partitionCount'),
      replicaCount: countOf(options.replicaCount, 3, 'INVALID_REP_COUNT', 'replicaCount'),
      envs: envsOf(options.envs),
      successIfExists: boolOf(options.successIfExists, 'successIfExists', false),
    };
    return this.run('createTable', options, async (context) => {
      const created = await this.meta.call('createTable', request, context, false);
      const fields = created as Record<string, PlainValue | undefined> | null;
      const table = tableInfoOf(fields !== null && typeof fields === 'object' && 'table' in fields ? fields.table : created, 'created table');
      return this.waitHealthy(table, context);
    });
  }

  /** Polls the routing of a new table until every partition has its primary and secondaries. */
  private async waitHealthy(table: TableInfo, context: CallContext): Promise<TableInfo> {
    let pauseMs = 20;
    for (;;) {
      const routing = routingOf(await this.meta.call('queryRouting', { name: table.name }, context, true));
      const healthy = (partition: PartitionConfig) => partition.primary !== null && partition.secondaries.length >= routing.table.replicaCount - 1;
      if (routing.table.id === table.id && routing.partitions.every(healthy)) return routing.table;
      context.lastError = new PetrelError('NOT_ENOUGH_MEMBER', `table ${table.name}: ${routing.partitions.filter((p) => !healthy(p)).length} partitions not yet healthy`);
      await context.sleep(pauseMs);
      pauseMs = Math.min(200, pauseMs * 2);
    }
  }

  async dropTable(name: string, o?: { reserveSeconds?: number; timeoutMs?: number }): Promise<void> {
    const options = optionsOf(o);
    const request: { name: string; reserveSeconds?: number } = { name: tableNameOf(name) };
    if (options.reserveSeconds !== undefined) {
      if (typeof options.reserveSeconds !== 'number' || !Number.isSafeInteger(options.reserveSeconds) || options.reserveSeconds < 0) {
        invalid(`reserveSeconds must be a non-negative integer (got ${String(options.reserveSeconds)})`);
      }
      request.reserveSeconds = options.reserveSeconds;
    }
    try {
      await this.request('dropTable', request, options, false);
    } finally {
      // Whatever the answer, this client's routing of the table must be checked again before use.
      this.hooks.tableDropped(request.name);
    }
  }

  async recallTable(id: number, newName?: string, o?: Timeout): Promise<TableInfo> {
    const options = optionsOf(o);
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) invalid(`table id must be a non-negative integer (got ${String(id)})`);
    const request: { id: number; newName?: string } = { id };
    if (newName !== undefined) request.newName = tableNameOf(newName);
    return tableInfoOf(await this.request('recallTable', request, options, false), 'recalled table');
  }

  async listTables(o?: { includeDropped?: boolean; timeoutMs?: number }): Promise<TableInfo[]> {
    const options = optionsOf(o);
    return tableListOf(await this.request('listTables', { includeDropped: boolOf(options.includeDropped, 'includeDropped', false) }, options, true));
  }

  async tableInfo(name: string, o?: Timeout): Promise<TableInfo & { partitions: PartitionConfig[] }> {
    const options = optionsOf(o);
    const routing = routingOf(await this.request('tableInfo', { name: tableNameOf(name) }, options, true));
    return { ...routing.table, partitions: routing.partitions };
  }

  async setTableEnvs(name: string, envs: Record<string, string>, o?: Timeout): Promise<void> {
    const options = optionsOf(o);
    await this.request('setTableEnvs', { name: tableNameOf(name), envs: envsOf(envs) }, options, true);
  }

  async delTableEnvs(name: string, keys: string[], o?: Timeout): Promise<void> {
    const options = optionsOf(o);
    if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string')) invalid('keys must be an array of strings');
    await this.request('delTableEnvs', { name: tableNameOf(name), keys: [...keys] }, options, true);
  }

  async listNodes(o?: Timeout): Promise<NodeInfo[]> {
    return nodeListOf(await this.request('listNodes', {}, optionsOf(o), true));
  }

  async clusterInfo(o?: Timeout): Promise<Record<string, unknown>> {
    return plainRecordOf(await this.request('clusterInfo', {}, optionsOf(o), true));
  }

  /** Beyond CLIENT_API: the meta's function level (stopped, blind, freezed, steady, lively). */
  async setMetaLevel(level: string, o?: Timeout): Promise<{ level: string; effective: string }> {
    if (typeof level !== 'string') invalid('level must be a string');
    return plainRecordOf(await this.request('setMetaLevel', { level }, optionsOf(o), true)) as { level: string; effective: string };
  }

  /** Beyond CLIENT_API: the configured level and the one in force (freezed while too few servers are alive). */
  async getMetaLevel(o?: Timeout): Promise<{ level: string; effective: string }> {
    return plainRecordOf(await this.request('getMetaLevel', {}, optionsOf(o), true)) as { level: string; effective: string };
  }

  /** Beyond CLIENT_API: a table's replica count; partitions grow or shrink one change at a time. */
  async setReplicaCount(name: string, replicaCount: number, o?: Timeout): Promise<void> {
    if (!Number.isInteger(replicaCount) || replicaCount < 1) invalid('replicaCount must be a positive integer');
    await this.request('setReplicaCount', { name: tableNameOf(name), replicaCount }, optionsOf(o), true);
  }
}
