/**
 * The meta server: the table catalog, the partition configurations (decided by the pure MetaCore
 * of @petrel/pacifica, driven here with real time, a real network and the state store), routing
 * for clients, and the status endpoint.
 *
 * Connections: every peer starts with `hello` (its name: a replica server gives its own listen
 * address, which is its node id). Replica servers keep one connection to the meta and send their
 * PacificA messages (beacons, config syncs, config changes) as `metaMessage`s; the meta answers
 * over the same connection. Clients send the client↔meta requests of cluster_messages.ts.
 *
 * Durable state (in the state store, besides the catalog's):
 *   /configs/<gpid>     JSON PartitionConfiguration — persisted before the core applies it
 *   /sessions/<node>    decimal lease session of a replica server
 */
import { type Clock, MetricsRegistry, PetrelError, SystemClock, type Vfs, joinPath, nodeVfs, startStatusServer } from '@petrel/base';
import {
  type Gpid,
  type MetaDurableState,
  type MetaEffect,
  type MetaRecord,
  type Message as PacificaMessage,
  MetaCore,
  META_LEVELS,
  type MetaLevel,
  type NodeId,
  type PartitionConfiguration,
  type ReplicationOptions,
  emptyConfiguration,
  membersOf,
  replicationOptions,
} from '@petrel/pacifica';
import {
  CLUSTER_TYPE_IDS,
  type Connection,
  type CreateTableRequest,
  type DelTableEnvsRequest,
  type DropTableRequest,
  type ListTablesRequest,
  type Listener,
  type NodeInfo,
  type PartitionRouting,
  type RecallTableRequest,
  type RoutingResponse,
  type SetTableEnvsRequest,
  type TableInfo,
  type TableNameRequest,
  type TableState,
  PROTOCOL_VERSION,
  clusterMessageName,
  decodeClusterMessage,
  decodeMessage,
  encodeClusterMessage,
  encodeMessage,
  errorResponse,
  isClusterTypeId,
  listen,
  encodeHelloResponse,
  okResponse,
  parseAddress,
  peekEnvelope,
} from '@petrel/protocol';
import { LocalStateStore } from '../state/local_state_store.js';
import type { StateStore } from '../state/state_store.js';
import { type TableRecord, TableCatalog } from './catalog.js';

export interface MetaServerOptions {
  /** host:port to listen on (port 0: any free port). */
  listen: string;
  /** The local state store lives here (unless `stateStore` is given). */
  dataDir?: string;
  vfs?: Vfs;
  /** A state store to use instead of the local one (the ZooKeeper store, for HA). */
  stateStore?: StateStore;
  /** Port of the HTTP status endpoint (/metrics, /health); absent: none. */
  httpPort?: number;
  replication?: Partial<ReplicationOptions>;
  clock?: Clock;
  /** Human-readable log lines (default: stderr). */
  log?: (line: string) => void;
}

const CONFIG_PREFIX = '/configs/';
const LEVEL_KEY = '/meta_level';
/** Requests that change tables: refused at level stopped. */
const CHANGES = new Set<number>([
  CLUSTER_TYPE_IDS.createTable,
  CLUSTER_TYPE_IDS.dropTable,
  CLUSTER_TYPE_IDS.recallTable,
  CLUSTER_TYPE_IDS.setTableEnvs,
  CLUSTER_TYPE_IDS.delTableEnvs,
  CLUSTER_TYPE_IDS.setReplicaCount,
]);
const SESSION_PREFIX = '/sessions/';

interface Peer {
  connection: Connection;
  name: string | undefined;
}

export class MetaServer {
  private readonly clock: Clock;
  private readonly log: (line: string) => void;
  private readonly peers = new Set<Peer>();
  /** The live connection of each replica server, by node id. */
  private readonly nodeConnections = new Map<NodeId, Connection>();
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Infinity;
  private stopped = false;
  /** Persists run one after another, each reported to the core when durable. */
  private persistTail: Promise<void> = Promise.resolve();
  private readonly metrics = new MetricsRegistry();
  private readonly requestsTotal = this.metrics.counter('petrel_meta_requests_total', 'Requests the meta server answered, by type and outcome.');
  private statusServer: { port: number; close(): Promise<void> } | undefined;

