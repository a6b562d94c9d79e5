/**
 * Write groups (write_group.ts): writes made in one turn share one log record and one promise,
 * and their bytes are the memtable's. Checked here:
 * - many writes of one turn resolve together, in one log record, and read back;
 * - entries larger than an arena chunk, and groups past the size limit, come out whole;
 * - a log written before write groups (version-1 records of WriteBatch.encode) still recovers;
 * - a group record whose entries do not carry the record's sequences is CORRUPTION on recovery;
 * - a failed log write rejects every write of the group and leaves none visible.
 * (db_model.test.ts runs put/del/batches against a model through crashes.)
 */
import { FaultVfs, MemVfs, PetrelError, initChecksum, joinPath } from '@petrel/base';
import { Wal } from '@petrel/wal';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db } from './db.js';
import { KIND_PUT } from './format/internal_key.js';
import { BlockCache } from './sstable/block_cache.js';
import { WriteBatch } from './write_batch.js';
import { encodeEntry, entryBytes, GROUP_VERSION } from './write_group.js';

const b = (text: string) => Buffer.from(text);

test.before(async () => {
  await initChecksum();
});

async function walRecords(vfs: MemVfs): Promise<{ index: number; data: Buffer }[]> {
  const wal = await Wal.open({ vfs, dir: '/db/wal' });
  const records: { index: number; data: Buffer }[] = [];
  for await (const record of wal.readFrom(0)) records.push({ index: record.index, data: Buffer.from(record.data) });
  await wal.close();
  return records;
}

test('writes made in one turn go out as one log record and resolve together', async () => {
  const vfs = new MemVfs();
  const db = await Db.open('/db', { vfs, blockCache: new BlockCache(1 << 20) });
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 100; i++) {
    if (i % 10 === 3) writes.push(db.del(b(`k${i - 1}`)));
    else if (i % 10 === 7) writes.push(db.write(new WriteBatch().put(b(`k${i}`), b(`batch${i}`)).put(b(`extra${i}`), b('e'))));
    else writes.push(db.put(b(`k${i}`), b(`v${i}`)));
  }
  assert.is(db.get(b('k0')), undefined, 'nothing is visible before the log has it');
  await Promise.all(writes);
  assert.is(db.get(b('k0'))?.toString(), 'v0');
  assert.is(db.get(b('k2')), undefined, 'deleted in the same group, after its put');
  assert.is(db.get(b('k7'))?.toString(), 'batch7');
  assert.is(db.get(b('extra97'))?.toString(), 'e');
  assert.is(db.sequence, 110);
  await db.close();
  const records = await walRecords(vfs);
  assert.is(records.length, 1, 'one record for the whole turn');
  assert.is(records[0]!.index, 1);
  assert.is(records[0]!.data[0], GROUP_VERSION);
  const reopened = await Db.open('/db', { vfs, blockCache: new BlockCache(1 << 20) });
  assert.is(reopened.get(b('k99'))?.toString(), 'v99');
  assert.is(reopened.get(b('k2')), undefined);
  assert.is(reopened.sequence, 110);
  await reopened.close();
});

test('entries larger than an arena chunk and groups past the size limit come out whole', async () => {
  const vfs = new MemVfs();
  // A 600-byte memtable makes 4 KiB arena chunks.
  const open = () => Db.open('/db', { vfs, memtableSizeBytes: 600, blockCache: new BlockCache(1 << 20) });
  const db = await open();
  const big = Buffer.alloc(300_000, 7);
  const writes: Promise<void>[] = [];
  for (let i = 0; i < 5; i++) writes.push(db.put(b(`big${i}`), big));
  // Well past the 256 KiB group limit, in one turn.
  for (let i = 0; i < 3000; i++) writes.push(db.put(b(`small${String(i).padStart(4, '0')}`), Buffer.alloc(100, i & 0xff)));
  const batch = new WriteBatch();
  for (let i = 0; i < 50; i++) batch.put(b(`batched${i}`), Buffer.alloc(1000, i));
  writes.push(db.write(batch));
  await Promise.all(writes);
  const check = (database: Db) => {
    for (let i = 0; i < 5; i++) assert.ok(database.get(b(`big${i}`))?.equals(big), `big${i}`);
    for (let i = 0; i < 3000; i += 97) assert.ok(database.get(b(`small${String(i).padStart(4, '0')}`))?.equals(Buffer.alloc(100, i & 0xff)), `small${i}`);
    for (let i = 0; i < 50; i++) assert.ok(database.get(b(`batched${i}`))?.equals(Buffer.alloc(1000, i)), `batched${i}`);
  };
  check(db);
  await db.close();
  const records = await walRecords(vfs);
  assert.ok(records.length > 1, 'the turn was cut into several groups');
  const reopened = await open();
  check(reopened);
  await reopened.flush();
  check(reopened);
  await reopened.close();
});

