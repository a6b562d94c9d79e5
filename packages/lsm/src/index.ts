/** @petrel/lsm: the storage engine. */
export { Db, type IngestResult, type DbOptions, type DbMode, type DbStats, type WriteOptions, type ReadOptions, type Snapshot } from './db.js';
export { WriteBatch, type BatchEntry } from './write_batch.js';
export { DbIterator, type IteratorOptions } from './iterator/db_iterator.js';
export { type InternalIterator } from './iterator/iterator.js';
export { BlockCache, sharedBlockCache } from './sstable/block_cache.js';
export { type TableOptions, DEFAULT_TABLE_OPTIONS, TableBuilder } from './sstable/table_builder.js';
export { TableReader } from './sstable/table_reader.js';
export { TableFiles, sharedTableFiles } from './sstable/table_files.js';
export { Memtable } from './memtable/memtable.js';
export { MemtableRecycler, type RecyclerStats, sharedRecycler } from './memtable/recycler.js';
export {
  makeInternalKey,
  compareInternalKeys,
  userKeyOf,
  sequenceOf,
  kindOf,
  KIND_PUT,
  KIND_DELETE,
  type Kind,
  describeInternalKey,
} from './format/internal_key.js';
export { SstFileWriter, type SstFileInfo } from './ingest/sst_file_writer.js';
