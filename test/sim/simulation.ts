/**
 * The deterministic cluster simulator: one thread, one seed. A meta (MetaCore over a simulated
 * durable store), 3–5 replica servers (ReplicaServerCore over simulated disks and the KV state
 * machine), several partitions of three replicas, and clients — all driven by one event queue in
 * simulated milliseconds, every random choice drawn from one Prng seeded by the run's seed.
 *
 * Faults: message delay with long tails, loss, duplication (between servers), reordering (by the
 * delays); symmetric, one-way and primary↔meta-only partitions and isolated nodes; crashes
 * and restarts of servers and the meta, and power loss of every server at once (unsynced log data
 * lost, the last write torn, unacknowledged meta records lost or kept); stop-the-world pauses
 * longer than the lease; per-node clock drift; slow disks (fsync spikes); EIO on a log sync. Each seed also picks the cluster
 * size, the partition count and the prepare list's limits.
 *
 * Safety mode injects faults throughout; liveness mode injects them, then heals everything and
 * requires every partition to regain a full configuration and acknowledge a write within a bound.
 * After every event the invariants (invariants.ts) are checked; at the end, the clients' history
 * goes through the linearizability checker.
 */
import { AssertionError, Prng } from '@petrel/base';
import type {
  Gpid,
  Message,
  MetaEffect,
  MetaRecord,
  NodeId,
  PlantedBugs,
  ReplicaServerEffect,
  ReplicaServerInput,
  ReplicationOptions,
} from '@petrel/pacifica';
import { MetaCore, ReplicaServerCore, applyMetaRecord, describeMessage, emptyConfiguration, emptyMetaState, membersOf, replicationOptions, stepCheckingReads } from '@petrel/pacifica';
import { checkHistory, kvModel, type KvInput, type KvOutput, type Operation } from '../lib/linearizability/index.js';
import { SimClient, type ClientEnvironment } from './client.js';
import { EventQueue } from './event_queue.js';
import { InvariantViolation, Invariants, type InvariantName, type ReplicaView } from './invariants.js';
import { defaultFaultProfile, faultProfiles, profileForSeed, type FaultKind, type FaultProfile, type ProfileName } from './fault_profiles.js';
import { KvStateMachine } from './kv_machine.js';
import { MetaNode, ServerNode, TraceHash, type Clock } from './nodes.js';
import type { LogRecord } from './storage.js';

export type SimulationMode = 'safety' | 'liveness';

export interface SimulationParameters {
  seed: number;
  mode: SimulationMode;
  bugs?: PlantedBugs;
  /** The fault mix; by default chosen by the seed (`profileForSeed`). */
  profile?: ProfileName;
  /** Replication options to override (after the per-seed choice of prepare list limits). */
  options?: Partial<ReplicationOptions>;
  /** Safety: how long the run lasts. Liveness: how long faults go on before the heal. */
  faultMs?: number;
  /** Liveness: after the heal, every partition must be whole and take a write within this. */
  recoveryBoundMs?: number;
  /** Check the clients' history for linearizability at the end (default true). */
  checkLinearizability?: boolean;
  /** Keep a human-readable trace of the last events (for a failing seed's report). */
  traceTail?: number;
}

export interface SimulationStats {
  profile: ProfileName;
  events: number;
  simulatedMs: number;
  servers: number;
  partitions: number;
  faults: Record<FaultKind, number>;
  operations: { ok: number; maybe: number; fail: number };
  committedDecrees: number;
  configChanges: number;
  learned: { cache: number; log: number; checkpoint: number };
  /** Primaries that handed their lead over for the balancer (granted by the meta). */
  handOvers: number;
  /** Learners' checkpoint restores that failed (the replica reopened and learned again). */
  restoreFailures: number;
  /** Replicas reopened with log records dropped past a hole after their checkpoint (see ReplicaCore.open). */
  reopenedPastHole: number;
  /** Liveness: how long after the heal the last partition was whole and took a write. */
  recoveredAfterMs?: number;
  /** The longest per-key history checked, and the most maybe-operations on one key. */
  history: { keys: number; maxOperationsPerKey: number; maxMaybePerKey: number };
  linearizability: 'ok' | 'illegal' | 'unknown' | 'skipped';
}

export interface SimulationResult {
  seed: number;
  mode: SimulationMode;
  traceHash: string;
  violation: { invariant: InvariantName; message: string; atMs: number } | null;
  stats: SimulationStats;
  trace: string[];
}

type SimEvent =
  | { kind: 'deliver'; from: NodeId; to: NodeId; message: Message }
  | { kind: 'tick'; node: NodeId; epoch: number }
  | { kind: 'serverIo'; node: NodeId; epoch: number; input: ReplicaServerInput }
  | { kind: 'metaPersisted'; epoch: number; token: number }
  | { kind: 'clientTimer'; client: string; token: number }
  | { kind: 'fault' }
  | { kind: 'repair'; action: () => void; label: string }
  | { kind: 'heal' };

