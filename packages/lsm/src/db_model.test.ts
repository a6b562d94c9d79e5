/**
 * The engine against a sorted-map model: random puts, deletes, batches, gets, iterations (both
 * directions, random bounds, old snapshots), flushes, clean reopens and crashes (MemVfs with torn
 * writes), and gets while writes are still on their way; a tiny memtable makes SSTables and L0
 * stacks form.
 *
 * Standalone mode: after a crash the database holds exactly a prefix of the writes issued, in
 * order, and that prefix includes every write whose promise resolved. Writes go through put/del
 * or batches, awaited or not, so write groups of every shape reach the log.
 * External-log mode: after a crash the database holds exactly the writes with decree ≤
 * lastFlushedDecree — the manifest never claims more than the SSTables hold.
 */
import { FaultVfs, MemVfs, Prng, initChecksum, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db, type DbOptions, type Snapshot } from './db.js';
import { TableFiles } from './sstable/table_files.js';
import { WriteBatch } from './write_batch.js';

type Write = { key: string; value: string | null }[];

/** Levels small enough that a few dozen writes compact through several of them. */
const SMALL_LEVELS = { l0CompactionTrigger: 2, levelOneTargetBytes: 1500, levelSizeMultiplier: 2, targetFileBytes: 700 };

type Op =
  | { kind: 'put'; key: number; size: number; wait: boolean }
  | { kind: 'del'; key: number; wait: boolean }
  | { kind: 'batch'; keys: number[]; deletes: boolean[]; wait: boolean }
  | { kind: 'get'; key: number }
  | { kind: 'peek'; key: number }
  | { kind: 'scan'; reverse: boolean; lower: number | null; upper: number | null; useSnapshot: boolean }
  | { kind: 'snapshot' }
  | { kind: 'flush' }
  | { kind: 'compact'; bottommost: boolean }
  | { kind: 'checkpoint' }
  | { kind: 'reopen' }
  | { kind: 'crash' };

const KEYS = ['', 'a', 'ab', 'abc', 'b', 'ba', 'c', 'd', 'dd', 'e', 'f', 'g', 'zz', '\u0000', '\u00ff'];
const keyArb = fc.integer({ min: 0, max: KEYS.length - 1 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, size: fc.integer({ min: 0, max: 120 }), wait: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('del' as const), key: keyArb, wait: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('batch' as const), keys: fc.array(keyArb, { minLength: 1, maxLength: 5 }), deletes: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }), wait: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('get' as const), key: keyArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('peek' as const), key: keyArb }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('scan' as const), reverse: fc.boolean(), lower: fc.option(keyArb), upper: fc.option(keyArb), useSnapshot: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'snapshot' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), bottommost: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'checkpoint' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'crash' as const }) },
);

function stateAfter(writes: Write[], count: number): Map<string, string> {
  const state = new Map<string, string>();
  for (const write of writes.slice(0, count)) {
    for (const { key, value } of write) {
      if (value === null) state.delete(key);
      else state.set(key, value);
    }
  }
  return state;
}

function sortedEntries(state: Map<string, string>): [string, string][] {
  return [...state].sort((a, b) => Buffer.compare(Buffer.from(a[0], 'latin1'), Buffer.from(b[0], 'latin1')));
}

function dbEntries(db: Db): [string, string][] {
  const iterator = db.iterator();
  const out: [string, string][] = [];
  for (const [key, value] of iterator.entries()) out.push([key.toString('latin1'), value.toString('latin1')]);
  iterator.close();
  return out;
}

function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