test('a log of version-1 records (before write groups) recovers', async () => {
  const vfs = new MemVfs();
  const db = await Db.open('/db', { vfs });
  await db.close();
  // What the engine wrote before write groups: one WriteBatch.encode() record per write.
  const wal = await Wal.open({ vfs, dir: '/db/wal' });
  await wal.append({ index: 1, data: new WriteBatch().put(b('a'), b('1')).put(b('b'), b('2')).encode() });
  await wal.append({ index: 3, data: new WriteBatch().del(b('a')).put(b('c'), b('3')).encode() });
  await wal.close();
  const reopened = await Db.open('/db', { vfs });
  assert.is(reopened.get(b('a')), undefined);
  assert.is(reopened.get(b('b'))?.toString(), '2');
  assert.is(reopened.get(b('c'))?.toString(), '3');
  assert.is(reopened.sequence, 4);
  await reopened.put(b('d'), b('4'));
  await reopened.close();
  const again = await Db.open('/db', { vfs });
  assert.is(again.get(b('d'))?.toString(), '4');
  assert.is(again.sequence, 5);
  await again.close();
});

test('a group record whose entries do not carry its sequences is CORRUPTION on recovery', async () => {
  const vfs = new MemVfs();
  const db = await Db.open('/db', { vfs });
  await db.close();
  // Entries with sequences 7 and 8 in a record whose index says 1.
  const data = Buffer.alloc(1 + entryBytes(1, 1) * 2);
  data[0] = GROUP_VERSION;
  let at = encodeEntry(data, 1, KIND_PUT, b('a'), b('1'), 7);
  at = encodeEntry(data, at, KIND_PUT, b('b'), b('2'), 8);
  const wal = await Wal.open({ vfs, dir: '/db/wal' });
  await wal.append({ index: 1, data: data.subarray(0, at) });
  await wal.close();
  try {
    await Db.open('/db', { vfs });
    assert.unreachable('opened a log with wrong sequences');
  } catch (error) {
    assert.instance(error, PetrelError);
    assert.is((error as PetrelError).code, 'CORRUPTION');
    assert.match((error as PetrelError).message, /does not carry sequence 1/);
  }
});

test('a batch keeps its writes encoded; asking for its entries turns it into objects, and both write the same', async () => {
  const batch = new WriteBatch().put(b('a'), b('1')).del(b('b')).put(b('c'), Buffer.alloc(300, 3));
  assert.is(batch.count, 3);
  assert.ok(batch.encodedEntries() !== undefined);
  const copy = WriteBatch.decode(batch.encode(), 'test');
  assert.equal(
    batch.entries.map((entry) => [entry.kind, entry.key.toString(), entry.value.length]),
    [
      [KIND_PUT, 'a', 1],
      [0, 'b', 0],
      [KIND_PUT, 'c', 300],
    ],
  );
  assert.is(batch.encodedEntries(), undefined, 'objects from now on');
  batch.put(b('d'), b('4'));
  assert.is(batch.count, 4);
  const vfs = new MemVfs();
  const db = await Db.open('/db', { vfs });
  await db.put(b('b'), b('old'));
  await Promise.all([db.write(batch), db.write(copy.put(b('e'), b('5')))]);
  for (const [key, value] of [['a', '1'], ['b', undefined], ['c', Buffer.alloc(300, 3).toString()], ['d', '4'], ['e', '5']] as const) {
    assert.is(db.get(b(key))?.toString(), value, key);
  }
  assert.is(db.sequence, 1 + 4 + 4);
  await db.close();
  const reopened = await Db.open('/db', { vfs });
  assert.is(reopened.get(b('d'))?.toString(), '4');
  assert.is(reopened.get(b('b')), undefined);
  await reopened.close();
});

test('a failed log write rejects every write of its group and makes none visible', async () => {
  const vfs = new FaultVfs(new MemVfs());
  const db = await Db.open('/db', { vfs });
  await db.put(b('before'), b('x'));
  vfs.inject({ op: '*', path: joinPath('/db', 'wal'), times: Infinity });
  const outcomes = await Promise.allSettled([db.put(b('k1'), b('1')), db.del(b('before')), db.write(new WriteBatch().put(b('k2'), b('2')))]);
  for (const outcome of outcomes) assert.is(outcome.status, 'rejected');
  assert.is(db.get(b('k1')), undefined);
  assert.is(db.get(b('k2')), undefined);
  assert.is(db.get(b('before'))?.toString(), 'x');
  await db.close().catch(() => undefined);
});

test.run();
