/**
 * Background preallocation: the zeros ahead of the records are written and synced off the append
 * path. These tests slow down and fail those background writes and syncs, and check that records
 * are never overwritten by zeros, that a full disk only stops preallocation, and that a failed
 * background fsync stops the log.
 */
import { MemVfs, PetrelError, Prng, initChecksum } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { afterTurns, hookedVfs, readAll } from './test_support.js';
import { Wal } from './wal.js';

const DIR = '/log';

function payload(prng: Prng, index: number): Buffer {
  const data = Buffer.alloc(1 + prng.int(3000));
  data.fill(1 + (index % 250));
  return data;
}

test.before(async () => {
  await initChecksum();
});

test('slow background zero writes never overwrite records: appends wait where the zeros are going', async () => {
  for (const seed of [1, 2, 3]) {
    const prng = new Prng(seed);
    const mem = new MemVfs({ seed });
    // Zero chunks (written at a position past the header) land only after a few turns.
    const vfs = hookedVfs(mem, { beforeWrite: (position) => afterTurns(position > 0 ? 1 + prng.int(6) : 0) });
    const wal = await Wal.open({ vfs, dir: DIR, segmentSizeBytes: 200 * 1024, preallocate: true });
    const written: Buffer[] = [];
    let index = 0;
    for (let round = 0; round < 60; round++) {
      const pending: Promise<void>[] = [];
      for (let i = 0; i < 1 + prng.int(8); i++) {
        index++;
        const data = payload(prng, index);
        written[index] = data;
        pending.push(wal.append({ index, data }));
      }
      await Promise.all(pending);
    }
    const stats = wal.stats();
    assert.ok(stats.preallocatedBytes > 0, `seed ${seed}: zeros were written ahead`);
    assert.ok(stats.preallocationWaits > 0, `seed ${seed}: some group reached zeros still being written (the case under test)`);
    assert.ok(stats.rotations > 0, `seed ${seed}: the log crossed segments`);
    const check = (records: { index: number; data: Buffer }[], label: string) => {
      assert.is(records.length, index, `${label}: every record is there`);
      for (const r of records) assert.ok(r.data.equals(written[r.index] as Buffer), `${label}: record ${r.index} intact`);
    };
    check(await readAll(wal), `seed ${seed}, open`);
    await wal.close();
    const reopened = await Wal.open({ vfs: mem, dir: DIR, segmentSizeBytes: 200 * 1024, preallocate: true });
    check(await readAll(reopened), `seed ${seed}, reopened`);
    await reopened.close();
  }
});

test('a zero write that fails (disk full) only stops preallocation; appends go on', async () => {
  const mem = new MemVfs();
  let fail = true;
  const vfs = hookedVfs(mem, {
    beforeWrite: async (position) => {
      if (position > 0 && fail) {
        fail = false;
        throw new PetrelError('NO_SPACE', 'no space left on device (injected)');
      }
    },
  });
  const wal = await Wal.open({ vfs, dir: DIR, preallocate: true });
  for (let i = 1; i <= 50; i++) await wal.append({ index: i, data: Buffer.alloc(500, i) });
  assert.is(fail, false, 'the zero write was tried and failed');
  assert.is(wal.stats().preallocatedBytes, 0, 'no more zeros in this segment after the failure');
  assert.is((await readAll(wal)).length, 50);
  await wal.close();
  const reopened = await Wal.open({ vfs: mem, dir: DIR });
  assert.equal((await readAll(reopened)).map((r) => r.index), Array.from({ length: 50 }, (_, i) => i + 1));
  await reopened.close();
});

test('a zero write that grows the file and then fails leaves no zeros after the last record of a closed segment', async () => {
  const mem = new MemVfs();
  let failures = 0;
  const vfs = hookedVfs(mem, {
    // NodeVfs learns a file's size from the writes that succeed; this write lands and then fails.
    sizeAsKnown: true,
    beforeWrite: async (position, length, file) => {
      if (position === 0 || failures > 0) return;
      failures++;
      await file.write(Buffer.alloc(length), position);
      throw new PetrelError('NO_SPACE', 'no space left on device (injected, after the write)');
    },
  });
  const options = { dir: DIR, segmentSizeBytes: 64 * 1024, preallocate: true };
  const wal = await Wal.open({ vfs, ...options });
  for (let i = 1; i <= 200; i++) await wal.append({ index: i, data: Buffer.alloc(1000, i) });
  assert.is(failures, 1);
  assert.ok(wal.stats().rotations >= 2, 'the segment with the failed zero write was closed');
  await wal.close();
  const reopened = await Wal.open({ vfs: mem, ...options });
  assert.equal((await readAll(reopened)).map((r) => r.index), Array.from({ length: 200 }, (_, i) => i + 1));
  await reopened.close();
});

test('a background fsync that fails stops the log, as an append fsync would', async () => {
  const mem = new MemVfs();
  let zeroWritten = false;
  let failed = false;
  const vfs = hookedVfs(mem, {
    beforeWrite: async (position) => {
      if (position > 0) zeroWritten = true;
    },
    beforeSync: () => {
      // The first sync after a zero chunk was written: the background one, or a group's racing it.
      if (zeroWritten && !failed) {
        failed = true;
        throw new PetrelError('IO_ERROR', 'fsync failed (injected)');
      }
    },
  });
  const wal = await Wal.open({ vfs, dir: DIR, preallocate: true });
  let code = 'ok';
  for (let i = 1; i <= 20 && code === 'ok'; i++) {
    try {
      await wal.append({ index: i, data: Buffer.alloc(100, i) });
    } catch (error) {
      code = error instanceof PetrelError ? error.code : String(error);
    }
  }
  assert.ok(failed, 'the injected fsync failure happened');
  assert.is(code, 'IO_ERROR', 'the log stopped');
  await wal.close();
});

test('onSync hears each group fsync with its duration, and not the background syncs of zeros', async () => {
  const mem = new MemVfs({ seed: 7 });
  let slow = false;
  const vfs = hookedVfs(mem, {
    beforeSync: () => {
      if (!slow) return;
      // Slow fsyncs from here on: the observer must see their length (a busy wait, MemVfs syncs at once).
      const until = performance.now() + 15;
      while (performance.now() < until);
    },
  });
  const heard: number[] = [];
  const wal = await Wal.open({ vfs, dir: DIR, segmentSizeBytes: 64 * 1024, preallocate: true, onSync: (seconds) => heard.push(seconds) });
  const before = wal.stats().syncs;
  for (let index = 1; index <= 40; index++) await wal.append({ index, data: Buffer.alloc(3000, index) });
  slow = true;
  await wal.append({ index: 41, data: Buffer.from('slow') });
  const groups = wal.stats().syncs - before;
  assert.is(heard.length, groups, 'one call per group fsync');
  assert.ok(wal.stats().preallocatedBytes > 0, 'zeros were written and synced in the background too');
  assert.ok(heard.every((seconds) => seconds >= 0 && seconds < 1));
  assert.ok((heard.at(-1) as number) >= 0.014, `the slow fsync took ${heard.at(-1)} s`);
  await wal.close();
});

test.run();
