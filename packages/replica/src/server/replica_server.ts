/**
 * The replica server: many partition replicas behind one WebSocket address, each driven by the
 * pure PacificA cores of @petrel/pacifica (one ReplicaServerCore for the server) with real IO —
 * a mutation log per replica (@petrel/wal, fsync group commit), the storage app over the LSM,
 * connections to the meta and to other replica servers, a monotonic clock for timers.
 *
 * The core's effects are performed strictly in order by one loop; the ones the core needs durable
 * before the next (persistReplica, truncateLog) and the ones that replace state (restore, reopen)
 * are awaited, the rest start IO and report back as inputs.
 *
 * Its node id is its listen address: that is how the meta and the other servers name it.
 */
import { type Clock, IdMap, MetricsRegistry, PetrelError, SystemClock, type Vfs, isPetrelError, joinPath, nodeVfs, startStatusServer } from '@petrel/base';
import {
  type Checkpoint,
  type Gpid,
  type Message as PacificaMessage,
  type NodeId,
  type ReplicaServerEffect,
  type ReplicaServerInput,
  type ReplicationOptions,
  FailedReplicas,
  ReplicaServerCore,
  describeMessage,
  stateEffectTarget,
  replicationOptions,
} from '@petrel/pacifica';
import {
  CLUSTER_RESPONSE_BIT,
  CLUSTER_TYPE_IDS,
  type Connection,
  type Listener,
  type RequestMessage,
  type TableState,
  type WriteRequest,
  connect,
  decodeClusterMessage,
  decodeMessage,
  decodeValue,
  encodeClusterMessage,
  encodeMessage,
  encodeValue,
  errorResponse,
  isClusterTypeId,
  listen,
  encodeHello,
  encodeHelloResponse,
  okResponse,
  parseAddress,
  peekEnvelope,
  resultOf,
  withRequestId,
} from '@petrel/protocol';
import type { Db, DbStats } from '@petrel/lsm';
import type { WalStats } from '@petrel/wal';
import type { StorageApp } from '../app/storage_app.js';

function tableIdOf(gpid: Gpid): number {
  return Number(gpid.slice(0, gpid.indexOf('.')));
}

/** Effects that touch no disk and wait for nothing. */
function isImmediate(effect: ReplicaServerEffect): boolean {
  return effect.type === 'send' || effect.type === 'read' || effect.type === 'wakeAt';
}

function lsmOf(store: ReplicaStore): Db {
  return (store.app.engine as unknown as { db: Db }).db;
}
import { encodeMutation, mergeWrites, ReplicaStore } from './replica_store.js';
import { PrepareTiming } from './prepare_timing.js';
import { parsePolicy, Throttle, type TablePolicy } from './table_policies.js';

export interface ReplicaServerOptions {
  /** host:port to listen on (port 0: a free port); the server's node id is the address it gets. */
  listen: string;
  /** Meta server addresses. */
  meta: string[];
  dataDir: string;
  vfs?: Vfs;
  httpPort?: number;
  replication?: Partial<ReplicationOptions>;
  clock?: Clock;
  log?: (line: string) => void;
  /** Most client requests in flight per connection before APP_BUSY (default 4096). */
  maxInFlightPerConnection?: number;
}

/** The meta as the core names it; the driver routes it to the meta connection. */
const META: NodeId = 'meta';
const CHUNK_BYTES = 1 << 20;
const WRITE_NAMES = new Set(['set', 'multiSet', 'del', 'multiDel', 'incr', 'checkAndSet', 'checkAndMutate']);

interface PendingClient {
  connection: Connection;
  requestId: number;
  name: string;
  typeId: number;
  started: number;
  peer: Peer | undefined;
  message: RequestMessage;
}

const NO_BYTES = new Uint8Array(0);
/** PETREL_TRACE=1: log every PacificA message sent and received (beacons and their answers excepted). */
const TRACE = process.env.PETREL_TRACE === '1';

interface Peer {
  connection: Connection;
  name: string | undefined;
  inFlight: number;
}

/** Messages kept per connection that arrives while the server is still opening its replicas. */
const MAX_MESSAGES_BEFORE_BOOT = 10_000;

