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
 * way fills are chosen (each engine's faster of two APIs) and the read loops' time slices
 * (bench/README.md says why). The event loop's longest stall is measured with
 * perf_hooks.monitorEventLoopDelay during each engine's runs.
 *
 *   npm run bench:engine [-- --quick]
 */
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { initChecksum } from '@petrel/base';
import { ClassicLevelEngine, loadClassicLevel } from './lib/classic_level_engine.js';
import { calibrateFill, type EngineUnderTest, fill, makeWorkload } from './lib/engine_workloads.js';
import { PetrelEngine } from './lib/petrel_engine.js';
import { quick, report, round, table } from './lib/report.js';

const COUNT = quick ? 100_000 : 1_000_000;
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

interface EngineResult {
  opsPerSec: Record<WorkloadName, number>;
  writeAmplification: number | undefined;
  dbBytes: number;
  maxStallMs: number;
  /** The worst stall of each phase (workloads, opens, closes), to find where a stall comes from. */
  stallByPhase: Record<string, number>;
}

async function runEngine(engine: EngineUnderTest, workload: ReturnType<typeof makeWorkload>): Promise<EngineResult> {
  const opsPerSec = {} as Record<WorkloadName, number>;
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const stallByPhase: Record<string, number> = {};
  let worst = 0;
  const phase = async (name: string, action: () => Promise<unknown>) => {
    histogram.reset();
    await action();
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
  return { opsPerSec, writeAmplification, dbBytes, maxStallMs: worst, stallByPhase };
}

await initChecksum();
rmSync(root, { recursive: true, force: true });
console.log(`bench:engine — ${COUNT.toLocaleString('en-US')} operations a workload, 16-byte keys, 100-byte values, in ${root}`);
const workload = makeWorkload(COUNT);
const petrelEngine = new PetrelEngine();
console.log(`Petrel fill API: ${await calibrateFill(petrelEngine, join(root, 'petrel-calibrate'), workload.shuffled.slice(0, 50_000), workload.values)}`);
const petrel = await runEngine(petrelEngine, workload);
const classicLevel = await loadClassicLevel();
let leveldb: EngineResult | undefined;
if (classicLevel === undefined) {
  console.log('classic-level is not installed (it is an optional dev dependency of bench/): LevelDB is skipped, no ratios.');
} else {
  const engine = new ClassicLevelEngine(classicLevel);
  const calibration = await calibrateFill(engine, join(root, 'leveldb-calibrate'), workload.shuffled.slice(0, 50_000), workload.values);
  console.log(`LevelDB fill API: ${calibration}`);
  leveldb = await runEngine(engine, workload);
}
rmSync(root, { recursive: true, force: true });

const ratios: Record<string, number | null> = {};
const rows = WORKLOADS.map((name) => {
  const ratio = leveldb === undefined ? null : petrel.opsPerSec[name] / leveldb.opsPerSec[name];
  ratios[name] = ratio === null ? null : round(ratio);
  return [name, petrel.opsPerSec[name], leveldb?.opsPerSec[name] ?? '-', ratio ?? '-'];
});
console.log(table(['workload', 'petrel ops/s', 'leveldb ops/s', 'petrel / leveldb'], rows));
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
  writeAmplification: petrel.writeAmplification === undefined ? null : round(petrel.writeAmplification),
  dbBytes: { petrel: petrel.dbBytes, leveldb: leveldb?.dbBytes ?? null },
  maxEventLoopStallMs: round(petrel.maxStallMs, 1),
  stallByPhaseMs: petrel.stallByPhase,
});
