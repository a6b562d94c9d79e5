/**
 * The public types of `@petrel/client`, with the names and shapes of CLIENT_API.md. Keys and
 * values go in as `Bytes` (a string is UTF-8) and come back as `Buffer`s.
 */

export type Bytes = string | Uint8Array;

export interface ClientOptions {
  /** Meta servers as `host:port` or `ws://host:port`; the client finds the leader among them. */
  metaServers: string[];
  /** The default timeout of every call, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Requests one connection carries at once; more wait in its queue (default 1000). */
  maxInFlightPerConnection?: number;
  /** Requests waiting for an in-flight slot on one connection; past it a call fails with APP_BUSY (default 10,000). */
  maxQueuedPerConnection?: number;
  /** How long opening a connection (WebSocket and hello) may take (default 3000 ms). */
  connectTimeoutMs?: number;
  /** The name this client gives in its hello, for the servers' logs (default "petrel-client"). */
  clientName?: string;
}

export type Timeout = { timeoutMs?: number };
export type FetchLimits = { maxCount?: number; maxBytes?: number; timeoutMs?: number };
export type FilterType = 'none' | 'anywhere' | 'prefix' | 'postfix';
export type Filter = { type: FilterType; pattern: Bytes };
export type RangeOptions = {
  startInclusive?: boolean;
  stopInclusive?: boolean;
  sortKeyFilter?: Filter;
  noValue?: boolean;
  reverse?: boolean;
  timeoutMs?: number;
};
export type ScanOptions = {
  startInclusive?: boolean;
  stopInclusive?: boolean;
  batchSize?: number;
  hashKeyFilter?: Filter;
  sortKeyFilter?: Filter;
  noValue?: boolean;
  returnExpireTs?: boolean;
  timeoutMs?: number;
};
export type MultiGetResult = { complete: boolean; entries: { sortKey: Buffer; value: Buffer }[] };
export type Record_ = { hashKey: Buffer; sortKey: Buffer; value: Buffer; expireTs?: number };

export interface Scanner extends AsyncIterable<Record_> {
  /** Counts the records the scanner would still yield, without their values; consumes it. */
  count(): Promise<number>;
  close(): Promise<void>;
}

export type CheckType =
  | 'noCheck'
  | 'notExist'
  | 'notExistOrEmpty'
  | 'exist'
  | 'notEmpty'
  | 'matchAnywhere'
  | 'matchPrefix'
  | 'matchPostfix'
  | 'bytesLess'
  | 'bytesLessOrEqual'
  | 'bytesEqual'
  | 'bytesGreaterOrEqual'
  | 'bytesGreater'
  | 'intLess'
  | 'intLessOrEqual'
  | 'intEqual'
  | 'intGreaterOrEqual'
  | 'intGreater';

export type Mutation = { op: 'set'; sortKey: Bytes; value: Bytes; ttlSeconds?: number } | { op: 'del'; sortKey: Bytes };

export type CheckResult = { succeeded: boolean; checkValueReturned: boolean; checkValueExists: boolean; checkValue: Buffer | null };

export interface TableInfo {
  id: number;
  name: string;
  partitionCount: number;
  replicaCount: number;
  status: 'available' | 'dropped' | string;
  envs: Record<string, string>;
  /** Unix seconds; present on dropped tables. */
  dropTime?: number;
  /** Unix seconds until which a dropped table can be recalled. */
  reserveUntil?: number;
}

export interface PartitionConfig {
  index: number;
  ballot: number;
  primary: string | null;
  secondaries: string[];
}

export interface NodeInfo {
  address: string;
  alive: boolean;
  primaries: number;
  secondaries: number;
}

export interface CreateTableOptions {
  partitionCount?: number;
  replicaCount?: number;
  envs?: Record<string, string>;
  successIfExists?: boolean;
  timeoutMs?: number;
}

