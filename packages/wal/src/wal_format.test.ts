/**
 * The catalogue of named edge cases for the log's framing and recovery, one test each.
 */
import { tmpdir } from 'node:os';
import { FaultVfs, MemVfs, PetrelError, type Vfs, initChecksum, joinPath, nodeVfs } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RECORD_HEADER_BYTES, SEGMENT_HEADER_BYTES, encodeSegmentHeader, segmentName } from './format.js';
import { readAll } from './test_support.js';
import { Wal, type WalOptions } from './wal.js';

const DIR = '/log';

function record(index: number, size = 10, fill = index & 0xff) {
  return { index, data: Buffer.alloc(size, fill) };
}


async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (!(error instanceof PetrelError)) throw error;
    return error.code;
  }
}

async function errorOf(promise: Promise<unknown>): Promise<PetrelError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PetrelError) return error;
    throw error;
  }
  throw new Error('expected an error');
}

function open(vfs: Vfs, options: Partial<WalOptions> = {}): Promise<Wal> {
  return Wal.open({ vfs, dir: DIR, ...options });
}

async function segments(vfs: Vfs): Promise<string[]> {
  return (await vfs.readdir(DIR)).filter((name) => name.endsWith('.wal'));
}

/** Overwrites bytes of a file in place. */
async function patch(vfs: Vfs, path: string, offset: number, bytes: Uint8Array): Promise<void> {
  const file = await vfs.open(path);
  await file.write(bytes, offset);
  await file.sync();
  await file.close();
}

test.before(async () => {
  await initChecksum();
});

test('an empty record is stored and read back as empty', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs);
  await wal.append([{ index: 1, data: new Uint8Array(0) }, record(2)]);
  await wal.close();
  const reopened = await open(vfs);
  const records = await readAll(reopened);
  assert.equal(records.map((r) => [r.index, r.data.length]), [[1, 0], [2, 10]]);
  await reopened.close();
});

test('a record exactly filling a segment stays in it; the next starts a new segment', async () => {
  const vfs = new MemVfs();
  const payload = 100;
  const segmentSizeBytes = SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + payload;
  const wal = await open(vfs, { segmentSizeBytes, preallocate: false });
  await wal.append(record(1, payload));
  assert.equal(await segments(vfs), [segmentName(1)]);
  assert.is((await vfs.stat(joinPath(DIR, segmentName(1)))).size, segmentSizeBytes);
  await wal.append(record(2, 1));
  assert.equal(await segments(vfs), [segmentName(1), segmentName(2)]);
  await wal.close();
  const reopened = await open(vfs, { segmentSizeBytes });
  assert.equal((await readAll(reopened)).map((r) => r.index), [1, 2]);
  await reopened.close();
});

test('a record larger than a segment goes alone into its own segment', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { segmentSizeBytes: 256 });
  await wal.append([record(1, 10), record(2, 1000), record(3, 10)]);
  await wal.close();
  assert.equal(await segments(vfs), [segmentName(1), segmentName(2), segmentName(3)]);
  const reopened = await open(vfs, { segmentSizeBytes: 256 });
  const records = await readAll(reopened);
  assert.equal(records.map((r) => [r.index, r.data.length]), [[1, 10], [2, 1000], [3, 10]]);
  await reopened.close();
});

test('records spanning many segments read back in order, from any index, with gaps', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { segmentSizeBytes: 300 });
  const indexes: number[] = [];
  for (let i = 1; i <= 60; i++) indexes.push(i * 3);
  for (const index of indexes) await wal.append(record(index, (index * 7) % 50));
  assert.ok((await segments(vfs)).length > 5);
  assert.equal((await readAll(wal)).map((r) => r.index), indexes);
  assert.equal((await readAll(wal, 100)).map((r) => r.index), indexes.filter((i) => i >= 100));
  assert.equal((await readAll(wal, 101)).map((r) => r.index), indexes.filter((i) => i >= 101));
  assert.is(wal.firstIndex, 3);
  assert.is(wal.lastIndex, 180);
  await wal.close();
  const reopened = await open(vfs, { segmentSizeBytes: 300 });
  assert.equal((await readAll(reopened)).map((r) => r.index), indexes);
  await reopened.close();
});