export class ReplicaServer {
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly vfs: Vfs;
  private core!: ReplicaServerCore;
  readonly address: string;
  private readonly stores = new Map<Gpid, ReplicaStore>();
  private get reopenRetryMs(): number {
    return replicationOptions(this.options.replication ?? {}).errorReopenMs;
  }
  private readonly opening = new Map<Gpid, Promise<ReplicaStore>>();
  private readonly effects: ReplicaServerEffect[] = [];
  /** Replica incarnations whose storage failed: their later state effects are skipped (see FailedReplicas). */
  private readonly failed = new FailedReplicas();
  private running = false;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  /** Outbound connections to other replica servers, by node id. */
  private readonly outbound = new Map<NodeId, { connection?: Connection | undefined; queue: Buffer[]; connecting: boolean }>();
  private metaConnection: Connection | undefined;
  private metaConnecting = false;
  /** The meta addresses to try in turn (a leader named by NOT_LEADER joins them), and the next to try. */
  private metaAddresses: string[] = [];
  private metaIndex = 0;
  /** A leader a standby named: tried next, before the rotation goes on. */
  private namedLeader: string | undefined;
  /** Client requests being served, by internal id (an IdMap: see there why not a Map). */
  private readonly clients = new IdMap<PendingClient>(8192);
  /** Every table as the meta last said: dropped ones get APP_NOT_EXIST; envs set policies. */
  private readonly tables = new Map<number, { status: string; envs: Record<string, string>; envsKey: string; policy: TablePolicy }>();
  private readonly throttles = new Map<Gpid, { count: Throttle; bytes: Throttle }>();
  /** The manual-compaction trigger time each replica last acted on. */
  private readonly compactedAt = new Map<Gpid, number>();
  private compactionQueue: Promise<void> = Promise.resolve();
  private nextClientRequest = 1;
  private readonly peers = new Set<Peer>();
  private readonly checkpoints = new Map<number, { dir: string; files: { name: string; size: number }[] }>();
  private nextCheckpoint = 1;
  private readonly fetches = new Map<number, (body: unknown) => void>();
  private nextFetch = 1;
  private readonly metrics = new MetricsRegistry();
  private readonly requestsTotal = this.metrics.counter('petrel_replica_requests_total', 'Client requests by operation and outcome.');
  private readonly latency = this.metrics.histogram('petrel_replica_request_seconds', 'Client request latency in seconds, by operation.');
  private readonly logSyncs = this.metrics.histogram('petrel_log_sync_seconds', "The mutation logs' group fsyncs (all replicas here): how long each took, in seconds.");
  private readonly logSyncChild = this.logSyncs.child();
  private readonly prepareTiming = new PrepareTiming(
    this.metrics.histogram('petrel_replica_prepare_seconds', "A prepare's round trip: side=primary from sending it to a secondary until its ack; side=secondary from its arrival until the ack is sent."),
  );
  private readonly observeLogSync = (seconds: number): void => this.logSyncChild.observe(seconds);
  /** Metric children by operation (and outcome): label keys are built once, not per request. */
  private readonly requestCounters = new Map<string, Map<string, { inc(): void }>>();
  private readonly latencyChildren = new Map<string, { observe(value: number): void }>();
  /** Gpid strings of the partitions held here, by table id and partition index (gpidOf). */
  private readonly gpids = new Map<number, Gpid[]>();
  private statusServer: { port: number; close(): Promise<void> } | undefined;
  /** Checkpoints this server learned from others: bytes fetched and the time the fetch took. */
  readonly learned: { gpid: Gpid; decree: number; bytes: number; files: number; fetchMs: number }[] = [];
  private gcTimer: NodeJS.Timeout | undefined;

  private constructor(
    readonly options: ReplicaServerOptions,
    private readonly listener: Listener,
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.vfs = options.vfs ?? nodeVfs;
    this.address = listener.address;
    this.metrics.gauge('petrel_replica_partitions', 'Replicas by role.', () => {
      const counts = new Map<string, number>();
      for (const replica of this.core.replicas().values()) counts.set(replica.role, (counts.get(replica.role) ?? 0) + 1);
      return [...counts].map(([role, count]) => [{ role }, count] as const);
    });
    const storesTotal = (pick: (store: ReplicaStore) => number): number => {
      let sum = 0;
      for (const store of this.stores.values()) sum += pick(store);
      return sum;
    };
    const lsmTotal = (pick: (stats: DbStats) => number): number => storesTotal((store) => pick(lsmOf(store).stats()));
    const logTotal = (pick: (stats: WalStats) => number): number => storesTotal((store) => pick(store.logStats()));
    this.metrics.gauge('petrel_lsm_bytes', 'Bytes in SSTables, all replicas.', () => lsmTotal((stats) => stats.levels.reduce((total, level) => total + level.bytes, 0)));
    this.metrics.gauge('petrel_lsm_memtable_bytes', 'Bytes in memtables, all replicas.', () => lsmTotal((stats) => stats.memtableBytes));
    this.metrics.gauge('petrel_lsm_compactions', 'Compactions run since start, all replicas.', () => lsmTotal((stats) => stats.compactions));
    this.metrics.gauge('petrel_lsm_flushes', 'Flushes since start, all replicas.', () => lsmTotal((stats) => stats.flushes));
    this.metrics.gauge('petrel_lsm_write_stall_ms', 'Time writes waited in LSM write stalls, all replicas.', () => lsmTotal((stats) => stats.writeStallMs));
    this.metrics.gauge('petrel_log_bytes_written', 'Bytes written to the mutation logs (records and framing), all replicas open.', () => logTotal((stats) => stats.bytesWritten));
    this.metrics.gauge('petrel_log_syncs', 'Group fsyncs of the mutation logs, all replicas open.', () => logTotal((stats) => stats.syncs));
    this.metrics.gauge('petrel_log_preallocated_bytes', 'Zeros written ahead of the mutation logs in the background, all replicas open.', () => logTotal((stats) => stats.preallocatedBytes));
    this.metrics.gauge('petrel_log_preallocation_waits', 'Log writes that waited for a background zero write, all replicas open.', () => logTotal((stats) => stats.preallocationWaits));
    this.metrics.gauge('petrel_block_cache_hits', 'Block cache hits (process-wide cache).', () => {
      const first = this.stores.values().next().value as ReplicaStore | undefined;
      return first === undefined ? 0 : lsmOf(first).stats().blockCacheHits;
    });
    this.metrics.gauge('petrel_block_cache_misses', 'Block cache misses (process-wide cache).', () => {
      const first = this.stores.values().next().value as ReplicaStore | undefined;
      return first === undefined ? 0 : lsmOf(first).stats().blockCacheMisses;
    });
    this.metrics.gauge('petrel_replica_applied_decree', 'Last applied decree, by partition.', () =>
      [...this.stores.values()].map((store) => [{ gpid: store.gpid }, store.app.lastAppliedDecree] as const),
    );
    this.metrics.gauge('petrel_replica_lease_valid', '1 while this server holds a lease from the meta.', () => (this.core.leaseValid(this.clock.nowMs()) ? 1 : 0));
  }

