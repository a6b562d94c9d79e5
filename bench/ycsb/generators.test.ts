/**
 * The YCSB runner's pure pieces: the FNV hash against a BigInt reference, the histogram's
 * percentiles against exact sorting, the zipfian and "latest" distributions against their
 * formulas, key numbering, operation proportions and the command line.
 *
 *   node --import tsx bench/ycsb/generators.test.ts
 */
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Prng, propertyParameters } from '@petrel/base';
import { fnv52, fnv64Hex } from './fnv64.js';
import { Histogram, percentileRank } from './histogram.js';
import { makeKeyChooser } from './key_chooser.js';
import { KeySequence } from './key_sequence.js';
import { KeySpace, prefixEnd } from './key_space.js';
import { SkewedLatestGenerator } from './latest.js';
import { defaultRunOptions, parseCommandLine } from './options.js';
import { parsePerfStat } from './systems/syscall_counter.js';
import { OperationChooser, workload } from './workload.js';
import { ScrambledZipfianGenerator, ZIPFIAN_CONSTANT, ZipfianGenerator, zeta } from './zipfian.js';

const MASK64 = (1n << 64n) - 1n;

/** FNV-1a 64 over the 8 little-endian bytes of `value`, in BigInt: the reference. */
function fnvReference(value: number): bigint {
  let hash = 0xcbf29ce484222325n;
  let v = BigInt(value);
  for (let i = 0; i < 8; i++) {
    hash ^= v & 0xffn;
    v >>= 8n;
    hash = (hash * 0x100000001b3n) & MASK64;
  }
  return hash;
}

test('fnv64 equals a BigInt FNV-1a over the little-endian bytes', () => {
  for (const value of [0, 1, 255, 256, 65_535, 2 ** 32 - 1, 2 ** 32, 123_456_789_012, Number.MAX_SAFE_INTEGER]) {
    assert.is(fnv64Hex(value), fnvReference(value).toString(16).padStart(16, '0'), `value ${value}`);
    assert.is(fnv52(value), Number(fnvReference(value) & ((1n << 52n) - 1n)));
  }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), (value) => fnv64Hex(value) === fnvReference(value).toString(16).padStart(16, '0')),
    propertyParameters(2000, 50_000),
  );
});

test('histogram percentiles are within 0.4% of the exact nearest-rank value', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 5e10 }), { minLength: 1, maxLength: 400 }), fc.constantFrom(0, 1, 50, 90, 99, 99.9, 100), (values, p) => {
      const histogram = new Histogram();
      for (const value of values) histogram.record(value);
      const sorted = [...values].sort((a, b) => a - b);
      const exact = sorted[percentileRank(p, sorted.length) - 1]!;
      const reported = histogram.percentile(p);
      return Math.abs(reported - exact) <= exact * (1 / 256) + 0.5;
    }),
    propertyParameters(300, 5000),
  );
});

test('histograms merge through snapshots like one histogram', () => {
  const random = new Prng(7);
  const whole = new Histogram();
  const parts = [new Histogram(), new Histogram(), new Histogram()];
  for (let i = 0; i < 10_000; i++) {
    const value = Math.floor(random.next() ** 3 * 1e9);
    whole.record(value);
    parts[i % 3]!.record(value);
  }
  const merged = new Histogram();
  for (const part of parts) merged.merge(JSON.parse(JSON.stringify(part.snapshot())));
  assert.is(merged.count, 10_000);
  assert.is(merged.max, whole.max);
  assert.is(merged.min, whole.min);
  for (const p of [0, 50, 99, 99.9, 100]) assert.is(merged.percentile(p), whole.percentile(p));
  assert.throws(() => merged.merge(new Histogram(5)), /different precision/);
  assert.ok(Number.isNaN(new Histogram().percentile(50)));
});

