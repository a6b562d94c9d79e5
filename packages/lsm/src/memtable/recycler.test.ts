/**
 * Flushed memtables' memory reused by new ones (recycler.ts, Db.recycle): the recycler's own
 * bounds, and the engine's rule that nothing still readable is ever rewritten — every value `get`
 * returned and every key and value an iterator gave out must read the same at the end of a run of
 * random writes, reads, scans and flushes through a tiny memtable, while the database equals the
 * model and chunks are in fact reused.
 */
import { MemVfs, initChecksum, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db } from '../db.js';
import { MemtableRecycler } from './recycler.js';

function sab(bytes: number): Buffer {
  return Buffer.from(new SharedArrayBuffer(bytes));
}

test.before(async () => {
  await initChecksum();
});

test('the recycler keeps buffers up to its bound, hands chunks out by exact size and the largest pool first', () => {
  const recycler = new MemtableRecycler(10_000);
  recycler.giveChunk(sab(4096));
  recycler.giveChunk(sab(4096));
  recycler.giveChunk(sab(4096)); // past the bound: left to the garbage collector
  assert.is(recycler.stats().spareBytes, 8192);
  assert.is(recycler.takeChunk(2048), undefined);
  assert.is(recycler.takeChunk(4096)?.length, 4096);
  recycler.givePool(new Int32Array(new SharedArrayBuffer(400)));
  recycler.givePool(new Int32Array(new SharedArrayBuffer(800)));
  assert.is(recycler.takePool()?.byteLength, 800);
  assert.is(recycler.takePool()?.byteLength, 400);
  assert.is(recycler.takePool(), undefined);
  assert.equal(recycler.stats(), { spareBytes: 4096, spareChunks: 1, poolsReused: 2, chunksReused: 1 });
  assert.throws(() => recycler.giveChunk(sab(8192).subarray(0, 4096)), /whole/);
});

type Op = { kind: 'put'; key: number; size: number } | { kind: 'get'; key: number } | { kind: 'scan'; from: number; count: number } | { kind: 'flush' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ kind: fc.constant('put' as const), key: fc.nat(60), size: fc.integer({ min: 1, max: 1200 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('get' as const), key: fc.nat(60) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('scan' as const), from: fc.nat(60), count: fc.integer({ min: 1, max: 10 }) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'flush' as const }) },
);

function keyOf(n: number): Buffer {
  return Buffer.from(`key${String(n).padStart(3, '0')}`);
}

test('memory reused across memtables never changes a value or key handed out, and the database equals the model', async () => {
  let reusedInAll = 0;
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 50, maxLength: 400 }), fc.boolean(), async (ops, writeOnly) => {
      const recycler = new MemtableRecycler(1 << 20);
      // 4 KiB arena chunks (the smallest); a 16 KiB memtable spans a few of them.
      const db = await Db.open('/db', { vfs: new MemVfs(), memtableSizeBytes: 16384, recycler, durability: 'os' });
      const model = new Map<string, string>();
      const handedOut: { view: Buffer; expected: string; what: string }[] = [];
      let counter = 0;
      for (const op of writeOnly ? ops.filter((o) => o.kind === 'put' || o.kind === 'flush') : ops) {
        if (op.kind === 'put') {
          const value = `${counter++}:`.padEnd(op.size, String.fromCharCode(97 + (counter % 26)));
          await db.put(keyOf(op.key), Buffer.from(value));
          model.set(keyOf(op.key).toString(), value);
        } else if (op.kind === 'get') {
          const value = db.get(keyOf(op.key));
          assert.is(value?.toString(), model.get(keyOf(op.key).toString()));
          if (value !== undefined) handedOut.push({ view: value, expected: value.toString(), what: `get ${op.key}` });
        } else if (op.kind === 'scan') {
          const iterator = db.iterator();
          iterator.seek(keyOf(op.from));
          for (let i = 0; i < op.count && iterator.valid(); i++, iterator.next()) {
            handedOut.push({ view: iterator.key(), expected: iterator.key().toString(), what: 'scan key' });
            handedOut.push({ view: iterator.value(), expected: iterator.value().toString(), what: 'scan value' });
          }
          iterator.close();
        } else {
          await db.flush();
        }
      }
      await db.flush();
      for (const { view, expected, what } of handedOut) assert.is(view.toString(), expected, `${what} changed after it was handed out`);
      const all: [string, string][] = [];
      const iterator = db.iterator();
      for (const [key, value] of iterator.entries()) all.push([key.toString(), value.toString()]);
      iterator.close();
      assert.equal(all, [...model].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
      reusedInAll += recycler.stats().chunksReused;
      await db.close();
    }),
    propertyParameters(100, 1000),
  );
  assert.ok(reusedInAll > 0, 'some arena chunks were reused');
});

test('a memtable that handed out a value keeps its chunks, the one shared with the next memtable too', async () => {
  const recycler = new MemtableRecycler(1 << 20);
  const db = await Db.open('/db', { vfs: new MemVfs(), memtableSizeBytes: 16384, recycler, durability: 'os' });
  const value = Buffer.alloc(1000, 0x41);
  // Fill most of a memtable, over several chunks, and read its last value: it lies in the chunk
  // the next memtable's first entries go to.
  for (let i = 0; i < 10; i++) await db.put(keyOf(i), value);
  const held = db.get(keyOf(9));
  assert.ok(held !== undefined);
  await db.flush();
  assert.is(recycler.stats().spareChunks, 0, 'the read memtable gave back no chunk');
  for (let i = 100; i < 400; i++) await db.put(keyOf(i), Buffer.alloc(1000, 0x42));
  await db.flush();
  assert.ok(recycler.stats().chunksReused > 0, 'later, unread memtables gave chunks back and they were reused');
  assert.is(held.toString(), value.toString(), 'the held value survived every reuse');
  await db.close();
});

test.run();
