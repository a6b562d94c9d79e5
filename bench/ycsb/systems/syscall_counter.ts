/**
 * Counts the system calls that say where a write's time goes — fdatasync/fsync (durability),
 * pwrite64 (log appends), write/writev/read (sockets, pipes, eventfds) — made by the server
 * processes during a phase, with Linux `perf stat` on their syscall tracepoints (`--syscalls`;
 * needs `perf` and permission to trace, e.g. root). perf counts every thread of each process,
 * including the thread pool where Node runs fdatasync.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { guardChild, stopChild } from '../process_guard.js';
import { findExecutable } from './executables.js';

export const SYSCALLS = ['fdatasync', 'fsync', 'pwrite64', 'write', 'writev', 'read'] as const;
export type SyscallCounts = Record<(typeof SYSCALLS)[number], number>;

export function perfBinary(): string | null {
  return findExecutable('perf', process.env.PERF_BINARY);
}

/**
 * Parses `perf stat -x ,` output: one line per event, `count,unit,event,...`; "<not counted>"
 * or "<not supported>" in place of a count makes the whole result null.
 */
export function parsePerfStat(output: string): SyscallCounts | null {
  const counts: Partial<SyscallCounts> = {};
  for (const line of output.split('\n')) {
    const fields = line.split(',');
    const event = /syscalls:sys_enter_(\w+)/.exec(fields[2] ?? '')?.[1];
    if (event === undefined || !(SYSCALLS as readonly string[]).includes(event)) continue;
    const count = Number(fields[0]);
    if (!Number.isFinite(count)) return null;
    counts[event as keyof SyscallCounts] = count;
  }
  return SYSCALLS.every((name) => counts[name] !== undefined) ? (counts as SyscallCounts) : null;
}

export class SyscallCounter {
  private output = '';

  private constructor(private readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stdout!.resume();
  }

  /** Starts counting for `pids`, or returns null when perf is not there. */
  static start(pids: readonly number[]): SyscallCounter | null {
    const perf = perfBinary();
    if (perf === null || pids.length === 0) return null;
    const events = SYSCALLS.map((name) => `syscalls:sys_enter_${name}`).join(',');
    const child = spawn(perf, ['stat', '-x', ',', '-e', events, '-p', pids.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] });
    guardChild(child);
    return new SyscallCounter(child);
  }

  /** Stops counting (perf prints its counts on SIGINT); null when perf failed. */
  async stop(): Promise<SyscallCounts | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGINT');
      const timer = setTimeout(() => void stopChild(this.child, 0), 5000);
      await exited;
      clearTimeout(timer);
    }
    return parsePerfStat(this.output);
  }
}
