/**
 * One run of bench:server-gc (bench/server_gc.ts starts it as a child process, with
 * PETREL_FRAME_BUFFERS set for it and for every server it starts): a meta server and three replica
 * servers as processes, each replica server under `--trace-gc`; a table of 8 partitions with
 * replica count 3 loaded with `records` values of 1 KiB; then `seconds` of reads, 64 in flight,
 * keys skewed towards the first records (a cube of a uniform number). Prints one JSON line:
 * reads/s, the replica servers' CPU per read, and their major collections.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type ChildServer, freePort, startChild, stopChildren } from '@petrel/cli';
import { PetrelClient } from '@petrel/client';
import { processCpuMs } from '../ycsb/systems/process_cpu.js';

const [records, seconds] = [Number(process.argv[2] ?? 30_000), Number(process.argv[3] ?? 10)];
const IN_FLIGHT = 64;
const REPLICA_SERVERS = 3;
const dir = mkdtempSync(join(import.meta.dirname, '..', '..', '.tmp', 'server-gc-'));
let measuring = false;
const majorGcs = new Map<string, number>();
const log = (line: string): void => {
  const name = /^\[(\w+)\]/.exec(line)?.[1];
  if (measuring && name !== undefined && line.includes('Mark-Compact')) majorGcs.set(name, (majorGcs.get(name) ?? 0) + 1);
};
/** CPU milliseconds a server has used so far (processCpuMs; a server that is gone reads as 0). */
const cpuMs = (server: ChildServer): number => processCpuMs(server.process.pid!) ?? 0;

const children: ChildServer[] = [];
try {
  const metaAddress = `127.0.0.1:${await freePort()}`;
  children.push(startChild('meta', ['meta', '--listen', metaAddress, '--data-dir', join(dir, 'meta')], log));
  await children[0]!.ready;
  const replicas: ChildServer[] = [];
  for (let i = 1; i <= REPLICA_SERVERS; i++) {
    const args = ['replica', '--listen', `127.0.0.1:${await freePort()}`, '--meta', metaAddress, '--data-dir', join(dir, `replica${i}`)];
    replicas.push(startChild(`replica${i}`, args, log, ['--trace-gc']));
  }
  children.push(...replicas);
  await Promise.all(replicas.map((replica) => replica.ready));
  const client = new PetrelClient({ metaServers: [metaAddress], timeoutMs: 60_000 });
  try {
    while ((await client.admin.listNodes()).filter((node) => node.alive).length < REPLICA_SERVERS) await new Promise((resolve) => setTimeout(resolve, 100));
    await client.admin.createTable('gc', { partitionCount: 8, replicaCount: REPLICA_SERVERS });
    const table = await client.openTable('gc');
    const value = Buffer.alloc(1024, 7);
    let next = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (next < records) {
        const i = next++;
        await table.set(`h${i % 256}`, `s${i}`, value);
      }
    }));
    const before = replicas.map(cpuMs);
    measuring = true;
    const started = performance.now();
    const end = started + seconds * 1000;
    let reads = 0;
    await Promise.all(Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        const i = Math.floor(Math.random() ** 3 * records);
        if ((await table.get(`h${i % 256}`, `s${i}`)) === undefined) throw new Error(`record ${i} missing`);
        reads++;
      }
    }));
    const elapsed = (performance.now() - started) / 1000;
    measuring = false;
    const usedMs = replicas.reduce((total, replica, i) => total + cpuMs(replica) - before[i]!, 0);
    const gcs = replicas.map((replica) => majorGcs.get(replica.name) ?? 0);
    console.log(JSON.stringify({ readsPerSec: reads / elapsed, serverCpuMicrosPerRead: (usedMs * 1000) / reads, majorGcsPerSec: gcs.reduce((a, b) => a + b, 0) / elapsed, majorGcsByServer: gcs }));
  } finally {
    await client.close();
  }
} finally {
  await stopChildren(children);
  rmSync(dir, { recursive: true, force: true });
}
