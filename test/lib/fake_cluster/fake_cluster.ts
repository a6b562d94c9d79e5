/**
 * FakeCluster — A TEST DOUBLE, not a server. One process, no replication, no durability: a few
 * WebSocket servers on 127.0.0.1 that speak the real wire protocol (transport frames, hello,
 * client ↔ replica codecs, cluster envelope) so that `@petrel/client` can be tested end to end
 * before and apart from the real meta and replica servers.
 *
 * - Meta servers (one or more) share the table state; one is the leader, the others answer
 *   NOT_LEADER (naming the leader, unless told not to).
 * - Replica servers answer for the partitions whose primary they are, with the real storage app
 *   over the in-memory engine; anything else is SERVER_CHANGED.
 * - The test steers it: move a primary (the old server answers SERVER_CHANGED until the client
 *   refreshes its routing; the meta may be told to announce the move late), leave a partition
 *   without primary, change the meta leader, cut connections, stop and restart a server on its
 *   port, delay answers, answer with errors, cut a connection on a given request. Every request
 *   is logged (server, name, table, partition) for assertions.
 *
 * Every test must `await cluster.stop()`; servers listen on 127.0.0.1 only.
 */
import { type Clock, PetrelError, initChecksum } from '@petrel/base';
import {
  type Connection,
  type Listener,
  type PlainValue,
  clusterMessageName,
  decodeClusterMessage,
  decodeMessage,
  encodeMessage,
  errorResponse,
  listen,
  negotiateProtocolVersion,
  okResponse,
  peekEnvelope,
} from '@petrel/protocol';
import type { StorageAppOptions } from '@petrel/replica';
import { answerMeta } from './fake_meta.js';
import { type RoutedRequestMessage, answerReplica } from './fake_replica.js';
import { type Fault, FaultTable, type RequestFacts } from './faults.js';
import { ClusterState, type FakeTable } from './state.js';

/** The request log keeps at most this many entries (the oldest half goes when it is full). */
const MAX_LOG_ENTRIES = 1_000_000;

export interface FakeClusterOptions {
  /** Replica servers (default 3). */
  replicaServers?: number;
  /** Meta servers (default 1). */
  metaServers?: number;
  /** The leading meta (default 0). */
  leader?: number;
  /** The storage apps' clock (TTL expiry); the system clock when absent. */
  clock?: Clock;
  /** Storage app limits (iteration cap, time limit …). */
  appOptions?: Omit<StorageAppOptions, 'clock' | 'envs'>;
  /** Tables created through the meta get primaries only after this long (default 0: at once). */
  createHealthyAfterMs?: number;
}

interface FakeServer {
  readonly role: 'meta' | 'replica';
  readonly index: number;
  readonly address: string;
  readonly port: number;
  listener: Listener | undefined;
  readonly connections: Set<Connection>;
  accepted: number;
}

export class FakeCluster {
  readonly faults = new FaultTable();
  /** Every request received, in order. */
  readonly log: RequestFacts[] = [];
  /** Requests whose keys did not belong to the partition they were sent to. */
  misroutes = 0;
  private leader: number;
  private announceLeader = true;
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  private constructor(
    readonly state: ClusterState,
    private readonly metas: FakeServer[],
    private readonly replicas: FakeServer[],
    leader: number,
    private readonly createHealthyAfterMs: number,
  ) {
    this.leader = leader;
  }

  static async start(options: FakeClusterOptions = {}): Promise<FakeCluster> {
    await initChecksum();
    const metas: FakeServer[] = [];
    const replicas: FakeServer[] = [];
    let cluster: FakeCluster | undefined;
    const open = async (role: 'meta' | 'replica', index: number): Promise<FakeServer> => {
      const holder: { server?: FakeServer } = {};
      const listener = await listen({ host: '127.0.0.1', port: 0, onConnection: (connection) => cluster?.accept(holder.server as FakeServer, connection) });
      holder.server = { role, index, address: listener.address, port: listener.port, listener, connections: new Set(), accepted: 0 };
      return holder.server;
    };
    for (let i = 0; i < (options.metaServers ?? 1); i++) metas.push(await open('meta', i));
    for (let i = 0; i < (options.replicaServers ?? 3); i++) replicas.push(await open('replica', i));
    const state = new ClusterState(
      replicas.map((server) => server.address),
      options.clock,
      options.appOptions ?? {},
    );
    cluster = new FakeCluster(state, metas, replicas, options.leader ?? 0, options.createHealthyAfterMs ?? 0);
    return cluster;
  }