const metaId = 'meta';

/** Liveness: after the heal, every partition must be whole and take a write within this. */
export const defaultRecoveryBoundMs = 20_000;

export class Simulation {
  private readonly parameters: SimulationParameters;
  private readonly random: Prng;
  private readonly networkRandom: Prng;
  private readonly faultRandom: Prng;
  private readonly diskRandom: Prng;
  private readonly restoreRandom: Prng;
  private readonly options: ReplicationOptions;
  private readonly bugs: PlantedBugs;
  private readonly profile: FaultProfile;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly servers = new Map<NodeId, ServerNode>();
  private readonly handOversGranted = new Set<string>();
  private readonly meta: MetaNode;
  private readonly clients = new Map<string, SimClient>();
  private readonly invariants = new Invariants();
  private readonly trace = new TraceHash();
  private readonly traceLines: string[] = [];
  private readonly cut = new Set<string>();
  private readonly gpids: Gpid[];
  private now = 0;
  private faultsOn = true;
  private healedAt: number | null = null;
  private recoveredAt: number | null = null;
  private nextOperationId = 1;
  private readonly stats: SimulationStats;
  private readonly endAt: number;

  constructor(parameters: SimulationParameters) {
    this.parameters = parameters;
    this.random = new Prng(parameters.seed);
    this.networkRandom = this.random.fork();
    this.faultRandom = this.random.fork();
    this.diskRandom = this.random.fork();
    // Its own stream, so that the draws of restore failures leave every other draw of a seed as it was.
    this.restoreRandom = new Prng(parameters.seed * 31 + 7);
    const clientRandom = this.random.fork();
    this.bugs = parameters.bugs ?? {};
    const profileName = parameters.profile ?? profileForSeed(parameters.seed);
    const mix: Partial<Omit<FaultProfile, 'weights'>> & { weights?: Partial<Record<FaultKind, number>> } = faultProfiles[profileName];
    this.profile = { ...defaultFaultProfile, ...mix, weights: { ...defaultFaultProfile.weights, ...mix.weights } };
    const leaseBug = this.bugs.leaseNotShorterThanGrace === true;
    // Small prepare lists make returning replicas learn from the log or a checkpoint, not the cache.
    const [prepareListLimit, maxUncommitted] = this.random.pick([
      [110, 20],
      [32, 8],
      [12, 4],
    ] as const);
    this.options = replicationOptions({ prepareListLimit, maxUncommitted, ...(leaseBug ? { leaseMs: 4000, graceMs: 3000 } : {}), ...parameters.options }, this.bugs);
    const serverCount = this.random.range(3, 5);
    const partitionCount = this.random.range(3, 5);
    this.gpids = Array.from({ length: partitionCount }, (_, index) => `1.${index}`);
    const faultMs = parameters.faultMs ?? (parameters.mode === 'safety' ? 20_000 : 10_000);
    this.endAt = parameters.mode === 'safety' ? faultMs : faultMs + (parameters.recoveryBoundMs ?? defaultRecoveryBoundMs);
    this.stats = {
      profile: profileName,
      events: 0,
      simulatedMs: 0,
      servers: serverCount,
      partitions: partitionCount,
      faults: { crashServer: 0, powerLoss: 0, crashMeta: 0, partitionPair: 0, partitionOneWay: 0, isolate: 0, primaryMeta: 0, pause: 0, eio: 0, slowDisk: 0 },
      operations: { ok: 0, maybe: 0, fail: 0 },
      committedDecrees: 0,
      configChanges: 0,
      learned: { cache: 0, log: 0, checkpoint: 0 },
      handOvers: 0,
      restoreFailures: 0,
      reopenedPastHole: 0,
      linearizability: 'skipped',
      history: { keys: 0, maxOperationsPerKey: 0, maxMaybePerKey: 0 },
    };

    // Clocks drift by up to 2% either way; the lease margin covers that.
    const newClock = (): Clock => ({ offset: this.random.range(0, 10_000), rate: 1 + (this.random.next() - 0.5) * 0.04 });
    this.meta = new MetaNode(metaId, newClock());
    for (let index = 1; index <= serverCount; index++) {
      const id = `n${index}`;
      this.servers.set(id, new ServerNode(id, newClock(), this.random.range(15, 60)));
    }
    let state = emptyMetaState();
    for (const gpid of this.gpids) {
      const record: MetaRecord = { kind: 'config', config: emptyConfiguration(gpid, 3) };
      this.meta.records.push(record);
      state = applyMetaRecord(state, record);
    }
    this.startMeta(state);
    for (const server of this.servers.values()) this.startServer(server);

    const environment: ClientEnvironment = {
      now: () => this.now,
      send: (from, to, message) => this.send(from, to, message),
      setTimer: (client, delayMs, token) => this.queue.push(this.now + delayMs, { kind: 'clientTimer', client: client.id, token }),
      meta: metaId,
      partitionCount,
      onWriteAcknowledged: (gpid, decree, from) => this.invariants.onWriteAcknowledged(gpid, decree, from, this.replicaViews()),
    };
    const clientCount = this.random.range(3, 5);
    for (let index = 1; index <= clientCount; index++) {
      const client = new SimClient(
        `c${index}`,
        environment,
        clientRandom.fork(),
        { keysPerEpoch: 3 * partitionCount, keyEpochMs: 3000, attemptTimeoutMs: 800, readAttemptTimeoutMs: 200, operationDeadlineMs: 4000, thinkMinMs: 5, thinkMaxMs: 60 },
        () => this.nextOperationId++,
      );
      this.clients.set(client.id, client);
      client.start();
    }
    // The cluster forms before the first fault.
    this.queue.push(1500 + this.nextFaultDelay(), { kind: 'fault' });
    if (parameters.mode === 'liveness') this.queue.push(faultMs, { kind: 'heal' });
  }

