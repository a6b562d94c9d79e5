/**
 * The command line of bench/cluster.ts (`npm run bench:cluster -- --help`).
 *
 *   --systems petrel,redis,etcd   systems to run (default: every one that is available)
 *   --workloads A,B,C,D,E,F       workloads, in order
 *   --records N                   records loaded before the workloads
 *   --operations N                operations per workload (all clients); overrides --duration
 *   --duration S                  seconds per workload
 *   --value-size BYTES            value size (default 1024)
 *   --clients N                   client worker processes
 *   --in-flight N                 requests outstanding per client
 *   --distribution zipfian|uniform  key choice (workload D always uses "latest")
 *   --hash-key-digits N           hex digits of the key in the hash key (default 2: 256 hash keys)
 *   --target OPS                  run every workload at this fixed total throughput
 *   --at-peak-fraction F          after each workload, run it again at F × its measured throughput
 *   --slo-p99 MS                  then search for the highest rate whose p99 (from due) is at
 *                                 most MS, up to 6 runs a workload (ycsb/slo_search.ts)
 *   --partitions N                Petrel: partitions of the table (default 8)
 *   --seed N                      seed of every random choice
 *   --data-dir PATH               where the servers' temporary data directories go
 *   --profile [DIR]               CPU-profile Petrel's replica server 1 (node --cpu-prof); the
 *                                 .cpuprofile stays in DIR (default .tmp/ycsb-profile) and the
 *                                 top functions of each phase are printed
 *   --syscalls                    count the servers' fdatasync/pwrite64/write/writev/read calls
 *                                 in each phase (Linux perf, as root)
 *   --name NAME                   results go to bench/results/NAME.json and NAME.html (default
 *                                 cluster)
 *   --no-progress                 no progress bar
 *   --quick                       small defaults that finish within a minute
 */
import { join } from 'node:path';
import { PetrelError } from '@petrel/base';
import type { RunOptions } from './runner.js';
import { SYSTEMS } from './systems/registry.js';
import { WORKLOADS } from './workload.js';

export interface CommandLine {
  systems: string[] | null;
  /** The results' file name (bench/results/<name>.json and .html) and the BENCH line's name. */
  name: string;
  run: RunOptions;
}

export const HELP = `options: --systems a,b --workloads A,B,... --records N --operations N | --duration S
  --value-size BYTES --clients N --in-flight N --distribution zipfian|uniform --hash-key-digits N
  --target OPS --at-peak-fraction F --slo-p99 MS --partitions N --seed N --data-dir PATH --profile [DIR]
  --syscalls --name NAME --no-progress --quick
systems: ${Object.keys(SYSTEMS).join(', ')} (default: petrel, redis, etcd)`;

const REPOSITORY = join(import.meta.dirname, '..', '..');

function positiveNumber(flag: string, text: string | undefined, allowZero = false): number {
  const value = Number(text);
  if (text === undefined || !Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) throw new PetrelError('INVALID_ARGUMENT', `${flag} needs a ${allowZero ? 'non-negative' : 'positive'} number, got ${text}`);
  return value;
}

export function parseCommandLine(argv: string[], defaults: RunOptions): CommandLine {
  const run: RunOptions = { ...defaults };
  let systems: string[] | null = null;
  let name = 'cluster';
  let operationsGiven = false;
  let durationGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const next = argv[++i];
      if (next === undefined) throw new PetrelError('INVALID_ARGUMENT', `${flag} needs a value`);
      return next;
    };
    switch (flag) {
      case '--quick':
        break; // read by lib/report.ts; the caller chose the defaults accordingly
      case '--systems':
        systems = value().split(',').filter(Boolean);
        for (const system of systems) if (SYSTEMS[system] === undefined) throw new PetrelError('INVALID_ARGUMENT', `unknown system ${system}: expected some of ${Object.keys(SYSTEMS).join(', ')}`);
        break;
      case '--workloads':
        run.workloads = value().toUpperCase().split(',').filter(Boolean);
        for (const letter of run.workloads) if (WORKLOADS[letter] === undefined) throw new PetrelError('INVALID_ARGUMENT', `unknown workload ${letter}`);
        break;
      case '--records':
        run.recordCount = Math.floor(positiveNumber(flag, value()));
        break;
      case '--operations':
        run.operationCount = Math.floor(positiveNumber(flag, value()));
        operationsGiven = true;
        break;
      case '--duration':
        run.durationSec = positiveNumber(flag, value());
        durationGiven = true;
        break;
      case '--value-size':
        run.valueSizeBytes = Math.floor(positiveNumber(flag, value(), true));
        break;
      case '--clients':
        run.clients = Math.floor(positiveNumber(flag, value()));
        break;
      case '--in-flight':
        run.inFlight = Math.floor(positiveNumber(flag, value()));
        break;
      case '--distribution': {
        const distribution = value();
        if (distribution !== 'zipfian' && distribution !== 'uniform') throw new PetrelError('INVALID_ARGUMENT', `--distribution must be zipfian or uniform, got ${distribution}`);
        run.distribution = distribution;
        break;
      }
      case '--hash-key-digits':
        run.hashKeyDigits = Math.floor(positiveNumber(flag, value(), true));
        break;
      case '--target':
        run.targetOpsPerSec = positiveNumber(flag, value());
        break;
      case '--at-peak-fraction':
        run.fractionOfPeak = positiveNumber(flag, value(), true);
        if (run.fractionOfPeak > 1) throw new PetrelError('INVALID_ARGUMENT', '--at-peak-fraction must be at most 1');
        break;
      case '--slo-p99':
        run.sloP99Ms = positiveNumber(flag, value(), true);
        break;
      case '--partitions':
        run.partitionCount = Math.floor(positiveNumber(flag, value()));
        break;
      case '--profile': {
        const next = argv[i + 1];
        run.profileDir = next !== undefined && !next.startsWith('--') ? (i++, next) : join(REPOSITORY, '.tmp', 'ycsb-profile');
        break;
      }
      case '--seed':
        run.seed = Math.floor(positiveNumber(flag, value(), true));
        break;
      case '--data-dir':
        run.dataRoot = value();
        break;
      case '--syscalls':
        run.syscalls = true;
        break;
      case '--name':
        name = value();
        if (!/^[\w.-]+$/.test(name)) throw new PetrelError('INVALID_ARGUMENT', `--name must be a plain file name, got ${name}`);
        break;
      case '--no-progress':
        run.progress = false;
        break;
      default:
        throw new PetrelError('INVALID_ARGUMENT', `unknown option ${flag}\n${HELP}`);
    }
  }
  if (durationGiven && !operationsGiven) run.operationCount = 0;
  return { systems, name, run };
}

/** The defaults: a minute-long run with --quick, a thorough one without. */
export function defaultRunOptions(quick: boolean): RunOptions {
  return {
    workloads: quick ? ['A', 'B', 'C', 'F'] : ['A', 'B', 'C', 'F', 'D', 'E'],
    distribution: 'zipfian',
    recordCount: quick ? 5_000 : 100_000,
    operationCount: 0,
    durationSec: quick ? 1.5 : 15,
    valueSizeBytes: 1024,
    clients: 2,
    inFlight: 32,
    hashKeyDigits: 2,
    seed: 1,
    targetOpsPerSec: 0,
    fractionOfPeak: quick ? 0 : 0.5,
    sloP99Ms: 0,
    partitionCount: 8,
    dataRoot: join(REPOSITORY, '.tmp'),
    profileDir: null,
    syscalls: false,
    settleMaxSec: quick ? 3 : 60,
    progress: true,
  };
}
