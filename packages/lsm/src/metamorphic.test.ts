/**
 * Metamorphic test: one random stream of writes, flushes and reads, run under several option sets
 * (tiny and large memtables, 64-byte to 16 KiB blocks, restart interval 1 and 16, bloom filters on
 * and off), must give the same read results under every one of them.
 */
import { MemVfs, Prng, initChecksum, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db, type DbOptions } from './db.js';
import { TableFiles } from './sstable/table_files.js';
import { BlockCache } from './sstable/block_cache.js';
import { WriteBatch } from './write_batch.js';

const OPTION_SETS: Partial<DbOptions>[] = [
  { memtableSizeBytes: 400, table: { blockSizeBytes: 256, restartInterval: 16, bloomBitsPerKey: 10 } },
  { memtableSizeBytes: 1 << 20, table: { blockSizeBytes: 4096, restartInterval: 16, bloomBitsPerKey: 10 } },
  { memtableSizeBytes: 2000, table: { blockSizeBytes: 16384, restartInterval: 16, bloomBitsPerKey: 0 } },
  { memtableSizeBytes: 700, table: { blockSizeBytes: 64, restartInterval: 1, bloomBitsPerKey: 4 } },
  // One open table file at a time: every switch between tables reopens a file.
  { memtableSizeBytes: 500, table: { blockSizeBytes: 256, restartInterval: 16, bloomBitsPerKey: 10 }, tableFiles: new TableFiles(1) },
];

type Op = { kind: 'write'; count: number } | { kind: 'flush' } | { kind: 'get' } | { kind: 'scan'; reverse: boolean } | { kind: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), count: fc.integer({ min: 1, max: 8 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'get' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('scan' as const), reverse: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
);

async function run(seed: number, ops: Op[], options: Partial<DbOptions>): Promise<string[]> {
  const prng = new Prng(seed);
  const vfs = new MemVfs();
  const open = () => Db.open('/db', { vfs, blockCache: new BlockCache(1 << 16), ...options });
  let db = await open();
  const results: string[] = [];
  const key = () => Buffer.from(`key${prng.int(40)}${'x'.repeat(prng.int(3))}`);
  for (const op of ops) {
    switch (op.kind) {
      case 'write': {
        const batch = new WriteBatch();
        for (let i = 0; i < op.count; i++) {
          if (prng.chance(0.25)) batch.del(key());
          else batch.put(key(), prng.bytes(prng.int(60)));
        }
        await db.write(batch);
        break;
      }
      case 'flush':
        await db.flush();
        break;
      case 'get': {
        const k = key();
        results.push(`get ${k} = ${db.get(k)?.toString('hex') ?? '-'}`);
        break;
      }
      case 'scan': {
        const iterator = db.iterator();
        const seen: string[] = [];
        if (op.reverse) for (iterator.seekToLast(); iterator.valid(); iterator.prev()) seen.push(`${iterator.key()}=${iterator.value().toString('hex')}`);
        else for (iterator.seekToFirst(); iterator.valid(); iterator.next()) seen.push(`${iterator.key()}=${iterator.value().toString('hex')}`);
        iterator.close();
        results.push(`scan ${op.reverse ? 'reverse' : ''}: ${seen.join(' ')}`);
        break;
      }
      case 'reopen':
        await db.close();
        db = await open();
        break;
    }
  }
  await db.close();
  return results;
}

test.before(async () => {
  await initChecksum();
});

test('the same op stream gives identical reads under every option set', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 1e9 }), fc.array(opArb, { maxLength: 80 }), async (seed, ops) => {
      const reference = await run(seed, ops, OPTION_SETS[0]!);
      for (const options of OPTION_SETS.slice(1)) assert.equal(await run(seed, ops, options), reference, JSON.stringify(options));
    }),
    propertyParameters(100, 1000),
  );
});

test.run();
