import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PetrelError } from '../errors.js';
import { joinPath } from '../path.js';
import { FaultVfs } from './fault_vfs.js';
import { MemVfs } from './mem_vfs.js';
import { nodeVfs } from './node_vfs.js';

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (!(error instanceof PetrelError)) throw error;
    return error.code;
  }
}

test('FaultVfs fails the chosen operation on the chosen path, after and times honoured', async () => {
  const vfs = new FaultVfs(new MemVfs());
  await vfs.mkdir('/d');
  const file = await vfs.open('/d/log', { create: true });
  vfs.inject({ op: 'sync', path: 'log', after: 1, times: 2 });
  assert.is(await codeOf(file.sync()), 'ok');
  assert.is(await codeOf(file.sync()), 'IO_ERROR');
  assert.is(await codeOf(file.sync()), 'IO_ERROR');
  assert.is(await codeOf(file.sync()), 'ok');
  assert.is(vfs.injected, 2);
});

test('FaultVfs space limit: a write that does not fit fails with NO_SPACE and writes nothing', async () => {
  const inner = new MemVfs();
  const vfs = new FaultVfs(inner);
  await vfs.mkdir('/d');
  const file = await vfs.open('/d/f', { create: true });
  vfs.setSpaceLimit(10);
  await file.write(Buffer.alloc(6, 1), 0);
  assert.is(await codeOf(file.write(Buffer.alloc(6, 2), 6)), 'NO_SPACE');
  assert.is((await inner.readFile('/d/f')).length, 6);
  vfs.heal();
  await file.write(Buffer.alloc(6, 2), 6);
  assert.is((await inner.readFile('/d/f')).length, 12);
});

test('FaultVfs bit flips change exactly one bit of what a read returns, never the stored data', async () => {
  const inner = new MemVfs();
  const vfs = new FaultVfs(inner, { seed: 5 });
  await vfs.mkdir('/d');
  const data = Buffer.alloc(64, 0xaa);
  await vfs.writeFile('/d/f', data);
  vfs.flipBitsOnRead(1);
  const file = await vfs.open('/d/f');
  const read = Buffer.alloc(64);
  file.readSync(read, 0, 64, 0);
  let differingBits = 0;
  for (let i = 0; i < 64; i++) differingBits += countBits((read[i] as number) ^ 0xaa);
  assert.is(differingBits, 1);
  assert.equal(await inner.readFile('/d/f'), data);
});

function countBits(value: number): number {
  let bits = 0;
  for (; value > 0; value >>= 1) bits += value & 1;
  return bits;
}

test('NodeVfs: write, read, sync, rename, link, readdir, truncate on a real directory', async () => {
  const dir = joinPath(tmpdir(), `petrel-vfs-${process.pid}-${Date.now()}`);
  await nodeVfs.mkdir(dir, { recursive: true });
  try {
    const file = await nodeVfs.open(joinPath(dir, 'a'), { create: true });
    await file.write(Buffer.from('hello world'), 0);
    file.writeSync(Buffer.from('!'), 11);
    await file.sync();
    assert.is(file.size(), 12);
    const target = Buffer.alloc(5);
    assert.is(file.readSync(target, 0, 5, 6), 5);
    assert.is(target.toString(), 'world');
    assert.is(await file.read(target, 0, 5, 10), 2);
    await file.truncate(5);
    assert.is(file.size(), 5);
    await file.close();
    assert.is(await codeOf(file.sync()), 'CLOSED');
    await nodeVfs.link(joinPath(dir, 'a'), joinPath(dir, 'b'));
    await nodeVfs.rename(joinPath(dir, 'a'), joinPath(dir, 'c'));
    await nodeVfs.syncDir(dir);
    assert.equal(await nodeVfs.readdir(dir), ['b', 'c']);
    assert.is((await nodeVfs.readFile(joinPath(dir, 'b'))).toString(), 'hello');
    assert.is(await codeOf(nodeVfs.open(joinPath(dir, 'missing'))), 'NOT_FOUND');
    assert.is(await codeOf(nodeVfs.open(joinPath(dir, 'b'), { create: true, exclusive: true })), 'ALREADY_EXISTS');
    assert.equal(await nodeVfs.stat(joinPath(dir, 'c')), { size: 5, isDirectory: false });
  } finally {
    await nodeVfs.removeTree(dir);
  }
  assert.is(await nodeVfs.exists(dir), false);
});