  get metaAddresses(): string[] {
    return this.metas.map((server) => server.address);
  }

  get replicaAddresses(): string[] {
    return this.replicas.map((server) => server.address);
  }

  // ---- Tables ----

  /** Creates a table directly (not through a client), healthy at once. */
  createTable(name: string, options: { partitionCount?: number; replicaCount?: number; envs?: Record<string, string> } = {}): FakeTable {
    if (this.state.byName(name) !== undefined) throw new PetrelError('APP_EXIST', `table ${name} exists`);
    return this.state.create(name, options.partitionCount ?? 8, options.replicaCount ?? Math.min(3, this.replicas.length), options.envs ?? {}, true);
  }

  table(name: string): FakeTable {
    return this.state.require(name);
  }

  /** The address serving a partition as primary (null: none). */
  primaryOf(tableName: string, partitionIndex: number): string | null {
    const partition = this.partition(tableName, partitionIndex);
    return partition.primary === null ? null : (this.replicaAddresses[partition.primary] as string);
  }

  private partition(tableName: string, partitionIndex: number) {
    const partition = this.table(tableName).partitions[partitionIndex];
    if (partition === undefined) throw new PetrelError('INVALID_ARGUMENT', `no partition ${partitionIndex} in ${tableName}`);
    return partition;
  }

  /**
   * Moves a partition's primary to replica server `to` (default: the next one; null: no primary),
   * with a new ballot. The old primary answers SERVER_CHANGED from now on; the meta announces
   * the new configuration at once, or after `announceDelayMs`.
   */
  movePrimary(tableName: string, partitionIndex: number, options: { to?: number | null; announceDelayMs?: number } = {}): string | null {
    const partition = this.partition(tableName, partitionIndex);
    const servers = this.replicas.length;
    const to = options.to === undefined ? ((partition.primary ?? -1) + 1) % servers : options.to;
    const old = partition.primary;
    partition.ballot++;
    partition.primary = to;
    partition.secondaries = to === null ? [] : [...new Set([...partition.secondaries, ...(old === null ? [] : [old])])].filter((server) => server !== to);
    const announced = { ballot: partition.ballot, primary: partition.primary, secondaries: partition.secondaries };
    if ((options.announceDelayMs ?? 0) > 0) this.later(options.announceDelayMs as number, () => (partition.announced = announced));
    else partition.announced = announced;
    return to === null ? null : (this.replicaAddresses[to] as string);
  }

  // ---- Meta leadership ----

  /** Makes meta `index` the leader; the others answer NOT_LEADER, naming it when `announce`. */
  setLeader(index: number, announce = true): void {
    this.leader = index;
    this.announceLeader = announce;
  }

  // ---- Network faults ----

