/**
 * The client requests and responses of CLIENT_API.md as they travel between a client and a
 * replica, and the mutations that carry writes through replication. The storage app consumes
 * these same request types and produces these same responses.
 *
 * Keys and values are Buffers. A request carries exactly what the replica needs: limits such as
 * `maxCount` keep their CLIENT_API meaning (≤ 0 = no limit), TTLs are seconds from the moment
 * the primary accepts the write (it turns them into absolute expiry times in the mutation).
 */
import type { ErrorCode } from '@petrel/base';

export type FilterType = 'none' | 'anywhere' | 'prefix' | 'postfix';

/** A match on a hash or sort key; an empty pattern matches everything. */
export interface Filter {
  type: FilterType;
  pattern: Buffer;
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

/** An error carried inside a response (the write was replicated, its result is this error). */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
}

// ---- Reads ----

export interface GetRequest {
  hashKey: Buffer;
  sortKey: Buffer;
}
export interface GetResponse {
  /** null: absent or expired. */
  value: Buffer | null;
}

export type ExistRequest = GetRequest;
export interface ExistResponse {
  exists: boolean;
}

export type TtlRequest = GetRequest;
export interface TtlResponse {
  /** Seconds left, -1 for no TTL, null when absent or expired. */
  ttlSeconds: number | null;
}

export interface SortKeyCountRequest {
  hashKey: Buffer;
}
export interface SortKeyCountResponse {
  /** -1 when the server's iteration time limit stopped the count. */
  count: number;
}

/**
 * multiGet over one hash key: by `sortKeys` when that list is not empty (range fields ignored),
 * otherwise over the range [startSortKey, stopSortKey] with the inclusive flags (an empty stop
 * sort key means to the end of the hash key).
 */
export interface MultiGetRequest {
  hashKey: Buffer;
  sortKeys: Buffer[];
  startSortKey: Buffer;
  stopSortKey: Buffer;
  startInclusive: boolean;
  stopInclusive: boolean;
  sortKeyFilter: Filter;
  /** ≤ 0: no limit (the server's cap still applies). */
  maxCount: number;
  /** ≤ 0: no limit. */
  maxBytes: number;
  noValue: boolean;
  reverse: boolean;
}
export interface KeyValue {
  sortKey: Buffer;
  value: Buffer;
}
export interface MultiGetResponse {
  complete: boolean;
  /** Ascending by sort key. Values are empty when `noValue`. */
  entries: KeyValue[];
}

/**
 * One batch of a scan over stored keys (see data_model's hashKeyScanBounds and fullScanBounds).
 * The scan resumes by sending the same request with `startKey = resumeKey`, start exclusive.
 */
export interface ScanRequest {
  startKey: Buffer;
  /** Empty: no upper bound. */
  stopKey: Buffer;
  startInclusive: boolean;
  stopInclusive: boolean;
  hashKeyFilter: Filter;
  sortKeyFilter: Filter;
  /** Records per batch; ≤ 0 means the server's cap. */
  batchSize: number;
  noValue: boolean;
  returnExpireTs: boolean;
  /** Count the records instead of returning them. */
  onlyCount: boolean;
}
export interface ScanRecord {
  hashKey: Buffer;
  sortKey: Buffer;
  value: Buffer;
  /** Unix seconds, 0 = no TTL; present when the request asked for it. */
  expireTs?: number;
}
export interface ScanResponse {
  records: ScanRecord[];
  /** With `onlyCount`: how many records this batch counted (else records.length). */
  count: number;
  /** The stored key to resume after (exclusive), or null when the scan is done. */
  resumeKey: Buffer | null;
}

export interface BatchGetRequest {
  keys: { hashKey: Buffer; sortKey: Buffer }[];
}
export interface BatchGetResponse {
  /** In the order of the request's keys; null when absent or expired. */
  values: (Buffer | null)[];
}

// ---- Writes, as the client sends them ----

