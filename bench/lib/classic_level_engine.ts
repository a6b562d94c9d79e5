/**
 * LevelDB (classic-level, C++ through N-API) as an engine under test, through its fastest honest
 * API for each workload: fills as chained batches of 1,000 or 64 puts in flight, whichever is
 * faster on this machine (both are tried on a throwaway database first); reads with getSync;
 * seeks with one iterator per seek and nextv. No fsync per write, as on Petrel's side.
 */
import type { EngineUnderTest } from './engine_workloads.js';

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
  private fillMode: 'batch' | 'inflight' = 'batch';

  constructor(private readonly module: ClassicLevelModule) {}

  private get database(): Database {
    if (this.db === undefined) throw new Error('not open');
    return this.db;
  }

  async open(dir: string): Promise<void> {
    this.db = new this.module.ClassicLevel<Buffer, Buffer>(dir, { keyEncoding: 'buffer', valueEncoding: 'buffer' }) as unknown as Database;
    await this.db.open();
  }

  async close(): Promise<void> {
    await this.db?.close();
    this.db = undefined;
  }

  /** Picks the faster fill API on a small throwaway database in `dir`. */
  async calibrate(dir: string, keys: Buffer[], values: Buffer[]): Promise<string> {
    const timings: Record<string, number> = {};
    for (const mode of ['batch', 'inflight'] as const) {
      await this.open(`${dir}-${mode}`);
      this.fillMode = mode;
      const started = performance.now();
      await this.fill(keys, values);
      timings[mode] = performance.now() - started;
      await this.close();
    }
    this.fillMode = (timings.batch ?? Infinity) <= (timings.inflight ?? Infinity) ? 'batch' : 'inflight';
    return `${this.fillMode} (batch ${timings.batch?.toFixed(0)} ms, 64 in flight ${timings.inflight?.toFixed(0)} ms for ${keys.length} keys)`;
  }

  async fill(keys: Buffer[], values: Buffer[]): Promise<void> {
    if (this.fillMode === 'batch') return this.fillBatch(keys, values, 1000);
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
      const batch = db.batch();
      const end = Math.min(keys.length, start + batchSize);
      for (let i = start; i < end; i++) batch.put(keys[i]!, values[i % values.length]!);
      await batch.write();
    }
  }

  async read(keys: Buffer[]): Promise<number> {
    const db = this.database as Database & { getSync(key: Buffer): Buffer | undefined };
    let found = 0;
    for (let i = 0; i < keys.length; i++) {
      if (db.getSync(keys[i]!) !== undefined) found++;
      // Yield now and then, as a server would, so the comparison includes no unfair monopoly.
      if ((i & 0x7ff) === 0x7ff) await new Promise((resolve) => setImmediate(resolve));
    }
    return found;
  }

  async seek(keys: Buffer[], nexts: number): Promise<number> {
    const db = this.database;
    let entries = 0;
    for (const key of keys) {
      const iterator = db.iterator({ gte: key, limit: nexts });
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
