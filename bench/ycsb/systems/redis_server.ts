/**
 * Redis as a peer: one `redis-server` on 127.0.0.1 on a free port, data in the run's directory,
 * durability as a careful Redis user would configure it — the append-only file on (`appendonly
 * yes`) fsynced once a second (`appendfsync everysec`, so up to a second of acknowledged writes
 * can be lost on power failure) and RDB snapshots off (`save ""`), so no fork-and-dump lands in
 * the middle of a measurement. Binary: REDIS_SERVER, or `redis-server` on PATH; client: ioredis.
 */
import { spawn } from 'node:child_process';
import { freePorts } from '../free_port.js';
import { guardChild, stopChild } from '../process_guard.js';
import type { RedisAdapterOptions } from '../adapters/redis.js';
import { findExecutable, hasPackage, versionOf } from './executables.js';
import type { RunningSystem, StartOptions, SystemUnderTest } from './system.js';

const READY_TIMEOUT_MS = 10_000;

export class RedisSystem implements SystemUnderTest {
  readonly name = 'redis';

  private binary(): string | null {
    return findExecutable('redis-server', process.env.REDIS_SERVER);
  }

  async unavailableReason(): Promise<string | null> {
    if (this.binary() === null) return 'redis-server not found (install Debian package redis-server, or set REDIS_SERVER)';
    if (!(await hasPackage('ioredis'))) return 'npm package ioredis not installed';
    return null;
  }

  async start(options: StartOptions): Promise<RunningSystem> {
    const binary = this.binary();
    if (binary === null) throw new Error('redis-server not found');
    const [port] = await freePorts(1);
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', options.dataDir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no', '--logfile', '', '--loglevel', 'notice'];
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    guardChild(child);
    let log = '';
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready after ${READY_TIMEOUT_MS} ms:\n${log}`)), READY_TIMEOUT_MS);
      const onData = (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}) before it was ready:\n${log}`));
      });
    });
    try {
      await ready;
    } catch (error) {
      await stopChild(child);
      throw error;
    }
    // Keep draining its output so a full pipe never blocks the server.
    child.stdout!.removeAllListeners('data').resume();
    child.stderr!.removeAllListeners('data').resume();
    const adapterOptions: RedisAdapterOptions = { host: '127.0.0.1', port: port! };
    return {
      description: `${versionOf(binary)}; 1 server; appendonly yes, appendfsync everysec, RDB off`,
      adapter: { module: new URL('../adapters/redis.ts', import.meta.url).href, options: { ...adapterOptions } },
      servers: [{ name: 'redis-server', pid: child.pid ?? 0 }],
      profiled: null,
      stop: () => stopChild(child),
    };
  }
}