  static async start(options: ReplicaServerOptions): Promise<ReplicaServer> {
    const { host, port } = parseAddress(options.listen, true);
    let server: ReplicaServer | undefined;
    // Connections wait until every replica on disk is open: a peer's prepare or group check for
    // a replica not open yet would otherwise start a fresh one over the data being recovered.
    // Their messages are kept meanwhile (a bounded number; past it the connection is closed and
    // the peer reconnects later).
    let booted = false;
    const early: { connection: Connection; messages: Buffer[] }[] = [];
    const listener = await listen({
      host,
      port,
      onConnection: (connection) => {
        if (booted && server !== undefined) return server.accept(connection);
        const waiting = { connection, messages: [] as Buffer[] };
        early.push(waiting);
        connection.onMessage((message) => {
          if (waiting.messages.length < MAX_MESSAGES_BEFORE_BOOT) waiting.messages.push(message);
          else connection.close(1013, 'the server is still starting');
        });
      },
    });
    server = new ReplicaServer(options, listener);
    await server.boot();
    booted = true;
    for (const { connection, messages } of early.splice(0)) server.accept(connection, messages);
    return server;
  }

  private get replicasDir(): string {
    return joinPath(this.options.dataDir, 'replicas');
  }

  private async boot(): Promise<void> {
    await this.vfs.mkdir(this.replicasDir, { recursive: true });
    this.core = new ReplicaServerCore({ node: this.address, meta: META, options: replicationOptions(this.options.replication ?? {}) });
    // Every replica on disk reopens: it replays its log from its durable decree.
    const recovered = [];
    for (const name of await this.vfs.readdir(this.replicasDir)) {
      if (!/^\d+\.\d+$/.test(name)) continue;
      const store = await this.openStore(name);
      recovered.push(store.recovered());
    }
    this.enqueue(this.core.start(this.clock.nowMs(), recovered));
    for (const replica of recovered) this.noteDropped(replica.gpid);
    this.connectMeta();
    if (this.options.httpPort !== undefined) {
      this.statusServer = await startStatusServer({ host: parseAddress(this.address).host, port: this.options.httpPort, registry: this.metrics, health: () => this.health() });
    }
    this.gcTimer = setInterval(() => void this.collectGarbage(), 10_000);
    this.gcTimer.unref();
    this.log(`replica: serving on ${this.address} with ${recovered.length} replicas from ${this.options.dataDir}`);
  }

  /** Says so when a replica's log had a hole after its checkpoint (a restore that never finished). */
  private noteDropped(gpid: Gpid): void {
    const dropped = this.core.replicas().get(gpid)?.droppedAtOpen ?? 0;
    if (dropped > 0) this.log(`replica: ${gpid} reopened without ${dropped} log records past a hole after its checkpoint (a learner's, from a restore that did not finish); it learns them again`);
  }

  get httpPort(): number | undefined {
    return this.statusServer?.port;
  }

  private health(): { healthy: boolean; [key: string]: unknown } {
    const now = this.clock.nowMs();
    const roles: Record<string, number> = {};
    for (const replica of this.core.replicas().values()) roles[replica.role] = (roles[replica.role] ?? 0) + 1;
    return { healthy: !this.stopped && this.core.leaseValid(now), address: this.address, lease: this.core.leaseValid(now), replicas: roles };
  }

  // ---- stores -----------------------------------------------------------------------------------

  private openStore(gpid: Gpid): Promise<ReplicaStore> {
    const open = this.stores.get(gpid);
    if (open !== undefined) return Promise.resolve(open);
    let opening = this.opening.get(gpid);
    if (opening === undefined) {
      opening = ReplicaStore.open({ vfs: this.vfs, dir: joinPath(this.replicasDir, gpid), gpid, envs: this.tables.get(tableIdOf(gpid))?.envs ?? {}, onLogSync: this.observeLogSync }).then((store) => {
        this.stores.set(gpid, store);
        const table = this.tables.get(tableIdOf(gpid));
        if (table !== undefined) this.maybeCompact(store, table.policy);
        this.opening.delete(gpid);
        return store;
      }, (error: unknown) => {
        // Not cached: the next attempt (a reopen after a full disk cleared, say) opens afresh.
        this.opening.delete(gpid);
        throw error;
      });
      this.opening.set(gpid, opening);
    }
    return opening;
  }

  /** The meta's table list: statuses, envs (default_ttl reaches the apps), manual compactions. */
  private onTables(tables: readonly TableState[]): void {
    for (const table of tables) {
      if (typeof table?.id !== 'number' || typeof table.envs !== 'object' || table.envs === null) continue;
      const envsKey = JSON.stringify(Object.entries(table.envs).sort());
      const known = this.tables.get(table.id);
      if (known !== undefined && known.envsKey === envsKey && known.status === table.status) continue;
      const policy = parsePolicy(table.envs, this.log);
      this.tables.set(table.id, { status: table.status, envs: { ...table.envs }, envsKey, policy });
      for (const store of this.stores.values()) {
        if (tableIdOf(store.gpid) !== table.id) continue;
        if (known?.envsKey !== envsKey) store.app.setEnvs(table.envs);
        this.maybeCompact(store, policy);
      }
    }
  }

  /** Runs the table's manual compaction on this replica once per trigger time (one at a time per server). */
  private maybeCompact(store: ReplicaStore, policy: TablePolicy): void {
    const trigger = policy.manualCompactTriggerTime;
    if (trigger === undefined || trigger > this.clock.wallMs() / 1000 || (this.compactedAt.get(store.gpid) ?? -1) >= trigger) return;
    this.compactedAt.set(store.gpid, trigger);
    this.compactionQueue = this.compactionQueue.then(async () => {
      const started = performance.now();
      await store.app.compact().catch((error: unknown) => this.log(`replica: manual compaction of ${store.gpid} failed: ${String(error)}`));
      this.log(`replica: manual compaction of ${store.gpid} done in ${Math.round(performance.now() - started)} ms`);
    });
  }