  inject(fault: Fault): void {
    this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Cuts every connection of one server (all servers when absent), without a closing handshake. */
  dropConnections(address?: string): number {
    let dropped = 0;
    for (const server of [...this.metas, ...this.replicas]) {
      if (address !== undefined && server.address !== address) continue;
      for (const connection of server.connections) {
        connection.terminate();
        dropped++;
      }
    }
    return dropped;
  }

  /** Stops a server listening (its connections are cut; new ones are refused). */
  async stopServer(address: string): Promise<void> {
    const server = this.server(address);
    const listener = server.listener;
    server.listener = undefined;
    await listener?.close();
  }

  /** Starts a stopped server again on its port. */
  async restartServer(address: string): Promise<void> {
    const server = this.server(address);
    if (server.listener !== undefined) return;
    server.listener = await listen({ host: '127.0.0.1', port: server.port, onConnection: (connection) => this.accept(server, connection) });
  }

  /** Connections a server has accepted since it started. */
  acceptedConnections(address: string): number {
    return this.server(address).accepted;
  }

  private server(address: string): FakeServer {
    const server = [...this.metas, ...this.replicas].find((candidate) => candidate.address === address);
    if (server === undefined) throw new PetrelError('INVALID_ARGUMENT', `no fake server at ${address}`);
    return server;
  }

  /** Logged requests that match every given field. */
  requests(filter: Partial<RequestFacts> = {}): RequestFacts[] {
    return this.log.filter(
      (facts) =>
        (filter.server === undefined || facts.server === filter.server) &&
        (filter.type === undefined || facts.type === filter.type) &&
        (filter.tableId === undefined || facts.tableId === filter.tableId) &&
        (filter.partitionIndex === undefined || facts.partitionIndex === filter.partitionIndex),
    );
  }

  /** Requests to replica servers (reads and writes), optionally of one type. */
  dataRequests(type?: string): RequestFacts[] {
    const replicas = new Set(this.replicaAddresses);
    return this.log.filter((facts) => replicas.has(facts.server) && (type === undefined || facts.type === type));
  }

  clearLog(): void {
    this.log.length = 0;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const server of [...this.metas, ...this.replicas]) {
      const listener = server.listener;
      server.listener = undefined;
      await listener?.close();
    }
    await this.state.close();
  }

  // ---- Serving ----

  private record(facts: RequestFacts): void {
    if (this.log.length >= MAX_LOG_ENTRIES) this.log.splice(0, MAX_LOG_ENTRIES / 2);
    this.log.push(facts);
  }

