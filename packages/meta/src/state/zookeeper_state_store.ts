/**
 * ZookeeperStateStore: the meta state in ZooKeeper, for several meta servers with one leader.
 *
 * Layout under the connection string's chroot (e.g. `127.0.0.1:2181/petrel`):
 *
 *   /state/k<key, URI-encoded>   one znode per key; its data is the value
 *   /election/n_<sequence>       ephemeral sequential: one per live candidate, data = its id
 *   /epoch                       data = the current leader's id; its version is the epoch
 *
 * Election: every meta creates its /election node; the one with the lowest sequence leads. A
 * candidate watches only the node just before its own (no herd when the leader goes). On winning
 * it bumps /epoch, remembers the new version, and only then reads the state.
 *
 * Fencing: every commit is one ZooKeeper transaction that starts with `check /epoch <version>`.
 * A leader that lost its session (paused, partitioned) and did not notice yet cannot overwrite
 * its successor's state: its transaction fails, and it learns it is deposed (NOT_LEADER).
 *
 * A commit is durable when ZooKeeper acknowledges it (a quorum has logged it). Only the leader
 * commits, so the leader's in-memory map — loaded when it won, then updated by its own commits —
 * is the state. When the session expires the store is deposed for good: the meta server makes a
 * new store to run again.
 */
import { EventEmitter } from 'node:events';
import { PetrelError } from '@petrel/base';
import * as zookeeper from 'node-zookeeper-client';
import type { StateChange, StateStore } from './state_store.js';

export interface ZookeeperStateStoreOptions {
  /** `host:port[,host:port…][/chroot]`. */
  connect: string;
  /** This meta server's id (its client-facing address): what followers redirect to. */
  id: string;
  /** Default 6000: a leader that cannot reach ZooKeeper this long loses its place. */
  sessionTimeoutMs?: number;
  /** Default 10 000: how long open() waits for the first connection. */
  connectTimeoutMs?: number;
}

/** ZooKeeper's default limit on one znode (jute.maxbuffer is 1 MiB), with room for the request. */
const MAX_VALUE_BYTES = 1_000_000;

type Callback<T> = (error: Error | zookeeper.Exception | null, result: T) => void;

function call<T>(action: (callback: Callback<T>) => void, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    action((error, result) => {
      if (error) reject(translate(error, what));
      else resolve(result);
    });
  });
}

function codeOf(error: unknown): number | undefined {
  return error instanceof zookeeper.Exception ? error.getCode() : (error as { zookeeperCode?: number }).zookeeperCode;
}

function translate(error: Error | zookeeper.Exception, what: string): PetrelError {
  const code = error instanceof zookeeper.Exception ? error.getCode() : undefined;
  const petrelCode = code === zookeeper.Exception.CONNECTION_LOSS || code === zookeeper.Exception.SESSION_EXPIRED ? 'NETWORK_FAILURE' : 'IO_ERROR';
  const translated = new PetrelError(petrelCode, `zookeeper: ${what}: ${String(error)}`, { cause: error });
  if (code !== undefined) (translated as unknown as { zookeeperCode?: number }).zookeeperCode = code;
  return translated;
}

/**
 * Connects, trying again with a fresh client whenever one attempt has not finished its handshake
 * in `attemptMs`. The library stops timing an attempt once the TCP connection is up and then waits
 * for the server's answer forever; a ZooKeeper that accepts a connection while it is still starting
 * can leave that answer unsent (seen: one start in about fifteen under CPU load), so each attempt
 * gets its own deadline here, and the whole connection `connectTimeoutMs`.
 */
async function connectClient(connect: string, options: ZookeeperStateStoreOptions): Promise<zookeeper.Client> {
  const sessionTimeout = options.sessionTimeoutMs ?? 6000;
  const timeoutMs = options.connectTimeoutMs ?? 10_000;
  const attemptMs = Math.max(1000, Math.floor(sessionTimeout / 3));
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts++) {
    const waitMs = Math.min(attemptMs, deadline - Date.now());
    const client = zookeeper.createClient(connect, { sessionTimeout, spinDelay: 200, retries: 2 });
    const connected = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), Math.max(0, waitMs));
      client.once('connected', () => {
        clearTimeout(timer);
        resolve(true);
      });
      client.connect();
    });
    if (connected) return client;
    abandon(client);
    if (Date.now() >= deadline) {
      throw new PetrelError('NETWORK_FAILURE', `zookeeper: no connection to ${connect} within ${timeoutMs} ms (${attempts} attempts)`);
    }
  }
}

