/**
 * Property tests of the storage app as a replicated state machine:
 *
 * 1. The same mutations applied by independent replicas — two LSMs with different memtable
 *    sizes, flush points and local clocks, and the in-memory engine — give byte-identical
 *    contents (stored keys and stored values), so applying never depends on anything but the
 *    mutation. The replicas other than the primary apply mutations decoded from their encoding,
 *    as they would receive them.
 * 2. Every read agrees with a model: a plain map of (hashKey, sortKey) → (value, expireTs) with
 *    the semantics of CLIENT_API.md written the simplest way.
 *
 * Automatic compaction is off here: the TTL filter runs at compaction time, which is local to
 * each replica (as in Pegasus); it has its own tests.
 */
import { ManualClock, MemVfs, initChecksum, propertyParameters } from '@petrel/base';
import { type CheckType, type FilterType, type WriteRequest, type WriteResponse, decodeMutation, encodeMutation, hashKeyScanBounds } from '@petrel/protocol';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { StorageEngine } from './engine.js';
import { LsmEngine } from './lsm_engine.js';
import { MemoryEngine } from './memory_engine.js';
import { StorageApp } from './storage_app.js';

await initChecksum();

const HASH_KEYS = ['h1', 'h2', ''];
const MULTI_HASH_KEYS = ['h1', 'h2'];
const SORT_KEYS = ['', 'a', 'ab', 'b', 'c', '1'];
const VALUES = ['', 'x', 'yy', '5', '-3', '9223372036854775807', 'abc', '+7'];
const CHECK_TYPES: CheckType[] = [
  'noCheck',
  'notExist',
  'notExistOrEmpty',
  'exist',
  'notEmpty',
  'matchAnywhere',
  'matchPrefix',
  'matchPostfix',
  'bytesLess',
  'bytesLessOrEqual',
  'bytesEqual',
  'bytesGreaterOrEqual',
  'bytesGreater',
  'intLess',
  'intLessOrEqual',
  'intEqual',
  'intGreaterOrEqual',
  'intGreater',
];
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const b = (text: string) => Buffer.from(text, 'latin1');
const s = (data: Buffer) => data.toString('latin1');

// ---- Steps ----

const hashKeyArb = fc.constantFrom(...HASH_KEYS);
const multiHashKeyArb = fc.constantFrom(...MULTI_HASH_KEYS);
const sortKeyArb = fc.constantFrom(...SORT_KEYS);
const valueArb = fc.constantFrom(...VALUES);
const ttlArb = fc.constantFrom(0, 0, 0, 1, 3, 10);

