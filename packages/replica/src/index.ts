/** @petrel/replica: the replica server, the partition state machine (storage app) and its storage engines. */
export * from './app/index.js';
export { ReplicaServer, type ReplicaServerOptions } from './server/replica_server.js';
export { ReplicaStore } from './server/replica_store.js';
