/** The storage app: a partition's state machine over a storage engine. */
export { StorageApp, type StorageAppOptions, parseDefaultTtl, DEFAULT_MAX_ITERATION_COUNT, DEFAULT_MAX_ITERATION_BYTES, DEFAULT_ITERATION_TIME_LIMIT_MS } from './storage_app.js';
export { MutationBuilder, type MutationBuilderOptions, prepareWrite, buildMutation, DEFAULT_MAX_WRITE_BYTES } from './mutation_builder.js';
export { applyMutation } from './apply.js';
export type { StorageEngine, EngineBatch, EngineIterator, IteratorBounds } from './engine.js';
export { MemoryEngine, MemoryBatch, type MemoryEngineOptions } from './memory_engine.js';
export { LsmEngine, type LsmEngineOptions } from './lsm_engine.js';
export { SortedMap } from './sorted_map.js';
export { ttlDecision, createCompactionFilter, TTL_FILTER_MODULE, type TtlFilterOptions } from './ttl_filter.js';
export { parseInt64, INT64_MIN, INT64_MAX } from './int64.js';
export { evaluateCheck, isCheckType, type CheckOutcome } from './check.js';
export { matchesFilter } from './filter.js';
