/** A fake Petrel cluster for client tests — a test double, not a server (README.md). */
export { FakeCluster, type FakeClusterOptions } from './fake_cluster.js';
export type { Fault, FaultMatch, RequestFacts } from './faults.js';
export type { FakeTable, FakePartition } from './state.js';
