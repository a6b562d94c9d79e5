/**
 * A hand-driven cluster for interaction tests: one MetaCore and a few ReplicaServerCores, a
 * network that delivers only when told, and storage with a durable prefix. Nothing happens by
 * itself: a test advances time (`tick`), delivers or drops messages, completes syncs, crashes
 * and restarts nodes, and reads the state. It is the manual cousin of the simulator in test/sim.
 *
 * The state machine here is a list: each write is a UTF-8 string appended to it; a read returns
 * the list joined by commas. That is enough to see which writes a replica applied, in which order.
 */
import { assert } from '@petrel/base';
import type { MetaEffect, MetaRecord, RecoveredReplica, ReplicaServerEffect, ReplicaServerInput } from '../effects.js';
import type { Message } from '../messages.js';
import { describeMessage } from '../messages.js';
import { MetaCore, applyMetaRecord, emptyMetaState, type MetaDurableState } from '../meta_core.js';
import type { PlantedBugs, ReplicationOptions } from '../options.js';
import { ReplicaServerCore } from '../replica_server_core.js';
import { stepCheckingReads } from './read_check.js';
import type { Checkpoint, Gpid, Mutation, NodeId, PartitionConfiguration, PersistedReplicaState } from '../types.js';
import { describeConfiguration, emptyConfiguration } from '../types.js';

export const metaNode = 'meta';
export const clientNode = 'client';

/** The list state machine. */
class ListApp {
  items: string[] = [];
  applied = 0;

  apply(decree: number, writes: readonly Uint8Array[]): Uint8Array[] {
    assert(decree === this.applied + 1, `list app: apply ${decree} after ${this.applied}`);
    this.applied = decree;
    return writes.map((write) => {
      this.items.push(Buffer.from(write).toString('utf8'));
      return Buffer.from(`ok@${decree}`);
    });
  }

  read(): Uint8Array {
    return Buffer.from(this.items.join(','));
  }

  checkpoint(): Checkpoint {
    return { decree: this.applied, data: Buffer.from(JSON.stringify(this.items)) };
  }

  restore(checkpoint: Checkpoint): void {
    this.items = JSON.parse(Buffer.from(checkpoint.data).toString('utf8')) as string[];
    this.applied = checkpoint.decree;
  }
}

interface LogRecord {
  readonly mutation: Mutation;
  durable: boolean;
}

/** One replica's disk. */
class ReplicaDisk {
  persisted: PersistedReplicaState | null = null;
  log: LogRecord[] = [];
  checkpoint: Checkpoint = { decree: 0, data: Buffer.from('[]') };
}

interface PendingSync {
  readonly node: NodeId;
  readonly gpid: Gpid;
  readonly incarnation: number;
  readonly throughIndex: number;
  readonly records: readonly LogRecord[];
}

interface InFlight {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly message: Message;
}

class ServerHost {
  core: ReplicaServerCore | null = null;
  readonly disks = new Map<Gpid, ReplicaDisk>();
  readonly apps = new Map<Gpid, ListApp>();
  failNextSync = false;

  constructor(readonly node: NodeId) {}

  disk(gpid: Gpid): ReplicaDisk {
    let disk = this.disks.get(gpid);
    if (disk === undefined) this.disks.set(gpid, (disk = new ReplicaDisk()));
    return disk;
  }

  app(gpid: Gpid): ListApp {
    let app = this.apps.get(gpid);
    if (app === undefined) this.apps.set(gpid, (app = new ListApp()));
    return app;
  }

  recover(gpid: Gpid): RecoveredReplica {
    const disk = this.disk(gpid);
    const app = new ListApp();
    app.restore(disk.checkpoint);
    this.apps.set(gpid, app);
    return {
      gpid,
      persisted: disk.persisted,
      checkpointDecree: disk.checkpoint.decree,
      log: disk.log.filter((record) => record.durable && record.mutation.decree > disk.checkpoint.decree).map((record) => record.mutation),
    };
  }
}