/**
 * Drops a client whose handshake never finished. close() alone only queues a close request, which
 * is never sent on a connection that is not up, so the socket is destroyed too (the library keeps
 * it as `connectionManager.socket`; absent in other versions, when there is nothing more to do).
 */
function abandon(client: zookeeper.Client): void {
  client.close();
  const socket = (client as unknown as { connectionManager?: { socket?: { destroy(): void } } }).connectionManager?.socket;
  socket?.destroy();
}

function znodeName(key: string): string {
  return `k${encodeURIComponent(key)}`;
}

function keyOfZnode(name: string): string | undefined {
  return name.startsWith('k') ? decodeURIComponent(name.slice(1)) : undefined;
}

export class ZookeeperStateStore extends EventEmitter implements StateStore {
  private map = new Map<string, Buffer>();
  private electionNode: string | undefined;
  private epochVersion: number | undefined;
  private deposedBy: string | undefined;
  private closed = false;
  /** Commits run one after another: each transaction is built from the map the last one left. */
  private tail: Promise<void> = Promise.resolve();

  private constructor(
    private readonly client: zookeeper.Client,
    readonly options: ZookeeperStateStoreOptions,
  ) {
    super();
    client.on('state', (state: zookeeper.State) => {
      if (state === zookeeper.State.EXPIRED) this.depose('the ZooKeeper session expired');
    });
  }

  /** Connects and makes sure the layout exists. Does not campaign: see campaign(). */
  static async open(options: ZookeeperStateStoreOptions): Promise<ZookeeperStateStore> {
    // The chroot must exist before a client can use it: make it through a client without one.
    const slash = options.connect.indexOf('/');
    if (slash >= 0 && slash < options.connect.length - 1) {
      const root = await connectClient(options.connect.slice(0, slash), options);
      try {
        await call<string>((callback) => root.mkdirp(options.connect.slice(slash), callback), `create ${options.connect.slice(slash)}`);
      } finally {
        root.close();
      }
    }
    const client = await connectClient(options.connect, options);
    const store = new ZookeeperStateStore(client, options);
    for (const path of ['/state', '/election', '/epoch']) {
      await call<string>((callback) => client.mkdirp(path, callback), `create ${path}`);
    }
    return store;
  }

  /** Whether this store leads now (as far as it knows: commits are fenced either way). */
  get isLeader(): boolean {
    return this.epochVersion !== undefined && this.deposedBy === undefined && !this.closed;
  }

  /** The current leader's id, or undefined while there is none. */
  async leaderId(): Promise<string | undefined> {
    const children = (await call<string[]>((callback) => this.client.getChildren('/election', callback), 'list candidates')).sort();
    for (const child of children) {
      try {
        const data = await call<Buffer | undefined>((callback) => this.client.getData(`/election/${child}`, callback), 'read candidate');
        return data?.toString('utf8');
      } catch (error) {
        if (codeOf(error) !== zookeeper.Exception.NO_NODE) throw error;
      }
    }
    return undefined;
  }

  /**
   * Joins the election and resolves once this store leads, with the state loaded. Emits 'deposed'
   * (with the reason) if leadership is lost later; commits then fail with NOT_LEADER.
   */
  async campaign(): Promise<void> {
    this.checkUsable();
    if (this.electionNode === undefined) {
      const path = await call<string>(
        (callback) => this.client.create('/election/n_', Buffer.from(this.options.id), zookeeper.CreateMode.EPHEMERAL_SEQUENTIAL, callback),
        'join the election',
      );
      this.electionNode = path.slice('/election/'.length);
    }
    for (;;) {
      this.checkUsable();
      const children = (await call<string[]>((callback) => this.client.getChildren('/election', callback), 'list candidates')).sort();
      const mine = children.indexOf(this.electionNode);
      if (mine < 0) throw new PetrelError('NOT_LEADER', 'zookeeper: this meta left the election (its session ended)');
      if (mine === 0) break;
      // Wait for the candidate just ahead to go (or to be gone already).
      const ahead = `/election/${children[mine - 1] as string}`;
      await new Promise<void>((resolve, reject) => {
        this.client.exists(
          ahead,
          () => resolve(),
          (error, stat) => {
            if (error) reject(translate(error, `watch ${ahead}`));
            else if (!stat) resolve();
          },
        );
        this.once('deposed', () => resolve());
      });
    }
    // Leader: a new epoch first, so that the previous leader's commits fail from now on.
    const stat = await call<zookeeper.Stat>((callback) => this.client.setData('/epoch', Buffer.from(this.options.id), -1, callback), 'start an epoch');
    this.epochVersion = stat.version;
    await this.load();
  }