const writeArb: fc.Arbitrary<WriteRequest> = fc.oneof(
  fc.record({ hashKey: hashKeyArb, sortKey: sortKeyArb, value: valueArb, ttl: ttlArb }).map(
    (w): WriteRequest => ({ type: 'set', request: { hashKey: b(w.hashKey), sortKey: b(w.sortKey), value: b(w.value), ttlSeconds: w.ttl } }),
  ),
  fc.record({ hashKey: multiHashKeyArb, entries: fc.array(fc.tuple(sortKeyArb, valueArb), { minLength: 1, maxLength: 3 }), ttl: ttlArb }).map(
    (w): WriteRequest => ({ type: 'multiSet', request: { hashKey: b(w.hashKey), entries: w.entries.map(([k, v]) => ({ sortKey: b(k), value: b(v) })), ttlSeconds: w.ttl } }),
  ),
  fc.record({ hashKey: hashKeyArb, sortKey: sortKeyArb }).map((w): WriteRequest => ({ type: 'del', request: { hashKey: b(w.hashKey), sortKey: b(w.sortKey) } })),
  fc.record({ hashKey: multiHashKeyArb, sortKeys: fc.array(sortKeyArb, { minLength: 1, maxLength: 3 }) }).map(
    (w): WriteRequest => ({ type: 'multiDel', request: { hashKey: b(w.hashKey), sortKeys: w.sortKeys.map(b) } }),
  ),
  fc
    .record({
      hashKey: hashKeyArb,
      sortKey: sortKeyArb,
      increment: fc.oneof(fc.bigInt({ min: -3n, max: 5n }), fc.constantFrom(INT64_MAX, INT64_MIN)),
      ttl: fc.constantFrom(-1, 0, 0, 2),
    })
    .map((w): WriteRequest => ({ type: 'incr', request: { hashKey: b(w.hashKey), sortKey: b(w.sortKey), increment: w.increment, ttlSeconds: w.ttl } })),
  fc
    .record({
      hashKey: multiHashKeyArb,
      checkSortKey: sortKeyArb,
      checkType: fc.constantFrom(...CHECK_TYPES),
      operand: valueArb,
      setSortKey: sortKeyArb,
      setValue: valueArb,
      ttl: ttlArb,
      returnCheckValue: fc.boolean(),
    })
    .map(
      (w): WriteRequest => ({
        type: 'checkAndSet',
        request: {
          hashKey: b(w.hashKey),
          checkSortKey: b(w.checkSortKey),
          checkType: w.checkType,
          checkOperand: b(w.operand),
          setSortKey: b(w.setSortKey),
          setValue: b(w.setValue),
          ttlSeconds: w.ttl,
          returnCheckValue: w.returnCheckValue,
        },
      }),
    ),
  fc
    .record({
      hashKey: multiHashKeyArb,
      checkSortKey: sortKeyArb,
      checkType: fc.constantFrom(...CHECK_TYPES),
      operand: valueArb,
      mutations: fc.array(
        fc.oneof(
          fc.record({ op: fc.constant('set' as const), sortKey: sortKeyArb, value: valueArb, ttl: ttlArb }),
          fc.record({ op: fc.constant('del' as const), sortKey: sortKeyArb }),
        ),
        { minLength: 1, maxLength: 3 },
      ),
      returnCheckValue: fc.boolean(),
    })
    .map(
      (w): WriteRequest => ({
        type: 'checkAndMutate',
        request: {
          hashKey: b(w.hashKey),
          checkSortKey: b(w.checkSortKey),
          checkType: w.checkType,
          checkOperand: b(w.operand),
          mutations: w.mutations.map((m) =>
            m.op === 'set' ? { op: 'set' as const, sortKey: b(m.sortKey), value: b(m.value), ttlSeconds: m.ttl } : { op: 'del' as const, sortKey: b(m.sortKey) },
          ),
          returnCheckValue: w.returnCheckValue,
        },
      }),
    ),
);

type Read =
  | { kind: 'get' | 'exist' | 'ttl'; hashKey: string; sortKey: string }
  | { kind: 'count'; hashKey: string }
  | { kind: 'range'; hashKey: string; start: string; stop: string; startInclusive: boolean; stopInclusive: boolean; filter: [FilterType, string]; reverse: boolean; noValue: boolean }
  | { kind: 'keys'; hashKey: string; sortKeys: string[] }
  | { kind: 'scan'; hashKey: string; batchSize: number }
  | { kind: 'batchGet'; keys: [string, string][] };

const readArb: fc.Arbitrary<Read> = fc.oneof(
  fc.record({ kind: fc.constantFrom('get' as const, 'exist' as const, 'ttl' as const), hashKey: hashKeyArb, sortKey: sortKeyArb }),
  fc.record({ kind: fc.constant('count' as const), hashKey: multiHashKeyArb }),
  fc.record({
    kind: fc.constant('range' as const),
    hashKey: multiHashKeyArb,
    start: sortKeyArb,
    stop: sortKeyArb,
    startInclusive: fc.boolean(),
    stopInclusive: fc.boolean(),
    filter: fc.tuple(fc.constantFrom<FilterType>('none', 'anywhere', 'prefix', 'postfix'), fc.constantFrom('', 'a', 'b', '1')),
    reverse: fc.boolean(),
    noValue: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('keys' as const), hashKey: multiHashKeyArb, sortKeys: fc.array(sortKeyArb, { minLength: 1, maxLength: 4 }) }),
  fc.record({ kind: fc.constant('scan' as const), hashKey: multiHashKeyArb, batchSize: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('batchGet' as const), keys: fc.array(fc.tuple(hashKeyArb, sortKeyArb), { minLength: 1, maxLength: 3 }) }),
);

