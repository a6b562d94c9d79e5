/**
 * Compaction's drop rules, scenario by scenario, and the picker's decisions. Each scenario builds
 * the LSM shape that makes a wrong rule visible (checked with debugString), then reads.
 */
import { tmpdir } from 'node:os';
import { MemVfs, initChecksum, joinPath, nodeVfs } from '@petrel/base';
import { CompactionPool } from './pool.js';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db, type DbOptions } from '../db.js';
import { BlockCache } from '../sstable/block_cache.js';
import { DEFAULT_TABLE_OPTIONS, TableBuilder } from '../sstable/table_builder.js';
import { KIND_DELETE, KIND_PUT, makeInternalKey } from '../format/internal_key.js';
import { type CompactionJob, runCompaction } from './runner.js';

const b = (text: string) => Buffer.from(text);

async function open(vfs: MemVfs, options: Partial<DbOptions> = {}): Promise<Db> {
  return Db.open('/db', { vfs, disableAutoCompaction: true, blockCache: new BlockCache(1 << 20), ...options });
}

test.before(async () => {
  await initChecksum();
});

test('a deletion marker survives compaction while a deeper level still holds the key', async () => {
  const db = await open(new MemVfs());
  await db.put(b('k'), b('old'));
  await db.flush();
  await db.compactRange(undefined, undefined, { bottommost: true });
  await db.compactRange(undefined, undefined, { bottommost: true });
  assert.match(db.debugString(), /L2:\n {2}\d+:\[k#1,SET-k#1,SET\]/);
  await db.put(b('j'), b('x'));
  await db.flush();
  await db.compactRange(b('j'), b('j'));
  await db.del(b('k'));
  await db.put(b('j'), b('y'));
  await db.flush();
  // L0 [del k, j] overlaps L1 [j]: a real merge into L1, with k's old value still in L2.
  await db.compactRange(b('a'), b('j'));
  assert.is(db.get(b('k')), undefined, 'the deleted key must stay deleted');
  const iterator = db.iterator();
  assert.equal([...iterator.entries()].map(([k]) => k.toString()), ['j']);
  iterator.close();
  await db.close();
});

test('a deletion marker with nothing left to hide is dropped at the bottom', async () => {
  const db = await open(new MemVfs());
  await db.put(b('k'), b('v'));
  await db.del(b('k'));
  await db.put(b('m'), b('v'));
  await db.flush();
  await db.compactRange(undefined, undefined, { bottommost: true });
  const stats = db.stats();
  const entries = /(\d+) entries/.exec(db.debugString())?.[1];
  assert.is(entries, '1', `only m remains: ${db.debugString()}`);
  assert.is(stats.compactions, 1);
  await db.close();
});

test('versions a snapshot can see survive compaction; they go once it is released', async () => {
  const db = await open(new MemVfs());
  await db.put(b('k'), b('v1'));
  const snapshot = db.snapshot();
  await db.put(b('k'), b('v2'));
  await db.flush();
  await db.compactRange(undefined, undefined, { bottommost: true });
  assert.is(db.get(b('k'), { snapshot })?.toString(), 'v1');
  assert.is(db.get(b('k'))?.toString(), 'v2');
  assert.match(db.debugString(), /2 entries/);
  snapshot.release();
  await db.compactRange(undefined, undefined, { bottommost: true });
  assert.match(db.debugString(), /1 entries/);
  assert.is(db.get(b('k'))?.toString(), 'v2');
  await db.close();
});

test('an iterator opened before a compaction reads on from the files it started with', async () => {
  const vfs = new MemVfs();
  const db = await open(vfs);
  for (let i = 0; i < 50; i++) await db.put(b(`k${String(i).padStart(2, '0')}`), b(`v${i}`));
  await db.flush();
  const iterator = db.iterator();
  iterator.seekToFirst();
  await db.compactRange(undefined, undefined, { bottommost: true });
  await db.del(b('k10'));
  await db.compactRange(undefined, undefined, { bottommost: true });
  let count = 0;
  for (; iterator.valid(); iterator.next()) count++;
  assert.is(count, 50);
  iterator.close();
  // Once the iterator is gone, its files go too (deleted in the background): only the live
  // tables stay on disk.
  await new Promise((resolve) => setImmediate(resolve));
  const tables = (await vfs.readdir('/db')).filter((name) => name.endsWith('.sst'));
  assert.is(tables.length, db.stats().levels.reduce((sum, level) => sum + level.files, 0));
  await db.close();
});

test('background compaction keeps L0 small and every level near its target', async () => {
  const db = await open(new MemVfs(), {
    disableAutoCompaction: false,
    memtableSizeBytes: 2000,
    compaction: { l0CompactionTrigger: 2, levelOneTargetBytes: 8000, levelSizeMultiplier: 4, targetFileBytes: 3000 },
  });
  for (let i = 0; i < 3000; i++) await db.put(b(`key${(i * 7919) % 1000}`), Buffer.alloc(20, i));
  await db.waitForCompactions();
  const stats = db.stats();
  assert.ok(stats.compactions > 5, `${stats.compactions} compactions`);
  assert.ok((stats.levels[0]?.files ?? 0) < 2, db.debugString());
  for (let i = 0; i < 1000; i++) {
    const last = [...Array(3000).keys()].filter((n) => (n * 7919) % 1000 === i).pop()!;
    assert.ok(db.get(b(`key${i}`))?.equals(Buffer.alloc(20, last)), `key${i}`);
  }
  assert.ok(stats.writeAmplification > 1, `write amplification ${stats.writeAmplification}`);
  await db.close();
});

test('a compaction filter drops and rewrites records, and a drop above deeper data hides it', async () => {
  const filterPath = joinPath(import.meta.dirname, 'test_filter.ts');
  const db = await open(new MemVfs(), { compactionFilter: { module: new URL(`file://${filterPath}`).href, options: { dropPrefix: 'tmp-', upperPrefix: 'up-' } } });
  await db.put(b('tmp-a'), b('1'));
  await db.put(b('up-b'), b('quiet'));
  await db.put(b('keep'), b('same'));
  await db.flush();
  await db.compactRange(undefined, undefined, { bottommost: true });
  assert.is(db.get(b('tmp-a')), undefined);
  assert.is(db.get(b('up-b'))?.toString(), 'QUIET');
  assert.is(db.get(b('keep'))?.toString(), 'same');
  await db.close();
});

test('write stall state shows in stats: slowdown, then stop, as L0 grows', async () => {
  const db = await open(new MemVfs(), { memtableSizeBytes: 100, l0SlowdownTrigger: 2, l0StopTrigger: 4 });
  const states: string[] = [];
  for (let i = 0; i < 3; i++) {
    await db.put(b(`k${i}`), Buffer.alloc(200));
    await db.flush();
    states.push(db.stats().stallState);
  }
  assert.equal(states, ['none', 'slowdown', 'slowdown']);
  await db.put(b('k3'), Buffer.alloc(200));
  await db.flush();
  assert.is(db.stats().stallState, 'stop');
  // With automatic compaction off, only a manual one ends the stop.
  const write = db.put(b('blocked'), b('x'));
  let done = false;
  void write.then(() => (done = true));
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.is(done, false, 'a write waits while writes are stopped');
  await db.compactRange();
  await write;
  assert.is(db.stats().stallState, 'none');
  assert.ok(db.stats().writeStalls >= 1);
  await db.close();
});

test('the runner keeps a deletion marker when a deeper level may hold the key, and drops it when none does', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir('/r');
  const file = await vfs.open('/r/000001.sst', { create: true });
  const builder = new TableBuilder(file, DEFAULT_TABLE_OPTIONS);
  builder.add(makeInternalKey(b('k'), 5, KIND_DELETE), Buffer.alloc(0));
  builder.add(makeInternalKey(b('m'), 6, KIND_PUT), b('v'));
  await builder.finish();
  await file.close();
  const job = (deeper: [Uint8Array, Uint8Array][], outputNumbers: number[]): CompactionJob => ({
    dir: '/r',
    inputs: [1],
    outputNumbers,
    smallestSnapshot: 100,
    deeperRanges: deeper,
    tableOptions: DEFAULT_TABLE_OPTIONS,
    targetFileBytes: 1 << 20,
    nowSeconds: 0,
  });
  const kept = await runCompaction(job([[b('a'), b('z')]], [2]), vfs);
  assert.is(kept.entriesOut, 2, 'the marker stays: it hides k deeper down');
  const dropped = await runCompaction(job([[b('x'), b('z')]], [3]), vfs);
  assert.is(dropped.entriesOut, 1, 'the marker goes: nothing deeper holds k');
});

test('on the real file system compactions run in a worker thread, and the data stays right', async () => {
  const dir = joinPath(tmpdir(), `petrel-compaction-${process.pid}-${Date.now()}`);
  const pool = new CompactionPool(1);
  try {
    const db = await Db.open(dir, {
      vfs: nodeVfs,
      compactionPool: pool,
      memtableSizeBytes: 4000,
      compaction: { l0CompactionTrigger: 2, levelOneTargetBytes: 20_000, levelSizeMultiplier: 4, targetFileBytes: 8000 },
    });
    for (let i = 0; i < 4000; i++) await db.put(b(`key${(i * 7919) % 1500}`), Buffer.alloc(24, i));
    await db.waitForCompactions();
    const stats = db.stats();
    assert.ok(stats.compactions > 3, `${stats.compactions} compactions`);
    for (let i = 0; i < 1500; i += 7) assert.ok(db.get(b(`key${i}`)) !== undefined, `key${i}`);
    await db.close();
    const reopened = await Db.open(dir, { vfs: nodeVfs, compactionPool: pool });
    assert.is(reopened.get(b('key7'))?.length, 24);
    await reopened.close();
  } finally {
    await pool.close();
    await nodeVfs.removeTree(dir);
  }
});

test.run();
