/**
 * etcd as a peer: a 3-member cluster on 127.0.0.1 (distinct client and peer ports, one data
 * directory each), with etcd's default durability — every Raft log entry is fsynced by a
 * majority before a write is acknowledged — and linearizable reads. Binary: ETCD_BINARY, or
 * `etcd` on PATH (Debian package etcd-server); client: the etcd3 npm package.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePorts } from '../free_port.js';
import { guardChild, stopChild } from '../process_guard.js';
import type { EtcdAdapterOptions } from '../adapters/etcd.js';
import { findExecutable, hasPackage, versionOf } from './executables.js';
import type { RunningSystem, StartOptions, SystemUnderTest } from './system.js';

const MEMBERS = 3;
const READY_TIMEOUT_MS = 30_000;

async function healthy(clientUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: string };
    return body.health === 'true';
  } catch {
    return false;
  }
}

export class EtcdSystem implements SystemUnderTest {
  readonly name = 'etcd';

  private binary(): string | null {
    return findExecutable('etcd', process.env.ETCD_BINARY);
  }

  async unavailableReason(): Promise<string | null> {
    if (this.binary() === null) return 'etcd not found (install Debian package etcd-server, or set ETCD_BINARY)';
    if (!(await hasPackage('etcd3'))) return 'npm package etcd3 not installed';
    return null;
  }

  async start(options: StartOptions): Promise<RunningSystem> {
    const binary = this.binary();
    if (binary === null) throw new Error('etcd not found');
    const ports = await freePorts(2 * MEMBERS);
    const clientUrls = ports.slice(0, MEMBERS).map((port) => `http://127.0.0.1:${port}`);
    const peerUrls = ports.slice(MEMBERS).map((port) => `http://127.0.0.1:${port}`);
    const initialCluster = peerUrls.map((url, i) => `m${i}=${url}`).join(',');
    const members: ChildProcess[] = [];
    const logs: string[] = [];
    for (let i = 0; i < MEMBERS; i++) {
      const args = [
        '--name', `m${i}`,
        '--data-dir', join(options.dataDir, `m${i}`),
        '--listen-client-urls', clientUrls[i]!,
        '--advertise-client-urls', clientUrls[i]!,
        '--listen-peer-urls', peerUrls[i]!,
        '--initial-advertise-peer-urls', peerUrls[i]!,
        '--initial-cluster', initialCluster,
        '--initial-cluster-token', `ycsb-${process.pid}`,
        '--initial-cluster-state', 'new',
        '--logger', 'zap',
        '--log-level', 'error',
      ];
      const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      guardChild(child);
      logs.push('');
      const append = (chunk: Buffer) => (logs[i] = (logs[i]! + chunk.toString()).slice(-4000));
      child.stdout!.on('data', append);
      child.stderr!.on('data', append);
      members.push(child);
    }
    const stop = async () => void (await Promise.all(members.map((member) => stopChild(member))));
    const deadline = performance.now() + READY_TIMEOUT_MS;
    for (;;) {
      const exited = members.findIndex((member) => member.exitCode !== null);
      if (exited >= 0) {
        await stop();
        throw new Error(`etcd member m${exited} exited before the cluster was ready:\n${logs[exited]}`);
      }
      if ((await Promise.all(clientUrls.map(healthy))).every(Boolean)) break;
      if (performance.now() > deadline) {
        await stop();
        throw new Error(`etcd cluster not healthy after ${READY_TIMEOUT_MS} ms:\n${logs.join('\n')}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const adapterOptions: EtcdAdapterOptions = { hosts: clientUrls };
    return {
      description: `${versionOf(binary)}; ${MEMBERS} members on 127.0.0.1; default durability (WAL fsync on a majority), linearizable reads`,
      adapter: { module: new URL('../adapters/etcd.ts', import.meta.url).href, options: { ...adapterOptions } },
      servers: members.map((member, i) => ({ name: `m${i}`, pid: member.pid ?? 0 })),
      profiled: null,
      stop,
    };
  }
}
