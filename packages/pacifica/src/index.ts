/**
 * @petrel/pacifica: the PacificA replication protocol and the meta's configuration logic as pure,
 * deterministic state machines. Inputs (messages, ticks with the node's monotonic time, IO
 * completions) go in; effects (sends, log appends and syncs, applies, replies, timers,
 * configuration requests) come out. See doc/pacifica.md.
 */
export type { Checkpoint, Gpid, LearnerSession, Mutation, NodeId, PartitionConfiguration, PersistedReplicaState, Role } from './types.js';
export { describeConfiguration, emptyConfiguration, isMember, membersOf, sameWrites } from './types.js';
export type * from './messages.js';
export { describeMessage, gpidOf } from './messages.js';
export type { MetaEffect, MetaInput, MetaRecord, RecoveredReplica, ReplicaServerEffect, ReplicaServerInput } from './effects.js';
export { FailedReplicas, stateEffectTarget } from './effects.js';
export {
  type PlantedBugName,
  type PlantedBugs,
  type ReplicationOptions,
  defaultReplicationOptions,
  plantedBugNames,
  replicationOptions,
  validateReplicationOptions,
} from './options.js';
export { PrepareList, type PrepareEntry } from './prepare_list.js';
export { ReplicaCore, type ReplicaHost } from './replica_core.js';
export { ReplicaServerCore, type ReplicaServerParameters } from './replica_server_core.js';
export { stepCheckingReads } from './testing/read_check.js';
export { MetaCore, META_LEVELS, type MetaLevel, type MetaDurableState, type MetaParameters, applyMetaRecord, compareGpids, emptyMetaState } from './meta_core.js';
export type { ReplicaApp } from './state_machine.js';
