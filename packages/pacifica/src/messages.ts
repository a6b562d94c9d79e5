/**
 * The messages of the protocol, between replica servers, between a replica server and the meta,
 * and between a client and either. The cores speak these as values; the wire codecs live in
 * @petrel/protocol.
 *
 * Every message a replica sends about a partition carries the sender's ballot, so the receiver
 * can reject what is stale (lower ballot) and adopt what is newer (higher ballot, persisted
 * first).
 */
import type { Checkpoint, Gpid, LearnerSession, Mutation, NodeId, PartitionConfiguration, Role } from './types.js';

// ---- replica ↔ replica -------------------------------------------------------------------------

/** Primary → secondary or learner: log this mutation. `learner` is set when the target is a learner. */
export interface PrepareMessage {
  readonly type: 'prepare';
  readonly config: PartitionConfiguration;
  readonly mutation: Mutation;
  readonly learner?: LearnerSession;
}

export type PrepareError = 'stale-ballot' | 'invalid-state' | 'capacity' | 'log-failure';

/** Secondary or learner → primary: the prepare of `decree` at `ballot` is durable (or failed). */
export interface PrepareAckMessage {
  readonly type: 'prepareAck';
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly decree: number;
  readonly error?: PrepareError;
  /** With an error: the sender's own ballot, so a stale primary learns it is stale. */
  readonly senderBallot?: number;
}

/** Primary → members and learners, periodically: the configuration and the commit point. */
export interface GroupCheckMessage {
  readonly type: 'groupCheck';
  readonly config: PartitionConfiguration;
  readonly committed: number;
  readonly learner?: LearnerSession;
}

export interface GroupCheckReplyMessage {
  readonly type: 'groupCheckReply';
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly error?: PrepareError;
  readonly senderBallot?: number;
}

/** Learner → primary: send me what I miss after `learnerCommitted`. */
export interface LearnRequestMessage {
  readonly type: 'learnRequest';
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly signature: string;
  readonly learnerCommitted: number;
}

export type LearnKind = 'cache' | 'log' | 'checkpoint';

/** Primary → learner: mutations (from the prepare list or the log) or a checkpoint. */
export interface LearnResponseMessage {
  readonly type: 'learnResponse';
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly signature: string;
  readonly kind: LearnKind | 'rejected';
  readonly primaryCommitted: number;
  readonly mutations: readonly Mutation[];
  readonly checkpoint?: Checkpoint;
}

/** Learner → primary: everything below my start decree is durable here. */
export interface LearnCompletedMessage {
  readonly type: 'learnCompleted';
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly signature: string;
  readonly learnedDecree: number;
}

// ---- replica server ↔ meta ---------------------------------------------------------------------

/** Replica server → meta: I am alive. `sentAt` is the sender's monotonic clock. */
export interface BeaconMessage {
  readonly type: 'beacon';
  readonly sentAt: number;
  readonly session: number;
}

/** Meta → replica server: echoes `sentAt`; the lease runs from it if `session` matches. */
export interface BeaconAckMessage {
  readonly type: 'beaconAck';
  readonly sentAt: number;
  readonly session: number;
}

export interface ReplicaReport {
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly role: Role;
  readonly committed: number;
}

/** Replica server → meta, periodically: the replicas I hold. */
export interface ConfigSyncMessage {
  readonly type: 'configSync';
  readonly replicas: readonly ReplicaReport[];
}

/**
 * Meta → replica server: the current configurations that concern the sender. Every message from
 * the meta that carries configurations names the lease session it was sent in; a server drops it
 * unless that is its current session, so a configuration sent before the meta declared the
 * server dead can never be acted on after.
 */
export interface ConfigSyncReplyMessage {
  readonly type: 'configSyncReply';
  readonly session: number;
  readonly configs: readonly PartitionConfiguration[];
}

/**
 * `handOver`: the primary, asked by the meta's balancer, gives the lead to one of its secondaries
 * and stays a secondary itself; it stops serving before it asks, so two primaries never serve.
 */
export type ConfigChangeKind = 'removeSecondary' | 'upgradeLearner' | 'handOver';

/** Primary → meta: change my partition's configuration from `baseBallot` to `proposed`. */
export interface ConfigChangeMessage {
  readonly type: 'configChange';
  readonly kind: ConfigChangeKind;
  readonly gpid: Gpid;
  readonly baseBallot: number;
  readonly node: NodeId;
  readonly proposed: PartitionConfiguration;
}

export interface ConfigChangeReplyMessage {
  readonly type: 'configChangeReply';
  readonly session: number;
  readonly gpid: Gpid;
  readonly accepted: boolean;
  /** The meta's configuration after the request (the new one when accepted). */
  readonly config: PartitionConfiguration;
}

/** Meta → member: the partition's configuration changed (persisted at the meta). */
export interface ConfigUpdateMessage {
  readonly type: 'configUpdate';
  readonly session: number;
  readonly config: PartitionConfiguration;
}

/** Meta → primary: start a learning session with `node`. */
export interface AddLearnerMessage {
  readonly type: 'addLearner';
  readonly session: number;
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly node: NodeId;
}

/**
 * Meta → primary: hand the lead to the secondary `node` (the balancer spreading primaries). The
 * primary stops serving, lets its mutations in flight commit, then asks for the change itself.
 */
export interface HandOverMessage {
  readonly type: 'handOver';
  readonly session: number;
  readonly gpid: Gpid;
  readonly ballot: number;
  readonly node: NodeId;
}

// ---- client ↔ replica, client ↔ meta -----------------------------------------------------------

export interface ClientWriteMessage {
  readonly type: 'clientWrite';
  readonly gpid: Gpid;
  readonly requestId: number;
  readonly write: Uint8Array;
}

