/**
 * Damage on disk surfaces as CORRUPTION naming the file — never as a wrong value, never as a
 * crash of the process: a flipped bit anywhere in an SSTable (data, filter, properties and index
 * blocks, footer), in the manifest, or in CURRENT.
 */
import { MemVfs, PetrelError, initChecksum, joinPath } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db } from './db.js';
import { BlockCache } from './sstable/block_cache.js';

const DIR = '/db';

function key(i: number): Buffer {
  return Buffer.from(`key-${String(i).padStart(5, '0')}`);
}
function value(i: number): Buffer {
  return Buffer.from(`value-${i}-`.repeat(3));
}

async function buildDatabase(vfs: MemVfs, flushes: number): Promise<void> {
  const db = await Db.open(DIR, { vfs, table: { blockSizeBytes: 512 }, blockCache: new BlockCache(1 << 20) });
  for (let f = 0; f < flushes; f++) {
    for (let i = f * 200; i < (f + 1) * 200; i++) await db.put(key(i), value(i));
    await db.flush();
  }
  await db.close();
}

/** Opens and reads everything; returns 'ok' or the CORRUPTION error. Any wrong value fails the test. */
async function readEverything(vfs: MemVfs, count: number): Promise<'ok' | PetrelError> {
  let db: Db | undefined;
  try {
    db = await Db.open(DIR, { vfs, table: { blockSizeBytes: 512 }, blockCache: new BlockCache(1 << 20) });
    for (let i = 0; i < count; i++) {
      const got = db.get(key(i));
      assert.ok(got !== undefined && got.equals(value(i)), `key ${i} read back wrong: ${got?.toString()}`);
    }
    const iterator = db.iterator();
    let seen = 0;
    for (const [k, v] of iterator.entries()) {
      assert.ok(k.equals(key(seen)) && v.equals(value(seen)), `scan entry ${seen} wrong`);
      seen++;
    }
    iterator.close();
    assert.is(seen, count);
    return 'ok';
  } catch (error) {
    if (error instanceof PetrelError && error.code === 'CORRUPTION') return error;
    throw error;
  } finally {
    await db?.close().catch(() => undefined);
  }
}

async function flipBit(vfs: MemVfs, path: string, offset: number, bit: number): Promise<void> {
  const bytes = await vfs.readFile(path);
  bytes[offset] = (bytes[offset] as number) ^ (1 << bit);
  const file = await vfs.open(path);
  await file.write(bytes.subarray(offset, offset + 1), offset);
  await file.sync();
  await file.close();
}

test.before(async () => {
  await initChecksum();
});

test('a flipped bit anywhere in an SSTable is CORRUPTION naming the table, or harmless — never a wrong value', async () => {
  const vfs = new MemVfs();
  await buildDatabase(vfs, 1);
  const table = (await vfs.readdir(DIR)).find((name) => name.endsWith('.sst'))!;
  const path = joinPath(DIR, table);
  const size = (await vfs.stat(path)).size;
  let corruptions = 0;
  // Every 7th byte, plus the whole footer, each with a different bit.
  const offsets = new Set<number>();
  for (let offset = 0; offset < size; offset += 7) offsets.add(offset);
  for (let offset = size - 64; offset < size; offset++) offsets.add(offset);
  for (const offset of offsets) {
    const bit = offset % 8;
    await flipBit(vfs, path, offset, bit);
    const outcome = await readEverything(vfs, 200);
    if (outcome !== 'ok') {
      corruptions++;
      assert.is(outcome.path, path, `the error names the table (offset ${offset})`);
      assert.match(outcome.message, table);
    }
    await flipBit(vfs, path, offset, bit);
  }
  // Only the footer's reserved bytes may change without being noticed.
  assert.ok(corruptions >= offsets.size - 12, `${corruptions} of ${offsets.size} flips detected`);
  assert.is(await readEverything(vfs, 200), 'ok', 'the table reads fine once repaired');
});

test('a flipped bit in any manifest edit but the last is CORRUPTION naming the manifest segment', async () => {
  const vfs = new MemVfs();
  await buildDatabase(vfs, 3);
  const manifest = (await vfs.readFile(joinPath(DIR, 'CURRENT'))).toString().trim();
  const segments = (await vfs.readdir(joinPath(DIR, manifest))).filter((name) => name.endsWith('.wal'));
  assert.ok(segments.length >= 3, `manifest has ${segments.length} segments`);
  for (const segment of segments.slice(0, -1)) {
    const path = joinPath(DIR, manifest, segment);
    const size = (await vfs.stat(path)).size;
    await flipBit(vfs, path, size - 2, 3);
    const outcome = await readEverything(vfs, 600);
    assert.ok(outcome !== 'ok', `a flip in ${segment} went unnoticed`);
    assert.is(outcome.path, path);
    await flipBit(vfs, path, size - 2, 3);
  }
  assert.is(await readEverything(vfs, 600), 'ok');
});

test('a damaged CURRENT file is CORRUPTION naming it', async () => {
  const vfs = new MemVfs();
  await buildDatabase(vfs, 1);
  const current = joinPath(DIR, 'CURRENT');
  const original = await vfs.readFile(current);
  await vfs.writeFile(current, Buffer.from('garbage'));
  const outcome = await readEverything(vfs, 200);
  assert.ok(outcome !== 'ok');
  assert.is(outcome.path, current);
  await vfs.writeFile(current, original);
  assert.is(await readEverything(vfs, 200), 'ok');
});

test('a table file that is not an SSTable is CORRUPTION naming it', async () => {
  const vfs = new MemVfs();
  await buildDatabase(vfs, 1);
  const table = joinPath(DIR, (await vfs.readdir(DIR)).find((name) => name.endsWith('.sst'))!);
  const original = await vfs.readFile(table);
  await vfs.writeFile(table, Buffer.from('not a table at all, just some text that is long enough to have a footer'.repeat(3)));
  const outcome = await readEverything(vfs, 200);
  assert.ok(outcome !== 'ok');
  assert.is(outcome.path, table);
  assert.match(outcome.message, /not a Petrel SSTable/);
  await vfs.writeFile(table, original);
});

test.run();
