/**
 * PetrelClient: the entry point of CLIENT_API.md. It owns the connection pool (one session per
 * server), the meta client (leader discovery), the routing cache (one TableRouting per table id,
 * shared by every Table opened on it) and the set of calls in progress, which `close()` ends
 * with CLOSED.
 */
import { PetrelError, initChecksum } from '@petrel/base';
import { AdminClient } from './admin.js';
import { canonicalAddress } from './address.js';
import { invalid, nonNegativeIntegerOf, positiveIntegerOf, tableNameOf, timeoutOf } from './arguments.js';
import { type CallContext, LiveCalls, withDeadline } from './call_context.js';
import { ConnectionPool } from './connection_pool.js';
import { MetaClient } from './meta_client.js';
import { routingOf } from './meta_results.js';
import { PartitionCaller } from './partition_caller.js';
import { TableRouting } from './routing.js';
import type { Session } from './session.js';
import { TableClient } from './table.js';
import type { Admin, ClientOptions, Table, Timeout } from './types.js';

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION = 1000;
export const DEFAULT_MAX_QUEUED_PER_CONNECTION = 10_000;
export const DEFAULT_CONNECT_TIMEOUT_MS = 3000;

export class PetrelClient {
  readonly admin: Admin;
  private readonly timeoutMs: number;
  private readonly pool: ConnectionPool;
  private readonly meta: MetaClient;
  private readonly routings = new Map<number, TableRouting>();
  private readonly live = new LiveCalls();
  private closed = false;

  constructor(options: ClientOptions) {
    if (typeof options !== 'object' || options === null) invalid('options must be { metaServers, timeoutMs? }');
    const { metaServers } = options;
    if (!Array.isArray(metaServers) || metaServers.length === 0) invalid('metaServers must list at least one meta server (host:port)');
    for (const address of metaServers) {
      if (typeof address !== 'string') invalid('metaServers must be strings (host:port or ws://host:port)');
      canonicalAddress(address);
    }
    this.timeoutMs = timeoutOf(options.timeoutMs, DEFAULT_TIMEOUT_MS);
    const clientName = options.clientName ?? 'petrel-client';
    if (typeof clientName !== 'string' || Buffer.byteLength(clientName) > 256) invalid('clientName must be a string of at most 256 bytes');
    this.pool = new ConnectionPool({
      maxInFlight: positiveIntegerOf(options.maxInFlightPerConnection ?? DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION, 'maxInFlightPerConnection'),
      maxQueued: nonNegativeIntegerOf(options.maxQueuedPerConnection ?? DEFAULT_MAX_QUEUED_PER_CONNECTION, 'maxQueuedPerConnection'),
      connectTimeoutMs: timeoutOf(options.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
      clientName,
    });
    this.meta = new MetaClient(this.pool, metaServers);
    this.admin = new AdminClient(this.meta, this.timeoutMs, this.live, {
      tableDropped: (name) => {
        for (const routing of this.routings.values()) if (routing.name === name) routing.invalidate();
      },
    });
  }

  /** Opens a table by name: its routing comes from the meta. APP_NOT_EXIST when there is no such table. */
  async openTable(name: string, o?: Timeout): Promise<Table> {
    if (this.closed) throw new PetrelError('CLOSED', 'the client is closed');
    tableNameOf(name);
    const timeoutMs = timeoutOf(o?.timeoutMs, this.timeoutMs);
    await initChecksum();
    const routing = await withDeadline(`openTable ${name}`, timeoutMs, async (context) => routingOf(await this.meta.call('queryRouting', { name }, context, true)), this.live);
    if (routing.table.status === 'dropped') throw new PetrelError('APP_NOT_EXIST', `table ${name} was dropped`);
    let cached = this.routings.get(routing.table.id);
    if (cached === undefined) {
      cached = new TableRouting(this.meta, routing, this.timeoutMs, this.live);
      this.routings.set(routing.table.id, cached);
    } else cached.update(routing);
    return new TableClient(new PartitionCaller(cached, this.pool, this.timeoutMs, this.live));
  }

  /** The meta server the client asks first (the leader it last found). */
  get metaLeader(): string {
    return this.meta.currentLeader;
  }

  /** The open sessions, for tests and diagnostics. */
  sessions(): Session[] {
    return this.pool.sessions();
  }

  /** Ends every call in progress with CLOSED and closes every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const error = new PetrelError('CLOSED', 'the client was closed');
    this.live.cancelAll(error);
    this.pool.close();
  }
}