export interface ClientReadMessage {
  readonly type: 'clientRead';
  readonly gpid: Gpid;
  readonly requestId: number;
  readonly read: Uint8Array;
}

/**
 * The refusals a client may retry elsewhere: each guarantees the request had no effect.
 * NOT_PRIMARY: this replica does not serve the partition now (not primary, no lease, not
 * reconciled). NOT_ENOUGH_MEMBER: fewer members than writes need. BUSY: the write queue is full.
 */
export type ClientRefusal = 'NOT_PRIMARY' | 'NOT_ENOUGH_MEMBER' | 'BUSY';

export interface ClientReplyMessage {
  readonly type: 'clientReply';
  readonly gpid: Gpid;
  readonly requestId: number;
  readonly result?: Uint8Array;
  readonly refusal?: ClientRefusal;
  /** For a write: the decree of the mutation that held it. */
  readonly decree?: number;
}

export interface QueryConfigMessage {
  readonly type: 'queryConfig';
  readonly gpid: Gpid;
}

export interface QueryConfigReplyMessage {
  readonly type: 'queryConfigReply';
  readonly config: PartitionConfiguration;
}

export type ReplicaMessage =
  | PrepareMessage
  | PrepareAckMessage
  | GroupCheckMessage
  | GroupCheckReplyMessage
  | LearnRequestMessage
  | LearnResponseMessage
  | LearnCompletedMessage;

export type MetaToReplicaMessage = BeaconAckMessage | ConfigSyncReplyMessage | ConfigChangeReplyMessage | ConfigUpdateMessage | AddLearnerMessage | HandOverMessage;

export type ReplicaToMetaMessage = BeaconMessage | ConfigSyncMessage | ConfigChangeMessage;

export type Message =
  | ReplicaMessage
  | MetaToReplicaMessage
  | ReplicaToMetaMessage
  | ClientWriteMessage
  | ClientReadMessage
  | ClientReplyMessage
  | QueryConfigMessage
  | QueryConfigReplyMessage;

/** The partition a replica-to-replica message is about. */
export function gpidOf(message: ReplicaMessage): Gpid {
  switch (message.type) {
    case 'prepare':
      return message.mutation.gpid;
    case 'groupCheck':
      return message.config.gpid;
    default:
      return message.gpid;
  }
}

/** One line per message, for traces and data-driven tests. */
export function describeMessage(message: Message): string {
  switch (message.type) {
    case 'prepare': {
      const m = message.mutation;
      const learner = message.learner === undefined ? '' : ` learner(${message.learner.signature},start=${message.learner.startDecree})`;
      return `prepare ${m.gpid} b${m.ballot} d${m.decree} c${m.lastCommitted} writes=${m.writes.length}${learner}`;
    }
    case 'prepareAck':
      return `prepareAck ${message.gpid} b${message.ballot} d${message.decree}${message.error === undefined ? '' : ` error=${message.error} senderBallot=${message.senderBallot}`}`;
    case 'groupCheck':
      return `groupCheck ${message.config.gpid} b${message.config.ballot} c${message.committed}${message.learner === undefined ? '' : ` learner(${message.learner.signature},start=${message.learner.startDecree})`}`;
    case 'groupCheckReply':
      return `groupCheckReply ${message.gpid} b${message.ballot}${message.error === undefined ? '' : ` error=${message.error}`}`;
    case 'learnRequest':
      return `learnRequest ${message.gpid} b${message.ballot} sig=${message.signature} committed=${message.learnerCommitted}`;
    case 'learnResponse': {
      const what = message.checkpoint === undefined ? `mutations=${message.mutations.length}` : `checkpoint@${message.checkpoint.decree}`;
      return `learnResponse ${message.gpid} b${message.ballot} sig=${message.signature} ${message.kind} ${what} primaryCommitted=${message.primaryCommitted}`;
    }
    case 'learnCompleted':
      return `learnCompleted ${message.gpid} b${message.ballot} sig=${message.signature} learned=${message.learnedDecree}`;
    case 'beacon':
      return `beacon sentAt=${message.sentAt} session=${message.session}`;
    case 'beaconAck':
      return `beaconAck sentAt=${message.sentAt} session=${message.session}`;
    case 'configSync':
      return `configSync ${message.replicas.map((r) => `${r.gpid}:b${r.ballot}:${r.role}:c${r.committed}`).join(' ')}`;
    case 'configSyncReply':
      return `configSyncReply ${message.configs.map((c) => `${c.gpid}:b${c.ballot}`).join(' ')}`;
    case 'configChange':
      return `configChange ${message.kind} ${message.gpid} base=b${message.baseBallot} node=${message.node}`;
    case 'configChangeReply':
      return `configChangeReply ${message.gpid} ${message.accepted ? 'accepted' : 'rejected'} b${message.config.ballot}`;
    case 'configUpdate':
      return `configUpdate ${message.config.gpid} b${message.config.ballot} primary=${message.config.primary ?? '-'} secondaries=[${message.config.secondaries.join(',')}]`;
    case 'addLearner':
      return `addLearner ${message.gpid} b${message.ballot} node=${message.node}`;
    case 'handOver':
      return `handOver ${message.gpid} b${message.ballot} node=${message.node}`;
    case 'clientWrite':
      return `clientWrite ${message.gpid} #${message.requestId}`;
    case 'clientRead':
      return `clientRead ${message.gpid} #${message.requestId}`;
    case 'clientReply':
      return `clientReply ${message.gpid} #${message.requestId}${message.refusal === undefined ? '' : ` ${message.refusal}`}${message.decree === undefined ? '' : ` d${message.decree}`}`;
    case 'queryConfig':
      return `queryConfig ${message.gpid}`;
    case 'queryConfigReply':
      return `queryConfigReply ${message.config.gpid} b${message.config.ballot}`;
  }
}