  run(): SimulationResult {
    let violation: SimulationResult['violation'] = null;
    const stopClientsAt = this.parameters.mode === 'safety' ? this.endAt - 1500 : Infinity;
    let clientsStopped = false;
    try {
      for (;;) {
        const item = this.queue.pop();
        if (item === undefined || item.time > this.endAt) break;
        this.now = item.time;
        if (!clientsStopped && this.now >= stopClientsAt) {
          clientsStopped = true;
          for (const client of this.clients.values()) client.stop();
        }
        this.handle(item.event);
        this.stats.events++;
        this.invariants.afterEvent(this.replicaViews());
        if (this.parameters.mode === 'liveness' && this.healedAt !== null && this.recoveredAt === null && this.stats.events % 64 === 0) this.checkRecovered();
        if (this.recoveredAt !== null && this.now >= this.recoveredAt + 500) break;
      }
      if (this.parameters.mode === 'liveness' && this.recoveredAt === null) {
        throw new InvariantViolation('liveness', `${this.unrecovered().join('; ')} — not whole with a write ${this.parameters.recoveryBoundMs ?? defaultRecoveryBoundMs} ms after the heal`);
      }
    } catch (error) {
      if (error instanceof InvariantViolation) violation = { invariant: error.invariant, message: error.message, atMs: this.now };
      else if (error instanceof AssertionError) violation = { invariant: 'assertion', message: error.message, atMs: this.now };
      else throw error;
    }
    this.stats.simulatedMs = this.now;
    this.stats.committedDecrees = this.invariants.committedCount();
    const operations = [...this.clients.values()].flatMap((client) => client.operations);
    for (const operation of operations) {
      if (operation.outcome === 'ok') this.stats.operations.ok++;
      else if (operation.outcome === 'fail') this.stats.operations.fail++;
      else this.stats.operations.maybe++;
    }
    if (violation === null && this.parameters.checkLinearizability !== false) {
      const history: Operation<KvInput, KvOutput>[] = [];
      for (const operation of operations) {
        if (operation.outcome === 'fail') continue;
        const entry: Operation<KvInput, KvOutput> = { id: operation.id, clientId: operation.clientId, input: operation.input, callTime: operation.callTime, returnTime: operation.outcome === 'ok' ? operation.returnTime : Infinity };
        if (operation.outcome === 'ok' && operation.output !== undefined) entry.output = operation.output;
        history.push(entry);
      }
      const perKey = new Map<string, { operations: number; maybe: number }>();
      for (const operation of history) {
        const entry = perKey.get(operation.input.key) ?? { operations: 0, maybe: 0 };
        entry.operations++;
        if (operation.returnTime === Infinity && operation.input.op !== 'get') entry.maybe++;
        perKey.set(operation.input.key, entry);
      }
      this.stats.history = {
        keys: perKey.size,
        maxOperationsPerKey: Math.max(0, ...[...perKey.values()].map((entry) => entry.operations)),
        maxMaybePerKey: Math.max(0, ...[...perKey.values()].map((entry) => entry.maybe)),
      };
      // A step budget, not a clock: the verdict must replay from the seed.
      const report = checkHistory(kvModel, history, { maxStepsPerKey: 200_000, timeoutMs: Infinity });
      this.stats.linearizability = report.result;
      if (report.result === 'illegal') violation = { invariant: 'linearizability', message: report.report, atMs: this.now };
    }
    return { seed: this.parameters.seed, mode: this.parameters.mode, traceHash: this.trace.digest(), violation, stats: this.stats, trace: this.traceLines };
  }

