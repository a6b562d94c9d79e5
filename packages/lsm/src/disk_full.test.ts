/**
 * A full disk: a flush that cannot write its table stops the database with NO_SPACE (nothing
 * acknowledged is lost: it is in the log), an open that cannot write its manifest fails with
 * NO_SPACE (again and again while the disk stays full), and once space is back the next open
 * recovers all of it.
 */
import { FaultVfs, MemVfs, PetrelError } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db } from './db.js';
import { BlockCache } from './sstable/block_cache.js';

const key = (i: number): Buffer => Buffer.from(`key${String(i).padStart(6, '0')}`);
const value = (i: number): Buffer => Buffer.from(`value-${i}-`.repeat(8));

async function codeOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
    return 'none';
  } catch (error) {
    return error instanceof PetrelError ? error.code : String(error);
  }
}

test('disk full at a flush, then at the next open; once space is back every acknowledged write is there', async () => {
  const vfs = new FaultVfs(new MemVfs());
  const options = { vfs, memtableSizeBytes: 4096, blockCache: new BlockCache(1 << 20), durability: 'os' as const };
  const db = await Db.open('/db', options);
  for (let i = 0; i < 50; i++) await db.put(key(i), value(i));
  await db.flush();
  // The disk fills: a bit of room for the log, none for a table.
  vfs.setSpaceLimit(20_000);
  let acknowledged = 50;
  let failure = 'none';
  for (let i = 50; i < 2000 && failure === 'none'; i++) {
    failure = await codeOf(() => db.put(key(i), value(i)));
    if (failure === 'none') acknowledged = i + 1;
  }
  assert.is(failure, 'NO_SPACE', 'writes end with a clear NO_SPACE');
  assert.is(await codeOf(() => db.flush()), 'NO_SPACE');
  await db.close();
  // Still full: the open cannot write its new manifest.
  vfs.setSpaceLimit(0);
  assert.is(await codeOf(() => Db.open('/db', options)), 'NO_SPACE', 'an open on a full disk fails clearly');
  assert.is(await codeOf(() => Db.open('/db', options)), 'NO_SPACE', 'and again, with nothing left half open in between');
  vfs.setSpaceLimit(undefined);
  const reopened = await Db.open('/db', options);
  for (let i = 0; i < acknowledged; i++) assert.equal(await reopened.get(key(i)), value(i), `key ${i}`);
  await reopened.put(key(5000), value(5000));
  assert.equal(await reopened.get(key(5000)), value(5000));
  await reopened.close();
  assert.ok(acknowledged > 50, 'some writes went to the log before the disk was full');
});

test.run();