async function threeRecordLog(vfs: MemVfs, preallocate = false): Promise<string> {
  const wal = await open(vfs, { preallocate });
  for (let i = 1; i <= 3; i++) await wal.append(record(i, 20));
  await wal.close();
  return joinPath(DIR, segmentName(1));
}

const recordOffset = (i: number) => SEGMENT_HEADER_BYTES + (i - 1) * (RECORD_HEADER_BYTES + 20);

test('a torn record header at the tail is cut off; earlier records survive', async () => {
  const vfs = new MemVfs();
  const path = await threeRecordLog(vfs);
  const file = await vfs.open(path);
  await file.truncate(recordOffset(3) + 5);
  await file.sync();
  await file.close();
  const wal = await open(vfs);
  assert.equal((await readAll(wal)).map((r) => r.index), [1, 2]);
  assert.is(wal.lastIndex, 2);
  assert.is(wal.stats().recoveredTornBytes, 5);
  await wal.append(record(3, 20));
  await wal.close();
  assert.equal((await readAll(await open(vfs))).map((r) => r.index), [1, 2, 3]);
});

test('a torn record payload at the tail is cut off', async () => {
  const vfs = new MemVfs();
  const path = await threeRecordLog(vfs);
  const file = await vfs.open(path);
  await file.truncate(recordOffset(3) + RECORD_HEADER_BYTES + 7);
  await file.sync();
  await file.close();
  const wal = await open(vfs);
  assert.equal((await readAll(wal)).map((r) => r.index), [1, 2]);
  await wal.close();
});

test('a bad checksum in the tail segment cuts the log there', async () => {
  const vfs = new MemVfs();
  const path = await threeRecordLog(vfs);
  await patch(vfs, path, recordOffset(2) + RECORD_HEADER_BYTES + 3, Buffer.from([0xee]));
  const wal = await open(vfs);
  assert.equal((await readAll(wal)).map((r) => r.index), [1]);
  await wal.close();
});

test('a bad checksum in an earlier segment is CORRUPTION naming the segment and offset', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { segmentSizeBytes: 100 });
  for (let i = 1; i <= 6; i++) await wal.append(record(i, 20));
  await wal.close();
  const names = await segments(vfs);
  assert.ok(names.length >= 3);
  const middle = joinPath(DIR, names[1] as string);
  await patch(vfs, middle, SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES + 1, Buffer.from([0x00]));
  const error = await errorOf(open(vfs, { segmentSizeBytes: 100 }));
  assert.is(error.code, 'CORRUPTION');
  assert.is(error.path, middle);
  assert.is(error.offset, SEGMENT_HEADER_BYTES);
  assert.match(error.message, /checksum mismatch/);
  // Nothing was changed by the failed open: the file still holds all its bytes.
  assert.ok((await vfs.stat(middle)).size > SEGMENT_HEADER_BYTES + RECORD_HEADER_BYTES);
});

test('a zero-filled tail (preallocated space) ends the log cleanly and is kept', async () => {
  const vfs = new MemVfs();
  const path = await threeRecordLog(vfs, true);
  const size = (await vfs.stat(path)).size;
  assert.ok(size > recordOffset(4), 'the segment was preallocated');
  const wal = await open(vfs, { preallocate: true });
  assert.equal((await readAll(wal)).map((r) => r.index), [1, 2, 3]);
  assert.is(wal.stats().recoveredTornBytes, 0);
  await wal.append(record(4, 20));
  await wal.close();
  assert.is((await vfs.stat(path)).size, size, 'appends reuse the zeros');
  assert.equal((await readAll(await open(vfs))).map((r) => r.index), [1, 2, 3, 4]);
});

test('a segment from a newer format version is UNSUPPORTED_VERSION, and is left alone', async () => {
  const vfs = new MemVfs();
  const path = await threeRecordLog(vfs);
  const header = encodeSegmentHeader(1);
  header.writeUInt32LE(99, 8);
  const { checksum32 } = await import('@petrel/base');
  header.writeUInt32LE(checksum32(header.subarray(0, 28)), 28);
  await patch(vfs, path, 0, header);
  const error = await errorOf(open(vfs));
  assert.is(error.code, 'UNSUPPORTED_VERSION');
  assert.match(error.message, /version 99/);
  assert.ok((await vfs.stat(path)).size > recordOffset(3));
});