type Step =
  | { kind: 'mutation'; writes: WriteRequest[]; advanceMs: number }
  | { kind: 'read'; read: Read }
  | { kind: 'flush'; replica: 0 | 1 }
  | { kind: 'env'; defaultTtl: number }
  | { kind: 'advance'; ms: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('mutation' as const), writes: fc.array(writeArb, { minLength: 1, maxLength: 3 }), advanceMs: fc.integer({ min: 0, max: 2500 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('read' as const), read: readArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const), replica: fc.constantFrom(0 as const, 1 as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('env' as const), defaultTtl: fc.constantFrom(0, 4) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 4000 }) }) },
);

// ---- The model ----

interface Cell {
  value: string;
  expireTs: number;
}

function parseInt64(text: string): bigint | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  return value >= INT64_MIN && value <= INT64_MAX ? value : undefined;
}

class Model {
  readonly cells = new Map<string, Map<string, Cell>>();

  private row(hashKey: string): Map<string, Cell> {
    let row = this.cells.get(hashKey);
    if (row === undefined) this.cells.set(hashKey, (row = new Map()));
    return row;
  }

  live(hashKey: string, sortKey: string, now: number): Cell | undefined {
    const cell = this.cells.get(hashKey)?.get(sortKey);
    if (cell === undefined || (cell.expireTs > 0 && cell.expireTs <= now)) return undefined;
    return cell;
  }

  /** Live sort keys of a hash key, ascending by bytes. */
  liveKeys(hashKey: string, now: number): string[] {
    const row = this.cells.get(hashKey);
    if (row === undefined) return [];
    return [...row.keys()].filter((k) => this.live(hashKey, k, now) !== undefined).sort((x, y) => Buffer.compare(b(x), b(y)));
  }

  /** Applies one client write the primary accepted, at `now` with `defaultTtl`; returns a summary of the response. */
  apply(write: WriteRequest, now: number, defaultTtl: number): string {
    const put = (hashKey: string, sortKey: string, value: string, expireTs: number) => {
      this.row(hashKey).set(sortKey, { value, expireTs: expireTs === 0 && defaultTtl > 0 ? now + defaultTtl : expireTs });
    };
    const ttlToTs = (ttl: number) => (ttl === 0 ? 0 : now + ttl);
    switch (write.type) {
      case 'set': {
        const r = write.request;
        put(s(r.hashKey), s(r.sortKey), s(r.value), ttlToTs(r.ttlSeconds));
        return 'ok';
      }
      case 'multiSet': {
        const r = write.request;
        for (const entry of r.entries) put(s(r.hashKey), s(entry.sortKey), s(entry.value), ttlToTs(r.ttlSeconds));
        return 'ok';
      }
      case 'del':
        this.cells.get(s(write.request.hashKey))?.delete(s(write.request.sortKey));
        return 'ok';
      case 'multiDel':
        for (const key of write.request.sortKeys) this.cells.get(s(write.request.hashKey))?.delete(s(key));
        return `ok ${write.request.sortKeys.length}`;
      case 'incr': {
        const r = write.request;
        const hashKey = s(r.hashKey);
        const sortKey = s(r.sortKey);
        const cell = this.live(hashKey, sortKey, now);
        if (cell === undefined) {
          put(hashKey, sortKey, String(r.increment), r.ttlSeconds > 0 ? now + r.ttlSeconds : 0);
          return `ok ${r.increment}`;
        }
        const old = cell.value === '' ? 0n : parseInt64(cell.value);
        if (old === undefined) return 'INVALID_ARGUMENT 0';
        const sum = old + r.increment;
        if (sum > INT64_MAX || sum < INT64_MIN) return `INVALID_ARGUMENT ${old}`;
        const expireTs = r.ttlSeconds === 0 ? cell.expireTs : r.ttlSeconds < 0 ? 0 : now + r.ttlSeconds;
        put(hashKey, sortKey, String(sum), expireTs);
        return `ok ${sum}`;
      }
      case 'checkAndSet':
      case 'checkAndMutate': {
        const r = write.request;
        const hashKey = s(r.hashKey);
        const cell = this.live(hashKey, s(r.checkSortKey), now);
        const returned = r.returnCheckValue ? ` returned ${cell === undefined ? '-' : JSON.stringify(cell.value)}` : '';
        const outcome = checkOutcome(r.checkType, s(r.checkOperand), cell?.value);
        if (outcome === 'invalid') return `INVALID_ARGUMENT false${returned}`;
        if (outcome === 'fail') return `ok false${returned}`;
        if (write.type === 'checkAndSet') put(hashKey, s(write.request.setSortKey), s(write.request.setValue), ttlToTs(write.request.ttlSeconds));
        else {
          for (const m of write.request.mutations) {
            if (m.op === 'set') put(hashKey, s(m.sortKey), s(m.value), ttlToTs(m.ttlSeconds));
            else this.cells.get(hashKey)?.delete(s(m.sortKey));
          }
        }
        return `ok true${returned}`;
      }
    }
  }
}

