/**
 * The storage app over the LSM in external-log mode: the last applied decree is durable once
 * flushed, a restart resumes from it, replaying the log after it gives the state a replica that
 * never stopped has, and compactions in worker threads run the TTL filter.
 */
import { tmpdir } from 'node:os';
import { ManualClock, MemVfs, Prng, initChecksum, isPetrelError, joinPath, nodeVfs } from '@petrel/base';
import { type Mutation, decodeMutation, encodeMutation } from '@petrel/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LsmEngine } from './lsm_engine.js';
import { MemoryEngine } from './memory_engine.js';
import { StorageApp } from './storage_app.js';

await initChecksum();
const b = (text: string) => Buffer.from(text);

function randomMutation(prng: Prng, clock: ManualClock, app: StorageApp): Mutation {
  const builder = app.newMutationBuilder();
  const writes = 1 + prng.int(3);
  for (let i = 0; i < writes; i++) {
    const hashKey = b(`h${prng.int(5)}`);
    const sortKey = b(`s${prng.int(20)}`);
    const roll = prng.int(10);
    if (roll < 5) builder.add({ type: 'set', request: { hashKey, sortKey, value: prng.bytes(prng.int(40)), ttlSeconds: prng.chance(0.2) ? 1 + prng.int(5) : 0 } });
    else if (roll < 7) builder.add({ type: 'del', request: { hashKey, sortKey } });
    else builder.add({ type: 'incr', request: { hashKey, sortKey: b('counter'), increment: BigInt(prng.int(100)), ttlSeconds: 0 } });
  }
  clock.advance(prng.int(1500));
  return builder.build();
}

function contents(engine: { iterator(): { seekToFirst(): void; valid(): boolean; key(): Buffer; value(): Buffer; next(): void; close(): void } }): string[] {
  const iterator = engine.iterator();
  const out: string[] = [];
  for (iterator.seekToFirst(); iterator.valid(); iterator.next()) out.push(`${iterator.key().toString('hex')}=${iterator.value().toString('hex')}`);
  iterator.close();
  return out;
}

test('the last applied decree survives a flush and a restart; each decree must be the next one', async () => {
  const vfs = new MemVfs();
  const clock = new ManualClock();
  let app = new StorageApp(await LsmEngine.open('/p', { vfs, compactionExecutor: 'inline' }), { clock });
  for (let decree = 1; decree <= 5; decree++) {
    app.apply(decree, { nowSeconds: 1, defaultTtlSeconds: 0, writes: [{ type: 'set', hashKey: b('h'), sortKey: b(`k${decree}`), value: b('v'), expireTs: 0 }] });
  }
  assert.is(app.lastAppliedDecree, 5);
  assert.is(app.lastDurableDecree, 0);
  await app.flush();
  assert.is(app.lastDurableDecree, 5);
  // A mutation that writes nothing still advances the decree.
  app.apply(6, { nowSeconds: 1, defaultTtlSeconds: 0, writes: [] });
  assert.is(app.lastAppliedDecree, 6);
  await app.flush();
  assert.is(app.lastDurableDecree, 6);
  await app.close();
  app = new StorageApp(await LsmEngine.open('/p', { vfs, compactionExecutor: 'inline' }), { clock });
  assert.is(app.lastDurableDecree, 6);
  assert.is(app.lastAppliedDecree, 6);
  assert.is(app.get({ hashKey: b('h'), sortKey: b('k5') }).value?.toString(), 'v');
  // Stale, not an integer — or skipping ahead (a hole in the data): all refused.
  for (const stale of [6, 3, 0, 1.5, 9]) {
    try {
      app.apply(stale, { nowSeconds: 1, defaultTtlSeconds: 0, writes: [] });
      assert.unreachable(`decree ${stale} accepted`);
    } catch (error) {
      assert.ok(isPetrelError(error, 'INVALID_ARGUMENT'), String(error));
    }
  }
  app.apply(7, { nowSeconds: 1, defaultTtlSeconds: 0, writes: [] });
  await app.close();
});

