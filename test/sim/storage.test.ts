import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng } from '@petrel/base';
import type { Mutation } from '@petrel/pacifica';
import { ReplicaDisk } from './storage.js';

function mutation(decree: number, ballot = 1): Mutation {
  return { gpid: '1.0', ballot, decree, lastCommitted: decree - 1, writes: [] };
}

test('a crash keeps every synced record and a prefix of the unsynced ones', () => {
  for (let seed = 1; seed <= 200; seed++) {
    const disk = new ReplicaDisk('1.0');
    for (let decree = 1; decree <= 6; decree++) disk.log.push({ mutation: mutation(decree), durable: decree <= 3 });
    disk.crash(new Prng(seed));
    const decrees = disk.log.map((record) => record.mutation.decree);
    assert.ok(decrees.length >= 3 && decrees.length <= 6, `seed ${seed}: kept ${decrees.length}`);
    assert.equal(decrees, [1, 2, 3, 4, 5, 6].slice(0, decrees.length), 'a prefix');
    assert.ok(disk.log.every((record) => record.durable), 'what survived is on disk');
  }
});

test('reading the log gives the latest ballot per decree, contiguous from the first asked, or null when gone', () => {
  const disk = new ReplicaDisk('1.0');
  for (const [decree, ballot] of [[4, 1], [5, 1], [5, 2], [6, 2], [8, 2]] as const) disk.log.push({ mutation: mutation(decree, ballot), durable: true });
  assert.equal(disk.read(4, 9)!.map((m) => `${m.decree}@${m.ballot}`), ['4@1', '5@2', '6@2']);
  assert.is(disk.read(3, 9), null);
  disk.setCheckpoint({ decree: 5, data: Buffer.from('[]') });
  assert.is(disk.read(4, 9), null);
  assert.equal(disk.recovered().log.map((m) => m.decree), [6, 8]);
});

test('truncateStale drops only records above the decree from older ballots', () => {
  const disk = new ReplicaDisk('1.0');
  for (const [decree, ballot] of [[1, 1], [2, 1], [3, 1], [3, 2], [4, 2]] as const) disk.log.push({ mutation: mutation(decree, ballot), durable: true });
  disk.truncateStale(1, 2);
  assert.equal(disk.log.map((record) => `${record.mutation.decree}@${record.mutation.ballot}`), ['1@1', '3@2', '4@2']);
});

test.run();
