/** The open-table-file limit: readers give their handles back and reopen on demand. */
import { MemVfs, initChecksum } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db } from '../db.js';
import { TableFiles } from './table_files.js';

test('with a limit of 2 open files, reads across 5 tables stay correct and never hold more than 2', async () => {
  await initChecksum();
  const vfs = new MemVfs();
  const files = new TableFiles(2);
  const db = await Db.open('/db', { vfs, tableFiles: files, disableAutoCompaction: true, durability: 'os' });
  for (let t = 0; t < 5; t++) {
    for (let i = 0; i < 100; i++) await db.put(Buffer.from(`t${t}-k${String(i).padStart(3, '0')}`), Buffer.from(`v${t}.${i}`));
    await db.flush();
  }
  assert.is(db.stats().levels[0]?.files, 5);
  for (let round = 0; round < 3; round++) {
    for (let t = 0; t < 5; t++) {
      for (let i = 0; i < 100; i += 7) {
        assert.is(db.get(Buffer.from(`t${t}-k${String(i).padStart(3, '0')}`))?.toString(), `v${t}.${i}`);
        assert.ok(files.openFiles <= 2);
      }
    }
  }
  // A scan touches every table in turn.
  let count = 0;
  const iterator = db.iterator();
  for (iterator.seekToFirst(); iterator.valid(); iterator.next()) count++;
  iterator.close();
  assert.is(count, 500);
  assert.ok(files.evictions > 0, 'handles were taken back');
  assert.ok(files.opens > 5, 'tables reopened their files');
  assert.is(db.stats().openTableFiles, files.openFiles);
  await db.close();
  assert.is(files.openFiles, 0, 'closing the database gives every handle back');
});

test('a limit below 1 is refused', () => {
  assert.throws(() => new TableFiles(0), /at least 1/);
});

test.run();