  // ---- events ----------------------------------------------------------------------------------

  private note(line: string): void {
    this.trace.add(line);
    const keep = this.parameters.traceTail ?? 0;
    if (keep > 0) {
      this.traceLines.push(`${this.now.toFixed(3)} ${line}`);
      if (this.traceLines.length > keep) this.traceLines.shift();
    }
  }

  private handle(event: SimEvent): void {
    switch (event.kind) {
      case 'deliver':
        return this.deliver(event.from, event.to, event.message);
      case 'tick': {
        if (event.node === metaId) {
          const meta = this.meta;
          if (!meta.up || meta.epoch !== event.epoch) return;
          if (this.postponeIfPaused(meta.pausedUntil, event)) return;
          meta.tickPending = false;
          this.note('tick meta');
          return this.runMeta((core) => core.step({ type: 'tick', now: this.localNow(meta.clock) }));
        }
        const server = this.servers.get(event.node)!;
        if (!server.up || server.epoch !== event.epoch) return;
        if (this.postponeIfPaused(server.pausedUntil, event)) return;
        server.tickPending = false;
        this.note(`tick ${server.id}`);
        return this.feedServer(server, { type: 'tick', now: this.localNow(server.clock) });
      }
      case 'serverIo': {
        const server = this.servers.get(event.node)!;
        if (!server.up || server.epoch !== event.epoch) return;
        if (this.postponeIfPaused(server.pausedUntil, event)) return;
        this.note(`io ${server.id} ${event.input.type}`);
        return this.feedServer(server, { ...event.input, now: this.localNow(server.clock) } as ReplicaServerInput);
      }
      case 'metaPersisted': {
        const meta = this.meta;
        if (!meta.up || meta.epoch !== event.epoch) return;
        if (this.postponeIfPaused(meta.pausedUntil, event)) return;
        const index = meta.pending.findIndex((pending) => pending.token === event.token);
        if (index < 0) return;
        const [done] = meta.pending.splice(index, 1);
        meta.records.push(done!.record);
        this.note(`persisted meta ${event.token}`);
        return this.runMeta((core) => core.step({ type: 'persisted', now: this.localNow(meta.clock), token: event.token }));
      }
      case 'clientTimer':
        return this.clients.get(event.client)!.onTimer(event.token);
      case 'fault':
        if (this.faultsOn) this.injectFault();
        if (this.faultsOn) this.queue.push(this.now + this.nextFaultDelay(), { kind: 'fault' });
        return;
      case 'repair':
        this.note(`repair ${event.label}`);
        return event.action();
      case 'heal':
        return this.healEverything();
    }
  }

  private postponeIfPaused(pausedUntil: number, event: SimEvent): boolean {
    if (pausedUntil <= this.now) return false;
    this.queue.push(pausedUntil, event);
    return true;
  }

  private localNow(clock: Clock): number {
    return clock.offset + clock.rate * this.now;
  }

  private globalAt(clock: Clock, local: number): number {
    return Math.max(this.now, (local - clock.offset) / clock.rate);
  }

  // ---- network ---------------------------------------------------------------------------------

  private send(from: NodeId, to: NodeId, message: Message): void {
    if (this.cut.has(`${from}>${to}`)) return;
    const random = this.networkRandom;
    const betweenServers = !from.startsWith('c') && !to.startsWith('c');
    if (this.faultsOn && random.chance(this.profile.lossRate)) return;
    const copies = this.faultsOn && betweenServers && random.chance(this.profile.duplicateRate) ? 2 : 1;
    for (let copy = 0; copy < copies; copy++) this.queue.push(this.now + this.messageDelay(), { kind: 'deliver', from, to, message });
  }

  private messageDelay(): number {
    const random = this.networkRandom;
    if (this.faultsOn) {
      if (random.chance(this.profile.veryLongDelayRate)) return 800 + random.next() * 2200;
      if (random.chance(this.profile.longDelayRate)) return 50 + random.next() * 350;
    }
    return 0.5 + random.next() * 4.5;
  }

