import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checksum32, createXxh64, initChecksum, xxh64 } from './checksum.js';
import { ManualClock } from './clock.js';
import { Prng } from './random.js';

test('xxh64 matches the reference test vectors', async () => {
  await initChecksum();
  assert.is(xxh64(new Uint8Array(0)), 0xef46db3751d8e999n);
  assert.is(xxh64(Buffer.from('a')), 0xd24ec4f1a98c6e5bn);
  assert.is(xxh64(Buffer.from('abc')), 0x44bc2cf5ad770999n);
});

test('the incremental hash equals the one-shot hash', async () => {
  await initChecksum();
  const data = new Prng(3).bytes(10_000);
  const hasher = createXxh64();
  for (let i = 0; i < data.length; i += 777) hasher.update(data.subarray(i, i + 777));
  assert.is(hasher.digest(), xxh64(data));
});

test('checksum32 is the low half of xxh64 and sees a single flipped bit', async () => {
  await initChecksum();
  const data = new Prng(4).bytes(4096);
  assert.is(checksum32(data), Number(xxh64(data) & 0xffffffffn));
  const flipped = Buffer.from(data);
  flipped[100] = (flipped[100] as number) ^ 4;
  assert.is.not(checksum32(flipped), checksum32(data));
});

test('a Prng replays the same stream from the same seed, another from another seed', () => {
  const a = new Prng(42);
  const b = new Prng(42);
  const c = new Prng(43);
  const streamA = Array.from({ length: 100 }, () => a.nextUint32());
  const streamB = Array.from({ length: 100 }, () => b.nextUint32());
  const streamC = Array.from({ length: 100 }, () => c.nextUint32());
  assert.equal(streamA, streamB);
  assert.not.equal(streamA, streamC);
});

test('Prng.int stays in range and covers it', () => {
  const prng = new Prng(7);
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const value = prng.int(10);
    assert.ok(value >= 0 && value < 10);
    seen.add(value);
  }
  assert.is(seen.size, 10);
});

test('ManualClock moves only forward, and the wall clock can be set apart', () => {
  const clock = new ManualClock({ nowMs: 100, wallMs: 5_000 });
  clock.advance(50);
  assert.is(clock.nowMs(), 150);
  assert.is(clock.wallMs(), 5_050);
  assert.throws(() => clock.advance(-1), /cannot go back/);
  clock.setWallMs(1_000);
  assert.is(clock.nowMs(), 150);
  assert.is(clock.wallMs(), 1_000);
});

test.run();
