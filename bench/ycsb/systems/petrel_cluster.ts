/**
 * Petrel as a system under test: a real cluster on 127.0.0.1 — one meta server and three
 * replica servers, each its own process (`petrel meta`, `petrel replica`, started through
 * @petrel/cli's startChild), data under the run's directory — and a table `ycsb` with replica
 * count 3 (8 partitions unless told otherwise). Writes are acknowledged once every replica has
 * appended them to its mutation log with fsync group commit, Petrel's only durability mode.
 *
 * With a profile directory, replica server 1 runs under `node --cpu-prof`; it writes its profile
 * when it stops (SIGTERM makes it exit normally), which the runner then reads.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildServer, startChild } from '@petrel/cli';
import { PetrelClient } from '@petrel/client';
import type { PetrelAdapterOptions } from '../adapters/petrel.js';
import { flagsFromEnv } from '../env_flags.js';
import { freePorts } from '../free_port.js';
import { guardChild, stopChild } from '../process_guard.js';
import type { RunningSystem, StartOptions, SystemUnderTest } from './system.js';

export const REPLICA_SERVERS = 3;
export const REPLICA_COUNT = 3;
export const TABLE = 'ycsb';
const READY_TIMEOUT_MS = 60_000;
/**
 * Node flags for every replica server, from PETREL_BENCH_SERVER_NODE_FLAGS (space-separated), for
 * looking inside a run: `--perf-basic-prof` (symbols for `perf record -p`), `--trace-gc`. What
 * they print joins the servers' other lines, of which the bench keeps the last 40 (shown when
 * the cluster fails to start) and prints those that mention an error or a warning.
 */
const EXTRA_NODE_FLAGS = flagsFromEnv('PETREL_BENCH_SERVER_NODE_FLAGS');
/**
 * `petrel replica` flags for every replica server, from PETREL_BENCH_REPLICA_FLAGS
 * (space-separated), for comparing settings: `--background-nice 0` runs compactions and flushes
 * at the requests' priority.
 */
