/**
 * bench/app.ts — the cost of the storage app's semantic layer: the partition state machine over
 * the LSM (external-log mode) vs the same LSM used raw, in one run, on one disk.
 *
 *   apply  raw: one WriteBatch with one put of a prepared key and 100-byte value, written with
 *          the next decree; app: `apply(decree, mutation)` of a one-`set` mutation (stored-key
 *          and stored-value encoding, validation, the response). Each side awaits the engine's
 *          write-stall promise after every write.
 *   get    raw: `db.get(key)` of random existing keys; app: `get({ hashKey, sortKey })` of the
 *          same keys (key encoding, expiry check, value view).
 *
 * Memtables are large enough that no flush or write stall happens while applying: the apply
 * figures compare the write paths themselves, not the luck of which side met a flush. Both
 * databases are then flushed and compacted, and the gets read SSTables through the block cache.
 * The two sides run in alternating chunks. Mutations are built before timing (the primary builds
 * them; that cost is measured on its own as `buildPerSec`). Ratios are app ÷ raw; the target is
 * ≥ 0.8.
 *
 *   npm run bench:app [-- --quick]
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ManualClock, Prng, initChecksum, nodeVfs } from '@petrel/base';
import { Db, WriteBatch } from '@petrel/lsm';
import { type Mutation, encodeStoredKey } from '@petrel/protocol';
import { LsmEngine, MutationBuilder, StorageApp } from '@petrel/replica';
import { quick, report, round, table } from './lib/report.js';

const RECORDS = quick ? 200_000 : 1_000_000;
const GETS = quick ? 400_000 : 1_000_000;
const CHUNK = 5_000;
const VALUE_BYTES = 100;
const root = join(import.meta.dirname, '..', '.tmp', `bench-app-${process.pid}`);
mkdirSync(root, { recursive: true });

await initChecksum();
const prng = new Prng(42);
const hashKeys: Buffer[] = [];
const sortKeys: Buffer[] = [];
const storedKeys: Buffer[] = [];
const values: Buffer[] = [];
for (let i = 0; i < RECORDS; i++) {
  // Random order, like a hashed workload: user ids spread over the key space.
  const id = prng.nextUint32().toString(16).padStart(8, '0') + String(i).padStart(7, '0');
  hashKeys.push(Buffer.from(`user${id}`));
  sortKeys.push(Buffer.from('field0'));
  storedKeys.push(encodeStoredKey(hashKeys[i] as Buffer, sortKeys[i] as Buffer));
  values.push(prng.bytes(VALUE_BYTES));
}

const memtableSizeBytes = 1024 * 2 ** 20;
const ROUNDS = 3;
const clock = new ManualClock({ wallMs: Date.now() });

function mutationsFor(from: number, to: number): Mutation[] {
  const mutations: Mutation[] = [];
  for (let i = from; i < to; i++) {
    const builder = new MutationBuilder(clock);
    builder.add({ type: 'set', request: { hashKey: hashKeys[i] as Buffer, sortKey: sortKeys[i] as Buffer, value: values[i] as Buffer, ttlSeconds: 0 } });
    mutations.push(builder.build());
  }
  return mutations;
}

async function rawApply(raw: Db, from: number, to: number): Promise<number> {
  const started = performance.now();
  for (let i = from; i < to; i++) {
    await raw.write(new WriteBatch().put(storedKeys[i] as Buffer, values[i] as Buffer), { decree: i + 1 });
  }
  return performance.now() - started;
}

async function appApply(app: StorageApp, from: number, mutations: Mutation[]): Promise<number> {
  const started = performance.now();
  for (let j = 0; j < mutations.length; j++) {
    app.apply(from + j + 1, mutations[j] as Mutation);
    await app.writable();
  }
  return performance.now() - started;
}

// ---- apply ----
// Several rounds into fresh databases; the median round counts (the machine is shared, and a
// major GC landing on one side moves a single round by tens of percent).
console.log(`bench:app — ${RECORDS.toLocaleString('en-US')} records of ${VALUE_BYTES} bytes (${ROUNDS} rounds), ${GETS.toLocaleString('en-US')} gets, in ${root}`);
interface ApplyRound {
  rawPerSec: number;
  appPerSec: number;
  buildPerSec: number;
  stalls: number;
}
const rounds: ApplyRound[] = [];
let raw: Db | undefined;
let engine: LsmEngine | undefined;
let app: StorageApp | undefined;
for (let round = 0; round < ROUNDS; round++) {
  if (raw !== undefined) await raw.close();
  if (app !== undefined) await app.close();
  rmSync(join(root, 'raw'), { recursive: true, force: true });
  rmSync(join(root, 'app'), { recursive: true, force: true });
  raw = await Db.open(join(root, 'raw'), { vfs: nodeVfs, mode: 'external-log', memtableSizeBytes });
  engine = await LsmEngine.open(join(root, 'app'), { vfs: nodeVfs, memtableSizeBytes });
  app = new StorageApp(engine, { clock });
  let rawMs = 0;
  let appMs = 0;
  let buildMs = 0;
  for (let from = 0; from < RECORDS; from += CHUNK) {
    const to = Math.min(RECORDS, from + CHUNK);
    const buildStarted = performance.now();
    const mutations = mutationsFor(from, to);
    buildMs += performance.now() - buildStarted;
    // Alternate which side goes first.
    if ((from / CHUNK) % 2 === 0) {
      rawMs += await rawApply(raw, from, to);
      appMs += await appApply(app, from, mutations);
    } else {
      appMs += await appApply(app, from, mutations);
      rawMs += await rawApply(raw, from, to);
    }
  }
  const stalls = raw.stats().writeStalls + raw.stats().writeSlowdowns + engine.db.stats().writeStalls + engine.db.stats().writeSlowdowns;
  rounds.push({ rawPerSec: (RECORDS / rawMs) * 1000, appPerSec: (RECORDS / appMs) * 1000, buildPerSec: (RECORDS / buildMs) * 1000, stalls });
  console.log(`  round ${round + 1}: raw ${Math.round((RECORDS / rawMs) * 1000).toLocaleString('en-US')}/s, app ${Math.round((RECORDS / appMs) * 1000).toLocaleString('en-US')}/s`);
}
const median = rounds.slice().sort((x, y) => x.appPerSec / x.rawPerSec - y.appPerSec / y.rawPerSec)[Math.floor(ROUNDS / 2)] as ApplyRound;
if (raw === undefined || engine === undefined || app === undefined) throw new Error('no round ran');
// The last round's databases serve the gets.
const rawDb: Db = raw;
const appUnderTest: StorageApp = app;
for (const db of [rawDb, engine.db]) {
  await db.flush();
  await db.waitForCompactions();
}

// ---- get ----
const order: number[] = [];
for (let i = 0; i < GETS; i++) order.push(prng.int(RECORDS));
let rawGetMs = 0;
let appGetMs = 0;
let checksum = 0;
function rawGets(from: number, to: number): number {
  const started = performance.now();
  for (let i = from; i < to; i++) checksum += (rawDb.get(storedKeys[order[i] as number] as Buffer) as Buffer).length;
  return performance.now() - started;
}
function appGets(from: number, to: number): number {
  const started = performance.now();
  for (let i = from; i < to; i++) {
    const index = order[i] as number;
    checksum += (appUnderTest.get({ hashKey: hashKeys[index] as Buffer, sortKey: sortKeys[index] as Buffer }).value as Buffer).length;
  }
  return performance.now() - started;
}
// A warm-up pass over both, untimed, so neither side pays for the first block reads alone.
rawGets(0, Math.min(GETS, 20_000));
appGets(0, Math.min(GETS, 20_000));
for (let from = 0; from < GETS; from += CHUNK * 2) {
  const to = Math.min(GETS, from + CHUNK * 2);
  if ((from / (CHUNK * 2)) % 2 === 0) {
    rawGetMs += rawGets(from, to);
    appGetMs += appGets(from, to);
  } else {
    appGetMs += appGets(from, to);
    rawGetMs += rawGets(from, to);
  }
}
if (checksum !== (GETS + Math.min(GETS, 20_000)) * 2 * VALUE_BYTES) throw new Error(`a get returned the wrong value (checksum ${checksum})`);

await rawDb.close();
await appUnderTest.close();
rmSync(root, { recursive: true, force: true });

const rawApplyPerSec = median.rawPerSec;
const appApplyPerSec = median.appPerSec;
const rawGetPerSec = (GETS / rawGetMs) * 1000;
const appGetPerSec = (GETS / appGetMs) * 1000;
const buildPerSec = median.buildPerSec;
console.log(
  table(
    ['operation', 'raw LSM ops/s', 'app ops/s', 'app / raw'],
    [
      ['apply (one set per decree; median round)', rawApplyPerSec, appApplyPerSec, appApplyPerSec / rawApplyPerSec],
      ['get (random existing keys)', rawGetPerSec, appGetPerSec, appGetPerSec / rawGetPerSec],
    ],
  ),
);
console.log(`mutation building on the primary (validation, TTL resolution): ${Math.round(buildPerSec).toLocaleString('en-US')} writes/s`);

report('app', {
  records: RECORDS,
  gets: GETS,
  valueBytes: VALUE_BYTES,
  rawApplyPerSec: round(rawApplyPerSec, 1),
  appApplyPerSec: round(appApplyPerSec, 1),
  rawGetPerSec: round(rawGetPerSec, 1),
  appGetPerSec: round(appGetPerSec, 1),
  buildPerSec: round(buildPerSec, 1),
  applyRounds: rounds.map((r) => round(r.appPerSec / r.rawPerSec)),
  writeStallsDuringApply: median.stalls,
  applyRatio: round(appApplyPerSec / rawApplyPerSec),
  getRatio: round(appGetPerSec / rawGetPerSec),
});