export interface SetRequest {
  hashKey: Buffer;
  sortKey: Buffer;
  value: Buffer;
  /** 0: no TTL (the table's default_ttl applies). */
  ttlSeconds: number;
}
export interface MultiSetRequest {
  hashKey: Buffer;
  entries: KeyValue[];
  ttlSeconds: number;
}
export interface DelRequest {
  hashKey: Buffer;
  sortKey: Buffer;
}
export interface MultiDelRequest {
  hashKey: Buffer;
  sortKeys: Buffer[];
}
export interface IncrRequest {
  hashKey: Buffer;
  sortKey: Buffer;
  /** An int64. */
  increment: bigint;
  /** 0 keeps the existing TTL, > 0 sets one, -1 removes it. */
  ttlSeconds: number;
}
export interface CheckAndSetRequest {
  hashKey: Buffer;
  checkSortKey: Buffer;
  checkType: CheckType;
  checkOperand: Buffer;
  setSortKey: Buffer;
  setValue: Buffer;
  ttlSeconds: number;
  returnCheckValue: boolean;
}
export type MutateOperation = { op: 'set'; sortKey: Buffer; value: Buffer; ttlSeconds: number } | { op: 'del'; sortKey: Buffer };
export interface CheckAndMutateRequest {
  hashKey: Buffer;
  checkSortKey: Buffer;
  checkType: CheckType;
  checkOperand: Buffer;
  mutations: MutateOperation[];
  returnCheckValue: boolean;
}

// ---- Write responses: the result of applying the write ----

export interface SetResponse {
  error: ErrorInfo | null;
}
export type MultiSetResponse = SetResponse;
export type DelResponse = SetResponse;
export interface MultiDelResponse {
  error: ErrorInfo | null;
  /** The number of sort keys in the request (Pegasus semantics). */
  count: number;
}
export interface IncrResponse {
  error: ErrorInfo | null;
  /** The new value; on overflow, the unchanged old value. */
  newValue: bigint;
}
export interface CheckAndSetResponse {
  /** INVALID_ARGUMENT when an int check could not parse (the check value is still returned). */
  error: ErrorInfo | null;
  succeeded: boolean;
  checkValueReturned: boolean;
  checkValueExists: boolean;
  checkValue: Buffer | null;
}
export type CheckAndMutateResponse = CheckAndSetResponse;

/** Every client write request, tagged. */
export type WriteRequest =
  | { type: 'set'; request: SetRequest }
  | { type: 'multiSet'; request: MultiSetRequest }
  | { type: 'del'; request: DelRequest }
  | { type: 'multiDel'; request: MultiDelRequest }
  | { type: 'incr'; request: IncrRequest }
  | { type: 'checkAndSet'; request: CheckAndSetRequest }
  | { type: 'checkAndMutate'; request: CheckAndMutateRequest };

export type WriteResponse =
  | { type: 'set'; response: SetResponse }
  | { type: 'multiSet'; response: MultiSetResponse }
  | { type: 'del'; response: DelResponse }
  | { type: 'multiDel'; response: MultiDelResponse }
  | { type: 'incr'; response: IncrResponse }
  | { type: 'checkAndSet'; response: CheckAndSetResponse }
  | { type: 'checkAndMutate'; response: CheckAndMutateResponse };

// ---- Mutations: writes as replicated and applied ----

/**
 * A write with its times resolved by the primary: absolute expiry times (unix seconds) instead
 * of TTLs, so that applying it never reads a clock.
 */
export type MutationWrite =
  | { type: 'set'; hashKey: Buffer; sortKey: Buffer; value: Buffer; expireTs: number }
  | { type: 'multiSet'; hashKey: Buffer; entries: KeyValue[]; expireTs: number }
  | { type: 'del'; hashKey: Buffer; sortKey: Buffer }
  | { type: 'multiDel'; hashKey: Buffer; sortKeys: Buffer[] }
  | {
      type: 'incr';
      hashKey: Buffer;
      sortKey: Buffer;
      increment: bigint;
      /** 0 keeps the existing expiry, -1 removes it, > 0 is the new expiry. */
      expireTs: number;
    }
  | {
      type: 'checkAndSet';
      hashKey: Buffer;
      checkSortKey: Buffer;
      checkType: CheckType;
      checkOperand: Buffer;
      setSortKey: Buffer;
      setValue: Buffer;
      expireTs: number;
      returnCheckValue: boolean;
    }
  | {
      type: 'checkAndMutate';
      hashKey: Buffer;
      checkSortKey: Buffer;
      checkType: CheckType;
      checkOperand: Buffer;
      mutations: MutationOperation[];
      returnCheckValue: boolean;
    };

export type MutationOperation = { op: 'set'; sortKey: Buffer; value: Buffer; expireTs: number } | { op: 'del'; sortKey: Buffer };

/**
 * What one decree applies, atomically: a batch of writes in order. `nowSeconds` is the primary's
 * wall clock when it built the mutation — the "now" of every expiry check while applying — and
 * `defaultTtlSeconds` the table's default_ttl then (0: none), given to every record written
 * without an expiry.
 */
export interface Mutation {
  nowSeconds: number;
  defaultTtlSeconds: number;
  writes: MutationWrite[];
}
