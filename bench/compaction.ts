/**
 * bench/compaction.ts — how fast the LSM's compaction moves data, against the floor of moving the
 * same bytes without merging them.
 *
 * Setup (untimed): a database with automatic compaction off is filled with N random keys
 * (16-byte keys, 100-byte values, batches of 1,000), compacted into L1, then filled with 0.8·N more
 * random keys, which stay as L0 files over that L1. That database is saved.
 *
 *   (a) floor: every table file of the saved database read in 1 MiB windows and written to a new
 *       file with one fsync each — the bytes a compaction must read and write, with no merge.
 *   (b) compactRange() of a fresh copy of the saved database: L0 runs merged with L1 into L1, then
 *       L1 into L2, in the compaction worker (`compactionMiBPerSec` = MiB read ÷ seconds).
 *
 * Each is run --rounds times (3; 2 with --quick), alternating; the medians are reported with their
 * ratio. N is 600,000 (150,000 with --quick).
 *
 *   npm run bench:compaction [-- --quick]
 */
import { closeSync, cpSync, fsyncSync, mkdirSync, openSync, readSync, readdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Prng, initChecksum, nodeVfs } from '@petrel/base';
import { BlockCache, Db, WriteBatch } from '@petrel/lsm';
import { keyOf } from './lib/engine_workloads.js';
import { median, quick, report, round, table } from './lib/report.js';

const N = quick ? 150_000 : 600_000;
const ROUNDS = quick ? 2 : 3;
const root = join(import.meta.dirname, '..', '.tmp', `bench-compaction-${process.pid}`);
const saved = join(root, 'saved');
const MiB = 2 ** 20;

function open(dir: string): Promise<Db> {
  // No automatic compaction, so no L0 limit stops the fills (a stop would wait for a manual one).
  return Db.open(dir, { vfs: nodeVfs, durability: 'os', disableAutoCompaction: true, l0SlowdownTrigger: 1000, l0StopTrigger: 1000, blockCache: new BlockCache(0) });
}

async function build(): Promise<{ l0Files: number; deeperFiles: number; bytes: number }> {
  const rng = new Prng(11);
  const values = Array.from({ length: 1000 }, () => rng.bytes(100));
  const db = await open(saved);
  const fill = async (count: number) => {
    for (let start = 0; start < count; start += 1000) {
      const batch = new WriteBatch();
      for (let i = 0; i < 1000; i++) batch.put(keyOf(rng.int(N)), values[i] as Buffer);
      await db.write(batch);
    }
    await db.flush();
  };
  await fill(N);
  await db.compactRange();
  await fill(Math.round(N * 0.8));
  const levels = db.stats().levels;
  await db.close();
  const bytes = tableFiles(saved).reduce((sum, path) => sum + statSync(path).size, 0);
  return { l0Files: levels[0]?.files ?? 0, deeperFiles: levels.slice(1).reduce((sum, level) => sum + level.files, 0), bytes };
}

function tableFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.sst'))
    .map((name) => join(dir, name));
}

/** (a): each table read in 1 MiB windows and written to a new file, fsync'd. Returns MiB/s read. */
function copyFloor(): number {
  const target = join(root, 'copy');
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const buffer = Buffer.allocUnsafe(MiB);
  let bytes = 0;
  const started = performance.now();
  for (const path of tableFiles(saved)) {
    const input = openSync(path, 'r');
    const output = openSync(join(target, `${bytes}.copy`), 'w');
    for (let at = 0; ; ) {
      const read = readSync(input, buffer, 0, buffer.length, at);
      if (read === 0) break;
      writeSync(output, buffer, 0, read, at);
      at += read;
      bytes += read;
    }
    fsyncSync(output);
    closeSync(output);
    closeSync(input);
  }
  const seconds = (performance.now() - started) / 1000;
  rmSync(target, { recursive: true, force: true });
  return bytes / MiB / seconds;
}

/** (b): compactRange of a copy of the saved database. Returns MiB read per second and the MiB read. */
async function compaction(): Promise<{ mibPerSec: number; mibRead: number }> {
  const work = join(root, 'work');
  rmSync(work, { recursive: true, force: true });
  cpSync(saved, work, { recursive: true });
  const db = await open(work);
  const before = db.stats().bytesCompactedRead;
  const started = performance.now();
  await db.compactRange();
  const seconds = (performance.now() - started) / 1000;
  const mibRead = (db.stats().bytesCompactedRead - before) / MiB;
  await db.close();
  rmSync(work, { recursive: true, force: true });
  return { mibPerSec: mibRead / seconds, mibRead };
}

await initChecksum();
rmSync(root, { recursive: true, force: true });
console.log(`bench:compaction — ${N.toLocaleString('en-US')} + ${Math.round(N * 0.8).toLocaleString('en-US')} random writes (16-byte keys, 100-byte values), ${ROUNDS} rounds, in ${root}`);
const shape = await build();
console.log(`database: ${shape.l0Files} L0 files over ${shape.deeperFiles} deeper files, ${(shape.bytes / MiB).toFixed(1)} MiB of tables`);
const floors: number[] = [];
const compactions: number[] = [];
let mibRead = 0;
// A first compaction warms the worker's code and the page cache; it is not counted.
await compaction();
for (let turn = 1; turn <= ROUNDS; turn++) {
  floors.push(copyFloor());
  const result = await compaction();
  compactions.push(result.mibPerSec);
  mibRead = result.mibRead;
  console.log(`round ${turn}: copy ${floors.at(-1)!.toFixed(1)} MiB/s, compaction ${result.mibPerSec.toFixed(1)} MiB/s (${result.mibRead.toFixed(1)} MiB read)`);
}
rmSync(root, { recursive: true, force: true });
const floor = median(floors);
const merged = median(compactions);
console.log(
  table(
    ['what', 'MiB/s (median)', 'each round'],
    [
      ['(a) copy the table files (read + write + fsync)', floor, floors.map((v) => v.toFixed(1)).join(' ')],
      ['(b) compactRange (merge, filter, rebuild tables)', merged, compactions.map((v) => v.toFixed(1)).join(' ')],
    ],
  ),
);
console.log(`compaction / copy: ${(merged / floor).toFixed(3)}`);
report('compaction', {
  records: N,
  rounds: ROUNDS,
  database: shape,
  compactionMiBRead: round(mibRead, 1),
  copyMiBPerSec: round(floor, 1),
  compactionMiBPerSec: round(merged, 1),
  ratios: { compactionVsCopy: round(merged / floor) },
  eachRound: { copy: floors.map((v) => round(v, 1)), compaction: compactions.map((v) => round(v, 1)) },
});
