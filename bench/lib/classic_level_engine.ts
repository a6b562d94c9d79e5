/**
 * LevelDB (classic-level, C++ through N-API) as an engine under test, through its fastest honest
 * API for each workload: fills as chained batches of 1,000 or 64 puts in flight, whichever is
 * faster on this machine (both are tried on a throwaway database first); reads with getSync;
 * seeks with one iterator per seek and nextv. No fsync per write, as on Petrel's side.
 */
import { BLOCK_CACHE_BYTES, type EngineUnderTest, type FillMode, type KeyList, TimeSlices } from './engine_workloads.js';

type ClassicLevelModule = typeof import('classic-level');
type Database = InstanceType<ClassicLevelModule['ClassicLevel']>;

export async function loadClassicLevel(): Promise<ClassicLevelModule | undefined> {
  try {
    return await import('classic-level');
  } catch {
    return undefined;
  }
}

export class ClassicLevelEngine implements EngineUnderTest {
  readonly name = 'leveldb';
  private db: Database | undefined;
  fillMode: FillMode = 'batch';

  constructor(private readonly module: ClassicLevelModule) {}

  private get database(): Database {
    if (this.db === undefined) throw new Error('not open');
    return this.db;
  }

  async open(dir: string): Promise<void> {
    this.db = new this.module.ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer', cacheSize: BLOCK_CACHE_BYTES }) as unknown as Database;
    await this.db.open();
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
    for (let start = 0; start < keys.length; start += batchSize) {
      const batch = db.batch();
      const end = Math.min(keys.length, start + batchSize);
      for (let i = start; i < end; i++) batch.put(keys.at(i), values[i % values.length]!);
      await batch.write();
    }
  }

  async read(keys: KeyList): Promise<number> {
    const db = this.database as Database & { getSync(key: Buffer): Buffer | undefined };
    let found = 0;
    const slices = new TimeSlices();
    for (let i = 0; i < keys.length; i++) {
      if (db.getSync(keys.at(i)) !== undefined) found++;
      if (slices.due()) await slices.next();
    }
    return found;
  }

  async seek(keys: KeyList, nexts: number): Promise<number> {
    const db = this.database;
    let entries = 0;
    for (let i = 0; i < keys.length; i++) {
      const iterator = db.iterator({ gte: keys.at(i), limit: nexts });
      const rows = await iterator.nextv(nexts);
      entries += rows.length;
      await iterator.close();
    }
    return entries;
  }

  async settle(): Promise<void> {}

  writeAmplification(): number | undefined {
    return undefined;
  }
}
