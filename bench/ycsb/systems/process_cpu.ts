/**
 * CPU time from /proc (Linux): what each server process used (user + system, all its threads),
 * and what the whole machine used. The runner reads both around each phase: on a 2-core machine
 * servers and clients share the cores with each other — and with whatever else runs there — and
 * the split tells what bounds the throughput.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** Clock ticks per second of /proc's times: USER_HZ, 100 on every Linux port in use. */
const TICKS_PER_SECOND = 100;

/** A /proc file's text, or null where it cannot be read (the process gone, not Linux). */
function readProc(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** CPU milliseconds process `pid` has used, or null where it cannot be read (gone, not Linux). */
export function processCpuMs(pid: number): number | null {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === null) return null;
  // The command name (field 2) may contain spaces; the fields after its ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const userTicks = Number(fields[11]);
  const systemTicks = Number(fields[12]);
  return ((userTicks + systemTicks) * 1000) / TICKS_PER_SECOND;
}

/**
 * Milliseconds the main thread of process `pid` has spent waiting in the run queue — ready to run,
 * no core free — from /proc/<pid>/schedstat (the process's first thread: "<ns on a core> <ns
 * waiting> <timeslices>"), or null where it cannot be read (gone, not Linux, no schedstats).
 */
export function mainThreadWaitMs(pid: number): number | null {
  const line = readProc(`/proc/${pid}/schedstat`);
  if (line === null) return null;
  const waitNs = Number(line.trim().split(' ')[1]);
  return Number.isFinite(waitNs) ? waitNs / 1e6 : null;
}

/** Busy and total CPU milliseconds of the whole machine (all cores), or null off Linux. */
export function machineCpuMs(): { busy: number; total: number } | null {
  const stat = readProc('/proc/stat');
  if (stat === null) return null;
  const line = stat.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return null;
  // user nice system idle iowait irq softirq steal ...; idle and iowait are not busy.
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: ((total - idle) * 1000) / TICKS_PER_SECOND, total: ((total * 1000) / TICKS_PER_SECOND) };
}

export function coreCount(): number {
  return cpus().length;
}