test('zipfian ranks follow 1/(i+1)^theta', () => {
  const items = 1000;
  const generator = new ZipfianGenerator(new Prng(11), items);
  const draws = 200_000;
  const counts = new Array<number>(items).fill(0);
  for (let i = 0; i < draws; i++) counts[generator.next()]!++;
  const zetaN = zeta(0, items, ZIPFIAN_CONSTANT);
  // Ranks 0 and 1 are exact in Gray et al.'s method; the tail is an approximation.
  for (const rank of [0, 1]) {
    const expected = draws / Math.pow(rank + 1, ZIPFIAN_CONSTANT) / zetaN;
    assert.ok(Math.abs(counts[rank]! - expected) < 4 * Math.sqrt(expected), `rank ${rank}: ${counts[rank]} vs ${expected.toFixed(0)}`);
  }
  const top10 = counts.slice(0, 10).reduce((a, b) => a + b, 0) / draws;
  const expectedTop10 = zeta(0, 10, ZIPFIAN_CONSTANT) / zetaN;
  assert.ok(Math.abs(top10 - expectedTop10) < 0.03, `top 10 share ${top10} vs ${expectedTop10}`);
  assert.ok(counts.every((count, i) => i === 0 || count <= counts[0]!));
});

test('a zipfian whose item count grew draws exactly like one built with that count', () => {
  const grown = new ZipfianGenerator(new Prng(1), 100);
  grown.next(5000);
  const fresh = new ZipfianGenerator(new Prng(1), 5000);
  fresh.next();
  for (let i = 0; i < 1000; i++) assert.is(grown.next(), fresh.next());
});

test('the scrambled zipfian spreads its popular items and stays in range', () => {
  const items = 10_000;
  const generator = new ScrambledZipfianGenerator(new Prng(5), items);
  const counts = new Map<number, number>();
  for (let i = 0; i < 100_000; i++) {
    const item = generator.next();
    assert.ok(item >= 0 && item < items && Number.isInteger(item));
    counts.set(item, (counts.get(item) ?? 0) + 1);
  }
  const ranked = [...counts.entries()].sort((x, y) => y[1] - x[1]);
  // Skewed: the most popular item is drawn far more often than uniform (10 per item) would give.
  assert.ok(ranked[0]![1] > 1000, `top item drawn ${ranked[0]![1]} times`);
  // Scrambled: the ten most popular items are not the first ten records.
  assert.ok(ranked.slice(0, 10).some(([item]) => item >= 10));
});

test('latest favours the newest record and follows a growing count', () => {
  const latest = new SkewedLatestGenerator(new Prng(9), 1000);
  let newest = 0;
  for (let i = 0; i < 10_000; i++) {
    const index = latest.next(1000);
    assert.ok(index >= 0 && index < 1000);
    if (index === 999) newest++;
  }
  assert.ok(newest > 1000, `newest drawn ${newest} times`);
  for (let count = 1000; count < 1100; count++) {
    const index = latest.next(count);
    assert.ok(index >= 0 && index < count);
  }
});

test('key choosers never return an index past the readable count', () => {
  for (const distribution of ['uniform', 'zipfian', 'latest'] as const) {
    const chooser = makeKeyChooser(distribution, new Prng(2), 100, 50);
    for (let count = 100; count <= 150; count++) {
      for (let i = 0; i < 200; i++) {
        const index = chooser.next(count);
        assert.ok(Number.isInteger(index) && index >= 0 && index < count, `${distribution}: ${index} of ${count}`);
      }
    }
  }
});

test('key sequences give workers disjoint inserts and count only contiguous acknowledgements', () => {
  const workers = [0, 1, 2].map((w) => new KeySequence(10, w, 3));
  const inserted = new Set<number>();
  for (const sequence of workers) {
    for (let i = 0; i < 5; i++) {
      const keyNumber = sequence.insertKeyNumber(sequence.nextInsert());
      assert.ok(keyNumber >= 10 && !inserted.has(keyNumber));
      inserted.add(keyNumber);
    }
  }
  const sequence = new KeySequence(10, 1, 3);
  const first = sequence.nextInsert();
  const second = sequence.nextInsert();
  sequence.acknowledge(second);
  assert.is(sequence.count, 10, 'a later acknowledgement waits for the earlier insert');
  sequence.abandon(first);
  assert.is(sequence.count, 12);
  assert.is(sequence.keyNumberAt(11), sequence.insertKeyNumber(second));
  assert.throws(() => sequence.acknowledge(second));
});