  private constructor(
    readonly options: MetaServerOptions,
    private readonly store: StateStore,
    private readonly catalog: TableCatalog,
    private readonly core: MetaCore,
    private readonly listener: Listener,
    readonly address: string,
  ) {
    this.clock = options.clock ?? new SystemClock();
    this.log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
    this.metrics.gauge('petrel_meta_tables', 'Available tables.', () => this.catalog.tables().length);
    this.metrics.gauge('petrel_meta_nodes', 'Replica servers by liveness.', () => {
      const nodes = this.nodeInfos();
      return [
        [{ state: 'alive' }, nodes.filter((n) => n.alive).length],
        [{ state: 'dead' }, nodes.filter((n) => !n.alive).length],
      ];
    });
    this.metrics.gauge('petrel_meta_partitions', 'Partitions by health.', () => {
      const counts = { healthy: 0, unhealthy: 0 };
      for (const config of this.core.configurations().values()) {
        if (config.primary !== null && membersOf(config).length >= config.maxReplicaCount) counts.healthy++;
        else counts.unhealthy++;
      }
      return [
        [{ state: 'healthy' }, counts.healthy],
        [{ state: 'unhealthy' }, counts.unhealthy],
      ];
    });
  }

  static async start(options: MetaServerOptions): Promise<MetaServer> {
    const clock = options.clock ?? new SystemClock();
    const vfs = options.vfs ?? nodeVfs;
    let store = options.stateStore;
    if (store === undefined) {
      if (options.dataDir === undefined) throw new PetrelError('INVALID_ARGUMENT', 'the meta server needs a data dir (or a state store)');
      await vfs.mkdir(options.dataDir, { recursive: true });
      store = await LocalStateStore.open({ vfs, dir: joinPath(options.dataDir, 'state') });
    }
    const catalog = new TableCatalog(store, () => Math.floor(clock.wallMs() / 1000));
    const { host, port } = parseAddress(options.listen, true);
    // The core must exist before connections arrive: listen first on the port, then build it.
    let server: MetaServer | undefined;
    const pending: Connection[] = [];
    const listener = await listen({
      host,
      port,
      onConnection: (connection) => {
        if (server === undefined) pending.push(connection);
        else server.accept(connection);
      },
    });
    const durable = readDurableState(store);
    const replicaServers = new Set<NodeId>(durable.sessions.keys());
    for (const config of durable.configs.values()) for (const node of [...membersOf(config), ...config.lastDrops]) replicaServers.add(node);
    const core = new MetaCore(
      { node: listener.address, replicaServers: [...replicaServers], options: replicationOptions(options.replication ?? {}) },
      clock.nowMs(),
      durable,
    );
    const level = store.get(LEVEL_KEY)?.toString('utf8');
    if (level !== undefined && (META_LEVELS as readonly string[]).includes(level)) core.setLevel(level as MetaLevel);
    server = new MetaServer(options, store, catalog, core, listener, listener.address);
    // Dropped tables' partitions are not cured (their configurations stay stored for a recall).
    for (const table of catalog.tables(true)) if (table.status === 'dropped') core.removePartitions(gpidsOf(table));
    // Tables whose partitions have no configuration yet (a crash between the two commits of a create).
    for (const table of catalog.tables()) await server.ensurePartitions(table);
    server.perform(core.start(clock.nowMs()));
    for (const connection of pending) server.accept(connection);
    if (options.httpPort !== undefined) {
      server.statusServer = await startStatusServer({ host, port: options.httpPort, registry: server.metrics, health: () => server!.health() });
    }
    server.log(`meta: serving on ${listener.address} with ${catalog.tables().length} tables, ${replicaServers.size} known replica servers`);
    return server;
  }

  get httpPort(): number | undefined {
    return this.statusServer?.port;
  }

  // ---- connections ---------------------------------------------------------------------------

  private accept(connection: Connection): void {
    const peer: Peer = { connection, name: undefined };
    this.peers.add(peer);
    connection.onMessage((bytes) => {
      try {
        this.onMessage(peer, bytes);
      } catch (error) {
        // A message we cannot read at all: say so and drop the peer (others are unaffected).
        this.log(`meta: closing ${peer.name ?? connection.remoteAddress}: ${String(error)}`);
        connection.close(1007, 'malformed message');
      }
    });
    connection.onClose(() => {
      this.peers.delete(peer);
      if (peer.name !== undefined && this.nodeConnections.get(peer.name) === connection) this.nodeConnections.delete(peer.name);
    });
  }