export interface HarnessParameters {
  nodes: readonly NodeId[];
  partitions: number;
  replicaCount: number;
  options: ReplicationOptions;
  bugs?: PlantedBugs;
}

export class ClusterHarness {
  now = 0;
  readonly events: string[] = [];
  private readonly parameters: HarnessParameters;
  private meta: MetaCore | null;
  private metaRecords: MetaRecord[] = [];
  private readonly servers = new Map<NodeId, ServerHost>();
  private network: InFlight[] = [];
  private pendingSyncs: PendingSync[] = [];
  /** Completions (and other inputs) to feed back before the command ends. */
  private readonly inputs: { node: NodeId; input: ReplicaServerInput }[] = [];
  /** Directed links that drop everything: `a>b`. */
  private readonly cut = new Set<string>();
  readonly clientReplies: string[] = [];
  private nextRequestId = 1;
  /** Log every delivered message as an event (for `deliver`; `run` and `stabilize` keep quiet). */
  logDeliveries = false;

  constructor(parameters: HarnessParameters) {
    this.parameters = parameters;
    let state: MetaDurableState = emptyMetaState();
    for (let index = 0; index < parameters.partitions; index++) {
      const record: MetaRecord = { kind: 'config', config: emptyConfiguration(`1.${index}`, parameters.replicaCount) };
      this.metaRecords.push(record);
      state = applyMetaRecord(state, record);
    }
    this.meta = this.newMeta(state);
    for (const node of parameters.nodes) {
      const host = new ServerHost(node);
      this.servers.set(node, host);
      this.startServer(host);
    }
    this.settleInputs();
  }

  private newMeta(state: MetaDurableState): MetaCore {
    const meta = new MetaCore({ node: metaNode, replicaServers: this.parameters.nodes, options: this.parameters.options, bugs: this.parameters.bugs ?? {} }, this.now, state);
    this.runMetaEffects(meta.start(this.now));
    return meta;
  }

  private startServer(host: ServerHost): void {
    const core = new ReplicaServerCore({ node: host.node, meta: metaNode, options: this.parameters.options, bugs: this.parameters.bugs ?? {} });
    host.core = core;
    const recovered = [...host.disks.keys()].sort().map((gpid) => host.recover(gpid));
    this.runServerEffects(host, core.start(this.now, recovered));
  }

  // ---- commands --------------------------------------------------------------------------------

  /** Advances time by `ms` and ticks every running node once. */
  tick(ms: number): void {
    this.now += ms;
    if (this.meta !== null) this.runMetaEffects(this.meta.step({ type: 'tick', now: this.now }));
    for (const host of this.servers.values()) this.feed(host, { type: 'tick', now: this.now });
    this.settleInputs();
  }

  /** Delivers (or drops) the queued messages that match; returns how many. */
  deliver(filter: { from?: string; to?: string; type?: string }, drop: boolean): number {
    const matches = (flight: InFlight): boolean =>
      (filter.from === undefined || filter.from === flight.from) &&
      (filter.to === undefined || filter.to === flight.to) &&
      (filter.type === undefined || filter.type === flight.message.type);
    const chosen = this.network.filter(matches);
    this.network = this.network.filter((flight) => !matches(flight));
    for (const flight of chosen) {
      if (drop) {
        this.events.push(`dropped ${flight.from} -> ${flight.to}: ${describeMessage(flight.message)}`);
        continue;
      }
      this.deliverOne(flight);
      this.settleInputs();
    }
    return chosen.length;
  }