  private deliver(from: NodeId, to: NodeId, message: Message): void {
    if (this.cut.has(`${from}>${to}`)) return;
    if (to.startsWith('c')) {
      this.note(`deliver ${from}>${to} ${message.type}`);
      this.clients.get(to)!.onMessage(from, message);
      return;
    }
    if (to === metaId) {
      const meta = this.meta;
      if (!meta.up) return;
      if (this.postponeIfPaused(meta.pausedUntil, { kind: 'deliver', from, to, message })) return;
      this.note(`deliver ${from}>meta ${describeMessage(message)}`);
      this.runMeta((core) => core.step({ type: 'message', now: this.localNow(meta.clock), from, message }));
      return;
    }
    const server = this.servers.get(to)!;
    if (!server.up) return;
    if (this.postponeIfPaused(server.pausedUntil, { kind: 'deliver', from, to, message })) return;
    this.note(`deliver ${from}>${to} ${describeMessage(message)}`);
    if (message.type === 'learnResponse' && message.kind !== 'rejected') this.stats.learned[message.kind]++;
    if (message.type === 'configChangeReply' && message.accepted && message.config.primary !== to) {
      this.handOversGranted.add(`${message.gpid}@${message.config.ballot}`);
      this.stats.handOvers = this.handOversGranted.size;
    }
    this.feedServer(server, { type: 'message', now: this.localNow(server.clock), from, message });
  }

  // ---- meta ------------------------------------------------------------------------------------

  private startMeta(state: ReturnType<typeof emptyMetaState>): void {
    const meta = this.meta;
    meta.core = new MetaCore({ node: metaId, replicaServers: [...this.servers.keys()], options: this.options, bugs: this.bugs }, this.localNow(meta.clock), state);
    meta.tickPending = false;
    this.runMeta((core) => core.start(this.localNow(meta.clock)));
  }

