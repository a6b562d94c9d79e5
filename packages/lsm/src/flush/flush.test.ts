/**
 * Flushes: the table built from a memtable holds exactly the memtable's entries, in order (inline
 * on MemVfs, and in a worker thread reading the memtable's shared memory on the real file system);
 * a database whose flushes run in a worker reads back everything, before and after reopening; a
 * job that fails in the worker rejects with the worker's error.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { MemVfs, PetrelError, Prng, initChecksum, joinPath, nodeVfs } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CompactionPool } from '../compaction/pool.js';
import { Db } from '../db.js';
import { KIND_DELETE, KIND_PUT } from '../format/internal_key.js';
import { Memtable } from '../memtable/memtable.js';
import { BlockCache } from '../sstable/block_cache.js';
import { DEFAULT_TABLE_OPTIONS } from '../sstable/table_builder.js';
import { TableReader } from '../sstable/table_reader.js';
import { buildTableFromMemtable } from './flush.js';

test.before(async () => {
  await initChecksum();
});

function fill(memtable: Memtable, seed: number, count: number): void {
  const prng = new Prng(seed);
  for (let i = 1; i <= count; i++) {
    const key = Buffer.from(`key-${prng.int(count)}`);
    memtable.add(i, prng.chance(0.1) ? KIND_DELETE : KIND_PUT, key, prng.bytes(prng.int(200)));
  }
  memtable.markImmutable();
}

async function sameEntries(memtable: Memtable, table: TableReader): Promise<void> {
  const left = memtable.iterator();
  const right = table.iterator();
  let count = 0;
  for (left.seekToFirst(), right.seekToFirst(); left.valid(); left.next(), right.next(), count++) {
    assert.ok(right.valid(), `the table ends early, at entry ${count}`);
    assert.ok(left.key().equals(right.key()), `key ${count}`);
    assert.ok(left.value().equals(right.value()), `value ${count}`);
  }
  assert.not.ok(right.valid(), 'the table holds more than the memtable');
  assert.is(table.properties.entries, count);
}

test('a table built inline from a memtable holds exactly its entries, in order', async () => {
  for (const seed of [1, 2, 3]) {
    const memtable = new Memtable(1 << 16);
    fill(memtable, seed, 3000);
    const vfs = new MemVfs();
    const file = await vfs.open('/t.sst', { create: true });
    let pauses = 0;
    await buildTableFromMemtable(memtable, file, { ...DEFAULT_TABLE_OPTIONS, blockSizeBytes: 512 }, () => {
      pauses++;
      return pauses % 2 === 0 ? Promise.resolve() : undefined;
    });
    await file.close();
    assert.ok(pauses > 0, 'the build offered to yield');
    const table = await TableReader.open(vfs, '/t.sst', new BlockCache(1 << 20));
    await sameEntries(memtable, table);
    await table.close();
  }
});

test('a worker builds the same table from the memtable\'s shared memory', async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'petrel-flush-'));
  const pool = new CompactionPool(1);
  try {
    const memtable = new Memtable(1 << 16);
    fill(memtable, 9, 5000);
    const path = joinPath(dir, '000001.sst');
    const result = await pool.flush({ path, memtable: memtable.shared(), tableOptions: DEFAULT_TABLE_OPTIONS });
    assert.ok(Buffer.isBuffer(result.properties.smallestKey) && Buffer.isBuffer(result.properties.largestKey));
    const table = await TableReader.open(nodeVfs, path, new BlockCache(1 << 20));
    assert.is(table.fileSize, result.fileSize);
    await sameEntries(memtable, table);
    await table.close();
    // A job that cannot create its file fails in the worker; the error comes back as it was.
    try {
      await pool.flush({ path, memtable: memtable.shared(), tableOptions: DEFAULT_TABLE_OPTIONS });
      assert.unreachable('created a table over an existing one');
    } catch (error) {
      assert.instance(error, PetrelError);
      assert.is((error as PetrelError).code, 'ALREADY_EXISTS');
    }
  } finally {
    await pool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a database whose flushes run in a worker reads back everything, before and after reopening', async () => {
  const dir = mkdtempSync(joinPath(tmpdir(), 'petrel-flush-db-'));
  const flushPool = new CompactionPool(1);
  const compactionPool = new CompactionPool(1);
  const options = { vfs: nodeVfs, durability: 'os' as const, memtableSizeBytes: 64 * 1024, flushPool, compactionPool, blockCache: new BlockCache(1 << 22) };
  try {
    // Booted first, so that every flush goes to the worker (a flush before that is built inline).
    await flushPool.whenReady();
    const db = await Db.open(dir, options);
    const prng = new Prng(5);
    const model = new Map<string, string>();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 6000; i++) {
      const key = `k${prng.int(2000)}`;
      if (prng.chance(0.1)) {
        model.delete(key);
        writes.push(db.del(Buffer.from(key)));
      } else {
        const value = `v${i}-${'x'.repeat(prng.int(60))}`;
        model.set(key, value);
        writes.push(db.put(Buffer.from(key), Buffer.from(value)));
      }
      if (i % 64 === 63) await Promise.all(writes.splice(0));
    }
    await Promise.all(writes);
    const check = (database: Db) => {
      for (let k = 0; k < 2000; k++) assert.is(database.get(Buffer.from(`k${k}`))?.toString(), model.get(`k${k}`), `k${k}`);
    };
    check(db);
    await db.flush();
    assert.ok(db.stats().flushes >= 3, `${db.stats().flushes} flushes`);
    check(db);
    await db.close();
    const reopened = await Db.open(dir, options);
    check(reopened);
    await reopened.close();
  } finally {
    await flushPool.close();
    await compactionPool.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
