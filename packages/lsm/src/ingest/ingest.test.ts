/**
 * Ingestion: files from SstFileWriter join a live database with one new sequence number each.
 * Scenario tests for placement, shadowing, snapshots, recovery and bad files, then a fast-check
 * model test mixing ingests with writes, flushes, compactions, checkpoints, reopens and crashes.
 */
import { FaultVfs, MemVfs, PetrelError, Prng, initChecksum, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db, type DbOptions } from '../db.js';
import { LEVELS } from '../version/version.js';
import { WriteBatch } from '../write_batch.js';
import { SstFileWriter } from './sst_file_writer.js';

const b = (text: string) => Buffer.from(text);
const SMALL = { l0CompactionTrigger: 2, levelOneTargetBytes: 1500, levelSizeMultiplier: 2, targetFileBytes: 700 };
const OPTIONS: Partial<DbOptions> = { memtableSizeBytes: 600, table: { blockSizeBytes: 256 }, compaction: SMALL, compactionExecutor: 'inline', durability: 'fsync' };

async function writeFile(vfs: MemVfs | FaultVfs, path: string, entries: [string, string | null][]): Promise<void> {
  const writer = await SstFileWriter.create(vfs, path, { blockSizeBytes: 128 });
  for (const [key, value] of entries) value === null ? writer.del(b(key)) : writer.put(b(key), b(value));
  await writer.finish();
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof PetrelError) return error.code;
    throw error;
  }
}

test.before(async () => {
  await initChecksum();
});

test('into an empty database a file goes to the last level; its values and deletions read back', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir('/in');
  await writeFile(vfs, '/in/a.sst', [['a', '1'], ['b', null], ['c', '3']]);
  const db = await Db.open('/db', { vfs, ...OPTIONS });
  const [result] = await db.ingest(['/in/a.sst']);
  assert.is(result!.level, LEVELS - 1);
  assert.is(result!.entries, 3);
  assert.is(result!.copied, false, 'MemVfs links');
  assert.is(db.get(b('a'))?.toString(), '1');
  assert.is(db.get(b('b')), undefined);
  assert.is(db.get(b('c'))?.toString(), '3');
  assert.ok(await vfs.exists('/in/a.sst'), 'the source stays');
  await db.close();
});

test('an ingested file shadows older data wherever it lies, and is shadowed by later writes', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir('/in');
  const db = await Db.open('/db', { vfs, ...OPTIONS });
  await db.put(b('k1'), b('old-sst'));
  await db.put(b('k3'), b('old-sst'));
  await db.flush();
  await db.compactRange(undefined, undefined, { bottommost: true });
  await db.put(b('k2'), b('old-memtable'));
  await db.put(b('zz'), b('unrelated'));
  const before = db.snapshot();
  await writeFile(vfs, '/in/x.sst', [['k1', 'new'], ['k2', 'new'], ['k3', null]]);
  const [result] = await db.ingest(['/in/x.sst']);
  // It overlaps k1/k3 deep down and the memtable's k2 (flushed to L0 first): it goes above both.
  assert.ok(result!.level < LEVELS - 1, `placed at ${result!.level}`);
  assert.is(db.get(b('k1'))?.toString(), 'new');
  assert.is(db.get(b('k2'))?.toString(), 'new');
  assert.is(db.get(b('k3')), undefined);
  assert.is(db.get(b('zz'))?.toString(), 'unrelated');
  // A snapshot from before does not see it.
  assert.is(db.get(b('k1'), { snapshot: before })?.toString(), 'old-sst');
  assert.is(db.get(b('k3'), { snapshot: before })?.toString(), 'old-sst');
  before.release();
  await db.put(b('k1'), b('after'));
  assert.is(db.get(b('k1'))?.toString(), 'after');
  // Through compactions to the bottom, the order holds.
  await db.compactRange(undefined, undefined, { bottommost: true });
  assert.is(db.get(b('k1'))?.toString(), 'after');
  assert.is(db.get(b('k2'))?.toString(), 'new');
  assert.is(db.get(b('k3')), undefined);
  await db.close();
});

test('after a reopen new writes are still newer than an ingested file, and checkpoints carry it', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir('/in');
  await writeFile(vfs, '/in/x.sst', [['k', 'ingested'], ['m', 'ingested']]);
  let db = await Db.open('/db', { vfs, ...OPTIONS });
  await db.put(b('other'), b('1'));
  await db.ingest(['/in/x.sst']);
  await db.close();
  db = await Db.open('/db', { vfs, ...OPTIONS });
  assert.is(db.get(b('k'))?.toString(), 'ingested');
  await db.put(b('k'), b('later'));
  assert.is(db.get(b('k'))?.toString(), 'later');
  await db.checkpoint('/copy');
  await db.close();
  db = await Db.open('/db', { vfs, ...OPTIONS });
  assert.is(db.get(b('k'))?.toString(), 'later');
  assert.is(db.get(b('other'))?.toString(), '1');
  await db.close();
  const copy = await Db.open('/copy', { vfs, ...OPTIONS });
  assert.is(copy.get(b('k'))?.toString(), 'later');
  assert.is(copy.get(b('m'))?.toString(), 'ingested');
  await copy.close();
});

