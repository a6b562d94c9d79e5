/** @petrel/wal: the segmented, checksummed write-ahead log with group commit. */
export { Wal, type WalOptions, type WalRecord, type WalStats, type Durability } from './wal.js';
export { segmentName, parseSegmentName, FORMAT_VERSION as WAL_FORMAT_VERSION } from './format.js';