  /** Completes the pending syncs of `node` (all nodes when undefined); `verbose` logs each. */
  sync(node: NodeId | undefined, verbose = false): void {
    const chosen = this.pendingSyncs.filter((sync) => node === undefined || sync.node === node);
    this.pendingSyncs = this.pendingSyncs.filter((sync) => !(node === undefined || sync.node === node));
    for (const sync of chosen) {
      const host = this.servers.get(sync.node)!;
      if (host.core === null) continue;
      if (host.failNextSync) {
        host.failNextSync = false;
        // The failed records may or may not have reached the disk: say they did not.
        const disk = host.disk(sync.gpid);
        disk.log = disk.log.filter((record) => record.durable);
        this.events.push(`${sync.node}: log sync of ${sync.gpid} failed (EIO)`);
        this.feed(host, { type: 'logFailed', now: this.now, gpid: sync.gpid, incarnation: sync.incarnation });
        continue;
      }
      for (const record of sync.records) record.durable = true;
      if (verbose && sync.records.length > 0) this.events.push(`${sync.node}: log of ${sync.gpid} durable through ${sync.records.map((record) => `d${record.mutation.decree}@b${record.mutation.ballot}`).join(' ')}`);
      this.feed(host, { type: 'logSynced', now: this.now, gpid: sync.gpid, incarnation: sync.incarnation, throughIndex: sync.throughIndex });
    }
    this.settleInputs();
  }

  /** Delivers messages and completes syncs until nothing is left (no time passes). */
  stabilize(maxRounds = 1000): void {
    for (let round = 0; round < maxRounds; round++) {
      if (this.network.length === 0 && this.pendingSyncs.length === 0) return;
      this.deliver({}, false);
      this.sync(undefined);
    }
    throw new Error('stabilize: still busy after the round limit');
  }