function checkOutcome(type: CheckType, operand: string, value: string | undefined): 'pass' | 'fail' | 'invalid' {
  const pass = (condition: boolean) => (condition ? 'pass' : 'fail');
  if (type === 'noCheck') return 'pass';
  if (type === 'notExist') return pass(value === undefined);
  if (type === 'notExistOrEmpty') return pass(value === undefined || value === '');
  if (type === 'exist') return pass(value !== undefined);
  if (type === 'notEmpty') return pass(value !== undefined && value !== '');
  if (value === undefined) return 'fail';
  if (type === 'matchAnywhere') return pass(value.includes(operand));
  if (type === 'matchPrefix') return pass(value.startsWith(operand));
  if (type === 'matchPostfix') return pass(value.endsWith(operand));
  if (type.startsWith('bytes')) {
    const order = Buffer.compare(b(value), b(operand));
    return pass(compare(type.slice(5), order));
  }
  const left = parseInt64(value);
  const right = parseInt64(operand);
  if (left === undefined || right === undefined) return 'invalid';
  return pass(compare(type.slice(3), left < right ? -1 : left > right ? 1 : 0));
}

function compare(relation: string, order: number): boolean {
  switch (relation) {
    case 'Less':
      return order < 0;
    case 'LessOrEqual':
      return order <= 0;
    case 'Equal':
      return order === 0;
    case 'GreaterOrEqual':
      return order >= 0;
    default:
      return order > 0;
  }
}

/** The same summary of a real response as the model gives. */
function summarize(response: WriteResponse): string {
  const r = response.response as {
    error: { code: string } | null;
    count?: number;
    newValue?: bigint;
    succeeded?: boolean;
    checkValueReturned?: boolean;
    checkValue?: Buffer | null;
  };
  const status = r.error === null ? 'ok' : r.error.code;
  switch (response.type) {
    case 'multiDel':
      return `${status} ${r.count}`;
    case 'incr':
      return `${status} ${r.newValue}`;
    case 'checkAndSet':
    case 'checkAndMutate': {
      const returned = r.checkValueReturned ? ` returned ${r.checkValue === null || r.checkValue === undefined ? '-' : JSON.stringify(s(r.checkValue))}` : '';
      return `${status} ${r.succeeded}${returned}`;
    }
    default:
      return status;
  }
}

function matchesFilter([type, pattern]: [FilterType, string], key: string): boolean {
  if (type === 'none' || pattern === '') return true;
  if (type === 'anywhere') return key.includes(pattern);
  if (type === 'prefix') return key.startsWith(pattern);
  return key.endsWith(pattern);
}