test('a file that is not a log is CORRUPTION ("not a Petrel log segment"), not a crash', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir(DIR);
  await vfs.writeFile(joinPath(DIR, segmentName(1)), Buffer.from('{"this is": "a JSON file, not a log"}\n'));
  const error = await errorOf(open(vfs));
  assert.is(error.code, 'CORRUPTION');
  assert.match(error.message, /not a Petrel log segment/);
  assert.is((await vfs.readFile(joinPath(DIR, segmentName(1)))).toString().slice(0, 2), '{"');
});

test('files in the directory that are not named like segments are ignored', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir(DIR);
  await vfs.writeFile(joinPath(DIR, 'README'), Buffer.from('hello'));
  const wal = await open(vfs);
  await wal.append(record(1));
  assert.equal((await readAll(wal)).map((r) => r.index), [1]);
  await wal.close();
});

test('a segment whose creation was cut short (torn header) is removed on open', async () => {
  const vfs = new MemVfs();
  await threeRecordLog(vfs);
  const torn = encodeSegmentHeader(4).subarray(0, 11);
  await vfs.writeFile(joinPath(DIR, segmentName(4)), torn);
  const wal = await open(vfs);
  assert.equal(await segments(vfs), [segmentName(1)]);
  assert.is(wal.lastIndex, 3);
  await wal.close();
});

test('a record over the size limit is refused with INVALID_ARGUMENT and nothing of the call is written', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { maxRecordSizeBytes: 1000 });
  await wal.append(record(1));
  const error = await errorOf(wal.append([record(2), record(3, 1001)]));
  assert.is(error.code, 'INVALID_ARGUMENT');
  assert.match(error.message, /over the limit of 1000/);
  assert.is(wal.lastIndex, 1);
  await wal.append(record(2));
  assert.equal((await readAll(wal)).map((r) => r.index), [1, 2]);
  await wal.close();
});

test('an index that does not increase is refused with INVALID_ARGUMENT', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs);
  await wal.append(record(5));
  assert.is(await codeOf(wal.append(record(5))), 'INVALID_ARGUMENT');
  assert.is(await codeOf(wal.append([record(6), record(6)])), 'INVALID_ARGUMENT');
  assert.is(await codeOf(wal.append(record(0.5))), 'INVALID_ARGUMENT');
  await wal.append(record(6));
  assert.is(wal.lastIndex, 6);
  await wal.close();
});

test('a record length over the limit inside an earlier segment is CORRUPTION', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { segmentSizeBytes: 100 });
  for (let i = 1; i <= 4; i++) await wal.append(record(i, 20));
  await wal.close();
  const first = joinPath(DIR, segmentName(1));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(0x7fffffff);
  await patch(vfs, first, SEGMENT_HEADER_BYTES + 4, length);
  const error = await errorOf(open(vfs, { segmentSizeBytes: 100 }));
  assert.is(error.code, 'CORRUPTION');
  assert.match(error.message, /over the limit/);
});

test('group commit: appends made while an fsync is in flight share the next one', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs);
  await Promise.all(Array.from({ length: 500 }, (_, i) => wal.append(record(i + 1))));
  const stats = wal.stats();
  assert.is(stats.records, 500);
  assert.ok(stats.syncs <= 3, `500 concurrent appends took ${stats.syncs} fsyncs`);
  await wal.close();
});

test('back-pressure: bytes queued never pass maxPendingBytes, and every append completes in order', async () => {
  const vfs = new MemVfs();
  const maxPendingBytes = 4096;
  const wal = await open(vfs, { maxPendingBytes, maxGroupBytes: 1024 });
  let peak = 0;
  const done: number[] = [];
  const appends = Array.from({ length: 200 }, (_, i) => {
    const promise = wal.append(record(i + 1, 100)).then(() => void done.push(i + 1));
    peak = Math.max(peak, wal.stats().pendingBytes);
    return promise;
  });
  const sampler = setInterval(() => (peak = Math.max(peak, wal.stats().pendingBytes)), 0);
  await Promise.all(appends);
  clearInterval(sampler);
  assert.ok(peak <= maxPendingBytes, `peak ${peak}`);
  assert.equal(done, Array.from({ length: 200 }, (_, i) => i + 1));
  assert.equal((await readAll(wal)).length, 200);
  await wal.close();
});