  private onMessage(peer: Peer, bytes: Buffer): void {
    if (this.stopped) return;
    const envelopeHead = peekEnvelope(bytes);
    if (envelopeHead === undefined) throw new PetrelError('INVALID_ARGUMENT', 'a message too short for its envelope');
    const { typeId, requestId } = envelopeHead;
    if (!isClusterTypeId(typeId)) {
      const message = decodeMessage(bytes);
      if (message.kind === 'request' && message.name === 'hello') {
        const answer = encodeHelloResponse(message.body, requestId, this.address);
        peer.name = message.body.peerName;
        peer.connection.send(answer);
        return;
      }
      peer.connection.send(
        encodeMessage({ kind: 'error', requestId, body: { requestType: typeId, error: { code: 'INVALID_ARGUMENT', message: 'the meta server answers cluster requests only' } } }),
      );
      return;
    }
    const envelope = decodeClusterMessage(bytes);
    if (envelope.typeId === CLUSTER_TYPE_IDS.metaMessage) {
      if (peer.name === undefined) throw new PetrelError('INVALID_ARGUMENT', 'a replica server must say hello first');
      this.nodeConnections.set(peer.name, peer.connection);
      this.onNodeMessage(peer.name, envelope.body as unknown as PacificaMessage);
      return;
    }
    void this.answer(peer, envelope.typeId, envelope.requestId, envelope.body);
  }

  private onNodeMessage(node: NodeId, message: PacificaMessage): void {
    if (message.type === 'beacon' && !this.core.knowsNode(node)) {
      this.log(`meta: replica server ${node} joined`);
      this.core.addNode(node, this.clock.nowMs());
    }
    this.perform(this.core.step({ type: 'message', now: this.clock.nowMs(), from: node, message }));
    if (message.type === 'configSync') this.nodeConnections.get(node)?.send(this.tablesMessage());
  }

  /** Every table's status and envs, for the replica servers (dropped tables: APP_NOT_EXIST). */
  private tablesMessage(): Buffer {
    const tables: TableState[] = this.catalog.tables(true).map((table) => ({ id: table.id, status: table.status, envs: table.envs }));
    return encodeClusterMessage(CLUSTER_TYPE_IDS.tables, 0, { tables });
  }

  /** At once on a drop, recall or env change (and again with every config sync). */
  private broadcastTables(): void {
    const message = this.tablesMessage();
    for (const connection of this.nodeConnections.values()) connection.send(message);
  }

  private async answer(peer: Peer, typeId: number, requestId: number, body: unknown): Promise<void> {
    const name = clusterMessageName(typeId) ?? 'unknown';
    try {
      const result = await this.handle(typeId, body);
      this.requestsTotal.inc({ type: name, outcome: 'ok' });
      peer.connection.send(okResponse(typeId, requestId, result));
    } catch (error) {
      const code = error instanceof PetrelError ? error.code : 'SERVER_INTERNAL_ERROR';
      this.requestsTotal.inc({ type: name, outcome: code });
      if (!(error instanceof PetrelError)) this.log(`meta: ${name} failed: ${String(error)}`);
      peer.connection.send(errorResponse(typeId, requestId, error));
    }
  }

  private async handle(typeId: number, body: unknown): Promise<unknown> {
    const request = (body ?? {}) as Record<string, unknown>;
    if (this.core.configuredLevel === 'stopped' && CHANGES.has(typeId)) {
      throw new PetrelError('APP_BUSY', 'the meta server is at level stopped: table changes are refused (set_meta_level to change it)');
    }
    switch (typeId) {
      case CLUSTER_TYPE_IDS.setMetaLevel: {
        const level = request.level;
        if (typeof level !== 'string' || !(META_LEVELS as readonly string[]).includes(level)) {
          throw new PetrelError('INVALID_ARGUMENT', `meta level must be one of ${META_LEVELS.join(', ')}`);
        }
        await this.store.commit({ put: [[LEVEL_KEY, Buffer.from(level)]] });
        this.core.setLevel(level as MetaLevel);
        this.log(`meta: level set to ${level}`);
        return { level, effective: this.core.effectiveLevel };
      }
      case CLUSTER_TYPE_IDS.getMetaLevel:
        return { level: this.core.configuredLevel, effective: this.core.effectiveLevel };
      case CLUSTER_TYPE_IDS.setReplicaCount: {
        const table = await this.catalog.setReplicaCount(requireString(request.name, 'name'), requireNumber(request.replicaCount, 'replicaCount'));
        for (const gpid of gpidsOf(table)) this.core.setMaxReplicaCount(gpid, table.replicaCount);
        this.kick();
        this.log(`meta: table ${table.name} now wants ${table.replicaCount} replicas`);
        return tableInfo(table);
      }
      case CLUSTER_TYPE_IDS.createTable:
        return this.createTable(request as unknown as CreateTableRequest);
      case CLUSTER_TYPE_IDS.dropTable: {
        const { name, reserveSeconds } = request as unknown as DropTableRequest;
        const table = await this.catalog.drop(requireString(name, 'name'), reserveSeconds);
        this.core.removePartitions(gpidsOf(table));
        this.broadcastTables();
        this.log(`meta: dropped table ${table.name} (id ${table.id})`);
        return null;
      }
      case CLUSTER_TYPE_IDS.recallTable: {
        const { id, newName } = request as unknown as RecallTableRequest;
        const table = await this.catalog.recall(requireNumber(id, 'id'), newName);
        await this.ensurePartitions(table);
        this.broadcastTables();
        return tableInfo(table);
      }
      case CLUSTER_TYPE_IDS.listTables:
        return this.catalog.tables((request as unknown as ListTablesRequest).includeDropped === true).map(tableInfo);
      case CLUSTER_TYPE_IDS.tableInfo:
      case CLUSTER_TYPE_IDS.queryRouting:
        return this.routing(this.catalog.require(requireString((request as unknown as TableNameRequest).name, 'name')));
      case CLUSTER_TYPE_IDS.setTableEnvs: {
        const { name, envs } = request as unknown as SetTableEnvsRequest;
        const updated = tableInfo(await this.catalog.setEnvs(requireString(name, 'name'), requireRecord(envs, 'envs')));
        this.broadcastTables();
        return updated;
      }
      case CLUSTER_TYPE_IDS.delTableEnvs: {
        const { name, keys } = request as unknown as DelTableEnvsRequest;
        if (!Array.isArray(keys) || keys.some((key) => typeof key !== 'string')) throw new PetrelError('INVALID_ARGUMENT', 'keys must be a list of strings');
        const updated = tableInfo(await this.catalog.delEnvs(requireString(name, 'name'), keys));
        this.broadcastTables();
        return updated;
      }
      case CLUSTER_TYPE_IDS.listNodes:
        return this.nodeInfos();
      case CLUSTER_TYPE_IDS.clusterInfo:
        return this.clusterInfo();
      default:
        throw new PetrelError('INVALID_ARGUMENT', `the meta server does not answer ${clusterMessageName(typeId) ?? `type 0x${typeId.toString(16)}`}`);
    }
  }

