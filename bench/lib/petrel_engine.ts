/**
 * Petrel's LSM as an engine under test, standalone mode with its log in `os` durability (no fsync
 * per write — the same as LevelDB's default `sync: false`). Fills issue one write per key, 64 in
 * flight (the log's group commit joins them); reads are synchronous `get`s; seeks use one
 * iterator per seek.
 */
import { nodeVfs } from '@petrel/base';
import { BlockCache, Db, WriteBatch } from '@petrel/lsm';
import type { EngineUnderTest } from './engine_workloads.js';

/** Synchronous read loops yield to the event loop after this much work. */
const SLICE_MS = 5;

export class PetrelEngine implements EngineUnderTest {
  readonly name = 'petrel';
  private db: Db | undefined;

  private get database(): Db {
    if (this.db === undefined) throw new Error('not open');
    return this.db;
  }

  async open(dir: string): Promise<void> {
    this.db = await Db.open(dir, { vfs: nodeVfs, durability: 'os', memtableSizeBytes: 8 * 2 ** 20, blockCache: new BlockCache(64 * 2 ** 20) });
  }

  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }

  async fill(keys: Buffer[], values: Buffer[]): Promise<void> {
    const db = this.database;
    let next = 0;
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < keys.length) {
          const i = next++;
          await db.put(keys[i]!, values[i % values.length]!);
        }
      }),
    );
  }

  async fillBatch(keys: Buffer[], values: Buffer[], batchSize: number): Promise<void> {
    const db = this.database;
    for (let start = 0; start < keys.length; start += batchSize) {
      const batch = new WriteBatch();
      const end = Math.min(keys.length, start + batchSize);
      for (let i = start; i < end; i++) batch.put(keys[i]!, values[i % values.length]!);
      await db.write(batch);
    }
  }

  async read(keys: Buffer[]): Promise<number> {
    const db = this.database;
    let found = 0;
    let sliceStart = performance.now();
    for (let i = 0; i < keys.length; i++) {
      if (db.get(keys[i]!) !== undefined) found++;
      // Synchronous reads: give the event loop a turn every few milliseconds, as a server would.
      if ((i & 0xff) === 0xff && performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
    }
    return found;
  }

  async seek(keys: Buffer[], nexts: number): Promise<number> {
    const db = this.database;
    let entries = 0;
    let sliceStart = performance.now();
    for (let i = 0; i < keys.length; i++) {
      const iterator = db.iterator();
      iterator.seek(keys[i]!);
      for (let n = 0; n < nexts && iterator.valid(); n++) {
        iterator.value();
        entries++;
        iterator.next();
      }
      iterator.close();
      if ((i & 0xf) === 0xf && performance.now() - sliceStart > SLICE_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        sliceStart = performance.now();
      }
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