test('bad files are refused with a clear error and change nothing', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir('/in');
  const db = await Db.open('/db', { vfs, ...OPTIONS });
  await db.put(b('a'), b('1'));
  assert.is(await codeOf(db.ingest(['/in/absent.sst'])), 'NOT_FOUND');
  await vfs.writeFile('/in/garbage.sst', Buffer.alloc(300, 7));
  assert.is(await codeOf(db.ingest(['/in/garbage.sst'])), 'INVALID_ARGUMENT');
  // A table of a database holds real sequences: not an ingestible file.
  await db.flush();
  const [tableName] = (await vfs.readdir('/db')).filter((name) => name.endsWith('.sst'));
  try {
    await db.ingest([`/db/${tableName}`]);
    assert.unreachable();
  } catch (error) {
    assert.is((error as PetrelError).code, 'INVALID_ARGUMENT');
    assert.match(String(error), /not made by SstFileWriter/);
  }
  // A flipped bit in a data block.
  await writeFile(vfs, '/in/flip.sst', [['p', 'x'.repeat(200)], ['q', 'y'.repeat(200)]]);
  const bytes = await vfs.readFile('/in/flip.sst');
  bytes[20] = bytes[20]! ^ 0x10;
  await vfs.writeFile('/in/flip.sst', bytes);
  try {
    await db.ingest(['/in/flip.sst']);
    assert.unreachable();
  } catch (error) {
    assert.is((error as PetrelError).code, 'INVALID_ARGUMENT');
    assert.match(String(error), /flip\.sst/);
  }
  assert.is(db.get(b('a'))?.toString(), '1');
  assert.is(db.get(b('p')), undefined);
  assert.is(db.stats().ingestedFiles, 0);
  await db.close();
});

test('the writer refuses keys out of order, repeated keys and empty files', async () => {
  const vfs = new MemVfs();
  const writer = await SstFileWriter.create(vfs, '/w.sst');
  writer.put(b('b'), b('1'));
  assert.throws(() => writer.put(b('a'), b('2')), /strictly increasing/);
  assert.throws(() => writer.del(b('b')), /strictly increasing/);
  await writer.finish();
  const empty = await SstFileWriter.create(vfs, '/e.sst');
  assert.is(await codeOf(empty.finish()), 'INVALID_ARGUMENT');
});

type Op =
  | { kind: 'put'; key: number; value: number }
  | { kind: 'del'; key: number }
  | { kind: 'ingest'; keys: number[]; deletes: number[]; value: number }
  | { kind: 'flush' }
  | { kind: 'compact' }
  | { kind: 'reopen' }
  | { kind: 'crash' };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(40), value: fc.nat(1e6) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key: fc.nat(40) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ingest' as const), keys: fc.uniqueArray(fc.nat(40), { minLength: 1, maxLength: 12 }), deletes: fc.array(fc.nat(40), { maxLength: 3 }), value: fc.nat(1e6) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'compact' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

const keyOf = (key: number) => `key${String(key).padStart(3, '0')}`;

test('model: ingests mixed with writes, flushes, compactions, reopens and crashes read like a map', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.array(opArbitrary, { minLength: 1, maxLength: 40 }), async (seed, ops) => {
      const mem = new MemVfs({ seed });
      await mem.mkdir('/in');
      const model = new Map<string, string>();
      let db = await Db.open('/db', { vfs: mem, ...OPTIONS });
      let files = 0;
      const prng = new Prng(seed);
      for (const op of ops) {
        switch (op.kind) {
          case 'put':
            await db.put(b(keyOf(op.key)), b(`p${op.value}`));
            model.set(keyOf(op.key), `p${op.value}`);
            break;
          case 'del':
            await db.del(b(keyOf(op.key)));
            model.delete(keyOf(op.key));
            break;
          case 'ingest': {
            const entries = new Map<string, string | null>();
            for (const key of op.keys) entries.set(keyOf(key), `i${op.value}.${key}`);
            for (const key of op.deletes) entries.set(keyOf(key), null);
            const sorted = [...entries].sort((x, y) => (x[0] < y[0] ? -1 : 1));
            const path = `/in/${files++}.sst`;
            await writeFile(mem, path, sorted);
            // Writes racing the ingest: made before the call, so older than it.
            const racing = prng.chance(0.5) ? db.write(new WriteBatch().put(b(keyOf(op.keys[0]!)), b('racing'))) : undefined;
            if (racing !== undefined) model.set(keyOf(op.keys[0]!), 'racing');
            await db.ingest([path]);
            await racing;
            for (const [key, value] of sorted) value === null ? model.delete(key) : model.set(key, value);
            break;
          }
          case 'flush':
            await db.flush();
            break;
          case 'compact':
            await db.compactRange(undefined, undefined, { bottommost: prng.chance(0.5) });
            break;
          case 'reopen':
            await db.close();
            db = await Db.open('/db', { vfs: mem, ...OPTIONS });
            break;
          case 'crash':
            // Everything above resolved (fsync mode), so all of it must survive.
            mem.crash();
            db = await Db.open('/db', { vfs: mem, ...OPTIONS });
            break;
        }
        for (const key of [3, 17, 29].map(keyOf)) assert.is(db.get(b(key))?.toString(), model.get(key), `seed ${seed}: ${key} after ${op.kind}`);
      }
      const iterator = db.iterator();
      const actual = [...iterator.entries()].map(([key, value]) => [key.toString(), value.toString()]);
      iterator.close();
      assert.equal(actual, [...model].sort((x, y) => (x[0] < y[0] ? -1 : 1)), `seed ${seed}`);
      await db.close();
    }),
    propertyParameters(150, 2000),
  );
});

test.run();