  // ---- tables ----------------------------------------------------------------------------------

  private async createTable(request: CreateTableRequest): Promise<TableInfo> {
    const { table, created } = await this.catalog.create(
      requireString(request.name, 'name'),
      { partitionCount: request.partitionCount ?? 8, replicaCount: request.replicaCount ?? 3, envs: requireRecord(request.envs ?? {}, 'envs') },
      request.successIfExists === true,
    );
    if (created) {
      this.broadcastTables();
      await this.ensurePartitions(table);
      this.log(`meta: created table ${table.name} (id ${table.id}, ${table.partitionCount} partitions × ${table.replicaCount})`);
    }
    return tableInfo(table);
  }

  /** Gives every partition of the table a configuration (ballot 0, no members) the core will cure. */
  private async ensurePartitions(table: TableRecord): Promise<void> {
    const missing: PartitionConfiguration[] = [];
    const known: PartitionConfiguration[] = [];
    for (const gpid of gpidsOf(table)) {
      if (this.core.configuration(gpid) !== undefined) continue;
      // A recalled table keeps the configurations it had (its replicas hold those ballots).
      const stored = this.store.get(`${CONFIG_PREFIX}${gpid}`);
      if (stored !== undefined) known.push(JSON.parse(stored.toString('utf8')) as PartitionConfiguration);
      else missing.push(emptyConfiguration(gpid, table.replicaCount));
    }
    if (missing.length === 0 && known.length === 0) return;
    if (missing.length > 0) await this.store.commit({ put: missing.map((config) => [`${CONFIG_PREFIX}${config.gpid}`, Buffer.from(JSON.stringify(config))] as const) });
    this.core.addPartitions([...known, ...missing]);
    this.kick();
  }

  private routing(table: TableRecord): RoutingResponse {
    const partitions: PartitionRouting[] = [];
    for (let index = 0; index < table.partitionCount; index++) {
      const config = this.core.configuration(`${table.id}.${index}`);
      partitions.push({ index, ballot: config?.ballot ?? 0, primary: config?.primary ?? null, secondaries: config === undefined ? [] : [...config.secondaries] });
    }
    return { table: tableInfo(table), partitions };
  }

  private nodeInfos(): NodeInfo[] {
    const counts = new Map<NodeId, { primaries: number; secondaries: number }>();
    for (const node of this.core.nodeIds()) counts.set(node, { primaries: 0, secondaries: 0 });
    for (const config of this.core.configurations().values()) {
      if (config.primary !== null) counts.get(config.primary)!.primaries++;
      for (const node of config.secondaries) {
        const entry = counts.get(node);
        if (entry !== undefined) entry.secondaries++;
      }
    }
    return [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([address, count]) => ({ address, alive: this.core.isAlive(address), ...count }));
  }