  private async collectGarbage(): Promise<void> {
    for (const store of this.stores.values()) {
      await store.collectGarbage(1000).catch((error: unknown) => this.log(`replica: log GC of ${store.gpid} failed: ${String(error)}`));
    }
  }

  // ---- the effect loop ---------------------------------------------------------------------------

  private enqueue(effects: readonly ReplicaServerEffect[]): void {
    this.effects.push(...effects);
    if (!this.running) void this.run();
  }

  private input(input: ReplicaServerInput): void {
    if (this.stopped) return;
    const effects = this.core.step(input);
    // Fast path (every read takes it): with nothing queued, effects that need no IO run now, in
    // order, instead of through the asynchronous loop.
    if (!this.running && this.effects.length === 0 && effects.every(isImmediate)) {
      for (const effect of effects) this.performImmediate(effect);
      return;
    }
    this.enqueue(effects);
  }

  private performImmediate(effect: ReplicaServerEffect): void {
    switch (effect.type) {
      case 'send':
        this.send(effect.to, effect.message);
        return;
      case 'read':
        this.answerRead(effect.gpid, effect.requestId);
        return;
      case 'wakeAt':
        this.scheduleWake(effect.time);
        return;
      default:
        throw new PetrelError('SERVER_INTERNAL_ERROR', `${effect.type} is not an immediate effect`);
    }
  }

