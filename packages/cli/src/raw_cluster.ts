/**
 * A bare-protocol client for cluster tests: meta requests (following NOT_LEADER to the leader,
 * trying every address), and set/get sent straight to a partition's primary from the routing
 * table (refreshed and retried on SERVER_CHANGED or a lost connection). It is deliberately
 * simple — the real client is @petrel/client — and speaks the wire format directly, which is what
 * bad-input tests need too.
 */
import { createServer } from 'node:net';
import { PetrelError, initChecksum } from '@petrel/base';
import {
  CLUSTER_TYPE_IDS,
  type Connection,
  type RoutingResponse,
  connect,
  decodeClusterMessage,
  decodeMessage,
  encodeClusterMessage,
  encodeHello,
  encodeMessage,
  isClusterTypeId,
  partitionIndex as partitionIndexOf,
  peekEnvelope,
  resultOf,
} from '@petrel/protocol';

/**
 * A free port for a server that will be restarted on it. Port 0 would give one from the kernel's
 * ephemeral range (32768–60999 on Linux), where outgoing connections take their source ports —
 * after a kill, a client's reconnection could hold the port and the restart would fail with
 * EADDRINUSE. So ports come from 20000–32767, checked by listening once.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port in 20000–32767');
}

class Link {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (bytes: Buffer) => void; reject: (error: unknown) => void }>();

  constructor(readonly connection: Connection) {
    connection.onMessage((bytes) => {
      const head = peekEnvelope(bytes);
      if (head === undefined) return;
      const waiter = this.waiting.get(head.requestId);
      this.waiting.delete(head.requestId);
      waiter?.resolve(bytes);
    });
    connection.onClose(() => {
      for (const waiter of this.waiting.values()) waiter.reject(new PetrelError('NETWORK_FAILURE', 'connection closed'));
      this.waiting.clear();
    });
  }

  static async open(address: string): Promise<Link> {
    const link = new Link(await connect(address, { timeoutMs: 2000 }));
    await link.request((requestId) => encodeHello('raw-cluster', requestId));
    return link;
  }

  request(encode: (requestId: number) => Uint8Array, timeoutMs = 5000): Promise<Buffer> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new PetrelError('TIMEOUT', `no answer in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(requestId, {
        resolve: (bytes) => {
          clearTimeout(timer);
          resolve(bytes);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      if (!this.connection.send(encode(requestId))) {
        this.waiting.delete(requestId);
        clearTimeout(timer);
        reject(new PetrelError('NETWORK_FAILURE', 'connection closed'));
      }
    });
  }

  close(): void {
    this.connection.close();
  }
}

export class RawCluster {
  private metaLink: Link | undefined;
  private metaIndex = 0;
  private readonly links = new Map<string, Link>();
  private readonly routing = new Map<string, RoutingResponse>();

  private constructor(private readonly metaAddresses: string[]) {}

  static async open(metaAddresses: string[]): Promise<RawCluster> {
    await initChecksum();
    return new RawCluster([...metaAddresses]);
  }

  /** A meta request, following NOT_LEADER and trying each address, for up to 20 s. */
  async meta(type: keyof typeof CLUSTER_TYPE_IDS, body: unknown): Promise<unknown> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        if (this.metaLink === undefined || !this.metaLink.connection.isOpen) {
          this.metaLink = await Link.open(this.metaAddresses[this.metaIndex % this.metaAddresses.length]!);
        }
        const reply = await this.metaLink.request((requestId) => encodeClusterMessage(CLUSTER_TYPE_IDS[type], requestId, body));
        return resultOf(decodeClusterMessage(reply).body);
      } catch (error) {
        const code = (error as PetrelError).code;
        if (code === 'NOT_LEADER' && this.metaAddresses.length === 1) throw error;
        if (code !== 'NOT_LEADER' && code !== 'NETWORK_FAILURE' && code !== 'TIMEOUT') throw error;
        if (Date.now() > deadline) throw error;
        const leader = (error as { leader?: string }).leader;
        this.metaLink?.close();
        this.metaLink = undefined;
        const index = leader === undefined ? -1 : this.metaAddresses.indexOf(leader);
        this.metaIndex = index >= 0 ? index : this.metaIndex + 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async waitHealthy(table: string, timeoutMs: number): Promise<RoutingResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const routing = (await this.meta('queryRouting', { name: table })) as RoutingResponse;
      if (routing.partitions.every((p) => p.primary !== null && p.secondaries.length >= routing.table.replicaCount - 1)) {
        this.routing.set(table, routing);
        return routing;
      }
      if (Date.now() > deadline) throw new PetrelError('TIMEOUT', `table ${table} not healthy within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async link(address: string): Promise<Link> {
    let link = this.links.get(address);
    if (link === undefined || !link.connection.isOpen) {
      link = await Link.open(address);
      this.links.set(address, link);
    }
    return link;
  }

  /** Sends a routed request to the partition's primary, refreshing routing and retrying for up to `timeoutMs`. */
  async call(table: string, hashKey: string, sortKey: string, name: 'set' | 'get' | 'del', request: Record<string, unknown>, timeoutMs = 20_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let routing = this.routing.get(table);
      if (routing === undefined) {
        routing = (await this.meta('queryRouting', { name: table })) as RoutingResponse;
        this.routing.set(table, routing);
      }
      const partitionIndex = partitionIndexOf(Buffer.from(hashKey), Buffer.from(sortKey), routing.table.partitionCount);
      const primary = routing.partitions[partitionIndex]?.primary;
      try {
        if (primary === null || primary === undefined) throw new PetrelError('SERVER_CHANGED', 'no primary yet');
        const link = await this.link(primary);
        const header = { tableId: routing.table.id, partitionIndex, timeoutMs: 5000 };
        const reply = decodeMessage(await link.request((requestId) => encodeMessage({ kind: 'request', name, requestId, body: { header, request } } as never)));
        if (reply.kind === 'error') throw new PetrelError(reply.body.error.code, reply.body.error.message);
        return reply.body as unknown as Record<string, unknown>;
      } catch (error) {
        const code = (error as PetrelError).code;
        if (!['SERVER_CHANGED', 'NETWORK_FAILURE', 'NOT_ENOUGH_MEMBER', 'TIMEOUT', 'APP_BUSY'].includes(code) || Date.now() > deadline) throw error;
        this.routing.delete(table);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async set(table: string, hashKey: string, sortKey: string, value: string): Promise<void> {
    const response = await this.call(table, hashKey, sortKey, 'set', { hashKey: Buffer.from(hashKey), sortKey: Buffer.from(sortKey), value: Buffer.from(value), ttlSeconds: 0 });
    if (response.error !== null && response.error !== undefined) throw new PetrelError('SERVER_INTERNAL_ERROR', JSON.stringify(response.error));
  }

  async get(table: string, hashKey: string, sortKey: string): Promise<string | null> {
    const response = await this.call(table, hashKey, sortKey, 'get', { hashKey: Buffer.from(hashKey), sortKey: Buffer.from(sortKey) });
    const value = response.value as Buffer | null | undefined;
    return value === null || value === undefined ? null : Buffer.from(value).toString();
  }

  close(): void {
    this.metaLink?.close();
    for (const link of this.links.values()) link.close();
  }
}

export { isClusterTypeId };