test('an fsync that fails stops the log with IO_ERROR; reopening keeps every acknowledged record', async () => {
  const mem = new MemVfs({ tearWrites: false });
  const vfs = new FaultVfs(mem);
  const wal = await open(vfs);
  await wal.append([record(1), record(2)]);
  vfs.inject({ op: 'sync', path: '.wal' });
  assert.is(await codeOf(wal.append(record(3))), 'IO_ERROR');
  assert.is(await codeOf(wal.append(record(4))), 'IO_ERROR');
  await wal.close();
  mem.crash();
  const reopened = await open(mem);
  const indexes = (await readAll(reopened)).map((r) => r.index);
  assert.equal(indexes.slice(0, 2), [1, 2]);
  await reopened.close();
});

test('a full disk fails the append with NO_SPACE and loses nothing acknowledged', async () => {
  const mem = new MemVfs({ tearWrites: false });
  const vfs = new FaultVfs(mem);
  const wal = await open(vfs, { preallocate: false });
  await wal.append(record(1));
  vfs.setSpaceLimit(10);
  assert.is(await codeOf(wal.append(record(2, 100))), 'NO_SPACE');
  await wal.close();
  vfs.heal();
  const reopened = await open(vfs);
  assert.equal((await readAll(reopened)).map((r) => r.index), [1]);
  await reopened.append(record(2, 100));
  assert.equal((await readAll(reopened)).map((r) => r.index), [1, 2]);
  await reopened.close();
});

test('truncateSuffix drops later records durably, even across a crash, and appends go on', async () => {
  const vfs = new MemVfs({ tearWrites: false });
  const wal = await open(vfs, { segmentSizeBytes: 150 });
  for (let i = 1; i <= 10; i++) await wal.append(record(i, 20));
  await wal.truncateSuffix(4);
  assert.is(wal.lastIndex, 4);
  assert.is(wal.durableIndex, 4);
  assert.equal((await readAll(wal)).map((r) => r.index), [1, 2, 3, 4]);
  await wal.append(record(5, 20, 99));
  vfs.crash();
  const reopened = await open(vfs, { segmentSizeBytes: 150 });
  const records = await readAll(reopened);
  assert.equal(records.map((r) => r.index), [1, 2, 3, 4, 5]);
  assert.is(records[4]?.data[0], 99);
  await reopened.close();
});

test('truncatePrefix deletes only whole segments below the index and never the last one', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { segmentSizeBytes: 100 });
  for (let i = 1; i <= 9; i++) await wal.append(record(i, 20));
  const before = await segments(vfs);
  await wal.truncatePrefix(5);
  const records = (await readAll(wal)).map((r) => r.index);
  assert.ok(records[0]! <= 5 && records.at(-1) === 9, `kept ${records}`);
  assert.ok((await segments(vfs)).length < before.length);
  await wal.truncatePrefix(1000);
  assert.equal(await segments(vfs), [before.at(-1)]);
  assert.is(wal.lastIndex, 9);
  await wal.close();
  const reopened = await open(vfs, { segmentSizeBytes: 100 });
  assert.is(reopened.lastIndex, 9);
  await reopened.close();
});

test('os mode: appends resolve without fsync and are readable after a clean reopen', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { durability: 'os' });
  await Promise.all(Array.from({ length: 100 }, (_, i) => wal.append(record(i + 1))));
  assert.is(wal.stats().syncs, 0);
  await wal.close();
  const reopened = await open(vfs, { durability: 'os' });
  assert.is((await readAll(reopened)).length, 100);
  await reopened.close();
});

test('groups of every size, one after another (their buffers reused), read back byte for byte', async () => {
  const vfs = new MemVfs();
  const wal = await open(vfs, { durability: 'os', segmentSizeBytes: 4 * 2 ** 20 });
  // Sizes around the kept buffers' limits (64 KiB, 256 KiB): a big group after a small one, a
  // small one after a big one; each record's bytes differ, so a stale byte would show.
  const sizes = [100, 70_000, 10, 200_000, 300_000, 5, 130_000, 65_536, 1, 262_144, 40];
  const written: Buffer[] = [];
  let index = 0;
  for (const size of sizes) {
    const data = Buffer.alloc(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + size) & 0xff;
    written.push(data);
    await wal.append({ index: ++index, data });
  }
  await wal.close();
  const reopened = await open(vfs, { durability: 'os', segmentSizeBytes: 4 * 2 ** 20 });
  const records = await readAll(reopened);
  assert.equal(records.map((r) => r.index), sizes.map((_, i) => i + 1));
  records.forEach((r, i) => assert.ok(Buffer.compare(Buffer.from(r.data), written[i] as Buffer) === 0, `record ${i + 1} (${sizes[i]} bytes)`));
  await reopened.close();
});

