import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PetrelError } from '../errors.js';
import { MemVfs } from './mem_vfs.js';
import type { VfsFile } from './vfs.js';

async function write(vfs: MemVfs, path: string, data: string, position = 0, sync = false): Promise<void> {
  const file = await vfs.open(path, { create: true });
  await file.write(Buffer.from(data), position);
  if (sync) await file.sync();
  await file.close();
}

/** A MemVfs without torn writes holding `path` with `content`, data and name durable, open. */
async function durableFile(dir: string, path: string, content: string): Promise<{ vfs: MemVfs; file: VfsFile }> {
  const vfs = new MemVfs({ tearWrites: false });
  await vfs.mkdir(dir);
  await write(vfs, path, content, 0, true);
  await vfs.syncDir(dir);
  return { vfs, file: await vfs.open(path) };
}

test('synced data in a synced directory survives a crash', async () => {
  const vfs = new MemVfs({ tearWrites: false });
  await vfs.mkdir('/db');
  await write(vfs, '/db/a', 'hello', 0, true);
  await vfs.syncDir('/db');
  vfs.crash();
  assert.is((await vfs.readFile('/db/a')).toString(), 'hello');
});

test('unsynced data is lost on a crash when tearing is off', async () => {
  const vfs = new MemVfs({ tearWrites: false });
  await vfs.mkdir('/db');
  await write(vfs, '/db/a', 'hello', 0, true);
  await vfs.syncDir('/db');
  await write(vfs, '/db/a', ' world', 5);
  assert.is((await vfs.readFile('/db/a')).toString(), 'hello world');
  vfs.crash();
  assert.is((await vfs.readFile('/db/a')).toString(), 'hello');
});

test('a writeDurable survives a crash without a sync; a plain write after it does not', async () => {
  const { vfs, file } = await durableFile('/db', '/db/a', '');
  await file.writeDurable(Buffer.from('hello'), 0);
  await file.write(Buffer.from(' world'), 5);
  vfs.crash();
  assert.is((await vfs.readFile('/db/a')).toString(), 'hello');
});

test('a file whose name was never synced disappears on a crash, even with its data synced', async () => {
  const vfs = new MemVfs({ tearWrites: false });
  await vfs.mkdir('/db');
  await write(vfs, '/db/a', 'hello', 0, true);
  vfs.crash();
  assert.is(await vfs.exists('/db/a'), false);
});

test('rename and unlink revert unless the directory is synced', async () => {
  const vfs = new MemVfs({ tearWrites: false });
  await vfs.mkdir('/db');
  await write(vfs, '/db/tmp', 'new', 0, true);
  await write(vfs, '/db/old', 'old', 0, true);
  await vfs.syncDir('/db');
  await vfs.rename('/db/tmp', '/db/old');
  assert.is((await vfs.readFile('/db/old')).toString(), 'new');
  vfs.crash();
  assert.is((await vfs.readFile('/db/old')).toString(), 'old');
  assert.is((await vfs.readFile('/db/tmp')).toString(), 'new');
  await vfs.rename('/db/tmp', '/db/old');
  await vfs.syncDir('/db');
  vfs.crash();
  assert.is((await vfs.readFile('/db/old')).toString(), 'new');
  assert.equal(await vfs.readdir('/db'), ['old']);
});

test('a hard link shares data and survives the unlink of the original', async () => {
  const vfs = new MemVfs({ tearWrites: false });
  await vfs.mkdir('/a');
  await vfs.mkdir('/b');
  await write(vfs, '/a/f', 'data', 0, true);
  await vfs.link('/a/f', '/b/f');
  await vfs.unlink('/a/f');
  await vfs.syncDir('/a');
  await vfs.syncDir('/b');
  vfs.crash();
  assert.is(await vfs.exists('/a/f'), false);
  assert.is((await vfs.readFile('/b/f')).toString(), 'data');
});

