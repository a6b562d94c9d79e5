/**
 * Petrel's LSM as an engine under test, standalone mode with its log in `os` durability (no fsync
 * per write — the same as LevelDB's default `sync: false`). Fills are chosen as on LevelDB's side
 * (classic_level_engine.ts): batches of 1,000 or one write per key with 64 in flight (the log's
 * group commit joins them), whichever is faster on a throwaway database; reads are synchronous
 * `get`s; seeks use one iterator per seek.
 */
import { nodeVfs } from '@petrel/base';
import { BlockCache, Db, WriteBatch } from '@petrel/lsm';
import { BLOCK_CACHE_BYTES, type EngineUnderTest, type FillMode, type KeyList, TimeSlices } from './engine_workloads.js';

export class PetrelEngine implements EngineUnderTest {
  readonly name = 'petrel';
  private db: Db | undefined;
  fillMode: FillMode = 'inflight';

  private get database(): Db {
    if (this.db === undefined) throw new Error('not open');
    return this.db;
  }

  async open(dir: string): Promise<void> {
    this.db = await Db.open(dir, { vfs: nodeVfs, durability: 'os', memtableSizeBytes: 8 * 2 ** 20, blockCache: new BlockCache(BLOCK_CACHE_BYTES) });
  }

  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }

  put(key: Buffer, value: Buffer): Promise<void> {
    return this.database.put(key, value);
  }

  async fillBatch(keys: KeyList, values: Buffer[], batchSize: number): Promise<void> {
    const db = this.database;
    // One batch, cleared after each write (its buffer kept), as db_bench reuses its WriteBatch: the
    // engine copies a batch's bytes when it writes them, so the batch is free once write resolves.
    const batch = new WriteBatch();
    for (let start = 0; start < keys.length; start += batchSize) {
      batch.clear();
      const end = Math.min(keys.length, start + batchSize);
      for (let i = start; i < end; i++) batch.put(keys.at(i), values[i % values.length]!);
      await db.write(batch);
    }
  }

  async read(keys: KeyList): Promise<number> {
    const db = this.database;
    let found = 0;
    const slices = new TimeSlices();
    for (let i = 0; i < keys.length; i++) {
      if (db.get(keys.at(i)) !== undefined) found++;
      if (slices.due()) await slices.next();
    }
    return found;
  }

  async seek(keys: KeyList, nexts: number): Promise<number> {
    const db = this.database;
    let entries = 0;
    const slices = new TimeSlices();
    for (let i = 0; i < keys.length; i++) {
      const iterator = db.iterator();
      iterator.seek(keys.at(i));
      for (let n = 0; n < nexts && iterator.valid(); n++) {
        iterator.value();
        entries++;
        iterator.next();
      }
      iterator.close();
      if (slices.due()) await slices.next();
    }
    return entries;
  }

  async settle(): Promise<void> {
    await this.database.flush();
  }

  writeAmplification(): number | undefined {
    const stats = this.database.stats();
    return stats.bytesWrittenByUser === 0 ? undefined : stats.writeAmplification;
  }
}
