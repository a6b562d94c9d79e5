/**
 * The iterator contract (iterator.ts), checked the same way on every layer: the memtable's, the
 * table's (with blocks of several sizes), and the merging iterator over a mix of both. Each is
 * driven by random positioning and movement and compared step by step with a sorted array.
 */
import { MemVfs, Prng, initChecksum } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareInternalKeys, KIND_DELETE, KIND_PUT, kindOf, makeInternalKey, sequenceOf, userKeyOf } from '../format/internal_key.js';
import { Memtable } from '../memtable/memtable.js';
import { BlockCache } from '../sstable/block_cache.js';
import { TableBuilder } from '../sstable/table_builder.js';
import { TableReader } from '../sstable/table_reader.js';
import type { InternalIterator } from './iterator.js';
import { MergingIterator } from './merging_iterator.js';

interface Entry {
  key: Buffer;
  value: Buffer;
}

/** The reference: a sorted array and an index into it. */
class ArrayIterator {
  private index = -1;
  constructor(private readonly entries: Entry[]) {}
  valid() {
    return this.index >= 0 && this.index < this.entries.length;
  }
  seekToFirst() {
    this.index = 0;
  }
  seekToLast() {
    this.index = this.entries.length - 1;
  }
  seek(target: Buffer) {
    this.index = this.entries.findIndex((e) => compareInternalKeys(e.key, target) >= 0);
    if (this.index < 0) this.index = this.entries.length;
  }
  seekForPrev(target: Buffer) {
    let i = this.entries.length - 1;
    while (i >= 0 && compareInternalKeys(this.entries[i]!.key, target) > 0) i--;
    this.index = i;
  }
  next() {
    this.index++;
  }
  prev() {
    this.index--;
  }
  key() {
    return this.entries[this.index]!.key;
  }
  value() {
    return this.entries[this.index]!.value;
  }
}

type Move = { op: 'seekToFirst' | 'seekToLast' | 'next' | 'prev' } | { op: 'seek' | 'seekForPrev'; key: number; sequence: number };

const moveArb: fc.Arbitrary<Move> = fc.oneof(
  fc.record({ op: fc.constantFrom('seekToFirst' as const, 'seekToLast' as const, 'next' as const, 'prev' as const) }),
  fc.record({ op: fc.constantFrom('seek' as const, 'seekForPrev' as const), key: fc.integer({ min: 0, max: 60 }), sequence: fc.integer({ min: 0, max: 400 }) }),
);

function userKey(n: number): Buffer {
  return Buffer.from(`k${String(n).padStart(3, '0')}`);
}

/** Distinct entries: random user keys, each with one or more versions. */
function makeEntries(seed: number, count: number): Entry[] {
  const prng = new Prng(seed);
  const entries: Entry[] = [];
  const seen = new Set<string>();
  let sequence = 1;
  for (let i = 0; i < count; i++) {
    const key = makeInternalKey(userKey(prng.int(60)), sequence++, prng.chance(0.2) ? KIND_DELETE : KIND_PUT);
    const id = key.toString('hex');
    if (seen.has(id)) continue;
    seen.add(id);
    entries.push({ key, value: prng.bytes(prng.int(40)) });
  }
  return entries.sort((a, b) => compareInternalKeys(a.key, b.key));
}

function checkAgainstModel(iterator: InternalIterator, entries: Entry[], moves: Move[], label: string): void {
  const model = new ArrayIterator(entries);
  for (const move of moves) {
    if ((move.op === 'next' || move.op === 'prev') && !model.valid()) continue;
    switch (move.op) {
      case 'seek':
      case 'seekForPrev': {
        const target = makeInternalKey(userKey(move.key), move.sequence, KIND_PUT);
        iterator[move.op](target);
        model[move.op](target);
        break;
      }
      default:
        iterator[move.op]();
        model[move.op]();
    }
    assert.is(iterator.valid(), model.valid(), `${label}: valid() after ${move.op}`);
    if (model.valid()) {
      assert.ok(iterator.key().equals(model.key()), `${label}: key after ${move.op}`);
      assert.ok(iterator.value().equals(model.value()), `${label}: value after ${move.op}`);
    }
  }
  iterator.close();
  iterator.close();
}

async function buildTable(vfs: MemVfs, path: string, entries: Entry[], blockSizeBytes: number): Promise<TableReader> {
  const file = await vfs.open(path, { create: true });
  const builder = new TableBuilder(file, { blockSizeBytes, restartInterval: 4, bloomBitsPerKey: 10 });
  for (const entry of entries) builder.add(entry.key, entry.value);
  await builder.finish();
  await file.close();
  return TableReader.open(vfs, path, new BlockCache(1 << 20));
}

test.before(async () => {
  await initChecksum();
});

test('memtable iterator honours the contract', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 150 }), fc.array(moveArb, { maxLength: 60 }), (seed, count, moves) => {
      const entries = makeEntries(seed, count);
      const memtable = new Memtable();
      for (const entry of [...entries].reverse()) memtable.add(sequenceOf(entry.key), kindOf(entry.key), userKeyOf(entry.key), entry.value);
      checkAgainstModel(memtable.iterator(), entries, moves, 'memtable');
    }),
    { numRuns: 200 },
  );
});

test('table iterator honours the contract, with 64-byte, 256-byte and 4 KiB blocks', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 150 }), fc.constantFrom(64, 256, 4096), fc.array(moveArb, { maxLength: 60 }), async (seed, count, blockSize, moves) => {
      const entries = makeEntries(seed, count);
      if (entries.length === 0) return;
      const vfs = new MemVfs();
      const table = await buildTable(vfs, '/t.sst', entries, blockSize);
      checkAgainstModel(table.iterator(), entries, moves, `table(${blockSize})`);
      await table.close();
    }),
    { numRuns: 200 },
  );
});

test('merging iterator over memtables and tables honours the contract', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 150 }), fc.integer({ min: 1, max: 4 }), fc.array(moveArb, { maxLength: 60 }), async (seed, count, parts, moves) => {
      const entries = makeEntries(seed, count);
      const prng = new Prng(seed + 1);
      const groups: Entry[][] = Array.from({ length: parts }, () => []);
      for (const entry of entries) groups[prng.int(parts)]!.push(entry);
      const vfs = new MemVfs();
      const children: InternalIterator[] = [];
      const tables: TableReader[] = [];
      for (let i = 0; i < groups.length; i++) {
        const group = groups[i]!;
        if (i % 2 === 0 || group.length === 0) {
          const memtable = new Memtable();
          for (const entry of group) memtable.add(sequenceOf(entry.key), kindOf(entry.key), userKeyOf(entry.key), entry.value);
          children.push(memtable.iterator());
        } else {
          const table = await buildTable(vfs, `/t${i}.sst`, group, 128);
          tables.push(table);
          children.push(table.iterator());
        }
      }
      checkAgainstModel(new MergingIterator(children), entries, moves, 'merging');
      for (const table of tables) await table.close();
    }),
    { numRuns: 200 },
  );
});

test.run();