export interface Admin {
  createTable(name: string, o?: CreateTableOptions): Promise<TableInfo>;
  dropTable(name: string, o?: { reserveSeconds?: number; timeoutMs?: number }): Promise<void>;
  recallTable(id: number, newName?: string, o?: Timeout): Promise<TableInfo>;
  listTables(o?: { includeDropped?: boolean; timeoutMs?: number }): Promise<TableInfo[]>;
  tableInfo(name: string, o?: Timeout): Promise<TableInfo & { partitions: PartitionConfig[] }>;
  setTableEnvs(name: string, envs: Record<string, string>, o?: Timeout): Promise<void>;
  delTableEnvs(name: string, keys: string[], o?: Timeout): Promise<void>;
  listNodes(o?: Timeout): Promise<NodeInfo[]>;
  clusterInfo(o?: Timeout): Promise<Record<string, unknown>>;
  /** Beyond CLIENT_API: the meta's function level (stopped, blind, freezed, steady, lively). */
  setMetaLevel(level: string, o?: Timeout): Promise<{ level: string; effective: string }>;
  getMetaLevel(o?: Timeout): Promise<{ level: string; effective: string }>;
  /** Beyond CLIENT_API: a table's replica count. */
  setReplicaCount(name: string, replicaCount: number, o?: Timeout): Promise<void>;
}

export type TtlOptions = { ttlSeconds?: number; timeoutMs?: number };

export interface Table {
  readonly name: string;
  readonly id: number;
  readonly partitionCount: number;

  set(hashKey: Bytes, sortKey: Bytes, value: Bytes, o?: TtlOptions): Promise<void>;
  get(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<Buffer | null>;
  exist(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<boolean>;
  del(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<void>;
  ttl(hashKey: Bytes, sortKey: Bytes, o?: Timeout): Promise<number | null>;
  sortKeyCount(hashKey: Bytes, o?: Timeout): Promise<number>;

  multiSet(hashKey: Bytes, entries: Iterable<[Bytes, Bytes]> | Record<string, Bytes>, o?: TtlOptions): Promise<void>;
  multiGet(hashKey: Bytes, sortKeys?: Bytes[], o?: FetchLimits & { noValue?: boolean }): Promise<MultiGetResult>;
  multiGetRange(hashKey: Bytes, startSortKey: Bytes, stopSortKey: Bytes, o?: RangeOptions & FetchLimits): Promise<MultiGetResult>;
  multiGetSortKeys(hashKey: Bytes, o?: FetchLimits): Promise<{ complete: boolean; sortKeys: Buffer[] }>;
  multiDel(hashKey: Bytes, sortKeys: Bytes[], o?: Timeout): Promise<number>;
  delRange(hashKey: Bytes, startSortKey: Bytes, stopSortKey: Bytes, o?: RangeOptions): Promise<number>;

  incr(hashKey: Bytes, sortKey: Bytes, increment: bigint | number, o?: TtlOptions): Promise<bigint>;
  checkAndSet(
    hashKey: Bytes,
    checkSortKey: Bytes,
    checkType: CheckType,
    checkOperand: Bytes,
    setSortKey: Bytes,
    setValue: Bytes,
    o?: { ttlSeconds?: number; returnCheckValue?: boolean; timeoutMs?: number },
  ): Promise<CheckResult>;
  checkAndMutate(
    hashKey: Bytes,
    checkSortKey: Bytes,
    checkType: CheckType,
    checkOperand: Bytes,
    mutations: Mutation[],
    o?: { returnCheckValue?: boolean; timeoutMs?: number },
  ): Promise<CheckResult>;
  compareExchange(hashKey: Bytes, sortKey: Bytes, expected: Bytes, desired: Bytes, o?: TtlOptions): Promise<{ succeeded: boolean; actualValue: Buffer | null }>;

  scan(hashKey: Bytes, o?: ScanOptions & { startSortKey?: Bytes; stopSortKey?: Bytes }): AsyncIterable<Record_>;
  unorderedScanners(maxSplitCount: number, o?: ScanOptions): Scanner[];

  batchGet(keys: [Bytes, Bytes][], o?: Timeout): Promise<(Buffer | null)[]>;
  batchSet(items: { hashKey: Bytes; sortKey: Bytes; value: Bytes; ttlSeconds?: number }[], o?: Timeout): Promise<void>;
  batchDel(keys: [Bytes, Bytes][], o?: Timeout): Promise<void>;
}