  private async run(): Promise<void> {
    this.running = true;
    try {
      while (this.effects.length > 0 && !this.stopped) {
        const effect = this.effects.shift()!;
        if (this.failed.skips(effect)) continue;
        try {
          await this.perform(effect);
        } catch (error) {
          const target = stateEffectTarget(effect);
          this.log(`replica: ${effect.type}${'gpid' in effect ? ` of ${effect.gpid}` : target !== undefined ? ` of ${target.gpid}` : ''} failed: ${String(error)}`);
          if (target !== undefined) {
            // A replica whose storage failed (its log, its state file, its LSM, or the checkpoint
            // it was restoring — a full disk, an I/O error, a lost peer) goes to the error role:
            // the meta moves its work elsewhere, and it is reopened from its data directory later
            // (errorReopenMs), which replays its log into the LSM.
            this.failed.fail(target.gpid, target.incarnation);
            this.input({ type: 'logFailed', now: this.clock.nowMs(), gpid: target.gpid, incarnation: target.incarnation });
          } else if (effect.type === 'reopenReplica') {
            // Still failing (the disk is still full?): try again later.
            const retry = setTimeout(() => this.enqueue([effect]), this.reopenRetryMs);
            retry.unref();
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async perform(effect: ReplicaServerEffect): Promise<void> {
    const now = (): number => this.clock.nowMs();
    switch (effect.type) {
      case 'send':
        this.send(effect.to, effect.message);
        return;
      case 'persistReplica':
        await (await this.openStore(effect.state.gpid)).persist(effect.state);
        return;
      case 'append':
        (await this.openStore(effect.gpid)).append(effect.index, effect.mutation);
        return;
      case 'sync': {
        const store = await this.openStore(effect.gpid);
        store.sync(effect.throughIndex).then(
          () => this.input({ type: 'logSynced', now: now(), gpid: effect.gpid, incarnation: effect.incarnation, throughIndex: effect.throughIndex }),
          (error: unknown) => {
            this.log(`replica: log of ${effect.gpid} failed: ${String(error)}`);
            this.failed.fail(effect.gpid, effect.incarnation);
            this.input({ type: 'logFailed', now: now(), gpid: effect.gpid, incarnation: effect.incarnation });
          },
        );
        return;
      }
      case 'truncateLog':
        await (await this.openStore(effect.gpid)).truncate(effect.afterDecree, effect.belowBallot);
        return;
      case 'apply': {
        const store = await this.openStore(effect.gpid);
        await store.app.writable();
        const responses = store.app.apply(effect.mutation.decree, mergeWrites(effect.mutation.writes));
        const results = responses.map((response) => encodeMessage({ kind: 'response', name: response.type, requestId: 0, body: response.response } as never));
        this.input({ type: 'applied', now: now(), gpid: effect.gpid, incarnation: effect.incarnation, decree: effect.mutation.decree, results });
        return;
      }
      case 'read':
        this.answerRead(effect.gpid, effect.requestId);
        return;
      case 'readLog': {
        const store = await this.openStore(effect.gpid);
        this.input({ type: 'logRead', now: now(), gpid: effect.gpid, incarnation: effect.incarnation, token: effect.token, mutations: store.readLog(effect.fromDecree, effect.toDecree) });
        return;
      }
      case 'takeCheckpoint': {
        const checkpoint = await this.takeCheckpoint(effect.gpid);
        this.input({ type: 'checkpointTaken', now: now(), gpid: effect.gpid, incarnation: effect.incarnation, token: effect.token, checkpoint });
        return;
      }
      case 'restore': {
        const decree = await this.restore(effect.gpid, effect.checkpoint);
        this.input({ type: 'restored', now: now(), gpid: effect.gpid, incarnation: effect.incarnation, decree });
        return;
      }
      case 'reopenReplica': {
        this.failed.reopened(effect.gpid);
        const store = this.stores.get(effect.gpid);
        this.stores.delete(effect.gpid);
        await store?.close().catch((error: unknown) => this.log(`replica: closing ${effect.gpid} before reopening it: ${String(error)}`));
        const reopened = await this.openStore(effect.gpid);
        this.input({ type: 'replicaOpened', now: now(), recovered: reopened.recovered() });
        this.noteDropped(effect.gpid);
        return;
      }
      case 'wakeAt':
        this.scheduleWake(effect.time);
        return;
    }
  }

  private scheduleWake(time: number): void {
    if (this.stopped || time >= this.wakeAt) return;
    this.wakeAt = time;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wakeAt = Infinity;
      this.input({ type: 'tick', now: this.clock.nowMs() });
    }, Math.max(0, time - this.clock.nowMs()));
  }

  // ---- learning by checkpoint --------------------------------------------------------------------

  /** A hard-linked LSM checkpoint; the learner fetches its files from here in chunks. */
  private async takeCheckpoint(gpid: Gpid): Promise<Checkpoint> {
    const store = await this.openStore(gpid);
    const id = this.nextCheckpoint++;
    const dir = joinPath(this.replicasDir, gpid, 'checkpoints', String(id));
    await this.vfs.removeTree(dir);
    await this.vfs.mkdir(joinPath(this.replicasDir, gpid, 'checkpoints'), { recursive: true });
    const db = lsmOf(store);
    // The decree the checkpoint holds, taken with it: reading db.lastFlushedDecree afterwards could
    // name a later flush, and the learner would then skip the decrees in between.
    const { lastFlushedDecree: decree } = await db.checkpoint(dir);
    const files: { name: string; size: number }[] = [];
    const walk = async (relative: string): Promise<void> => {
      for (const name of await this.vfs.readdir(joinPath(dir, relative))) {
        const path = relative === '' ? name : `${relative}/${name}`;
        const stat = await this.vfs.stat(joinPath(dir, path));
        if (stat.isDirectory) await walk(path);
        else files.push({ name: path, size: stat.size });
      }
    };
    await walk('');
    this.checkpoints.set(id, { dir, files });
    // Keep the two newest checkpoints of the server; older ones go.
    for (const [old, checkpoint] of this.checkpoints) {
      if (old <= id - 2) {
        this.checkpoints.delete(old);
        await this.vfs.removeTree(checkpoint.dir).catch(() => undefined);
      }
    }
    return { decree, data: encodeValue({ server: this.address, id, files }) };
  }

  /** Fetches the checkpoint's files from the primary and makes them this replica's state. */
  private async restore(gpid: Gpid, checkpoint: Checkpoint): Promise<number> {
    const descriptor = decodeValue(checkpoint.data) as { server: string; id: number; files: { name: string; size: number }[] };
    const replicaDir = joinPath(this.replicasDir, gpid);
    const incoming = joinPath(replicaDir, 'incoming');
    const fetchStarted = performance.now();
    await this.vfs.removeTree(incoming);
    await this.vfs.mkdir(incoming, { recursive: true });
    for (const file of descriptor.files) {
      const target = joinPath(incoming, file.name);
      const slash = file.name.lastIndexOf('/');
      if (slash > 0) await this.vfs.mkdir(joinPath(incoming, file.name.slice(0, slash)), { recursive: true });
      const handle = await this.vfs.open(target, { create: true });
      try {
        for (let offset = 0; offset < file.size; offset += CHUNK_BYTES) {
          const bytes = await this.fetchChunk(descriptor.server, descriptor.id, file.name, offset, Math.min(CHUNK_BYTES, file.size - offset));
          await handle.write(bytes, offset);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await this.vfs.syncDir(incoming);
    const bytes = descriptor.files.reduce((sum, f) => sum + f.size, 0);
    this.learned.push({ gpid, decree: checkpoint.decree, bytes, files: descriptor.files.length, fetchMs: performance.now() - fetchStarted });
    // Swap the data directory for the fetched one, then reopen the replica on it.
    const store = this.stores.get(gpid);
    this.stores.delete(gpid);
    await store?.close();
    await this.vfs.removeTree(joinPath(replicaDir, 'data'));
    await this.vfs.rename(incoming, joinPath(replicaDir, 'data'));
    await this.vfs.syncDir(replicaDir);
    const reopened = await this.openStore(gpid);
    // The core applies the decrees after the checkpoint's next: the data must be exactly there.
    if (reopened.app.lastAppliedDecree !== checkpoint.decree) {
      throw new PetrelError('CORRUPTION', `the checkpoint of ${gpid} from ${descriptor.server} holds decree ${reopened.app.lastAppliedDecree}, not ${checkpoint.decree}`);
    }
    this.log(`replica: ${gpid} learned a checkpoint at decree ${checkpoint.decree} (${bytes} bytes) from ${descriptor.server}`);
    return reopened.app.lastAppliedDecree;
  }

  private fetchChunk(server: string, id: number, name: string, offset: number, length: number): Promise<Buffer> {
    const requestId = this.nextFetch++;
    return new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fetches.delete(requestId);
        reject(new PetrelError('TIMEOUT', `fetching ${name} from ${server} timed out`));
      }, 30_000);
      this.fetches.set(requestId, (body) => {
        clearTimeout(timer);
        try {
          const result = resultOf(body as never) as { bytes?: Uint8Array };
          if (!(result.bytes instanceof Uint8Array) || result.bytes.length !== length) throw new PetrelError('CORRUPTION', `chunk of ${name} at ${offset}: wrong length`);
          resolve(Buffer.from(result.bytes));
        } catch (error) {
          reject(error);
        }
      });
      this.sendToPeer(server, encodeClusterMessage(CLUSTER_TYPE_IDS.fetchFileChunk, requestId, { id, name, offset, length }));
    });
  }

  private async serveChunk(peer: Peer, requestId: number, body: unknown): Promise<void> {
    try {
      const { id, name, offset, length } = body as { id: number; name: string; offset: number; length: number };
      const checkpoint = this.checkpoints.get(id);
      const file = checkpoint?.files.find((candidate) => candidate.name === name);
      if (checkpoint === undefined || file === undefined) throw new PetrelError('NOT_FOUND', `no checkpoint file ${id}/${name}`);
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || length > CHUNK_BYTES || offset + length > file.size) {
        throw new PetrelError('INVALID_ARGUMENT', `bad chunk ${offset}+${length} of ${name}`);
      }
      const handle = await this.vfs.open(joinPath(checkpoint.dir, name), { readOnly: true });
      try {
        const bytes = Buffer.alloc(length);
        let done = 0;
        while (done < length) {
          const read = await handle.read(bytes, done, length - done, offset + done);
          if (read === 0) throw new PetrelError('CORRUPTION', `${name} ended early`);
          done += read;
        }
        peer.connection.send(okResponse(CLUSTER_TYPE_IDS.fetchFileChunk, requestId, { bytes }));
      } finally {
        await handle.close();
      }
    } catch (error) {
      peer.connection.send(errorResponse(CLUSTER_TYPE_IDS.fetchFileChunk, requestId, error));
    }
  }

  // ---- network ----------------------------------------------------------------------------------

  private hello(connection: Connection): void {
    connection.send(encodeHello(this.address));
  }

  private connectMeta(): void {
    if (this.stopped || this.metaConnecting || this.metaConnection !== undefined) return;
    this.metaConnecting = true;
    if (this.metaAddresses.length === 0) this.metaAddresses = [...this.options.meta];
    const address = this.namedLeader ?? this.metaAddresses[this.metaIndex++ % this.metaAddresses.length]!;
    this.namedLeader = undefined;
    connect(address, { timeoutMs: 2000 }).then(
      (connection) => {
        this.metaConnecting = false;
        if (this.stopped) return connection.close();
        this.metaConnection = connection;
        this.hello(connection);
        connection.onMessage((bytes) => this.onMetaMessage(bytes));
        connection.onClose(() => {
          if (this.metaConnection === connection) this.metaConnection = undefined;
          setTimeout(() => this.connectMeta(), 200).unref();
        });
      },
      () => {
        this.metaConnecting = false;
        setTimeout(() => this.connectMeta(), 500).unref();
      },
    );
  }

  private onMetaMessage(bytes: Buffer): void {
    const head = peekEnvelope(bytes);
    if (head === undefined || !isClusterTypeId(head.typeId)) return; // the hello response
    const envelope = decodeClusterMessage(bytes);
    if (envelope.typeId === CLUSTER_TYPE_IDS.metaMessage) {
      if (TRACE && (envelope.body as { type?: string }).type !== 'beaconAck') this.log(`TRACE ${this.address} <- meta: ${describeMessage(envelope.body as unknown as PacificaMessage)}`);
      this.input({ type: 'message', now: this.clock.nowMs(), from: META, message: envelope.body as unknown as PacificaMessage });
    } else if (envelope.typeId === CLUSTER_TYPE_IDS.tables) {
      const tables = (envelope.body as { tables?: unknown }).tables;
      if (Array.isArray(tables)) this.onTables(tables as TableState[]);
    } else if (envelope.typeId === (CLUSTER_TYPE_IDS.metaMessage | CLUSTER_RESPONSE_BIT)) {
      // A meta that does not lead: go to the one it names, or to the next address.
      try {
        resultOf(envelope.body);
      } catch (error) {
        const leader = (error as { leader?: string }).leader;
        if (leader !== undefined) {
          if (!this.metaAddresses.includes(leader)) this.metaAddresses.push(leader);
          this.namedLeader = leader;
        }
        this.metaConnection?.close();
      }
    }
  }

  private send(to: NodeId, message: PacificaMessage): void {
    if (TRACE && message.type !== 'beacon' && message.type !== 'clientReply') this.log(`TRACE ${this.address} -> ${to}: ${describeMessage(message)}`);
    if (to === META) {
      this.metaConnection?.send(encodeClusterMessage(CLUSTER_TYPE_IDS.metaMessage, 0, message));
      return;
    }
    if (message.type === 'clientReply') {
      this.answerWrite(message.requestId, message.result, message.refusal);
      return;
    }
    this.prepareTiming.sending(to, message);
    this.sendToPeer(to, encodeClusterMessage(CLUSTER_TYPE_IDS.replicaMessage, 0, message));
  }

  private sendToPeer(node: NodeId, bytes: Buffer): void {
    let peer = this.outbound.get(node);
    if (peer === undefined) this.outbound.set(node, (peer = { queue: [], connecting: false }));
    if (peer.connection !== undefined && peer.connection.isOpen) {
      peer.connection.send(bytes);
      return;
    }
    if (peer.queue.length < 10_000) peer.queue.push(bytes);
    if (peer.connecting) return;
    peer.connecting = true;
    const entry = peer;
    connect(node, { timeoutMs: 2000 }).then(
      (connection) => {
        entry.connecting = false;
        if (this.stopped) return connection.close();
        entry.connection = connection;
        this.hello(connection);
        connection.onMessage((reply) => this.onPeerReply(reply));
        connection.onClose(() => {
          if (entry.connection === connection) entry.connection = undefined;
        });
        for (const queued of entry.queue.splice(0)) connection.send(queued);
      },
      () => {
        // Unreachable: what was queued is lost, as the cores expect messages may be.
        entry.connecting = false;
        entry.queue.length = 0;
      },
    );
  }

  /** Replies arriving on an outbound connection: file chunks. */
  private onPeerReply(bytes: Buffer): void {
    const head = peekEnvelope(bytes);
    if (head === undefined || !isClusterTypeId(head.typeId)) return;
    const envelope = decodeClusterMessage(bytes);
    const waiter = this.fetches.get(envelope.requestId);
    if (waiter !== undefined) {
      this.fetches.delete(envelope.requestId);
      waiter(envelope.body);
    }
  }

  private accept(connection: Connection, earlier: readonly Buffer[] = []): void {
    const peer: Peer = { connection, name: undefined, inFlight: 0 };
    this.peers.add(peer);
    const receive = (bytes: Buffer): void => {
      try {
        this.onInbound(peer, bytes);
      } catch (error) {
        this.log(`replica: closing ${peer.name ?? connection.remoteAddress}: ${String(error)}`);
        connection.close(1007, 'malformed message');
      }
    };
    connection.onMessage(receive);
    connection.onClose(() => this.peers.delete(peer));
    for (const bytes of earlier) if (connection.isOpen) receive(bytes);
  }

  private onInbound(peer: Peer, bytes: Buffer): void {
    if (this.stopped) return;
    if (bytes.length < 3) throw new PetrelError('INVALID_ARGUMENT', 'a message too short for its envelope');
    const typeId = bytes.readUInt16BE(0);
    if (isClusterTypeId(typeId)) {
      const envelope = decodeClusterMessage(bytes);
      if (envelope.typeId === CLUSTER_TYPE_IDS.replicaMessage) {
        if (peer.name === undefined) throw new PetrelError('INVALID_ARGUMENT', 'a replica server must say hello first');
        if (TRACE) this.log(`TRACE ${this.address} <- ${peer.name}: ${describeMessage(envelope.body as unknown as PacificaMessage)}`);
        const message = envelope.body as unknown as PacificaMessage;
        this.prepareTiming.receiving(peer.name, message);
        this.input({ type: 'message', now: this.clock.nowMs(), from: peer.name, message });
      } else if (envelope.typeId === CLUSTER_TYPE_IDS.fetchFileChunk) {
        void this.serveChunk(peer, envelope.requestId, envelope.body);
      } else {
        peer.connection.send(errorResponse(envelope.typeId, envelope.requestId, new PetrelError('INVALID_ARGUMENT', 'a replica server does not answer that')));
      }
      return;
    }
    let message;
    try {
      message = decodeMessage(bytes);
    } catch (error) {
      if (!isPetrelError(error)) throw error;
      // A request we cannot read: answer with its error if we can tell which request it was.
      const head = peekEnvelope(bytes);
      if (head === undefined) throw error;
      peer.connection.send(encodeMessage({ kind: 'error', requestId: head.requestId, body: { requestType: head.typeId, error: { code: error.code, message: error.message } } }));
      return;
    }
    if (message.kind !== 'request') return;
    if (message.name === 'hello') {
      peer.name = message.body.peerName;
      peer.connection.send(encodeHelloResponse(message.body, message.requestId, this.address));
      return;
    }
    this.onClientRequest(peer, message, typeId);
  }

  private refuse(peer: Peer | PendingClient, requestId: number, typeId: number, code: PetrelError['code'], text: string): void {
    peer.connection.send(encodeMessage({ kind: 'error', requestId, body: { requestType: typeId, error: { code, message: text } } }));
  }

  private onClientRequest(peer: Peer, message: RequestMessage, typeId: number): void {
    if (message.name === 'hello') return;
    const { header } = message.body as { header: { tableId: number; partitionIndex: number } };
    const gpid = this.gpidOf(header.tableId, header.partitionIndex);
    const table = this.tables.get(header.tableId);
    if (table?.status === 'dropped') {
      this.countRequest(message.name, 'APP_NOT_EXIST');
      return this.refuse(peer, message.requestId, typeId, 'APP_NOT_EXIST', `table ${header.tableId} was dropped`);
    }
    const store = this.stores.get(gpid);
    if (store === undefined || this.core.replicas().get(gpid) === undefined) {
      this.countRequest(message.name, 'SERVER_CHANGED');
      return this.refuse(peer, message.requestId, typeId, 'SERVER_CHANGED', `${this.address} holds no replica of partition ${gpid}`);
    }
    const isWrite = WRITE_NAMES.has(message.name);
    const deny = table?.policy.deny;
    if (deny !== undefined && (isWrite ? deny.writes : deny.reads)) {
      this.countRequest(message.name, `denied_${deny.action}`);
      // timeout: no answer at all (the client times out); reconfig: go elsewhere.
      if (deny.action === 'reconfig') this.refuse(peer, message.requestId, typeId, 'SERVER_CHANGED', `table ${header.tableId} denies ${isWrite ? 'writes' : 'reads'} (replica.deny_client_request)`);
      return;
    }
    if (peer.inFlight >= (this.options.maxInFlightPerConnection ?? 4096)) {
      this.countRequest(message.name, 'APP_BUSY');
      return this.refuse(peer, message.requestId, typeId, 'APP_BUSY', 'too many requests in flight on this connection');
    }
    if (!isWrite && !this.running && this.effects.length === 0 && this.core.isServing(gpid, this.clock.nowMs())) {
      // The fast path of a read: what a clientRead step would decide (the core's isServing), and
      // with no effect waiting, what its read effect would do at once (see input()) — without
      // the step's objects or a pending entry.
      const started = performance.now();
      this.serveRead(peer, message, typeId, store);
      this.observeLatency(message.name, started);
      return;
    }
    const internal = this.nextClientRequest++;
    this.clients.set(internal, { connection: peer.connection, requestId: message.requestId, name: message.name, typeId, started: performance.now(), peer, message });
    peer.inFlight++;
    const client = `client:${internal}`;
    if (isWrite) {
      let write: Uint8Array;
      try {
        const builder = store.app.newMutationBuilder();
        builder.add({ type: message.name, request: (message.body as { request: unknown }).request } as WriteRequest);
        write = encodeMutation(builder.build());
      } catch (error) {
        this.finishClient(internal);
        const petrel = isPetrelError(error) ? error : new PetrelError('SERVER_INTERNAL_ERROR', String(error));
        this.countRequest(message.name, petrel.code);
        return this.refuse(peer, message.requestId, typeId, petrel.code, petrel.message);
      }
      const policy = table?.policy;
      if (policy !== undefined && (policy.writeThrottling.length > 0 || policy.writeThrottlingBySize.length > 0)) {
        let throttle = this.throttles.get(gpid);
        if (throttle === undefined) this.throttles.set(gpid, (throttle = { count: new Throttle(), bytes: new Throttle() }));
        const now = this.clock.nowMs();
        const byCount = throttle.count.decide(policy.writeThrottling, now, 1);
        const bySize = throttle.bytes.decide(policy.writeThrottlingBySize, now, write.length);
        if (byCount.action === 'reject' || bySize.action === 'reject') {
          this.finishClient(internal);
          this.countRequest(message.name, 'APP_BUSY');
          return this.refuse(peer, message.requestId, typeId, 'APP_BUSY', `table ${header.tableId} is over its write limit (replica.write_throttling)`);
        }
        const delayMs = Math.max(byCount.action === 'delay' ? byCount.ms : 0, bySize.action === 'delay' ? bySize.ms : 0);
        if (delayMs > 0) {
          const delayed = write;
          setTimeout(() => this.input({ type: 'message', now: this.clock.nowMs(), from: client, message: { type: 'clientWrite', gpid, requestId: internal, write: delayed } }), delayMs);
          return;
        }
      }
      this.input({ type: 'message', now: this.clock.nowMs(), from: client, message: { type: 'clientWrite', gpid, requestId: internal, write } });
    } else {
      // The core does not look inside a read: it says when and where to run it (answerRead).
      this.input({ type: 'message', now: this.clock.nowMs(), from: client, message: { type: 'clientRead', gpid, requestId: internal, read: NO_BYTES } });
    }
  }

  /**
   * `tableId.partitionIndex`, kept once built for a partition held here (not per request; the ids
   * come off the wire, so only those of a store are kept).
   */
  private gpidOf(tableId: number, partitionIndex: number): Gpid {
    const known = this.gpids.get(tableId)?.[partitionIndex];
    if (known !== undefined) return known;
    const gpid = `${tableId}.${partitionIndex}`;
    if (this.stores.has(gpid) && partitionIndex < 65_536) {
      let table = this.gpids.get(tableId);
      if (table === undefined) this.gpids.set(tableId, (table = []));
      table[partitionIndex] = gpid;
    }
    return gpid;
  }

  private countRequest(op: string, outcome: string): void {
    let byOutcome = this.requestCounters.get(op);
    if (byOutcome === undefined) this.requestCounters.set(op, (byOutcome = new Map()));
    let child = byOutcome.get(outcome);
    if (child === undefined) byOutcome.set(outcome, (child = this.requestsTotal.child({ op, outcome })));
    child.inc();
  }

  private finishClient(internal: number): PendingClient | undefined {
    const pending = this.clients.get(internal);
    if (pending === undefined) return undefined;
    this.clients.delete(internal);
    if (pending.peer !== undefined) pending.peer.inFlight--;
    this.observeLatency(pending.name, pending.started);
    return pending;
  }

  private observeLatency(op: string, started: number): void {
    let child = this.latencyChildren.get(op);
    if (child === undefined) this.latencyChildren.set(op, (child = this.latency.child({ op })));
    child.observe((performance.now() - started) / 1000);
  }

  private answerRead(gpid: Gpid, internal: number): void {
    const pending = this.finishClient(internal);
    if (pending === undefined) return;
    const store = this.stores.get(gpid);
    const { message, typeId } = pending;
    if (store === undefined) return this.refuse(pending, pending.requestId, typeId, 'SERVER_CHANGED', `partition ${gpid} is not here`);
    this.serveRead(pending, message, typeId, store);
  }

  /** Runs a client read on the partition's app and answers it (or its error). */
  private serveRead(to: Peer | PendingClient, message: RequestMessage, typeId: number, store: ReplicaStore): void {
    try {
      const body = readApp(store.app, message);
      to.connection.send(encodeMessage({ kind: 'response', name: message.name, requestId: message.requestId, body } as never));
      this.countRequest(message.name, 'ok');
    } catch (error) {
      const petrel = isPetrelError(error) ? error : new PetrelError('SERVER_INTERNAL_ERROR', String(error));
      this.countRequest(message.name, petrel.code);
      this.refuse(to, message.requestId, typeId, petrel.code, petrel.message);
    }
  }

  private answerWrite(internal: number, result: Uint8Array | undefined, refusal: string | undefined): void {
    const pending = this.finishClient(internal);
    if (pending === undefined) return;
    const typeId = pending.typeId;
    if (refusal !== undefined || result === undefined) {
      const code = refusal === 'NOT_ENOUGH_MEMBER' ? 'NOT_ENOUGH_MEMBER' : refusal === 'BUSY' ? 'APP_BUSY' : 'SERVER_CHANGED';
      this.countRequest(pending.name, code);
      return this.refuse(pending, pending.requestId, typeId, code, `write refused: ${refusal ?? 'no result'}`);
    }
    pending.connection.send(withRequestId(result, pending.requestId));
    this.countRequest(pending.name, 'ok');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.gcTimer !== undefined) clearInterval(this.gcTimer);
    await this.listener.close();
    this.metaConnection?.close();
    for (const peer of this.outbound.values()) peer.connection?.close();
    await this.statusServer?.close();
    for (const store of this.stores.values()) await store.close();
    this.stores.clear();
  }
}


/** Runs a client read on the app; the body of its response. */
function readApp(app: StorageApp, message: RequestMessage): unknown {
  const request = (message.body as unknown as { request: never }).request;
  switch (message.name) {
    case 'get':
      return app.get(request);
    case 'exist':
      return app.exist(request);
    case 'ttl':
      return app.ttl(request);
    case 'multiGet':
      return app.multiGet(request);
    case 'sortKeyCount':
      return app.sortKeyCount(request);
    case 'scan':
      return app.scan(request);
    case 'batchGet':
      return app.batchGet(request);
    default:
      throw new PetrelError('INVALID_ARGUMENT', `${message.name} is not a read`);
  }
}

