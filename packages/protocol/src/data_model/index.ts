/** The data model: stored keys and values, partition hashing, key ranges (doc/data_model.md). */
export {
  MAX_HASH_KEY_BYTES,
  checkHashKey,
  encodeStoredKey,
  decodeStoredKey,
  hashKeyOf,
  sortKeyOf,
  hashKeyPrefix,
  prefixSuccessor,
  hashKeyRange,
  sortKeyPrefixRange,
  hashKeyPrefixScanStart,
  hashKeyScanBounds,
  fullScanBounds,
  type KeyRange,
  type ScanBounds,
} from './key.js';
export {
  VALUE_FORMAT_VERSION,
  VALUE_HEADER_BYTES,
  MAX_EXPIRE_TS,
  encodeStoredValue,
  storedExpireTs,
  storedUserValue,
  withExpireTs,
  isExpired,
  expireTsFromTtl,
  unixSeconds,
} from './value.js';
export { partitionHash, partitionIndex } from './partition.js';