  private runMeta(step: (core: MetaCore) => readonly MetaEffect[]): void {
    const meta = this.meta;
    if (meta.core === null) return;
    const effects = step(meta.core);
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          this.send(metaId, effect.to, effect.message);
          break;
        case 'persist': {
          if (effect.record.kind === 'config') this.stats.configChanges++;
          const last = meta.pending.length > 0 ? meta.pending[meta.pending.length - 1]!.doneAt : this.now;
          const doneAt = Math.max(last, this.now + 1 + this.diskRandom.next() * 6);
          meta.pending.push({ token: effect.token, record: effect.record, doneAt });
          this.queue.push(doneAt, { kind: 'metaPersisted', epoch: meta.epoch, token: effect.token });
          break;
        }
        case 'wakeAt':
          if (!meta.tickPending) {
            meta.tickPending = true;
            this.queue.push(this.globalAt(meta.clock, effect.time), { kind: 'tick', node: metaId, epoch: meta.epoch });
          }
          break;
      }
    }
    this.invariants.onMetaConfigurations(meta.core.configurations());
  }

  // ---- replica servers -------------------------------------------------------------------------

  private startServer(server: ServerNode): void {
    const core = new ReplicaServerCore({ node: server.id, meta: metaId, options: this.options, bugs: this.bugs });
    server.core = core;
    server.tickPending = false;
    const recovered = [...server.disks.keys()].sort().map((gpid) => {
      const disk = server.disk(gpid);
      const app = new KvStateMachine();
      app.restore(disk.checkpoint);
      server.apps.set(gpid, app);
      const replica = disk.recovered();
      this.invariants.onRecoveredBallot(server.id, gpid, replica.persisted?.ballot ?? 0);
      return replica;
    });
    const effects = core.start(this.localNow(server.clock), recovered);
    for (const replica of core.replicas().values()) this.invariants.onStateAt(server.id, replica.incarnation, replica.gpid, server.app(replica.gpid).lastAppliedDecree(), server.app(replica.gpid).stateHash());
    this.runServerEffects(server, effects);
  }

  private feedServer(server: ServerNode, input: ReplicaServerInput): void {
    const core = server.core;
    if (core === null) return;
    if (input.type === 'replicaOpened') {
      const effects = core.step(input);
      const replica = core.replicas().get(input.recovered.gpid)!;
      if (replica.droppedAtOpen > 0) this.stats.reopenedPastHole++;
      const app = server.app(replica.gpid);
      this.invariants.onStateAt(server.id, replica.incarnation, replica.gpid, app.lastAppliedDecree(), app.stateHash());
      this.runServerEffects(server, effects);
      return;
    }
    this.runServerEffects(server, stepCheckingReads(core, input, server.id));
  }

  private io(server: ServerNode, delayMs: number, input: ReplicaServerInput): void {
    this.queue.push(this.now + delayMs, { kind: 'serverIo', node: server.id, epoch: server.epoch, input });
  }

  private syncLatency(server: ServerNode): number {
    const random = this.diskRandom;
    if (this.faultsOn && server.slowDiskUntil > this.now) return 100 + random.next() * 500;
    if (this.faultsOn && random.chance(this.profile.slowSyncRate)) return 50 + random.next() * 250;
    return 0.5 + random.next() * 3;
  }

  private runServerEffects(server: ServerNode, effects: readonly ReplicaServerEffect[]): void {
    for (const effect of effects) {
      // As the real server does: after a replica's storage failed, the effects it emitted before it
      // heard of the failure change nothing (they assumed the failed one had happened).
      if (server.failed.skips(effect)) continue;
      switch (effect.type) {
        case 'send':
          this.send(server.id, effect.to, effect.message);
          break;
        case 'persistReplica':
          this.invariants.onPersistedBallot(server.id, effect.state.gpid, effect.state.ballot);
          server.disk(effect.state.gpid).persisted = effect.state;
          break;
        case 'append':
          server.disk(effect.gpid).log.push({ mutation: effect.mutation, durable: false });
          break;
        case 'sync': {
          const disk = server.disk(effect.gpid);
          const records: LogRecord[] = disk.log.filter((record) => !record.durable);
          const epoch = server.epoch;
          const fails = server.failNextSync || (this.faultsOn && this.diskRandom.chance(0.0005));
          server.failNextSync = false;
          const latency = this.syncLatency(server);
          if (fails) {
            this.note(`eio ${server.id} ${effect.gpid}`);
            this.queue.push(this.now + latency, {
              kind: 'repair',
              label: `eio-drop ${server.id}`,
              action: () => {
                if (server.epoch === epoch) disk.log = disk.log.filter((record) => !records.includes(record));
              },
            });
            this.io(server, latency, { type: 'logFailed', now: 0, gpid: effect.gpid, incarnation: effect.incarnation });
          } else {
            this.queue.push(this.now + latency, {
              kind: 'repair',
              label: `sync ${server.id}`,
              action: () => {
                if (server.epoch === epoch) for (const record of records) record.durable = true;
              },
            });
            this.io(server, latency, { type: 'logSynced', now: 0, gpid: effect.gpid, incarnation: effect.incarnation, throughIndex: effect.throughIndex });
          }
          break;
        }
        case 'truncateLog':
          server.disk(effect.gpid).truncateStale(effect.afterDecree, effect.belowBallot);
          break;
        case 'apply': {
          const app = server.app(effect.gpid);
          const results = app.apply(effect.mutation.decree, effect.mutation.writes);
          this.invariants.onApply(server.id, effect.incarnation, effect.mutation, app.stateHash());
          const disk = server.disk(effect.gpid);
          if (app.lastAppliedDecree() - disk.checkpoint.decree >= server.checkpointEvery) disk.setCheckpoint(app.checkpoint());
          this.io(server, 0, { type: 'applied', now: 0, gpid: effect.gpid, incarnation: effect.incarnation, decree: effect.mutation.decree, results });
          break;
        }
        case 'read':
          this.send(server.id, effect.client, { type: 'clientReply', gpid: effect.gpid, requestId: effect.requestId, result: server.app(effect.gpid).read(effect.request) });
          break;
        case 'readLog': {
          const mutations = server.disk(effect.gpid).read(effect.fromDecree, effect.toDecree);
          this.io(server, 1 + this.diskRandom.next() * 4, { type: 'logRead', now: 0, gpid: effect.gpid, incarnation: effect.incarnation, token: effect.token, mutations });
          break;
        }
        case 'takeCheckpoint': {
          const checkpoint = server.app(effect.gpid).checkpoint();
          this.io(server, 1 + this.diskRandom.next() * 9, { type: 'checkpointTaken', now: 0, gpid: effect.gpid, incarnation: effect.incarnation, token: effect.token, checkpoint });
          break;
        }
        case 'restore': {
          if (this.faultsOn && this.restoreRandom.chance(RESTORE_FAILURE_RATE)) {
            // The checkpoint never arrives (its source went away, the disk filled up). Half the
            // time the failure comes mid-swap, after the old data was removed: the replica's data
            // is empty while its log keeps the records after its old checkpoint — a hole.
            const midSwap = this.restoreRandom.chance(0.5);
            this.note(`restore-failed ${server.id} ${effect.gpid}${midSwap ? ' mid-swap' : ''}`);
            this.stats.restoreFailures++;
            if (midSwap) {
              server.disk(effect.gpid).checkpoint = new KvStateMachine().checkpoint();
              server.apps.set(effect.gpid, new KvStateMachine());
            }
            server.failed.fail(effect.gpid, effect.incarnation);
            this.io(server, 1 + this.restoreRandom.next() * 4, { type: 'logFailed', now: 0, gpid: effect.gpid, incarnation: effect.incarnation });
            break;
          }
          const app = server.app(effect.gpid);
          app.restore(effect.checkpoint);
          server.disk(effect.gpid).setCheckpoint(effect.checkpoint);
          this.invariants.onStateAt(server.id, effect.incarnation, effect.gpid, effect.checkpoint.decree, app.stateHash());
          this.io(server, 1 + this.diskRandom.next() * 4, { type: 'restored', now: 0, gpid: effect.gpid, incarnation: effect.incarnation, decree: effect.checkpoint.decree });
          break;
        }
        case 'reopenReplica': {
          server.failed.reopened(effect.gpid);
          const disk = server.disk(effect.gpid);
          disk.dropVolatile();
          const app = new KvStateMachine();
          app.restore(disk.checkpoint);
          server.apps.set(effect.gpid, app);
          this.io(server, 1, { type: 'replicaOpened', now: 0, recovered: disk.recovered() });
          break;
        }
        case 'wakeAt':
          if (!server.tickPending) {
            server.tickPending = true;
            this.queue.push(this.globalAt(server.clock, effect.time), { kind: 'tick', node: server.id, epoch: server.epoch });
          }
          break;
      }
    }
  }

  private replicaViews(): ReplicaView[] {
    const views: ReplicaView[] = [];
    for (const server of this.servers.values()) {
      const core = server.core;
      if (!server.up || core === null) continue;
      const leaseValid = core.leaseValid(this.localNow(server.clock));
      for (const replica of core.replicas().values()) views.push({ node: server.id, replica, serving: replica.isServing(leaseValid) });
    }
    return views;
  }

  // ---- faults ----------------------------------------------------------------------------------

  private nextFaultDelay(): number {
    // Exponential inter-arrival times.
    return -Math.log(1 - this.faultRandom.next()) * this.profile.faultMeanIntervalMs;
  }

  private injectFault(): void {
    const random = this.faultRandom;
    const weights = this.profile.weights;
    const kinds = Object.keys(weights) as FaultKind[];
    const total = kinds.reduce((sum, kind) => sum + weights[kind], 0);
    let roll = random.next() * total;
    let kind: FaultKind = kinds[0]!;
    for (const candidate of kinds) {
      roll -= weights[candidate];
      if (roll < 0) {
        kind = candidate;
        break;
      }
    }
    const serverIds = [...this.servers.keys()];
    const upServers = serverIds.filter((id) => this.servers.get(id)!.up);
    const downCount = serverIds.length - upServers.length;
    const later = (delayMs: number, label: string, action: () => void): void => this.queue.push(this.now + delayMs, { kind: 'repair', label, action });
    this.stats.faults[kind]++;
    switch (kind) {
      case 'crashServer': {
        if (downCount >= this.profile.maxServersDown || upServers.length === 0) return;
        const server = this.servers.get(random.pick(upServers))!;
        this.crashServer(server);
        later(random.range(300, 5000), `restart ${server.id}`, () => this.restartServer(server));
        return;
      }
      case 'powerLoss': {
        // Every replica server loses power at once: only what was synced survives anywhere.
        for (const id of upServers) {
          const server = this.servers.get(id)!;
          this.crashServer(server);
          later(random.range(200, 3000), `restart ${server.id}`, () => this.restartServer(server));
        }
        return;
      }
      case 'crashMeta': {
        if (!this.meta.up) return;
        this.crashMeta();
        later(random.range(200, 3000), 'restart meta', () => this.restartMeta());
        return;
      }
      case 'partitionPair': {
        const nodes = [metaId, ...serverIds];
        const a = random.pick(nodes);
        const b = random.pick(nodes.filter((node) => node !== a));
        this.cutLink(a, b, random.range(500, 6000), true);
        return;
      }
      case 'partitionOneWay': {
        const nodes = [metaId, ...serverIds];
        const a = random.pick(nodes);
        const b = random.pick(nodes.filter((node) => node !== a));
        this.cutLink(a, b, random.range(500, 6000), false);
        return;
      }
      case 'isolate': {
        const node = random.pick(serverIds);
        const duration = random.range(1000, 6000);
        for (const other of [metaId, ...serverIds]) if (other !== node) this.cutLink(node, other, duration, true);
        return;
      }
      case 'primaryMeta': {
        const config = this.meta.core?.configuration(random.pick(this.gpids));
        const primary = config?.primary ?? random.pick(serverIds);
        this.cutLink(primary, metaId, random.range(2000, 7000), true);
        return;
      }
      case 'pause': {
        const node = random.pick(upServers.length > 0 ? upServers : serverIds);
        const server = this.servers.get(node)!;
        // Longer than the lease: the server must find its lease gone when it wakes.
        server.pausedUntil = Math.max(server.pausedUntil, this.now + this.options.leaseMs + random.range(300, 3000));
        this.note(`pause ${node} until ${server.pausedUntil.toFixed(0)}`);
        return;
      }
      case 'slowDisk': {
        const server = this.servers.get(random.pick(serverIds))!;
        server.slowDiskUntil = this.now + random.range(1000, 5000);
        this.note(`slow disk ${server.id} until ${server.slowDiskUntil.toFixed(0)}`);
        return;
      }
      case 'eio': {
        const node = random.pick(serverIds);
        this.servers.get(node)!.failNextSync = true;
        return;
      }
    }
  }

  private cutLink(a: NodeId, b: NodeId, durationMs: number, bothWays: boolean): void {
    const links = bothWays ? [`${a}>${b}`, `${b}>${a}`] : [`${a}>${b}`];
    const added = links.filter((link) => !this.cut.has(link));
    for (const link of added) this.cut.add(link);
    this.note(`cut ${links.join(' ')} for ${durationMs}`);
    this.queue.push(this.now + durationMs, {
      kind: 'repair',
      label: `heal ${added.join(' ')}`,
      action: () => {
        for (const link of added) this.cut.delete(link);
      },
    });
  }

  private crashServer(server: ServerNode): void {
    this.note(`crash ${server.id}`);
    server.up = false;
    server.core = null;
    server.epoch++;
    server.tickPending = false;
    server.failNextSync = false;
    server.failed.clear();
    server.pausedUntil = 0;
    server.apps.clear();
    for (const disk of server.disks.values()) disk.crash(this.diskRandom);
  }

  private restartServer(server: ServerNode): void {
    if (server.up) return;
    this.note(`restart ${server.id}`);
    server.up = true;
    this.startServer(server);
  }

  private crashMeta(): void {
    const meta = this.meta;
    this.note('crash meta');
    meta.up = false;
    meta.core = null;
    meta.epoch++;
    meta.tickPending = false;
    meta.pausedUntil = 0;
    // A persist in flight may or may not have reached the disk; those after a lost one are lost too.
    let lost = false;
    for (const pending of meta.pending) {
      if (!lost && this.diskRandom.chance(0.5)) meta.records.push(pending.record);
      else lost = true;
    }
    meta.pending = [];
  }

  private restartMeta(): void {
    const meta = this.meta;
    if (meta.up) return;
    this.note('restart meta');
    meta.up = true;
    let state = emptyMetaState();
    for (const record of meta.records) state = applyMetaRecord(state, record);
    this.startMeta(state);
  }

  private healEverything(): void {
    this.note('heal everything');
    this.faultsOn = false;
    this.healedAt = this.now;
    this.cut.clear();
    for (const server of this.servers.values()) {
      server.failNextSync = false;
      if (!server.up) this.restartServer(server);
    }
    if (!this.meta.up) this.restartMeta();
  }

  /** Liveness: every partition whole (replica count members, all up) and a write acknowledged after the heal. */
  private unrecovered(): string[] {
    const problems: string[] = [];
    const healedAt = this.healedAt ?? Infinity;
    const written = new Set<Gpid>();
    for (const client of this.clients.values()) {
      for (const operation of client.operations) {
        if (operation.outcome === 'ok' && operation.input.op !== 'get' && operation.callTime >= healedAt) written.add(operation.gpid);
      }
    }
    for (const gpid of this.gpids) {
      const config = this.meta.core?.configuration(gpid);
      if (config === undefined) {
        problems.push(`${gpid}: meta down`);
        continue;
      }
      const members = membersOf(config);
      if (config.primary === null || members.length < config.maxReplicaCount) problems.push(`${gpid}: b${config.ballot} primary=${config.primary ?? '-'} secondaries=[${config.secondaries.join(',')}]`);
      else if (!written.has(gpid)) problems.push(`${gpid}: no write acknowledged since the heal`);
    }
    return problems;
  }

  private checkRecovered(): void {
    if (this.unrecovered().length > 0) return;
    this.recoveredAt = this.now;
    this.stats.recoveredAfterMs = this.now - this.healedAt!;
  }
}

/** Runs one seed. */
export function runSimulation(parameters: SimulationParameters): SimulationResult {
  return new Simulation(parameters).run();
}

/** The command line that replays a seed. */
export function replayCommand(parameters: SimulationParameters): string {
  const bug = Object.entries(parameters.bugs ?? {}).find(([, on]) => on === true)?.[0];
  const extras = [
    bug === undefined ? '' : ` --bug ${bug}`,
    parameters.profile === undefined ? '' : ` --profile ${parameters.profile}`,
    parameters.options === undefined ? '' : ` --options '${JSON.stringify(parameters.options)}'`,
  ].join('');
  return `node --import tsx test/sim/replay.ts --seed ${parameters.seed} --mode ${parameters.mode}${extras}`;
}

/** Of a learner's restores, the share that fails (the simulator's faults are on). */
const RESTORE_FAILURE_RATE = 0.1;

