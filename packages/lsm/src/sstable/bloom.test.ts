/**
 * The bloom filter: never a false negative; about the false-positive rate its bits per key buy;
 * and tables of format version 1 (xxh64 filter over the whole bit array), as the engine wrote them
 * before version 2, still read right — the fixture testdata/format_v1.sst was written by that code.
 */
import { readFileSync } from 'node:fs';
import { MemVfs, Prng, initChecksum, joinPath, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KIND_DELETE, KIND_PUT, makeInternalKey, MAX_SEQUENCE, sequenceOf, userKeyOf } from '../format/internal_key.js';
import { BlockCache } from './block_cache.js';
import { BloomBuilder, bloomMayContain, filterHash, hashForFilter } from './bloom.js';
import { TableBuilder } from './table_builder.js';
import { TableReader } from './table_reader.js';

test.before(async () => {
  await initChecksum();
});

test('every key added is reported as possibly present (no false negatives), at any bits per key', () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.uint8Array({ maxLength: 40 }), { minLength: 1, maxLength: 300, selector: (key) => Buffer.from(key).toString('hex') }), fc.integer({ min: 1, max: 20 }), (keys, bitsPerKey) => {
      const builder = new BloomBuilder(bitsPerKey);
      for (const key of keys) builder.add(key);
      const filter = builder.finish();
      for (const key of keys) assert.ok(bloomMayContain(filter, hashForFilter(key)), `key ${Buffer.from(key).toString('hex')}`);
    }),
    propertyParameters(200, 3000),
  );
});

test('filterHash of a slice equals the hash of the same bytes on their own', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(16), fc.nat(16), (key, before, after) => {
      const padded = Buffer.concat([Buffer.alloc(before, 7), key, Buffer.alloc(after, 9)]);
      assert.is(filterHash(padded, before, before + key.length), hashForFilter(key));
    }),
    propertyParameters(300, 3000),
  );
});

test('10 bits a key give about 1% false positives', () => {
  const prng = new Prng(7);
  const builder = new BloomBuilder(10);
  const present = new Set<string>();
  for (let i = 0; i < 20_000; i++) {
    const key = String(prng.int(1e12)).padStart(16, '0');
    present.add(key);
    builder.add(Buffer.from(key));
  }
  const filter = builder.finish();
  let falsePositives = 0;
  let probes = 0;
  for (let i = 0; i < 50_000; i++) {
    const key = `${String(prng.int(1e12)).padStart(15, '0')}.`;
    if (present.has(key)) continue;
    probes++;
    if (bloomMayContain(filter, hashForFilter(Buffer.from(key)))) falsePositives++;
  }
  const rate = falsePositives / probes;
  assert.ok(rate < 0.02, `false-positive rate ${rate}`);
});

test('a table of format version 1 (xxh64 filter) reads back every entry, and misses what it lacks', async () => {
  // The fixture: key000 … key199 at sequences 1 … 200; every seventh (i % 7 === 3) a deletion;
  // the value of key i is `value-i`.
  const vfs = new MemVfs();
  await vfs.mkdir('/t', { recursive: true });
  await vfs.writeFile('/t/000001.sst', readFileSync(joinPath(import.meta.dirname, '..', '..', 'testdata', 'format_v1.sst')));
  const table = await TableReader.open(vfs, '/t/000001.sst', new BlockCache(1 << 20));
  try {
    assert.ok(table.hasFilter);
    for (let i = 0; i < 200; i++) {
      const key = Buffer.from(`key${String(i).padStart(3, '0')}`);
      assert.ok(table.mayContain(key), `filter of key ${i}`);
      const result = table.get(key, makeInternalKey(key, MAX_SEQUENCE, KIND_PUT));
      assert.ok(result.found, `key ${i} found`);
      if (!result.found) continue;
      assert.is(result.deleted, i % 7 === 3, `key ${i} deleted`);
      if (!result.deleted) assert.is(result.value.toString(), `value-${i}`);
    }
    let falsePositives = 0;
    for (let i = 0; i < 1000; i++) {
      const key = Buffer.from(`nokey${i}`);
      if (table.mayContain(key)) falsePositives++;
      assert.not.ok(table.get(key, makeInternalKey(key, MAX_SEQUENCE, KIND_PUT)).found);
    }
    assert.ok(falsePositives < 50, `${falsePositives} false positives of 1000`);
    const iterator = table.iterator();
    let i = 0;
    for (iterator.seekToFirst(); iterator.valid(); iterator.next(), i++) {
      assert.is(userKeyOf(iterator.key()).toString(), `key${String(i).padStart(3, '0')}`);
      assert.is(sequenceOf(iterator.key()), i + 1);
    }
    assert.is(i, 200);
  } finally {
    await table.close();
  }
});

test('a table written now carries format version 2 and reads back through its blocked filter', async () => {
  const vfs = new MemVfs();
  const file = await vfs.open('/t.sst', { create: true });
  const builder = new TableBuilder(file, { blockSizeBytes: 256, restartInterval: 4, bloomBitsPerKey: 10 });
  for (let i = 0; i < 500; i++) {
    const key = Buffer.from(`k${String(i).padStart(4, '0')}`);
    builder.add(makeInternalKey(key, i + 1, i % 5 === 0 ? KIND_DELETE : KIND_PUT), Buffer.from(`v${i}`));
  }
  await builder.finish();
  await file.close();
  const bytes = await vfs.readFile('/t.sst');
  assert.is(bytes.readUInt32LE(bytes.length - 64 + 36), 2, 'footer version');
  const table = await TableReader.open(vfs, '/t.sst', new BlockCache(1 << 20));
  for (let i = 0; i < 500; i++) {
    const key = Buffer.from(`k${String(i).padStart(4, '0')}`);
    assert.ok(table.mayContain(key));
    const result = table.get(key, makeInternalKey(key, MAX_SEQUENCE, KIND_PUT));
    assert.ok(result.found && result.deleted === (i % 5 === 0));
  }
  await table.close();
});

test.run();