async function runStandalone(seed: number, ops: Op[], options: Partial<DbOptions>): Promise<void> {
  const mem = new MemVfs({ seed });
  const prng = new Prng(seed);
  let fence = new FaultVfs(mem);
  // Two open table files at most: most table reads reopen their file (the table-cache limit).
  const tableFiles = new TableFiles(2);
  const open = () => Db.open('/db', { vfs: fence, memtableSizeBytes: 600, table: { blockSizeBytes: 256 }, compaction: SMALL_LEVELS, tableFiles, ...options });
  let checkpoints = 0;
  let db = await open();
  let writes: Write[] = [];
  let resolved = 0;
  let pending: Promise<void>[] = [];
  let snapshot: { snapshot: Snapshot; state: Map<string, string> } | undefined;
  const settle = async () => {
    await Promise.all(pending);
    pending = [];
  };
  const issue = (write: Write, wait: boolean) => {
    writes.push(write);
    const position = writes.length;
    let written: Promise<void>;
    const single = write[0]!;
    if (write.length === 1 && prng.chance(0.5)) {
      // put/del join the open write group directly (no batch object): the same guarantees.
      written = single.value === null ? db.del(bytes(single.key)) : db.put(bytes(single.key), bytes(single.value));
    } else {
      const batch = new WriteBatch();
      for (const { key, value } of write) {
        if (value === null) batch.del(bytes(key));
        else batch.put(bytes(key), bytes(value));
      }
      written = db.write(batch);
    }
    const promise = written.then(
      () => void (resolved = Math.max(resolved, position)),
      () => undefined,
    );
    pending.push(promise);
    return wait ? settle() : Promise.resolve();
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'put':
        await issue([{ key: KEYS[op.key]!, value: prng.bytes(op.size).toString('latin1') }], op.wait);
        break;
      case 'del':
        await issue([{ key: KEYS[op.key]!, value: null }], op.wait);
        break;
      case 'batch':
        await issue(
          op.keys.map((key, i) => ({ key: KEYS[key]!, value: op.deletes[i] ? null : `batch${writes.length}-${i}` })),
          op.wait,
        );
        break;
      case 'get': {
        await settle();
        const expected = stateAfter(writes, writes.length).get(KEYS[op.key]!);
        const actual = db.get(bytes(KEYS[op.key]!));
        assert.is(actual?.toString('latin1'), expected, `get ${JSON.stringify(KEYS[op.key])}`);
        break;
      }
      case 'peek': {
        // A get while writes are still on their way: it sees some prefix of the writes that holds
        // every acknowledged one.
        const key = KEYS[op.key]!;
        const actual = db.get(bytes(key))?.toString('latin1');
        let explained = false;
        for (let count = writes.length; count >= resolved && !explained; count--) explained = stateAfter(writes, count).get(key) === actual;
        assert.ok(explained, `get ${JSON.stringify(key)} while writes are pending gave ${JSON.stringify(actual)}, which no prefix holding the ${resolved} acknowledged writes explains`);
        break;
      }
      case 'scan': {
        await settle();
        const useSnapshot = op.useSnapshot && snapshot !== undefined;
        const state = useSnapshot ? snapshot!.state : stateAfter(writes, writes.length);
        const lower = op.lower === null ? undefined : KEYS[op.lower]!;
        const upper = op.upper === null ? undefined : KEYS[op.upper]!;
        let expected = sortedEntries(state).filter(([k]) => (lower === undefined || Buffer.compare(bytes(k), bytes(lower)) >= 0) && (upper === undefined || Buffer.compare(bytes(k), bytes(upper)) < 0));
        const iterator = db.iterator({
          ...(lower === undefined ? {} : { lower: bytes(lower) }),
          ...(upper === undefined ? {} : { upper: bytes(upper) }),
          ...(useSnapshot ? { snapshot: snapshot!.snapshot } : {}),
        });
        const actual: [string, string][] = [];
        if (op.reverse) {
          for (iterator.seekToLast(); iterator.valid(); iterator.prev()) actual.push([iterator.key().toString('latin1'), iterator.value().toString('latin1')]);
          expected = expected.reverse();
        } else {
          for (iterator.seekToFirst(); iterator.valid(); iterator.next()) actual.push([iterator.key().toString('latin1'), iterator.value().toString('latin1')]);
        }
        iterator.close();
        assert.equal(actual, expected, `scan reverse=${op.reverse} [${lower}, ${upper}) snapshot=${useSnapshot}`);
        break;
      }
      case 'snapshot':
        await settle();
        snapshot?.snapshot.release();
        snapshot = { snapshot: db.snapshot(), state: stateAfter(writes, writes.length) };
        break;
      case 'flush':
        await settle();
        await db.flush();
        break;
      case 'compact':
        await settle();
        await db.compactRange(undefined, undefined, { bottommost: op.bottommost });
        break;
      case 'checkpoint': {
        await settle();
        const dir = `/checkpoint-${++checkpoints}`;
        await db.checkpoint(dir);
        const copy = await Db.open(dir, { vfs: fence, compaction: SMALL_LEVELS });
        assert.equal(dbEntries(copy), sortedEntries(stateAfter(writes, writes.length)), 'a checkpoint opens as the database it copied');
        await copy.put(bytes('only-in-copy'), bytes('x'));
        await copy.close();
        assert.is(db.get(bytes('only-in-copy')), undefined, 'a checkpoint is independent of its source');
        break;
      }
      case 'reopen':
        await settle();
        snapshot = undefined;
        await db.close();
        db = await open();
        assert.equal(dbEntries(db), sortedEntries(stateAfter(writes, writes.length)), 'after a clean reopen');
        break;
      case 'crash': {
        snapshot = undefined;
        fence.inject({ op: '*', times: Infinity });
        mem.crash();
        await Promise.all(pending);
        pending = [];
        await db.close().catch(() => undefined);
        fence = new FaultVfs(mem);
        db = await open();
        const actual = dbEntries(db);
        let explained = -1;
        for (let count = writes.length; count >= resolved; count--) {
          if (JSON.stringify(sortedEntries(stateAfter(writes, count))) === JSON.stringify(actual)) {
            explained = count;
            break;
          }
        }
        assert.ok(explained >= 0, `after a crash the database (${JSON.stringify(actual)}) is no prefix of the writes that includes the ${resolved} acknowledged`);
        writes = writes.slice(0, explained);
        resolved = explained;
        break;
      }
    }
  }
  await settle();
  await db.close();
}