  /** Time passes with an instant network: tick, then stabilize, every `stepMs`. */
  run(ms: number, stepMs = this.parameters.options.tickIntervalMs): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.tick(Math.min(stepMs, end - this.now));
      this.stabilize();
    }
  }

  /** A client write of `value` sent to `node` for `gpid`. */
  propose(node: NodeId, gpid: Gpid, value: string): void {
    const requestId = this.nextRequestId++;
    this.network.push({ from: clientNode, to: node, message: { type: 'clientWrite', gpid, requestId, write: Buffer.from(value) } });
  }

  read(node: NodeId, gpid: Gpid): void {
    const requestId = this.nextRequestId++;
    this.network.push({ from: clientNode, to: node, message: { type: 'clientRead', gpid, requestId, read: Buffer.alloc(0) } });
  }

  crash(node: NodeId): void {
    if (node === metaNode) {
      this.meta = null;
      this.network = this.network.filter((flight) => flight.to !== metaNode);
      this.events.push('meta crashed');
      return;
    }
    const host = this.servers.get(node)!;
    host.core = null;
    for (const disk of host.disks.values()) disk.log = disk.log.filter((record) => record.durable);
    host.apps.clear();
    this.pendingSyncs = this.pendingSyncs.filter((sync) => sync.node !== node);
    this.network = this.network.filter((flight) => flight.to !== node);
    this.events.push(`${node} crashed (unsynced log records lost)`);
  }

  restart(node: NodeId): void {
    if (node === metaNode) {
      let state = emptyMetaState();
      for (const record of this.metaRecords) state = applyMetaRecord(state, record);
      this.meta = this.newMeta(state);
      this.events.push('meta restarted');
      return;
    }
    const host = this.servers.get(node)!;
    assert(host.core === null, `${node} is running`);
    this.startServer(host);
    this.events.push(`${node} restarted`);
    this.settleInputs();
  }

  /** Cuts the links between `a` and `b` (both ways unless `oneWay`). */
  partition(a: NodeId, b: NodeId, oneWay: boolean): void {
    this.cut.add(`${a}>${b}`);
    if (!oneWay) this.cut.add(`${b}>${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  failNextSync(node: NodeId): void {
    this.servers.get(node)!.failNextSync = true;
  }

  /** Makes `node`'s state of `gpid` a durable checkpoint and drops its log up to it. */
  checkpointAndTruncate(node: NodeId, gpid: Gpid): number {
    const host = this.servers.get(node)!;
    const app = host.app(gpid);
    const disk = host.disk(gpid);
    disk.checkpoint = app.checkpoint();
    disk.log = disk.log.filter((record) => record.mutation.decree > disk.checkpoint.decree);
    return disk.checkpoint.decree;
  }

  pendingMessages(): string[] {
    return this.network.map((flight) => `${flight.from} -> ${flight.to}: ${describeMessage(flight.message)}`);
  }

  /** Every configuration at the meta and every replica's state. */
  describeState(): string[] {
    const lines: string[] = [];
    if (this.meta === null) lines.push('meta: down');
    else for (const config of this.meta.configurations().values()) lines.push(`meta: ${describeConfiguration(config)}`);
    for (const host of this.servers.values()) {
      if (host.core === null) {
        lines.push(`${host.node}: down`);
        continue;
      }
      const lease = host.core.leaseValid(this.now) ? 'lease ok' : 'no lease';
      const replicas = [...host.core.replicas().values()];
      if (replicas.length === 0) lines.push(`${host.node}: (${lease}) no replicas`);
      for (const replica of replicas) {
        const app = host.apps.get(replica.gpid);
        const serving = host.core.isServing(replica.gpid, this.now) ? ' serving' : '';
        lines.push(`${host.node}: (${lease}) ${replica.describe()}${serving} data=[${app?.items.join(',') ?? ''}]`);
      }
    }
    return lines;
  }

  configuration(gpid: Gpid): PartitionConfiguration | undefined {
    return this.meta?.configuration(gpid);
  }

  server(node: NodeId): ReplicaServerCore | null {
    return this.servers.get(node)?.core ?? null;
  }

  takeEvents(): string[] {
    const events = this.events.splice(0);
    return events;
  }

  // ---- plumbing --------------------------------------------------------------------------------

  private deliverOne(flight: InFlight): void {
    if (this.cut.has(`${flight.from}>${flight.to}`)) {
      if (this.logDeliveries) this.events.push(`lost ${flight.from} -> ${flight.to}: ${describeMessage(flight.message)}`);
      return;
    }
    if (this.logDeliveries && flight.to !== clientNode) this.events.push(`${flight.from} -> ${flight.to}: ${describeMessage(flight.message)}`);
    else if (flight.message.type === 'learnResponse') this.events.push(`${flight.to} <- ${flight.from}: ${describeMessage(flight.message)}`);
    if (flight.to === clientNode) {
      const message = flight.message;
      if (message.type === 'clientReply') {
        const result = message.result === undefined ? '' : ` ${Buffer.from(message.result).toString('utf8')}`;
        const line = `client <- ${flight.from}: #${message.requestId}${message.refusal === undefined ? '' : ` ${message.refusal}`}${result}`;
        this.clientReplies.push(line);
        this.events.push(line);
      }
      return;
    }
    if (flight.to === metaNode) {
      if (this.meta !== null) this.runMetaEffects(this.meta.step({ type: 'message', now: this.now, from: flight.from, message: flight.message }));
      return;
    }
    const host = this.servers.get(flight.to);
    if (host === undefined || host.core === null) return;
    this.feed(host, { type: 'message', now: this.now, from: flight.from, message: flight.message });
  }

  private feed(host: ServerHost, input: ReplicaServerInput): void {
    if (host.core === null) return;
    const before = this.roles(host);
    this.runServerEffects(host, stepCheckingReads(host.core, input, host.node));
    const after = this.roles(host);
    for (const [gpid, role] of after) if (before.get(gpid) !== role) this.events.push(`${host.node}: ${gpid} ${before.get(gpid) ?? 'none'} -> ${role}`);
  }

  private roles(host: ServerHost): Map<Gpid, string> {
    const roles = new Map<Gpid, string>();
    if (host.core !== null) for (const replica of host.core.replicas().values()) roles.set(replica.gpid, `${replica.role} b${replica.ballot}`);
    return roles;
  }

  private settleInputs(): void {
    while (this.inputs.length > 0) {
      const { node, input } = this.inputs.shift()!;
      const host = this.servers.get(node)!;
      this.feed(host, input);
    }
  }

  private runMetaEffects(effects: readonly MetaEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.network.push({ from: metaNode, to: effect.to, message: effect.message });
          break;
        case 'persist':
          this.metaRecords.push(effect.record);
          if (effect.record.kind === 'config') this.events.push(`meta: persisted ${describeConfiguration(effect.record.config)}`);
          else this.events.push(`meta: ${effect.record.node} declared dead (session ${effect.record.session})`);
          if (this.meta !== null) this.runMetaEffects(this.meta.step({ type: 'persisted', now: this.now, token: effect.token }));
          break;
        case 'wakeAt':
          break;
      }
    }
  }

  private runServerEffects(host: ServerHost, effects: readonly ReplicaServerEffect[]): void {
    const node = host.node;
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.network.push({ from: node, to: effect.to, message: effect.message });
          break;
        case 'persistReplica':
          host.disk(effect.state.gpid).persisted = effect.state;
          break;
        case 'append':
          host.disk(effect.gpid).log.push({ mutation: effect.mutation, durable: false });
          break;
        case 'sync': {
          const records = host.disk(effect.gpid).log.filter((record) => !record.durable);
          this.pendingSyncs.push({ node, gpid: effect.gpid, incarnation: effect.incarnation, throughIndex: effect.throughIndex, records });
          break;
        }
        case 'truncateLog': {
          const disk = host.disk(effect.gpid);
          disk.log = disk.log.filter((record) => record.mutation.decree <= effect.afterDecree || record.mutation.ballot >= effect.belowBallot);
          break;
        }
        case 'apply': {
          const results = host.app(effect.gpid).apply(effect.mutation.decree, effect.mutation.writes);
          this.inputs.push({ node, input: { type: 'applied', now: this.now, gpid: effect.gpid, incarnation: effect.incarnation, decree: effect.mutation.decree, results } });
          break;
        }
        case 'read':
          this.network.push({ from: node, to: effect.client, message: { type: 'clientReply', gpid: effect.gpid, requestId: effect.requestId, result: host.app(effect.gpid).read() } });
          break;
        case 'readLog': {
          const disk = host.disk(effect.gpid);
          const latest = new Map<number, Mutation>();
          for (const record of disk.log) {
            const decree = record.mutation.decree;
            if (decree < effect.fromDecree || decree > effect.toDecree) continue;
            const held = latest.get(decree);
            if (held === undefined || held.ballot <= record.mutation.ballot) latest.set(decree, record.mutation);
          }
          const mutations = [...latest.values()].sort((a, b) => a.decree - b.decree);
          const covers = mutations.length > 0 && mutations[0]!.decree === effect.fromDecree;
          this.events.push(`${node}: log read of ${effect.gpid} [${effect.fromDecree}, ${effect.toDecree}] ${covers ? `found ${mutations.length}` : 'gone (log truncated)'}`);
          this.inputs.push({ node, input: { type: 'logRead', now: this.now, gpid: effect.gpid, incarnation: effect.incarnation, token: effect.token, mutations: covers ? mutations : null } });
          break;
        }
        case 'takeCheckpoint': {
          const checkpoint = host.app(effect.gpid).checkpoint();
          this.events.push(`${node}: checkpoint of ${effect.gpid} at ${checkpoint.decree}`);
          this.inputs.push({ node, input: { type: 'checkpointTaken', now: this.now, gpid: effect.gpid, incarnation: effect.incarnation, token: effect.token, checkpoint } });
          break;
        }
        case 'restore': {
          host.app(effect.gpid).restore(effect.checkpoint);
          host.disk(effect.gpid).checkpoint = effect.checkpoint;
          this.events.push(`${node}: restored ${effect.gpid} from checkpoint at ${effect.checkpoint.decree}`);
          this.inputs.push({ node, input: { type: 'restored', now: this.now, gpid: effect.gpid, incarnation: effect.incarnation, decree: effect.checkpoint.decree } });
          break;
        }
        case 'reopenReplica':
          this.events.push(`${node}: reopening ${effect.gpid}`);
          this.inputs.push({ node, input: { type: 'replicaOpened', now: this.now, recovered: host.recover(effect.gpid) } });
          break;
        case 'wakeAt':
          break;
      }
    }
  }
}