const EXTRA_REPLICA_FLAGS = flagsFromEnv('PETREL_BENCH_REPLICA_FLAGS');
/** A profiled server writes its profile while exiting; give it longer than the usual 5 s. */
const PROFILED_STOP_GRACE_MS = 60_000;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} not ready after ${ms} ms`)), ms);
    }),
  ]);
}

export class PetrelSystem implements SystemUnderTest {
  readonly name = 'petrel';

  async unavailableReason(): Promise<string | null> {
    return null;
  }

  async start(options: StartOptions): Promise<RunningSystem> {
    const [metaPort, ...replicaPorts] = await freePorts(1 + REPLICA_SERVERS);
    const metaAddress = `127.0.0.1:${metaPort!}`;
    const recent: string[] = [];
    const log = (line: string): void => {
      recent.push(line);
      if (recent.length > 40) recent.shift();
      // Servers log little at the default level; warnings and errors are worth seeing live.
      if (/error|warn|fail|exception/i.test(line)) options.log(`  petrel ${line}`);
    };
    const children: ChildServer[] = [];
    // A directory of this run's own, so that the main thread's file is easy to tell.
    const profileDir = options.profileDir === null ? null : mkdtempSync(join(options.profileDir, `petrel-${new Date().toISOString().replace(/[:.]/g, '-')}-`));
    let profiled: { name: string; file: string } | null = null;
    let primaries = '';
    /** Each child's /metrics port, in the order of `children`. */
    let httpPorts: (number | null)[] = [];
    const stop = async (): Promise<void> => {
      await Promise.all(children.map((child) => stopChild(child.process, profiled !== null && child.name === profiled.name ? PROFILED_STOP_GRACE_MS : 5000)));
      if (profiled !== null && profileDir !== null) {
        // Node names each thread's profile CPU.<date>.<time>.<pid>.<thread id>.<n>.cpuprofile;
        // the main thread is thread 0 (worker threads and the module loader write their own).
        const main = readdirSync(profileDir).find((file) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(file));
        if (main !== undefined) profiled.file = join(profileDir, main);
      }
    };
    try {
      const meta = startChild('meta', ['meta', '--listen', metaAddress, '--data-dir', join(options.dataDir, 'meta'), '--http-port', '0'], log);
      guardChild(meta.process);
      children.push(meta);
      await withTimeout(meta.ready, READY_TIMEOUT_MS, 'the meta server');
      for (let i = 0; i < REPLICA_SERVERS; i++) {
        const name = `replica${i + 1}`;
        const args = ['replica', '--listen', `127.0.0.1:${replicaPorts[i]!}`, '--meta', metaAddress, '--data-dir', join(options.dataDir, name), '--http-port', '0', ...EXTRA_REPLICA_FLAGS];
        let child: ChildServer;
        if (i === 0 && profileDir !== null) {
          child = startChild(name, args, log, ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, ...EXTRA_NODE_FLAGS]);
          profiled = { name, file: '' };
        } else {
          child = startChild(name, args, log, EXTRA_NODE_FLAGS);
        }
        guardChild(child.process);
        children.push(child);
      }
      httpPorts = (await withTimeout(Promise.all(children.map((child) => child.ready)), READY_TIMEOUT_MS, 'the replica servers')).map((ready) => ready.httpPort);
      const client = new PetrelClient({ metaServers: [metaAddress], timeoutMs: READY_TIMEOUT_MS });
      try {
        // A replica server says it is ready when it serves, which can be before the meta has
        // heard from it; a table created then gets its primaries only on the servers the meta
        // knows (all 8 on one server was seen). So wait until the meta lists all of them alive.
        const deadline = performance.now() + READY_TIMEOUT_MS;
        for (;;) {
          const alive = (await client.admin.listNodes()).filter((node) => node.alive).length;
          if (alive >= REPLICA_SERVERS) break;
          if (performance.now() > deadline) throw new Error(`the meta sees ${alive} of ${REPLICA_SERVERS} replica servers alive after ${READY_TIMEOUT_MS} ms`);
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        // Resolves once every partition has a primary and replicaCount - 1 secondaries.
        await client.admin.createTable(TABLE, { partitionCount: options.partitionCount, replicaCount: REPLICA_COUNT });
        // Reads go to primaries only, and the meta does not move primaries to balance them: say
        // where they are, since a server with more of them does more of the work.
        const info = await client.admin.tableInfo(TABLE);
        const names = new Map(replicaPorts.map((port, i) => [`127.0.0.1:${port}`, `replica${i + 1}`]));
        const counts = new Map<string, number>([...names.values()].map((name) => [name, 0]));
        for (const partition of info.partitions) {
          const name = partition.primary === null ? 'none' : (names.get(partition.primary) ?? partition.primary);
          counts.set(name, (counts.get(name) ?? 0) + 1);
        }
        primaries = [...counts.entries()].map(([name, count]) => `${name} ${count}`).join(', ');
      } finally {
        await client.close();
      }
    } catch (error) {
      await stop();
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\nlast server log lines:\n${recent.join('\n')}`);
    }
    let stopping = false;
    for (const child of children) {
      child.process.once('exit', (code, signal) => {
        if (!stopping) options.log(`  petrel: ${child.name} exited (${signal ?? code}) during the run`);
      });
    }
    const adapterOptions: PetrelAdapterOptions = { metaServers: [metaAddress], table: TABLE, timeoutMs: 10_000 };
    return {
      description: `petrel 0.1.0; 1 meta + ${REPLICA_SERVERS} replica servers (processes); table ${TABLE}: ${options.partitionCount} partitions, replica count ${REPLICA_COUNT}; mutation log with fsync group commit on every replica; primaries: ${primaries}`,
      adapter: { module: new URL('../adapters/petrel.ts', import.meta.url).href, options: { ...adapterOptions } },
      servers: children.map((child, i) => {
        const httpPort = httpPorts[i];
        return { name: child.name, pid: child.process.pid ?? 0, ...(httpPort == null ? {} : { metricsUrl: `http://127.0.0.1:${httpPort}/metrics` }) };
      }),
      get profiled() {
        return profiled;
      },
      stop: async () => {
        stopping = true;
        await stop();
      },
    };
  }
}