async function runExternal(seed: number, ops: Op[]): Promise<void> {
  const mem = new MemVfs({ seed });
  const prng = new Prng(seed);
  let fence = new FaultVfs(mem);
  const tableFiles = new TableFiles(3);
  const open = () => Db.open('/db', { vfs: fence, mode: 'external-log', memtableSizeBytes: 600, table: { blockSizeBytes: 256 }, compaction: SMALL_LEVELS, tableFiles });
  let db = await open();
  let checkpoints = 0;
  /** writes[i] carries decree i + 1. */
  let writes: Write[] = [];
  const apply = async (write: Write) => {
    const batch = new WriteBatch();
    for (const { key, value } of write) {
      if (value === null) batch.del(bytes(key));
      else batch.put(bytes(key), bytes(value));
    }
    writes.push(write);
    await db.write(batch, { decree: writes.length });
  };
  for (const op of ops) {
    switch (op.kind) {
      case 'put':
        await apply([{ key: KEYS[op.key]!, value: prng.bytes(op.size).toString('latin1') }]);
        break;
      case 'del':
        await apply([{ key: KEYS[op.key]!, value: null }]);
        break;
      case 'batch':
        await apply(op.keys.map((key, i) => ({ key: KEYS[key]!, value: op.deletes[i] ? null : `b${writes.length}-${i}` })));
        break;
      case 'get':
      case 'peek':
        assert.is(db.get(bytes(KEYS[op.key]!))?.toString('latin1'), stateAfter(writes, writes.length).get(KEYS[op.key]!));
        break;
      case 'flush':
        await db.flush();
        assert.is(db.lastFlushedDecree, writes.length, 'a flush covers every applied decree');
        break;
      case 'compact':
        await db.compactRange(undefined, undefined, { bottommost: op.bottommost });
        break;
      case 'checkpoint': {
        const dir = `/checkpoint-${++checkpoints}`;
        await db.checkpoint(dir);
        const copy = await Db.open(dir, { vfs: fence, mode: 'external-log' });
        assert.is(copy.lastFlushedDecree, writes.length, 'a checkpoint covers every applied decree');
        assert.equal(dbEntries(copy), sortedEntries(stateAfter(writes, writes.length)));
        await copy.close();
        break;
      }
      case 'reopen':
      case 'crash': {
        if (op.kind === 'crash') {
          fence.inject({ op: '*', times: Infinity });
          mem.crash();
          await db.close().catch(() => undefined);
        } else await db.close();
        fence = new FaultVfs(mem);
        db = await open();
        const flushed = db.lastFlushedDecree;
        assert.ok(flushed <= writes.length, `lastFlushedDecree ${flushed} beyond the ${writes.length} decrees applied`);
        assert.equal(dbEntries(db), sortedEntries(stateAfter(writes, flushed)), `the database holds exactly the decrees ≤ ${flushed}`);
        // The owner of the log replays what came after.
        const replay = writes.slice(flushed);
        writes = writes.slice(0, flushed);
        for (const write of replay) await apply(write);
        break;
      }
      default:
        break;
    }
  }
  await db.close();
}