function modelRead(model: Model, read: Read, now: number): unknown {
  switch (read.kind) {
    case 'get':
      return model.live(read.hashKey, read.sortKey, now)?.value ?? null;
    case 'exist':
      return model.live(read.hashKey, read.sortKey, now) !== undefined;
    case 'ttl': {
      const cell = model.live(read.hashKey, read.sortKey, now);
      return cell === undefined ? null : cell.expireTs === 0 ? -1 : cell.expireTs - now;
    }
    case 'count':
      return model.liveKeys(read.hashKey, now).length;
    case 'range': {
      const stopInclusive = read.stop === '' ? false : read.stopInclusive;
      const keys = model.liveKeys(read.hashKey, now).filter((k) => {
        const toStart = Buffer.compare(b(k), b(read.start));
        if (toStart < 0 || (toStart === 0 && !read.startInclusive)) return false;
        if (read.stop !== '') {
          const toStop = Buffer.compare(b(k), b(read.stop));
          if (toStop > 0 || (toStop === 0 && !stopInclusive)) return false;
        }
        return matchesFilter(read.filter, k);
      });
      return { complete: true, entries: keys.map((k) => [k, read.noValue ? '' : (model.live(read.hashKey, k, now) as Cell).value]) };
    }
    case 'keys': {
      const keys = [...new Set(read.sortKeys)].sort((x, y) => Buffer.compare(b(x), b(y))).filter((k) => model.live(read.hashKey, k, now) !== undefined);
      return { complete: true, entries: keys.map((k) => [k, (model.live(read.hashKey, k, now) as Cell).value]) };
    }
    case 'scan':
      return model.liveKeys(read.hashKey, now).map((k) => [k, (model.live(read.hashKey, k, now) as Cell).value]);
    case 'batchGet':
      return read.keys.map(([hashKey, sortKey]) => model.live(hashKey, sortKey, now)?.value ?? null);
  }
}

function appRead(app: StorageApp, read: Read): unknown {
  const filterNone = { type: 'none' as const, pattern: Buffer.alloc(0) };
  switch (read.kind) {
    case 'get': {
      const value = app.get({ hashKey: b(read.hashKey), sortKey: b(read.sortKey) }).value;
      return value === null ? null : s(value);
    }
    case 'exist':
      return app.exist({ hashKey: b(read.hashKey), sortKey: b(read.sortKey) }).exists;
    case 'ttl':
      return app.ttl({ hashKey: b(read.hashKey), sortKey: b(read.sortKey) }).ttlSeconds;
    case 'count':
      return app.sortKeyCount({ hashKey: b(read.hashKey) }).count;
    case 'range':
    case 'keys': {
      const result = app.multiGet({
        hashKey: b(read.hashKey),
        sortKeys: read.kind === 'keys' ? read.sortKeys.map(b) : [],
        startSortKey: b(read.kind === 'range' ? read.start : ''),
        stopSortKey: b(read.kind === 'range' ? read.stop : ''),
        startInclusive: read.kind === 'range' ? read.startInclusive : true,
        stopInclusive: read.kind === 'range' ? read.stopInclusive : false,
        sortKeyFilter: read.kind === 'range' ? { type: read.filter[0], pattern: b(read.filter[1]) } : filterNone,
        maxCount: -1,
        maxBytes: -1,
        noValue: read.kind === 'range' && read.noValue,
        reverse: read.kind === 'range' && read.reverse,
      });
      return { complete: result.complete, entries: result.entries.map((e) => [s(e.sortKey), s(e.value)]) };
    }
    case 'scan': {
      const out: [string, string][] = [];
      let request = {
        ...hashKeyScanBounds(b(read.hashKey), Buffer.alloc(0), Buffer.alloc(0), true, false),
        hashKeyFilter: filterNone,
        sortKeyFilter: filterNone,
        batchSize: read.batchSize,
        noValue: false,
        returnExpireTs: false,
        onlyCount: false,
      };
      for (;;) {
        const response = app.scan(request);
        for (const record of response.records) out.push([s(record.sortKey), s(record.value)]);
        if (response.resumeKey === null) return out;
        request = { ...request, startKey: response.resumeKey, startInclusive: false };
      }
    }
    case 'batchGet':
      return app.batchGet({ keys: read.keys.map(([hashKey, sortKey]) => ({ hashKey: b(hashKey), sortKey: b(sortKey) })) }).values.map((v) => (v === null ? null : s(v)));
  }
}

