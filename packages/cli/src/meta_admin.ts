/**
 * The few meta requests onebox needs before any client exists (create a table, wait until it is
 * healthy), over the cluster protocol. Applications use @petrel/client's `admin` instead.
 */
import { PetrelError } from '@petrel/base';
import {
  CLUSTER_TYPE_IDS,
  type Connection,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type RoutingResponse,
  type TableInfo,
  connect,
  decodeClusterMessage,
  encodeClusterMessage,
  encodeMessage,
  isClusterTypeId,
  peekEnvelope,
  resultOf,
} from '@petrel/protocol';

export class MetaAdmin {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: unknown) => void }>();

  private constructor(private readonly connection: Connection) {
    connection.onMessage((bytes) => {
      const head = peekEnvelope(bytes);
      if (head === undefined || !isClusterTypeId(head.typeId)) return;
      const waiter = this.waiting.get(head.requestId);
      if (waiter === undefined) return;
      this.waiting.delete(head.requestId);
      try {
        waiter.resolve(resultOf(decodeClusterMessage(bytes).body));
      } catch (error) {
        waiter.reject(error);
      }
    });
    connection.onClose(() => {
      for (const waiter of this.waiting.values()) waiter.reject(new PetrelError('NETWORK_FAILURE', 'the meta server closed the connection'));
      this.waiting.clear();
    });
  }

  static async connect(addresses: readonly string[]): Promise<MetaAdmin> {
    let last: unknown;
    for (const address of addresses) {
      try {
        const connection = await connect(address, { timeoutMs: 3000 });
        connection.send(encodeMessage({ kind: 'request', name: 'hello', requestId: 0, body: { protocolVersion: PROTOCOL_VERSION, minProtocolVersion: MIN_PROTOCOL_VERSION, peerName: 'petrel-cli' } }));
        return new MetaAdmin(connection);
      } catch (error) {
        last = error;
      }
    }
    throw new PetrelError('NETWORK_FAILURE', `no meta server answered at ${addresses.join(', ')}: ${String(last)}`);
  }

  call(type: keyof typeof CLUSTER_TYPE_IDS, body: unknown, timeoutMs = 10_000): Promise<unknown> {
    const requestId = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        reject(new PetrelError('TIMEOUT', `${type} took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(requestId, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.connection.send(encodeClusterMessage(CLUSTER_TYPE_IDS[type], requestId, body));
    });
  }

  async createTable(name: string, o: { partitionCount: number; replicaCount: number; successIfExists: boolean; envs?: Record<string, string> }): Promise<TableInfo> {
    return (await this.call('createTable', { name, partitionCount: o.partitionCount, replicaCount: o.replicaCount, envs: o.envs ?? {}, successIfExists: o.successIfExists })) as TableInfo;
  }

  routing(name: string): Promise<RoutingResponse> {
    return this.call('queryRouting', { name }) as Promise<RoutingResponse>;
  }

  /** Polls until every partition has a primary and replicaCount − 1 secondaries; the time it took. */
  async waitHealthy(name: string, timeoutMs: number, progress?: (healthy: number, total: number) => void): Promise<number> {
    const started = Date.now();
    for (;;) {
      const routing = await this.routing(name);
      const healthy = routing.partitions.filter((p) => p.primary !== null && p.secondaries.length >= routing.table.replicaCount - 1).length;
      progress?.(healthy, routing.partitions.length);
      if (healthy === routing.partitions.length) return Date.now() - started;
      if (Date.now() - started > timeoutMs) throw new PetrelError('TIMEOUT', `table ${name}: ${healthy} of ${routing.partitions.length} partitions healthy after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  close(): void {
    this.connection.close();
  }
}