test('after a crash, replaying the log from lastDurableDecree + 1 gives the state of a replica that never stopped', async () => {
  let replayed = 0;
  for (let seed = 1; seed <= 6; seed++) {
    const prng = new Prng(seed);
    const vfs = new MemVfs({ seed });
    // Near the real clock, which the LSM's compactions read: nothing expires there before it does here.
    const clock = new ManualClock({ wallMs: Date.now() });
    const open = async () => new StorageApp(await LsmEngine.open('/p', { vfs, compactionExecutor: 'inline', memtableSizeBytes: 2048 }), { clock });
    let app = await open();
    const reference = new StorageApp(new MemoryEngine({ clock }), { clock });
    const log: Buffer[] = [];
    for (let decree = 1; decree <= 300; decree++) {
      const mutation = randomMutation(prng, clock, app);
      log.push(encodeMutation(mutation));
      assert.equal(app.apply(decree, mutation), reference.apply(decree, mutation), `decree ${decree}`);
      await app.writable();
      if (prng.chance(0.02)) await app.flush();
    }
    const durable = app.lastDurableDecree;
    vfs.crash();
    await app.close().catch(() => undefined);
    app = await open();
    assert.is(app.lastDurableDecree, durable, `seed ${seed}: the durable decree survives the crash`);
    assert.is(app.lastAppliedDecree, durable);
    replayed += log.length - durable;
    for (let decree = durable + 1; decree <= log.length; decree++) {
      app.apply(decree, decodeMutation(log[decree - 1] as Buffer));
      await app.writable();
    }
    assert.equal(contents(app.engine), contents(reference.engine), `seed ${seed}: replayed state`);
    await app.close();
  }
  assert.ok(replayed > 0, 'some crash lost applied decrees that the log had to replay');
});

test('an engine that is closed refuses a mutation, and nothing of it is applied', async () => {
  const engine = await LsmEngine.open('/p', { vfs: new MemVfs(), compactionExecutor: 'inline' });
  const app = new StorageApp(engine);
  await app.close();
  try {
    app.apply(1, { nowSeconds: 1, defaultTtlSeconds: 0, writes: [] });
    assert.unreachable('applied on a closed engine');
  } catch (error) {
    assert.ok(isPetrelError(error, 'IO_ERROR'), String(error));
  }
  assert.is(app.lastAppliedDecree, 0);
  try {
    await app.writable();
    assert.unreachable('writable() resolved on a closed engine');
  } catch (error) {
    assert.ok(isPetrelError(error, 'CLOSED'), `writable() gives the cause: ${String(error)}`);
  }
});

test('compactions in worker threads run the TTL filter: expired records go, default_ttl reaches the others', async () => {
  const dir = joinPath(tmpdir(), `petrel-app-ttl-${process.pid}-${Date.now()}`);
  const clock = new ManualClock({ wallMs: Date.now() - 1_000_000 });
  const engine = await LsmEngine.open(dir, { vfs: nodeVfs, compactionExecutor: 'worker' });
  const app = new StorageApp(engine, { clock });
  try {
    let decree = 0;
    const set = (sortKey: string, ttlSeconds: number) => {
      const builder = app.newMutationBuilder();
      builder.add({ type: 'set', request: { hashKey: b('h'), sortKey: b(sortKey), value: b('v'), ttlSeconds } });
      app.apply(++decree, builder.build());
    };
    for (let i = 0; i < 50; i++) set(`expired${i}`, 5);
    set('plain', 0);
    clock.advance(1_000_000);
    app.setEnvs({ default_ttl: '3600' });
    await app.compact();
    assert.equal(contents(engine).length, 1, 'only the record without TTL is left');
    const ttl = app.ttl({ hashKey: b('h'), sortKey: b('plain') }).ttlSeconds ?? 0;
    assert.ok(ttl > 3590 && ttl <= 3601, `default_ttl from the worker's filter: ${ttl}`);
  } finally {
    await app.close();
    await nodeVfs.removeTree(dir);
  }
});

test.run();
