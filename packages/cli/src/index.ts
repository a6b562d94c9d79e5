/** @petrel/cli: the `petrel` command's pieces, for tests and tools that start or poke a cluster. */
export { startChild, stopChildren, type ChildServer } from './onebox.js';
export { MetaAdmin } from './meta_admin.js';
export { RawCluster, freePort } from './raw_cluster.js';