  private clusterInfo(): Record<string, unknown> {
    const nodes = this.nodeInfos();
    let healthy = 0;
    let total = 0;
    for (const config of this.core.configurations().values()) {
      total++;
      if (config.primary !== null && membersOf(config).length >= config.maxReplicaCount) healthy++;
    }
    return {
      metaServer: this.address,
      leader: this.address,
      protocolVersion: PROTOCOL_VERSION,
      tables: this.catalog.tables().length,
      replicaServers: nodes.length,
      aliveReplicaServers: nodes.filter((node) => node.alive).length,
      partitions: total,
      healthyPartitions: healthy,
      metaLevel: this.core.configuredLevel,
      effectiveMetaLevel: this.core.effectiveLevel,
    };
  }

  private health(): { healthy: boolean; [key: string]: unknown } {
    return { healthy: !this.stopped, ...this.clusterInfo() };
  }

  // ---- the core's effects ----------------------------------------------------------------------

  private perform(effects: readonly MetaEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.sendToNode(effect.to, effect.message);
          break;
        case 'persist':
          this.persist(effect.token, effect.record);
          break;
        case 'wakeAt':
          this.scheduleWake(effect.time);
          break;
      }
    }
  }

  private sendToNode(node: NodeId, message: PacificaMessage): void {
    // No connection: the message is lost, as the cores expect messages may be.
    this.nodeConnections.get(node)?.send(encodeClusterMessage(CLUSTER_TYPE_IDS.metaMessage, 0, message));
  }

  private persist(token: number, record: MetaRecord): void {
    const change =
      record.kind === 'config'
        ? { put: [[`${CONFIG_PREFIX}${record.config.gpid}`, Buffer.from(JSON.stringify(record.config))] as const] }
        : { put: [[`${SESSION_PREFIX}${record.node}`, Buffer.from(String(record.session))] as const] };
    const done = this.persistTail.then(() => this.store.commit(change));
    this.persistTail = done.catch(() => undefined);
    done.then(
      () => {
        if (!this.stopped) this.perform(this.core.step({ type: 'persisted', now: this.clock.nowMs(), token }));
      },
      (error: unknown) => {
        // The state store failed: this meta cannot make decisions durable. Stop serving.
        this.log(`meta: the state store failed (${String(error)}); stopping`);
        void this.stop();
      },
    );
  }

  private scheduleWake(time: number): void {
    if (this.stopped || time >= this.wakeAt) return;
    this.wakeAt = time;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, time - this.clock.nowMs()));
  }

  private onTimer(): void {
    this.timer = undefined;
    this.wakeAt = Infinity;
    if (this.stopped) return;
    this.perform(this.core.step({ type: 'tick', now: this.clock.nowMs() }));
  }

  /** A tick soon: a new partition wants curing. */
  private kick(): void {
    this.scheduleWake(this.clock.nowMs());
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.listener.close();
    await this.statusServer?.close();
    await this.persistTail;
    await this.store.close();
  }
}

function readDurableState(store: StateStore): MetaDurableState {
  const configs = new Map<Gpid, PartitionConfiguration>();
  for (const key of store.keys(CONFIG_PREFIX)) {
    const config = JSON.parse(store.get(key)!.toString('utf8')) as PartitionConfiguration;
    configs.set(config.gpid, config);
  }
  const sessions = new Map<NodeId, number>();
  for (const key of store.keys(SESSION_PREFIX)) sessions.set(key.slice(SESSION_PREFIX.length), Number(store.get(key)!.toString('utf8')));
  return { configs, sessions };
}

function gpidsOf(table: TableRecord): Gpid[] {
  return Array.from({ length: table.partitionCount }, (_, index) => `${table.id}.${index}`);
}

function tableInfo(table: TableRecord): TableInfo {
  const info: TableInfo = {
    id: table.id,
    name: table.name,
    partitionCount: table.partitionCount,
    replicaCount: table.replicaCount,
    status: table.status,
    envs: { ...table.envs },
  };
  if (table.dropTime !== undefined) info.dropTime = table.dropTime;
  if (table.reserveUntil !== undefined) info.reserveUntil = table.reserveUntil;
  return info;
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new PetrelError('INVALID_ARGUMENT', `${what} must be a string`);
  return value;
}

function requireNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new PetrelError('INVALID_ARGUMENT', `${what} must be a number`);
  return value;
}

function requireRecord(value: unknown, what: string): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new PetrelError('INVALID_ARGUMENT', `${what} must be an object of strings`);
  }
  return value as Record<string, string>;
}