test('writeDurable: the bytes land where asked on every Vfs; NodeVfs closes its O_DSYNC descriptor with the file; FaultVfs fails it as a write or a sync', async () => {
  const base = joinPath(tmpdir(), `petrel-write-durable-${process.pid}`);
  await nodeVfs.removeTree(base);
  await nodeVfs.mkdir(base, { recursive: true });
  const openDescriptors = () => readdirSync('/proc/self/fd').length;
  try {
    for (const [vfs, dir] of [[nodeVfs, base], [new MemVfs(), '/d'], [new FaultVfs(new MemVfs()), '/d']] as const) {
      await vfs.mkdir(dir, { recursive: true });
      const before = vfs === nodeVfs ? openDescriptors() : 0;
      const file = await vfs.open(joinPath(dir, 'log'), { create: true });
      await file.write(Buffer.alloc(16), 0);
      await file.writeDurable(Buffer.from('hello'), 2);
      await file.writeDurable(Buffer.from('world!'), 14);
      assert.is(file.size(), 20, 'the size follows the write past the end');
      const target = Buffer.alloc(20);
      assert.is(file.readSync(target, 0, 20, 0), 20);
      assert.is(target.toString('latin1'), '\0\0hello\0\0\0\0\0\0\0world!');
      if (vfs === nodeVfs) assert.is(openDescriptors(), before + 2, 'the file and its O_DSYNC descriptor');
      await file.close();
      if (vfs === nodeVfs) assert.is(openDescriptors(), before, 'close closes both descriptors');
      assert.is(await codeOf(file.writeDurable(Buffer.from('x'), 0)), 'CLOSED');
      const readOnly = await vfs.open(joinPath(dir, 'log'), { readOnly: true });
      assert.is(await codeOf(readOnly.writeDurable(Buffer.from('x'), 0)), 'IO_ERROR', 'not through a read-only handle');
      await readOnly.close();
      if (vfs instanceof FaultVfs) {
        const again = await vfs.open(joinPath(dir, 'log'));
        vfs.inject({ op: 'sync', path: 'log' });
        assert.is(await codeOf(again.writeDurable(Buffer.from('x'), 0)), 'IO_ERROR');
        vfs.inject({ op: 'write', path: 'log', code: 'NO_SPACE' });
        assert.is(await codeOf(again.writeDurable(Buffer.from('x'), 0)), 'NO_SPACE');
        await again.writeDurable(Buffer.from('x'), 0);
        await again.close();
      }
    }
  } finally {
    await nodeVfs.removeTree(base);
  }
});

test('openReadSync reads what was written, on every Vfs; a missing file is NOT_FOUND; FaultVfs can fail it', async () => {
  const base = joinPath(tmpdir(), `petrel-open-sync-${process.pid}`);
  await nodeVfs.removeTree(base);
  await nodeVfs.mkdir(base, { recursive: true });
  try {
    for (const [vfs, dir] of [[nodeVfs, base], [new MemVfs(), '/d'], [new FaultVfs(new MemVfs()), '/d']] as const) {
      await vfs.mkdir(dir, { recursive: true });
      await vfs.writeFile(joinPath(dir, 'f'), Buffer.from('hello'));
      const file = vfs.openReadSync(joinPath(dir, 'f'));
      const target = Buffer.alloc(5);
      assert.is(file.readSync(target, 0, 5, 0), 5);
      assert.is(target.toString(), 'hello');
      assert.is(file.size(), 5);
      await file.close();
      let code = 'ok';
      try {
        vfs.openReadSync(joinPath(dir, 'absent'));
      } catch (error) {
        code = (error as PetrelError).code;
      }
      assert.is(code, 'NOT_FOUND');
      if (vfs instanceof FaultVfs) {
        vfs.inject({ op: 'open', path: 'f' });
        assert.throws(() => vfs.openReadSync(joinPath(dir, 'f')), /injected I\/O error on open/);
      }
    }
  } finally {
    await nodeVfs.removeTree(base);
  }
});

test.run();
