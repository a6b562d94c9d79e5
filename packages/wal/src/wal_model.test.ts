/**
 * The log against a model of what it must keep: random appends, waits, clean reopens and crashes
 * (MemVfs, torn writes on). After every crash the log must hold a prefix of what was appended that
 * includes every record whose append promise resolved — in `fsync` mode, a resolved append is
 * durable.
 */
import { FaultVfs, MemVfs, Prng, type Vfs, initChecksum, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { afterTurns, hookedVfs, readAll, type StoredRecord as Stored } from './test_support.js';
import { Wal } from './wal.js';

type Op =
  | { kind: 'append'; count: number; size: number; gap: number }
  | { kind: 'wait' }
  | { kind: 'tick' }
  | { kind: 'crash' }
  | { kind: 'reopen' }
  | { kind: 'truncateSuffix'; back: number };

const opArbitrary: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 6 }), size: fc.integer({ min: 0, max: 300 }), gap: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'wait' as const }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'tick' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncateSuffix' as const), back: fc.integer({ min: 0, max: 8 }) }) },
);

function describe(records: Stored[]): string {
  return records.map((r) => `${r.index}:${r.data.length}`).join(' ');
}

/**
 * `inner` with every asynchronous file write (the log's background zeros, segment headers) done a
 * few turns late, so that background preallocation overlaps appends, crashes and reopens.
 */
function lateWrites(inner: Vfs, prng: Prng): Vfs {
  return hookedVfs(inner, { beforeWrite: () => afterTurns(prng.int(4)) });
}

/** Group writes, over every scenario, that waited for a late zero write: the overlap is exercised. */
let preallocationWaits = 0;

async function runScenario(seed: number, preallocate: boolean, ops: Op[]): Promise<void> {
  const mem = new MemVfs({ seed });
  const prng = new Prng(seed);
  const lateness = new Prng(seed ^ 0x5bd1e995);
  const options = { dir: '/wal', segmentSizeBytes: 700, preallocate, maxGroupBytes: 2048, maxPendingBytes: 8192 };
  // The fence sits below the lateness: a write that comes late from a crashed process meets it.
  let fence = new FaultVfs(mem);
  let vfs = lateWrites(fence, lateness);
  let wal = await Wal.open({ vfs, ...options });
  /** Everything appended since the log was last known exactly, in order. */
  let appended: Stored[] = [];
  /** The highest index whose append promise resolved. */
  let acknowledged = 0;
  let pending: Promise<void>[] = [];

  const check = async (label: string, exact: boolean) => {
    const records = await readAll(wal);
    const prefix = appended.slice(0, records.length);
    assert.is(records.length <= appended.length, true, `${label}: log has more than was appended: ${describe(records)} vs ${describe(appended)}`);
    for (let i = 0; i < records.length; i++) {
      assert.is(records[i]!.index, prefix[i]!.index, `${label}: record ${i} index`);
      assert.ok(records[i]!.data.equals(prefix[i]!.data), `${label}: record ${records[i]!.index} data`);
    }
    const lastKept = records.at(-1)?.index ?? 0;
    assert.ok(lastKept >= acknowledged, `${label}: acknowledged up to ${acknowledged} but the log ends at ${lastKept}`);
    if (exact) assert.is(records.length, appended.length, `${label}: a clean reopen keeps everything`);
    assert.is(wal.lastIndex, lastKept, `${label}: lastIndex`);
    appended = records;
    acknowledged = lastKept;
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'append': {
        const batch: Stored[] = [];
        let index = appended.at(-1)?.index ?? 0;
        for (let i = 0; i < op.count; i++) {
          index += op.gap;
          batch.push({ index, data: prng.bytes(op.size) });
        }
        appended.push(...batch);
        const last = index;
        pending.push(
          wal.append(batch).then(
            () => void (acknowledged = Math.max(acknowledged, last)),
            () => undefined,
          ),
        );
        break;
      }
      case 'wait':
        await Promise.all(pending);
        pending = [];
        break;
      case 'tick':
        await new Promise((resolve) => setImmediate(resolve));
        break;
      case 'truncateSuffix': {
        await Promise.all(pending);
        pending = [];
        const keep = Math.max(0, appended.length - op.back);
        const index = appended[keep - 1]?.index ?? 0;
        await wal.truncateSuffix(index);
        appended = appended.slice(0, keep);
        acknowledged = Math.min(acknowledged, index);
        break;
      }
      case 'reopen':
        await Promise.all(pending);
        pending = [];
        await wal.close();
        preallocationWaits += wal.stats().preallocationWaits;
        wal = await Wal.open({ vfs, ...options });
        await check('after a clean reopen', true);
        break;
      case 'crash':
        // The old process is gone: nothing it still had in flight may touch the disk.
        fence.inject({ op: '*', times: Infinity });
        mem.crash();
        preallocationWaits += wal.stats().preallocationWaits;
        await Promise.all(pending);
        pending = [];
        fence = new FaultVfs(mem);
        vfs = lateWrites(fence, lateness);
        wal = await Wal.open({ vfs, ...options });
        await check('after a crash', false);
        break;
    }
  }
  await Promise.all(pending);
  await wal.close();
  preallocationWaits += wal.stats().preallocationWaits;
  wal = await Wal.open({ vfs, ...options });
  await check('at the end', true);
  await wal.close();
}

test.before(async () => {
  await initChecksum();
});

test('after any crash, the log holds a prefix of what was appended that includes every acknowledged record', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.boolean(), fc.array(opArbitrary, { maxLength: 50 }), (seed, preallocate, ops) =>
      runScenario(seed, preallocate, ops),
    ),
    propertyParameters(1000, 10000),
  );
  assert.ok(preallocationWaits > 0, 'some appends met a background zero write still going');
});

test.run();