test.before(async () => {
  await initChecksum();
});

test('standalone, with background and forced compactions and checkpoints: results always equal the model (compaction never resurrects a deleted key nor drops one a snapshot sees); a crash keeps a prefix of the writes with every acknowledged one', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.array(opArb, { maxLength: 60 }), (seed, ops) => runStandalone(seed, ops, {})),
    propertyParameters(500, 5000),
  );
});

test('standalone with bloom filters off and 16 KiB blocks: results equal the model', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.array(opArb, { maxLength: 60 }), (seed, ops) =>
      runStandalone(seed, ops, { table: { blockSizeBytes: 16384, bloomBitsPerKey: 0 } }),
    ),
    propertyParameters(150, 1500),
  );
});

test('an iterator held open across memtable flushes (whose node memory the next memtables reuse) reads what it saw when opened', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(fc.nat(40), fc.nat(30)), { minLength: 1, maxLength: 60 }),
      fc.array(fc.tuple(fc.nat(40), fc.nat(30)), { minLength: 20, maxLength: 120 }),
      fc.boolean(),
      async (before, after, closeOthers) => {
        const db = await Db.open('/db', { vfs: new MemVfs(), memtableSizeBytes: 600, table: { blockSizeBytes: 256 }, compaction: SMALL_LEVELS });
        const state = new Map<string, string>();
        for (const [key, size] of before) {
          await db.put(bytes(`k${key}`), bytes('b'.repeat(size)));
          state.set(`k${key}`, 'b'.repeat(size));
        }
        const held = db.iterator();
        // Short-lived iterators opened and closed meanwhile must not release the held one's memtable.
        for (const [key, size] of after) {
          await db.put(bytes(`k${key}`), bytes('a'.repeat(size + 1)));
          if (closeOthers) db.iterator().close();
        }
        await db.flush();
        assert.ok(db.stats().flushes >= 2, 'the writes after the iterator filled and flushed memtables');
        const seen: [string, string][] = [];
        for (const [key, value] of held.entries()) seen.push([key.toString('latin1'), value.toString('latin1')]);
        held.close();
        assert.equal(seen, sortedEntries(state));
        await db.close();
      },
    ),
    propertyParameters(100, 1000),
  );
});

test('external-log: after any crash the database holds exactly the decrees ≤ lastFlushedDecree', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 30 }), fc.array(opArb, { maxLength: 60 }), (seed, ops) => runExternal(seed, ops)),
    propertyParameters(500, 5000),
  );
});

test.run();
