/**
 * bench/engine.ts — db_bench-style workloads against Petrel's LSM and native LevelDB
 * (classic-level, C++ through N-API) in the same invocation, on the same disk: 16-byte keys,
 * 100-byte values, N operations each (1M; 100k with --quick).
 *
 *   fillseq      write N keys in order into an empty database
 *   fillrandom   write N keys in random order into an empty database
 *   overwrite    write N random existing keys (after fillrandom)
 *   readrandom   read N random existing keys
 *   readmissing  read N keys that do not exist
 *   seekrandom   N/10 seeks to random keys, each followed by 100 nexts (ops = seeks)
 *   fillbatch    write N keys in random order in batches of 100 into an empty database
 *
 * Durability is the same on both sides: no fsync per write; so are the block cache (256 MiB), the
 * way fills are chosen (each engine's faster of two APIs), an untimed warm-up fill before each
 * engine's runs, and the read loops' time slices (bench/README.md says why). The event loop's
 * longest stall is measured with perf_hooks.monitorEventLoopDelay during each engine's runs, and
 * the process's page faults are counted in each phase.
 *
 * With `--rounds N` (default 1) both engines run every workload N times, taking turns which goes
 * first (round 1 Petrel, round 2 LevelDB, …), so that the ratio of each round compares runs made
 * minutes apart; the table shows each engine's median ops/s and the median of the rounds' ratios,
 * and the JSON every round's figures. This VM's speed drifts by up to 2× within minutes
 * (bench/README.md), so one round's ratio can be off by that much.
 *
 *   npm run bench:engine [-- --quick] [-- --rounds 3]
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { initChecksum } from '@petrel/base';
import { ClassicLevelEngine, loadClassicLevel } from './lib/classic_level_engine.js';
import { calibrateFill, type EngineUnderTest, fill, makeWorkload } from './lib/engine_workloads.js';
import { PetrelEngine } from './lib/petrel_engine.js';
import { median, quick, report, round, table } from './lib/report.js';

const COUNT = quick ? 100_000 : 1_000_000;
const ROUNDS = roundsOption();

function roundsOption(): number {
  const at = process.argv.indexOf('--rounds');
  if (at === -1) return 1;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1 || value > 20) {
    console.error(`--rounds wants a whole number from 1 to 20, not ${process.argv[at + 1] ?? 'nothing'}`);
    process.exit(2);
  }
  return value;
}

const root = join(import.meta.dirname, '..', '.tmp', `bench-engine-${process.pid}`);
const WORKLOADS = ['fillseq', 'fillrandom', 'overwrite', 'readrandom', 'readmissing', 'seekrandom', 'fillbatch'] as const;
type WorkloadName = (typeof WORKLOADS)[number];

function diskBytes(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    total += stat.isDirectory() ? diskBytes(path) : stat.size;
  }
  return total;
}

/** The process's minor page faults (every thread) while `action` ran. */
async function pageFaultsDuring(action: () => Promise<unknown>): Promise<number> {
  const before = process.resourceUsage().minorPageFault;
  await action();
  return process.resourceUsage().minorPageFault - before;
}

interface EngineResult {
  opsPerSec: Record<WorkloadName, number>;
  writeAmplification: number | undefined;
  dbBytes: number;
  maxStallMs: number;
  /** The worst stall of each phase (workloads, opens, closes), to find where a stall comes from. */
  stallByPhase: Record<string, number>;
  /**
   * Minor page faults of the whole process (every thread) in each phase: a fault on a fresh page
   * cost about 12 µs on the VM these benches ran on (bench/README.md), so they say where a
   * workload's time went when it made new memory.
   */
  pageFaultsByPhase: Record<string, number>;
}