  private later(ms: number, work: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (!this.stopped) work();
    }, ms);
    this.timers.add(timer);
  }

  private accept(server: FakeServer, connection: Connection): void {
    server.connections.add(connection);
    server.accepted++;
    connection.onClose(() => server.connections.delete(connection));
    let greeted = false;
    connection.onMessage((bytes) => {
      if (this.stopped) return;
      if (!greeted) {
        greeted = this.greet(server, connection, bytes);
        return;
      }
      if (server.role === 'meta') this.serveMeta(server, connection, bytes);
      else this.serveReplica(server, connection, bytes);
    });
  }

  /** The first message must be a hello; the answer names the version both sides speak. */
  private greet(server: FakeServer, connection: Connection, bytes: Buffer): boolean {
    try {
      const message = decodeMessage(bytes);
      if (message.kind !== 'request' || message.name !== 'hello') throw new PetrelError('INVALID_ARGUMENT', 'the first message must be a hello');
      const protocolVersion = negotiateProtocolVersion(message.body);
      connection.send(encodeMessage({ kind: 'response', name: 'hello', requestId: message.requestId, body: { protocolVersion, peerName: `fake-${server.role}-${server.index}` } }));
      return true;
    } catch (error) {
      const envelope = peekEnvelope(bytes);
      const failure = error instanceof PetrelError ? error : new PetrelError('INVALID_ARGUMENT', String(error));
      connection.send(encodeMessage({ kind: 'error', requestId: envelope?.requestId ?? 0, body: { requestType: envelope?.typeId ?? 0, error: { code: failure.code, message: failure.message } } }));
      connection.close(1002, 'no hello');
      return false;
    }
  }

  private reply(connection: Connection, facts: RequestFacts, bytes: Buffer): void {
    const delay = this.faults.take('delay', facts);
    if (delay === undefined) connection.send(bytes);
    else this.later(delay.ms, () => connection.send(bytes));
  }

  private serveReplica(server: FakeServer, connection: Connection, bytes: Buffer): void {
    let message;
    try {
      message = decodeMessage(bytes);
      if (message.kind !== 'request' || message.name === 'hello') throw new PetrelError('INVALID_ARGUMENT', 'expected a client request');
    } catch (error) {
      const envelope = peekEnvelope(bytes);
      const failure = error instanceof PetrelError ? error : new PetrelError('INVALID_ARGUMENT', String(error));
      connection.send(encodeMessage({ kind: 'error', requestId: envelope?.requestId ?? 0, body: { requestType: envelope?.typeId ?? 0, error: { code: failure.code, message: failure.message } } }));
      return;
    }
    const request = message as RoutedRequestMessage;
    const header = request.body.header;
    const facts: RequestFacts = { server: server.address, type: request.name, tableId: header.tableId, partitionIndex: header.partitionIndex, timeoutMs: header.timeoutMs, atMs: performance.now() };
    this.record(facts);
    const answer = (): Buffer => {
      try {
        const body = answerReplica(this.state, server.index, request, () => this.misroutes++);
        return encodeMessage({ kind: 'response', name: request.name, requestId: request.requestId, body } as Parameters<typeof encodeMessage>[0]);
      } catch (error) {
        const failure = error instanceof PetrelError ? error : new PetrelError('SERVER_INTERNAL_ERROR', String(error));
        return encodeMessage({ kind: 'error', requestId: request.requestId, body: { requestType: bytes.readUInt16BE(0), error: { code: failure.code, message: failure.message } } });
      }
    };
    const drop = this.faults.take('drop', facts);
    if (drop !== undefined) {
      if (drop.apply) answer();
      connection.terminate();
      return;
    }
    const injected = this.faults.take('error', facts);
    if (injected !== undefined) {
      const error = { code: injected.code, message: injected.message ?? `injected ${injected.code}` };
      this.reply(connection, facts, encodeMessage({ kind: 'error', requestId: request.requestId, body: { requestType: bytes.readUInt16BE(0), error } }));
      return;
    }
    this.reply(connection, facts, answer());
  }

  private serveMeta(server: FakeServer, connection: Connection, bytes: Buffer): void {
    let typeId: number;
    let requestId: number;
    let body: PlainValue;
    try {
      ({ typeId, requestId, body } = decodeClusterMessage(bytes));
    } catch (error) {
      const envelope = peekEnvelope(bytes);
      connection.send(errorResponse(envelope?.typeId ?? 0, envelope?.requestId ?? 0, error));
      return;
    }
    const name = clusterMessageName(typeId);
    const facts: RequestFacts = { server: server.address, type: name ?? `0x${typeId.toString(16)}`, atMs: performance.now() };
    this.record(facts);
    if (name === undefined || (typeId & 0x8000) !== 0) {
      connection.send(errorResponse(typeId & 0x7fff, requestId, new PetrelError('INVALID_ARGUMENT', 'not a request')));
      return;
    }
    if (server.index !== this.leader) {
      const leader = this.announceLeader ? this.metaAddresses[this.leader] : undefined;
      this.reply(connection, facts, errorResponse(typeId, requestId, new PetrelError('NOT_LEADER', `meta ${server.index} is not the leader`), leader));
      return;
    }
    const behaviour = { createHealthyAfterMs: this.createHealthyAfterMs, later: (ms: number, work: () => void) => this.later(ms, work) };
    const drop = this.faults.take('drop', facts);
    if (drop !== undefined) {
      if (drop.apply) {
        try {
          answerMeta(this.state, behaviour, name, body);
        } catch {
          // The connection goes either way.
        }
      }
      connection.terminate();
      return;
    }
    const injected = this.faults.take('error', facts);
    if (injected !== undefined) {
      this.reply(connection, facts, errorResponse(typeId, requestId, new PetrelError(injected.code, injected.message ?? `injected ${injected.code}`)));
      return;
    }
    let answer: Buffer;
    try {
      const result = answerMeta(this.state, behaviour, name, body);
      answer = okResponse(typeId, requestId, result);
    } catch (error) {
      answer = errorResponse(typeId, requestId, error);
    }
    this.reply(connection, facts, answer);
  }
}
