/**
 * The TTL compaction filter: while a compaction copies records, it drops the expired ones and
 * gives the table's default_ttl to records that have no expiry (Pegasus's rule: a default_ttl
 * set on a table applies to old records when compaction meets them, and to new writes as they
 * are applied).
 *
 * The LSM loads this file as a module in its compaction workers (`createCompactionFilter` with
 * JSON options); MemoryEngine calls `ttlDecision` directly. Records whose value is not a stored
 * value this build understands are kept untouched: a filter never destroys what it cannot read.
 */
import { MAX_EXPIRE_TS, isExpired, storedExpireTs, withExpireTs } from '@petrel/protocol';

/** The shape of @petrel/lsm's compaction filter (compaction/compaction_filter.ts). */
export type CompactionDecision = 'keep' | 'drop' | Uint8Array;
export type CompactionFilter = (userKey: Buffer, value: Buffer, context: { nowSeconds: number; bottommost: boolean }) => CompactionDecision;

export interface TtlFilterOptions {
  /** The table's default_ttl in seconds (0 or absent: none). */
  defaultTtlSeconds?: number;
}

/** What compaction does with one stored value at `nowSeconds`. */
export function ttlDecision(value: Buffer, nowSeconds: number, defaultTtlSeconds: number): CompactionDecision {
  let expireTs: number;
  try {
    expireTs = storedExpireTs(value);
  } catch {
    return 'keep';
  }
  if (isExpired(expireTs, nowSeconds)) return 'drop';
  if (expireTs === 0 && defaultTtlSeconds > 0) return withExpireTs(value, Math.min(nowSeconds + defaultTtlSeconds, MAX_EXPIRE_TS));
  return 'keep';
}

export function createCompactionFilter(options: TtlFilterOptions | undefined): CompactionFilter {
  const defaultTtlSeconds = options?.defaultTtlSeconds ?? 0;
  return (_userKey, value, context) => ttlDecision(value, context.nowSeconds, defaultTtlSeconds);
}

/** The module URL the LSM imports in its compaction workers. */
export const TTL_FILTER_MODULE = new URL('./ttl_filter.ts', import.meta.url).href;
