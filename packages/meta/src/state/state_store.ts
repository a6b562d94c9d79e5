/**
 * StateStore: where the meta server keeps its state (tables, partition configurations, envs,
 * its function level). A flat map from path-like keys (`/tables/7`, `/partitions/7.3`) to bytes,
 * changed only by atomic, durable commits of several puts and deletes at once.
 *
 * Two implementations: LocalStateStore (files in the meta's data dir, through @petrel/wal; the
 * default for one machine) and, for several meta servers, a ZooKeeper-backed store.
 */

export interface StateChange {
  put?: ReadonlyArray<readonly [string, Uint8Array]>;
  del?: readonly string[];
}

export interface StateStore {
  /** The whole state, as of the last commit that resolved. */
  snapshot(): ReadonlyMap<string, Buffer>;
  get(key: string): Buffer | undefined;
  /** Keys under a prefix, sorted. */
  keys(prefix: string): string[];
  /** Applies every put and delete of `change`, or none of them; resolves once durable. */
  commit(change: StateChange): Promise<void>;
  close(): Promise<void>;
}