async function runEngine(engine: EngineUnderTest, workload: ReturnType<typeof makeWorkload>): Promise<EngineResult> {
  const opsPerSec = {} as Record<WorkloadName, number>;
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const stallByPhase: Record<string, number> = {};
  const pageFaultsByPhase: Record<string, number> = {};
  let worst = 0;
  const phase = async (name: string, action: () => Promise<unknown>) => {
    histogram.reset();
    pageFaultsByPhase[name] = await pageFaultsDuring(action);
    const max = histogram.max / 1e6;
    stallByPhase[name] = Math.round(max * 10) / 10;
    worst = Math.max(worst, max);
  };
  const time = async (name: WorkloadName, ops: number, action: () => Promise<unknown>) => {
    const started = performance.now();
    await phase(name, action);
    const seconds = (performance.now() - started) / 1000;
    opsPerSec[name] = ops / seconds;
    process.stderr.write(`  ${engine.name} ${name}: ${Math.round(opsPerSec[name]).toLocaleString('en-US')} ops/s\n`);
  };
  const dir = (name: string) => join(root, `${engine.name}-${name}`);
  // Every round starts from empty databases.
  for (const name of ['seq', 'random', 'batch']) rmSync(dir(name), { recursive: true, force: true });
  histogram.enable();
  await phase('open seq', () => engine.open(dir('seq')));
  await time('fillseq', COUNT, () => fill(engine, workload.sequential, workload.values));
  await phase('close seq', () => engine.close());
  await phase('open random', () => engine.open(dir('random')));
  await time('fillrandom', COUNT, () => fill(engine, workload.shuffled, workload.values));
  await time('overwrite', COUNT, () => fill(engine, workload.reads, workload.values));
  await phase('settle', () => engine.settle());
  const writeAmplification = engine.writeAmplification();
  await time('readrandom', COUNT, async () => {
    const found = await engine.read(workload.reads);
    if (found !== COUNT) throw new Error(`${engine.name}: readrandom found ${found} of ${COUNT}`);
  });
  await time('readmissing', COUNT, async () => {
    const found = await engine.read(workload.missing);
    if (found !== 0) throw new Error(`${engine.name}: readmissing found ${found}`);
  });
  await time('seekrandom', workload.seeks.length, () => engine.seek(workload.seeks, 100));
  await phase('close random', () => engine.close());
  const dbBytes = diskBytes(dir('random'));
  await phase('open batch', () => engine.open(dir('batch')));
  await time('fillbatch', COUNT, () => engine.fillBatch(workload.shuffled, workload.values, 100));
  await phase('close batch', () => engine.close());
  histogram.disable();
  process.stderr.write(`  ${engine.name} worst event-loop stall by phase (ms): ${JSON.stringify(stallByPhase)}\n`);
  process.stderr.write(`  ${engine.name} page faults by phase: ${JSON.stringify(pageFaultsByPhase)}\n`);
  return { opsPerSec, writeAmplification, dbBytes, maxStallMs: worst, stallByPhase, pageFaultsByPhase };
}

/**
 * What one page fault on fresh memory costs here, in µs: 16 MiB newly allocated, one byte written
 * per 4 KiB page (each write faults), against writing them again (no faults). Printed with the
 * results: on a VM where this is tens of times a bare machine's, new memory is what fills pay for.
 */
function freshPageFaultMicros(): number {
  const pages = 4096;
  const memory = Buffer.allocUnsafeSlow(pages * 4096);
  const touch = (value: number): number => {
    const started = process.hrtime.bigint();
    for (let page = 0; page < pages; page++) memory[page * 4096] = value;
    return Number(process.hrtime.bigint() - started) / 1000;
  };
  const first = touch(1);
  const again = touch(2);
  return (first - again) / pages;
}

await initChecksum();
rmSync(root, { recursive: true, force: true });
const pageFaultMicros = freshPageFaultMicros();
console.log(`a page fault on fresh memory costs ${pageFaultMicros.toFixed(2)} µs here`);
console.log(`bench:engine — ${COUNT.toLocaleString('en-US')} operations a workload, 16-byte keys, 100-byte values, in ${root}`);
const workload = makeWorkload(COUNT);

interface WarmUp {
  opsPerSec: number;
  pageFaults: number;
  readPageFaults: number;
}

/**
 * An untimed fillrandom of all N keys into a throwaway database, before an engine's runs. The
 * engines share one process, and memory one engine's runs made and freed is reused by the next
 * one's allocations without a page fault; Petrel, run first, used to pay the process's first
 * touch of a few hundred MB (about 50,000 faults in fillrandom, at ~12 µs each on this VM) that
 * LevelDB then found ready. Each engine now warms up the same way, and its warm-up is printed.
 * The warm-up then reads every key once, so that the block cache's first fill is not timed either.
 */
async function warmUp(engine: EngineUnderTest, dir: string): Promise<WarmUp> {
  await engine.open(dir);
  const started = performance.now();
  const pageFaults = await pageFaultsDuring(() => fill(engine, workload.shuffled, workload.values));
  const opsPerSec = COUNT / ((performance.now() - started) / 1000);
  // Then every key read once: the block cache's first fill of fresh memory is paid here, not by
  // the first round's readrandom (54,976 faults against 4,609 in the next rounds, run 12).
  await engine.settle();
  const readPageFaults = await pageFaultsDuring(() => engine.read(workload.reads));
  await engine.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `${engine.name} warm-up (not in the results): fillrandom ${Math.round(opsPerSec).toLocaleString('en-US')} ops/s, ${pageFaults.toLocaleString('en-US')} page faults; readrandom ${readPageFaults.toLocaleString('en-US')} page faults`,
  );
  return { opsPerSec: round(opsPerSec, 0), pageFaults, readPageFaults };
}