/** Every key's value and TTL, as the app and the model see them now. */
function checkEveryKey(model: Model, app: StorageApp, clock: ManualClock): void {
  const now = Math.floor(clock.wallMs() / 1000);
  for (const hashKey of HASH_KEYS) {
    for (const sortKey of SORT_KEYS) {
      for (const kind of ['get', 'ttl'] as const) {
        const read: Read = { kind, hashKey, sortKey };
        assert.equal(appRead(app, read), modelRead(model, read, now), `${kind} ${hashKey}/${sortKey}`);
      }
    }
  }
}

function contents(engine: StorageEngine): string {
  const iterator = engine.iterator();
  const parts: string[] = [];
  for (iterator.seekToFirst(); iterator.valid(); iterator.next()) parts.push(`${iterator.key().toString('hex')}=${iterator.value().toString('hex')}`);
  iterator.close();
  return parts.join('\n');
}

test('replicas applying the same mutations hold byte-identical data, and every read agrees with the model', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(stepArb, { minLength: 20, maxLength: 80, size: 'max' }), async (steps) => {
      const clock = new ManualClock({ wallMs: Date.now() });
      // Another replica's clock: a day ahead. Applying must not notice.
      const farClock = new ManualClock({ wallMs: Date.now() + 86_400_000 });
      // No automatic compaction, and no write stall for want of it (L0 may grow as it likes here).
      const lsmOptions = { compactionExecutor: 'inline' as const, disableAutoCompaction: true, l0SlowdownTrigger: 1e9, l0StopTrigger: 1e9 };
      const primary = new StorageApp(await LsmEngine.open('/p', { vfs: new MemVfs(), memtableSizeBytes: 600, table: { blockSizeBytes: 128 }, ...lsmOptions }), { clock });
      const secondary = new StorageApp(await LsmEngine.open('/s', { vfs: new MemVfs(), memtableSizeBytes: 1 << 20, ...lsmOptions }), { clock: farClock });
      const memory = new StorageApp(new MemoryEngine({ clock }), { clock });
      const model = new Model();
      let decree = 0;
      try {
        for (const step of steps) {
          if (step.kind === 'mutation') {
            const builder = primary.newMutationBuilder();
            for (const write of step.writes) builder.add(write);
            const mutation = builder.build();
            const expected = step.writes.map((write) => model.apply(write, mutation.nowSeconds, mutation.defaultTtlSeconds));
            decree++;
            const responses = primary.apply(decree, mutation);
            assert.equal(responses.map(summarize), expected, 'responses agree with the model');
            const received = decodeMutation(encodeMutation(mutation));
            assert.equal(secondary.apply(decree, received), responses);
            assert.equal(memory.apply(decree, decodeMutation(encodeMutation(mutation))), responses);
            await primary.writable();
            await secondary.writable();
            checkEveryKey(model, primary, clock);
            clock.advance(step.advanceMs);
            farClock.advance(step.advanceMs);
          } else if (step.kind === 'read') {
            const now = Math.floor(clock.wallMs() / 1000);
            const expected = modelRead(model, step.read, now);
            assert.equal(appRead(primary, step.read), expected, `${JSON.stringify(step.read)} on the LSM`);
            assert.equal(appRead(memory, step.read), expected, `${JSON.stringify(step.read)} in memory`);
          } else if (step.kind === 'flush') {
            await (step.replica === 0 ? primary : secondary).flush();
          } else if (step.kind === 'env') {
            primary.setEnvs({ default_ttl: String(step.defaultTtl) });
          } else {
            clock.advance(step.ms);
            farClock.advance(step.ms);
          }
        }
        checkEveryKey(model, primary, clock);
        checkEveryKey(model, memory, clock);
        const primaryContents = contents(primary.engine);
        assert.is(contents(secondary.engine), primaryContents, 'the two LSMs hold the same bytes');
        assert.is(contents(memory.engine), primaryContents, 'the memory engine holds the same bytes');
        assert.is(primary.lastAppliedDecree, decree);
        assert.is(secondary.lastAppliedDecree, decree);
      } finally {
        await primary.close();
        await secondary.close();
        await memory.close();
      }
    }),
    propertyParameters(150, 1500),
  );
});

test.run();