test('os mode: the active segment is synced in the background every writebackBytes, so a crash keeps what those syncs covered', async () => {
  const kept: Record<string, number> = {};
  for (const writebackBytes of [0, 1000]) {
    const mem = new MemVfs({ tearWrites: false });
    const wal = await open(mem, { durability: 'os', writebackBytes });
    // 20 records of 200 bytes, one at a time: a background sync starts about every five.
    for (let i = 1; i <= 20; i++) await wal.append(record(i, 200));
    const { writebackSyncs, syncs } = wal.stats();
    assert.is(syncs, 0, 'no append waited for a sync');
    assert.is(writebackSyncs, writebackBytes === 0 ? 0 : 4, `${writebackSyncs} background syncs with writebackBytes ${writebackBytes}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
    mem.crash();
    const reopened = await open(mem, { durability: 'os' });
    const indexes = (await readAll(reopened)).map((r) => r.index);
    assert.equal(indexes, Array.from({ length: indexes.length }, (_, i) => i + 1), 'a prefix');
    kept[writebackBytes] = indexes.length;
    await reopened.close();
  }
  assert.is(kept[0], 0, 'without background syncs an os-mode segment keeps nothing it did not close');
  assert.ok((kept[1000] ?? 0) >= 16, `the last background sync began after record 16 or later; kept ${kept[1000]}`);
});

test('os mode: a background sync that fails stops the log with IO_ERROR', async () => {
  const mem = new MemVfs({ tearWrites: false });
  const vfs = new FaultVfs(mem);
  const wal = await open(vfs, { durability: 'os', writebackBytes: 500 });
  await wal.append(record(1, 200));
  vfs.inject({ op: 'sync', path: '.wal' });
  await wal.append([record(2, 200), record(3, 200)]);
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.is(wal.stats().writebackSyncs, 1);
  assert.is(await codeOf(wal.append(record(4))), 'IO_ERROR');
  await wal.close();
});

test('os mode: a steady stream of appends still lets timers run (the loop is never starved)', async () => {
  const wal = await open(new MemVfs(), { durability: 'os' });
  let index = 0;
  let appendsWhenTimerFired = -1;
  let done = 0;
  setTimeout(() => (appendsWhenTimerFired = done), 0);
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (done < 20_000) {
        await wal.append(record(++index));
        done++;
      }
    }),
  );
  assert.ok(appendsWhenTimerFired >= 0 && appendsWhenTimerFired < 20_000, `the timer fired after ${appendsWhenTimerFired} appends`);
  await wal.close();
});

test('calls after close fail with CLOSED', async () => {
  const wal = await open(new MemVfs());
  await wal.close();
  assert.is(await codeOf(wal.append(record(1))), 'CLOSED');
  assert.is(await codeOf(wal.truncatePrefix(1)), 'CLOSED');
});

test('on a real disk: appends across segments survive close and reopen, preallocated or not', async () => {
  const dir = joinPath(tmpdir(), `petrel-wal-${process.pid}-${Date.now()}`);
  try {
    for (const preallocate of [true, false]) {
      const logDir = joinPath(dir, String(preallocate));
      const wal = await Wal.open({ vfs: nodeVfs, dir: logDir, segmentSizeBytes: 4096, preallocate });
      await Promise.all(Array.from({ length: 300 }, (_, i) => wal.append(record(i + 1, 50))));
      await wal.close();
      const reopened = await Wal.open({ vfs: nodeVfs, dir: logDir, segmentSizeBytes: 4096, preallocate });
      const records = await readAll(reopened);
      assert.is(records.length, 300);
      assert.ok(records.every((r, i) => r.index === i + 1 && r.data.length === 50 && r.data[0] === ((i + 1) & 0xff)));
      assert.ok((await nodeVfs.readdir(logDir)).length > 3);
      await reopened.close();
    }
  } finally {
    await nodeVfs.removeTree(dir);
  }
});

test.run();