const petrelEngine = new PetrelEngine();
console.log(`Petrel fill API: ${await calibrateFill(petrelEngine, join(root, 'petrel-calibrate'), workload.shuffled.slice(0, 50_000), workload.values)}`);
const warmUps: Record<string, WarmUp> = { petrel: await warmUp(petrelEngine, join(root, 'petrel-warm-up')) };
const classicLevel = await loadClassicLevel();
let leveldbEngine: ClassicLevelEngine | undefined;
if (classicLevel === undefined) {
  console.log('classic-level is not installed (it is an optional dev dependency of bench/): LevelDB is skipped, no ratios.');
} else {
  leveldbEngine = new ClassicLevelEngine(classicLevel);
  const calibration = await calibrateFill(leveldbEngine, join(root, 'leveldb-calibrate'), workload.shuffled.slice(0, 50_000), workload.values);
  console.log(`LevelDB fill API: ${calibration}`);
  warmUps.leveldb = await warmUp(leveldbEngine, join(root, 'leveldb-warm-up'));
}
const petrelRounds: EngineResult[] = [];
const leveldbRounds: EngineResult[] = [];
for (let turn = 1; turn <= ROUNDS; turn++) {
  if (ROUNDS > 1) console.log(`round ${turn} of ${ROUNDS}`);
  const petrelFirst = turn % 2 === 1 || leveldbEngine === undefined;
  if (petrelFirst) petrelRounds.push(await runEngine(petrelEngine, workload));
  if (leveldbEngine !== undefined) leveldbRounds.push(await runEngine(leveldbEngine, workload));
  if (!petrelFirst) petrelRounds.push(await runEngine(petrelEngine, workload));
}
rmSync(root, { recursive: true, force: true });

/** One engine's figures over the rounds: median ops/s, the worst stall, the last round's sizes. */
function summarize(rounds: EngineResult[]): EngineResult {
  const last = rounds[rounds.length - 1] as EngineResult;
  const worst = rounds.reduce((a, b) => (b.maxStallMs > a.maxStallMs ? b : a));
  const amplifications = rounds.flatMap((r) => (r.writeAmplification === undefined ? [] : [r.writeAmplification]));
  return {
    opsPerSec: Object.fromEntries(WORKLOADS.map((name) => [name, median(rounds.map((r) => r.opsPerSec[name]))])) as Record<WorkloadName, number>,
    writeAmplification: amplifications.length === 0 ? undefined : median(amplifications),
    dbBytes: last.dbBytes,
    maxStallMs: worst.maxStallMs,
    stallByPhase: worst.stallByPhase,
    pageFaultsByPhase: last.pageFaultsByPhase,
  };
}
const petrel = summarize(petrelRounds);
const leveldb = leveldbRounds.length === 0 ? undefined : summarize(leveldbRounds);

const ratios: Record<string, number | null> = {};
const roundRatios: Record<string, number[]> = {};
const rows = WORKLOADS.map((name) => {
  const each = leveldbRounds.map((l, i) => (petrelRounds[i] as EngineResult).opsPerSec[name] / l.opsPerSec[name]);
  roundRatios[name] = each.map((r) => round(r));
  const ratio = each.length === 0 ? null : median(each);
  ratios[name] = ratio === null ? null : round(ratio);
  return [name, petrel.opsPerSec[name], leveldb?.opsPerSec[name] ?? '-', ratio ?? '-', ...(ROUNDS > 1 ? [each.map((r) => r.toFixed(2)).join(' ')] : [])];
});
const medianWord = ROUNDS > 1 ? ' (median)' : '';
console.log(table(['workload', `petrel ops/s${medianWord}`, `leveldb ops/s${medianWord}`, `petrel / leveldb${medianWord}`, ...(ROUNDS > 1 ? ['each round'] : [])], rows));
console.log(
  table(
    ['engine', 'write amplification', 'db size MiB (after overwrite)', 'max event-loop stall ms'],
    [
      ['petrel', petrel.writeAmplification ?? '-', petrel.dbBytes / 2 ** 20, petrel.maxStallMs],
      ['leveldb', leveldb?.writeAmplification ?? '-', leveldb === undefined ? '-' : leveldb.dbBytes / 2 ** 20, leveldb?.maxStallMs ?? '-'],
    ],
  ),
);
report('engine', {
  operations: COUNT,
  petrel: Object.fromEntries(WORKLOADS.map((name) => [name, round(petrel.opsPerSec[name], 0)])),
  leveldb: leveldb === undefined ? null : Object.fromEntries(WORKLOADS.map((name) => [name, round(leveldb!.opsPerSec[name], 0)])),
  ratios,
  rounds: ROUNDS,
  roundRatios: ROUNDS > 1 ? roundRatios : undefined,
  roundOpsPerSec: ROUNDS > 1 ? { petrel: petrelRounds.map((r) => r.opsPerSec), leveldb: leveldbRounds.map((r) => r.opsPerSec) } : undefined,
  writeAmplification: petrel.writeAmplification === undefined ? null : round(petrel.writeAmplification),
  dbBytes: { petrel: petrel.dbBytes, leveldb: leveldb?.dbBytes ?? null },
  maxEventLoopStallMs: round(petrel.maxStallMs, 1),
  stallByPhaseMs: petrel.stallByPhase,
  freshPageFaultMicros: round(pageFaultMicros, 2),
  warmUp: warmUps,
  pageFaultsByPhase: { petrel: petrel.pageFaultsByPhase, leveldb: leveldb?.pageFaultsByPhase ?? null },
});
