/**
 * TableScan (compaction's reader): over a run of tables it yields exactly their entries, in order,
 * whatever the block size, restart interval and read window (smaller than a block, a few blocks,
 * whole tables); over an ingested table every
 * key carries the table's global sequence; a damaged block is CORRUPTION naming the table.
 */
import { MemVfs, PetrelError, Prng, initChecksum, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareInternalKeys, KIND_DELETE, KIND_PUT, makeInternalKey, sequenceOf } from '../format/internal_key.js';
import { BlockCache } from '../sstable/block_cache.js';
import { TableBuilder } from '../sstable/table_builder.js';
import { TableReader } from '../sstable/table_reader.js';
import { TableScan } from './table_scan.js';

interface Entry {
  key: Buffer;
  value: Buffer;
}

function makeEntries(seed: number, count: number): Entry[] {
  const prng = new Prng(seed);
  const entries: Entry[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < count; i++) {
    const user = Buffer.from(`${'p'.repeat(prng.int(30))}${prng.int(500)}`);
    const key = makeInternalKey(user, 1 + prng.int(1000), prng.chance(0.2) ? KIND_DELETE : KIND_PUT);
    if (seen.has(key.toString('hex'))) continue;
    seen.add(key.toString('hex'));
    entries.push({ key, value: prng.bytes(prng.int(300)) });
  }
  return entries.sort((a, b) => compareInternalKeys(a.key, b.key));
}

async function build(vfs: MemVfs, path: string, entries: Entry[], blockSizeBytes: number, restartInterval: number): Promise<TableReader> {
  const file = await vfs.open(path, { create: true });
  const builder = new TableBuilder(file, { blockSizeBytes, restartInterval, bloomBitsPerKey: 10 });
  for (const entry of entries) builder.add(entry.key, entry.value);
  await builder.finish();
  await file.close();
  return TableReader.open(vfs, path, new BlockCache(0));
}

function drain(scan: TableScan): Entry[] {
  const out: Entry[] = [];
  for (scan.start(); scan.valid; scan.next()) {
    out.push({ key: Buffer.from(scan.key.subarray(0, scan.keyLength)), value: Buffer.from(scan.valueSource.subarray(scan.valueStart, scan.valueStart + scan.valueLength)) });
  }
  return out;
}

test.before(async () => {
  await initChecksum();
});

test('a scan over a run of tables yields exactly their entries, in order', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 400 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(64, 256, 4096), fc.integer({ min: 1, max: 16 }), fc.constantFrom(1, 700, 1 << 20), async (seed, count, parts, blockSize, restartInterval, windowBytes) => {
      const entries = makeEntries(seed, count);
      // Cut into `parts` tables between different user keys, so that their ranges are disjoint.
      const vfs = new MemVfs();
      const tables: TableReader[] = [];
      let start = 0;
      for (let part = 0; part < parts && start < entries.length; part++) {
        let end = part === parts - 1 ? entries.length : Math.min(entries.length, start + Math.ceil(entries.length / parts));
        while (end < entries.length && end > start && entries[end]!.key.subarray(0, -8).equals(entries[end - 1]!.key.subarray(0, -8))) end++;
        tables.push(await build(vfs, `/t${part}.sst`, entries.slice(start, end), blockSize, restartInterval));
        start = end;
      }
      const scanned = drain(new TableScan(tables, windowBytes));
      assert.is(scanned.length, entries.length);
      scanned.forEach((entry, i) => {
        assert.ok(entry.key.equals(entries[i]!.key), `key ${i}`);
        assert.ok(entry.value.equals(entries[i]!.value), `value ${i}`);
      });
      for (const table of tables) await table.close();
    }),
    propertyParameters(150, 2000),
  );
});

test('over an ingested table every key carries the global sequence', async () => {
  const vfs = new MemVfs();
  const entries = makeEntries(3, 200).map((entry) => ({ key: makeInternalKey(entry.key.subarray(0, -8), 0, KIND_PUT), value: entry.value }));
  const unique = entries.filter((entry, i) => i === 0 || !entry.key.equals(entries[i - 1]!.key));
  const file = await vfs.open('/i.sst', { create: true });
  const builder = new TableBuilder(file, { blockSizeBytes: 256, restartInterval: 4, bloomBitsPerKey: 10 });
  for (const entry of unique) builder.add(entry.key, entry.value);
  await builder.finish();
  await file.close();
  const table = await TableReader.open(vfs, '/i.sst', new BlockCache(0), undefined, 4242);
  const scanned = drain(new TableScan([table]));
  assert.is(scanned.length, unique.length);
  for (const entry of scanned) assert.is(sequenceOf(entry.key), 4242);
  await table.close();
});

test('a damaged data block is CORRUPTION naming the table', async () => {
  const vfs = new MemVfs();
  const table = await build(vfs, '/t.sst', makeEntries(4, 300), 256, 16);
  await table.close();
  const bytes = await vfs.readFile('/t.sst');
  bytes[100] = (bytes[100] as number) ^ 0x10;
  await vfs.writeFile('/t.sst', bytes);
  const damaged = await TableReader.open(vfs, '/t.sst', new BlockCache(0));
  try {
    drain(new TableScan([damaged]));
    assert.unreachable('read a damaged block');
  } catch (error) {
    assert.instance(error, PetrelError);
    assert.is((error as PetrelError).code, 'CORRUPTION');
    assert.is((error as PetrelError).path, '/t.sst');
  } finally {
    await damaged.close();
  }
});

test.run();