  private async load(): Promise<void> {
    const names = await call<string[]>((callback) => this.client.getChildren('/state', callback), 'list the state');
    const map = new Map<string, Buffer>();
    await Promise.all(
      names.map(async (name) => {
        const key = keyOfZnode(name);
        if (key === undefined) return;
        const data = await call<Buffer | undefined>((callback) => this.client.getData(`/state/${name}`, callback), `read ${key}`);
        map.set(key, data ?? Buffer.alloc(0));
      }),
    );
    this.map = map;
  }

  snapshot(): ReadonlyMap<string, Buffer> {
    return this.map;
  }

  get(key: string): Buffer | undefined {
    return this.map.get(key);
  }

  keys(prefix: string): string[] {
    const out: string[] = [];
    for (const key of this.map.keys()) if (key.startsWith(prefix)) out.push(key);
    return out.sort();
  }

  commit(change: StateChange): Promise<void> {
    const run = this.tail.then(() => this.commitNow(change));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async commitNow(change: StateChange): Promise<void> {
    this.checkUsable();
    if (this.epochVersion === undefined) throw new PetrelError('NOT_LEADER', `meta ${this.options.id} is not the leader`);
    const transaction = this.client.transaction().check('/epoch', this.epochVersion);
    const puts = new Map<string, Buffer>();
    for (const [key, value] of change.put ?? []) {
      if (value.length > MAX_VALUE_BYTES) throw new PetrelError('INVALID_ARGUMENT', `state value for ${key} is ${value.length} bytes; the limit is ${MAX_VALUE_BYTES}`);
      puts.set(key, Buffer.from(value));
    }
    const deletes = new Set((change.del ?? []).filter((key) => !puts.has(key) && this.map.has(key)));
    for (const [key, value] of puts) {
      const path = `/state/${znodeName(key)}`;
      if (this.map.has(key)) transaction.setData(path, value, -1);
      else transaction.create(path, value, zookeeper.CreateMode.PERSISTENT);
    }
    for (const key of deletes) transaction.remove(`/state/${znodeName(key)}`, -1);
    try {
      await call<unknown>((callback) => transaction.commit(callback), 'commit');
    } catch (error) {
      // The check on /epoch failed: a newer leader exists. (Other failures leave us leader: the
      // transaction did nothing, and the caller may retry.)
      if (await this.epochMoved()) {
        this.depose('another meta server took over');
        throw new PetrelError('NOT_LEADER', `meta ${this.options.id} was deposed: another meta server leads`, { cause: error });
      }
      throw error;
    }
    for (const [key, value] of puts) this.map.set(key, value);
    for (const key of deletes) this.map.delete(key);
  }

  private async epochMoved(): Promise<boolean> {
    try {
      const stat = await call<zookeeper.Stat>((callback) => this.client.exists('/epoch', callback), 'read the epoch');
      return stat.version !== this.epochVersion;
    } catch {
      return false;
    }
  }

  private depose(reason: string): void {
    if (this.deposedBy !== undefined) return;
    this.deposedBy = reason;
    this.epochVersion = undefined;
    this.emit('deposed', reason);
  }

  private checkUsable(): void {
    if (this.closed) throw new PetrelError('CLOSED', 'the ZooKeeper state store is closed');
    if (this.deposedBy !== undefined) throw new PetrelError('NOT_LEADER', `meta ${this.options.id}: ${this.deposedBy}`);
  }

  /** Leaves the election (another meta takes over at once) and disconnects. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    this.epochVersion = undefined;
    this.client.close();
  }
}