test('keys split into a hash key and a sort key, and prefixEnd bounds a hash key', () => {
  const space = new KeySpace(2);
  const key = space.keyOf(42);
  assert.is(key.key.length, 20);
  assert.is(key.hashKey + key.sortKey, key.key);
  assert.is(key.hashKey.length, 6);
  assert.ok(key.key.startsWith('user'));
  assert.ok(prefixEnd(key.hashKey) > key.key);
  assert.ok(prefixEnd(key.hashKey) > key.hashKey + 'ffffffffffffff');
  assert.throws(() => new KeySpace(16), /hashKeyDigits/);
});

test('operations are chosen in the workload proportions', () => {
  const chooser = new OperationChooser(workload('B'));
  const random = new Prng(4);
  let reads = 0;
  for (let i = 0; i < 100_000; i++) if (chooser.choose(random.next()) === 'read') reads++;
  assert.ok(Math.abs(reads / 100_000 - 0.95) < 0.005, `read share ${reads / 100_000}`);
  assert.is(workload('a', 'uniform').requestDistribution, 'uniform');
  assert.is(workload('D', 'uniform').requestDistribution, 'latest');
  assert.throws(() => workload('G'), /unknown workload/);
});

test('the command line overrides the defaults and refuses bad values', () => {
  const parsed = parseCommandLine(['--systems', 'redis,etcd', '--workloads', 'a,c', '--records', '500', '--duration', '3', '--clients', '3', '--in-flight', '8', '--distribution', 'uniform'], defaultRunOptions(true));
  assert.equal(parsed.systems, ['redis', 'etcd']);
  assert.equal(parsed.run.workloads, ['A', 'C']);
  assert.is(parsed.run.recordCount, 500);
  assert.is(parsed.run.durationSec, 3);
  assert.is(parsed.run.operationCount, 0);
  assert.is(parsed.run.clients, 3);
  assert.is(parsed.run.inFlight, 8);
  assert.is(parsed.run.distribution, 'uniform');
  assert.throws(() => parseCommandLine(['--workloads', 'X'], defaultRunOptions(true)), /unknown workload X/);
  assert.throws(() => parseCommandLine(['--clients', '0'], defaultRunOptions(true)), /--clients/);
  assert.throws(() => parseCommandLine(['--records'], defaultRunOptions(true)), /needs a value/);
  assert.throws(() => parseCommandLine(['--bogus'], defaultRunOptions(true)), /unknown option --bogus/);
  assert.throws(() => parseCommandLine(['--systems', 'mongo'], defaultRunOptions(true)), /unknown system mongo/);
});

test('perf stat output parses into system call counts', () => {
  const output = [
    '42427,,syscalls:sys_enter_fdatasync,10004273087,100.00,,',
    '0,,syscalls:sys_enter_fsync,10004273087,100.00,,',
    '42800,,syscalls:sys_enter_pwrite64,10004273087,100.00,,',
    '44409,,syscalls:sys_enter_write,10004273087,100.00,,',
    '7390,,syscalls:sys_enter_writev,10004273087,100.00,,',
    '41960,,syscalls:sys_enter_read,10004273087,100.00,,',
  ].join('\n');
  assert.equal(parsePerfStat(output), { fdatasync: 42427, fsync: 0, pwrite64: 42800, write: 44409, writev: 7390, read: 41960 });
  assert.is(parsePerfStat(output.replace('7390', '<not counted>')), null);
  assert.is(parsePerfStat('perf: permission denied'), null);
});

test.run();