test('with tearing on, a crash keeps a prefix of the unsynced appends, the last torn or zeroed', async () => {
  const outcomes = new Set<string>();
  for (let seed = 1; seed <= 200; seed++) {
    const vfs = new MemVfs({ seed });
    await vfs.mkdir('/d');
    const file = await vfs.open('/d/log', { create: true });
    await file.write(Buffer.from('base'), 0);
    await file.sync();
    await vfs.syncDir('/d');
    await file.write(Buffer.from('AAAA'), 4);
    await file.write(Buffer.from('BBBB'), 8);
    vfs.crash();
    const after = (await vfs.readFile('/d/log')).toString('latin1');
    assert.ok(after.startsWith('base'), after);
    // Every byte after the synced prefix is either what was written there or a zero.
    const written = 'baseAAAABBBB';
    for (let i = 4; i < after.length; i++) assert.ok(after[i] === written[i] || after[i] === '\0', `seed ${seed}: ${JSON.stringify(after)}`);
    outcomes.add(after.replace(/\0/g, '0'));
  }
  assert.ok(outcomes.has('base'), 'sometimes all unsynced data is lost');
  assert.ok(outcomes.has('baseAAAABBBB'), 'sometimes all of it survives');
  assert.ok([...outcomes].some((o) => o.length > 4 && o.length < 12), 'sometimes a write is torn');
  assert.ok([...outcomes].some((o) => o.includes('0')), 'sometimes a torn tail reads as zeros');
});

test('the same seed tears the same way', async () => {
  const run = async () => {
    const vfs = new MemVfs({ seed: 99 });
    await vfs.mkdir('/d');
    const file = await vfs.open('/d/f', { create: true });
    await file.sync();
    await vfs.syncDir('/d');
    for (let i = 0; i < 10; i++) await file.write(Buffer.alloc(100, i), i * 100);
    vfs.crash();
    return (await vfs.readFile('/d/f')).toString('hex');
  };
  assert.is(await run(), await run());
});

test('an unsynced truncate reverts on a crash', async () => {
  const { vfs, file } = await durableFile('/d', '/d/f', '0123456789');
  await file.truncate(3);
  assert.is(file.size(), 3);
  vfs.crash();
  assert.is((await vfs.readFile('/d/f')).toString(), '0123456789');
});

test('handles opened before a crash are closed by it', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir('/d');
  const file = await vfs.open('/d/f', { create: true });
  vfs.crash();
  try {
    await file.write(Buffer.from('x'), 0);
    assert.unreachable('write after crash');
  } catch (error) {
    assert.instance(error, PetrelError);
    assert.is((error as PetrelError).code, 'CLOSED');
  }
});

test('errors carry stable codes: NOT_FOUND, ALREADY_EXISTS', async () => {
  const vfs = new MemVfs();
  const codeOf = async (promise: Promise<unknown>) => {
    try {
      await promise;
      return 'ok';
    } catch (error) {
      return (error as PetrelError).code;
    }
  };
  assert.is(await codeOf(vfs.open('/nope')), 'NOT_FOUND');
  assert.is(await codeOf(vfs.open('/missing-dir/f', { create: true })), 'NOT_FOUND');
  await vfs.mkdir('/d');
  assert.is(await codeOf(vfs.mkdir('/d')), 'ALREADY_EXISTS');
  await write(vfs, '/d/f', 'x');
  assert.is(await codeOf(vfs.open('/d/f', { create: true, exclusive: true })), 'ALREADY_EXISTS');
  assert.is(await codeOf(vfs.readdir('/d/f')), 'IO_ERROR');
});

test('readdir lists direct children only, sorted; removeTree removes a subtree', async () => {
  const vfs = new MemVfs();
  await vfs.mkdir('/a/b/c', { recursive: true });
  await write(vfs, '/a/z', '1');
  await write(vfs, '/a/b/y', '2');
  await write(vfs, '/a/m', '3');
  assert.equal(await vfs.readdir('/a'), ['b', 'm', 'z']);
  await vfs.removeTree('/a/b');
  assert.equal(await vfs.readdir('/a'), ['m', 'z']);
  assert.is(await vfs.exists('/a/b/y'), false);
});

test.run();
