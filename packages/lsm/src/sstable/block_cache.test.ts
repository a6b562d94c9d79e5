/**
 * The block cache as tables use it: while it has room every block is cached; once it is full, a
 * block a lookup misses is cached on its second miss, not its first (the first reads it into
 * scratch memory), and a value a lookup returned keeps its bytes whatever is read afterwards; blocks an iterator reads are cached at once; a table that closes
 * takes its blocks out of the cache.
 */
import { MemVfs, initChecksum } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KIND_PUT, makeInternalKey, MAX_SEQUENCE } from '../format/internal_key.js';
import { BlockCache } from './block_cache.js';
import { TableBuilder } from './table_builder.js';
import { TableReader } from './table_reader.js';

const key = (i: number) => Buffer.from(`key-${String(i).padStart(5, '0')}`);
const value = (i: number) => Buffer.alloc(50, i & 0xff);

async function table(vfs: MemVfs, cache: BlockCache): Promise<TableReader> {
  const file = await vfs.open('/t.sst', { create: true });
  const builder = new TableBuilder(file, { blockSizeBytes: 512, restartInterval: 4, bloomBitsPerKey: 10 });
  for (let i = 0; i < 2000; i++) builder.add(makeInternalKey(key(i), i + 1, KIND_PUT), value(i));
  await builder.finish();
  await file.close();
  return TableReader.open(vfs, '/t.sst', cache);
}

const lookup = (reader: TableReader, i: number) => reader.get(key(i), makeInternalKey(key(i), MAX_SEQUENCE, KIND_PUT));

test.before(async () => {
  await initChecksum();
});

test('while the cache has room, a block is cached on its first miss', async () => {
  const cache = new BlockCache(1 << 20);
  const reader = await table(new MemVfs(), cache);
  assert.ok(lookup(reader, 10).found);
  assert.ok(cache.usedBytes > 0);
  const hits = cache.hits;
  assert.ok(lookup(reader, 11).found);
  assert.is(cache.hits, hits + 1);
  await reader.close();
  assert.is(cache.usedBytes, 0, 'a closed table takes its blocks out of the cache');
});

test('once the cache is full, a block is cached on its second miss; values returned keep their bytes', async () => {
  // Room for a few blocks only (each about 560 bytes and its charge).
  const cache = new BlockCache(4096);
  const reader = await table(new MemVfs(), cache);
  for (let i = 1000; i < 2000; i += 40) assert.ok(lookup(reader, i).found);
  const used = cache.usedBytes;
  assert.ok(used > 4096 - 1200, `the cache is full: ${used} bytes`);
  const first = lookup(reader, 10);
  assert.ok(first.found);
  assert.is(cache.usedBytes, used, 'a first miss caches nothing');
  // Many other blocks read through the same scratch memory afterwards.
  for (let i = 100; i < 900; i += 37) assert.ok(lookup(reader, i).found);
  assert.ok(first.found && first.value.equals(value(10)), 'the first value is intact');
  const misses = cache.misses;
  const second = lookup(reader, 11);
  assert.ok(second.found && second.value.equals(value(11)));
  assert.is(cache.misses, misses + 1);
  const hits = cache.hits;
  const third = lookup(reader, 12);
  assert.ok(third.found && third.value.equals(value(12)));
  assert.is(cache.hits, hits + 1, 'the second miss cached the block: now it is a hit');
  await reader.close();
});

test('blocks an iterator reads are cached at once', async () => {
  const cache = new BlockCache(1 << 20);
  const reader = await table(new MemVfs(), cache);
  const iterator = reader.iterator();
  iterator.seek(makeInternalKey(key(500), MAX_SEQUENCE, KIND_PUT));
  assert.ok(iterator.valid() && iterator.value().equals(value(500)));
  assert.ok(cache.usedBytes > 0);
  iterator.close();
  await reader.close();
});

test.run();
