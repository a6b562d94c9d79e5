/**
 * A meta server in a group of several, with ZooKeeper electing the leader and holding the state
 * (state/zookeeper_state_store.ts). While it does not lead it stands by on its address and
 * answers every request with NOT_LEADER and the leader's address, so clients and replica servers
 * go there. When it wins the election it becomes a full MetaServer on the same address (the core
 * treats every replica server as freshly alive: a full grace period before any is declared
 * dead). If it is deposed (its ZooKeeper session expired, or another meta took over) it stops
 * leading at once and stands by again.
 */
import { type Clock, PetrelError } from '@petrel/base';
import {
  CLUSTER_RESPONSE_BIT,
  type Connection,
  type Listener,
  decodeClusterMessage,
  decodeMessage,
  encodeHelloResponse,
  errorResponse,
  isClusterTypeId,
  listen,
  parseAddress,
  peekEnvelope,
} from '@petrel/protocol';
import type { ReplicationOptions } from '@petrel/pacifica';
import { ZookeeperStateStore } from '../state/zookeeper_state_store.js';
import { MetaServer } from './meta_server.js';

export interface HaMetaServerOptions {
  /** host:port, the same whether leading or standing by (it is also this meta's id). */
  listen: string;
  /** ZooKeeper `host:port[,…]/chroot`. */
  zk: string;
  httpPort?: number;
  replication?: Partial<ReplicationOptions>;
  sessionTimeoutMs?: number;
  clock?: Clock;
  log?: (line: string) => void;
  /** Called whenever this meta starts or stops leading. */
  onRoleChange?: (role: 'leader' | 'standby') => void;
}

export class HaMetaServer {
  private leader: MetaServer | undefined;
  private standby: Listener | undefined;
  private store: ZookeeperStateStore | undefined;
  private stopped = false;
  private readonly log: (line: string) => void;
  private loop: Promise<void> | undefined;
  /** Resolves once a store (connected to ZooKeeper) exists, so a standby can name the leader. */
  private storeOpened!: () => void;
  private readonly storeReady = new Promise<void>((resolve) => (this.storeOpened = resolve));

  private constructor(readonly options: HaMetaServerOptions) {
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  }

  /** Starts standing by at once; leads when elected. */
  static async start(options: HaMetaServerOptions): Promise<HaMetaServer> {
    const server = new HaMetaServer(options);
    await server.standBy();
    server.loop = server.run();
    return server;
  }

  get address(): string {
    return this.options.listen;
  }

  get isLeader(): boolean {
    return this.leader !== undefined;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      try {
        const store = await ZookeeperStateStore.open({ connect: this.options.zk, id: this.options.listen, ...(this.options.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: this.options.sessionTimeoutMs }) });
        this.store = store;
        this.storeOpened();
        const deposed = new Promise<string>((resolve) => store.once('deposed', resolve));
        await store.campaign();
        if (this.stopped) break;
        await this.closeStandby();
        this.leader = await MetaServer.start({
          listen: this.options.listen,
          stateStore: store,
          ...(this.options.httpPort === undefined ? {} : { httpPort: this.options.httpPort }),
          ...(this.options.replication === undefined ? {} : { replication: this.options.replication }),
          ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
          log: this.log,
        });
        this.log(`meta: ${this.options.listen} leads`);
        this.options.onRoleChange?.('leader');
        const reason = await deposed;
        this.log(`meta: ${this.options.listen} no longer leads: ${reason}`);
        const leader = this.leader;
        this.leader = undefined;
        await leader.stop().catch(() => undefined);
        this.store = undefined;
        if (!this.stopped) {
          await this.standBy();
          this.options.onRoleChange?.('standby');
        }
      } catch (error) {
        if (this.stopped) break;
        this.log(`meta: election round failed: ${String(error)}; retrying`);
        await this.store?.close().catch(() => undefined);
        this.store = undefined;
        if (this.leader !== undefined) {
          await this.leader.stop().catch(() => undefined);
          this.leader = undefined;
        }
        if (this.standby === undefined) await this.standBy().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  /** Serves redirects on our address while another meta leads. */
  private async standBy(): Promise<void> {
    const { host, port } = parseAddress(this.options.listen, true);
    this.standby = await listen({ host, port, onConnection: (connection) => this.redirect(connection) });
  }

  private async closeStandby(): Promise<void> {
    const standby = this.standby;
    this.standby = undefined;
    await standby?.close();
  }

  private redirect(connection: Connection): void {
    connection.onMessage((bytes) => {
      void (async () => {
        const head = peekEnvelope(bytes);
        if (head === undefined) return connection.close(1007, 'malformed message');
        if (!isClusterTypeId(head.typeId)) {
          const message = decodeMessage(bytes);
          if (message.kind === 'request' && message.name === 'hello') {
            connection.send(encodeHelloResponse(message.body, message.requestId, this.options.listen));
          }
          return;
        }
        const envelope = decodeClusterMessage(bytes);
        if ((envelope.typeId & CLUSTER_RESPONSE_BIT) !== 0) return;
        await Promise.race([this.storeReady, new Promise((resolve) => setTimeout(resolve, 2000))]);
        const leader = await this.store?.leaderId().catch(() => undefined);
        const error = new PetrelError('NOT_LEADER', leader === undefined ? `${this.options.listen} is not the leader, and no leader is known yet` : `${this.options.listen} is not the leader; ask ${leader}`);
        connection.send(errorResponse(envelope.typeId, envelope.requestId, error, leader));
      })().catch(() => connection.close(1011, 'internal error'));
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.closeStandby();
    const leader = this.leader;
    this.leader = undefined;
    await leader?.stop().catch(() => undefined);
    // Leaving the election lets another meta lead at once.
    await this.store?.close().catch(() => undefined);
  }
}

