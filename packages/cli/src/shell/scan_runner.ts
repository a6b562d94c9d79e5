/**
 * The engine of the shell's table-wide commands (full_scan, count_data, copy_data, clear_data):
 * one scanner per partition (the client's unorderedScanners with one split per partition, so
 * scanner i reads partition i), read by a few workers at once, every wait raced with Ctrl-C.
 * On interruption or failure every scanner is closed; what the handler did until then stays done.
 */
import type { Record_, ScanOptions, Scanner, Table } from '@petrel/client';
import type { ShellContext } from './context.js';
import { ShellError } from './errors.js';

export interface ScanPlan {
  /** Partitions to read; all when absent. */
  partitions?: readonly number[];
  /** Partitions read at once (default 1: in partition order, as full_scan prints them). */
  concurrency?: number;
  options: ScanOptions;
  /** Stops reading (without error) once this returns true; checked after each record. */
  stop?: () => boolean;
}

export interface ScanState {
  partitionsDone: number;
  partitionsTotal: number;
  records: number;
}

/** Value filters are applied here, in the shell: the servers filter hash and sort keys only. */
export type ValueFilterType = 'anywhere' | 'prefix' | 'postfix' | 'exact';

export function valueMatches(value: Buffer, type: ValueFilterType, pattern: Buffer): boolean {
  switch (type) {
    case 'anywhere':
      return value.includes(pattern);
    case 'prefix':
      return value.length >= pattern.length && value.subarray(0, pattern.length).equals(pattern);
    case 'postfix':
      return value.length >= pattern.length && value.subarray(value.length - pattern.length).equals(pattern);
    case 'exact':
      return value.equals(pattern);
  }
}

export function checkPartition(table: Table, partition: number | undefined): readonly number[] | undefined {
  if (partition === undefined) return undefined;
  if (partition >= table.partitionCount) throw new ShellError('USAGE', `table ${table.name} has partitions 0 to ${table.partitionCount - 1}, not ${partition}`);
  return [partition];
}

/**
 * Reads the planned partitions, calling `onRecord` for each record and `onPartitionDone` after
 * each partition (both awaited, so a handler that writes applies back-pressure). Returns whether it
 * read everything (false when `stop` ended it early).
 */
export async function scanTable(
  context: ShellContext,
  table: Table,
  plan: ScanPlan,
  onRecord: (record: Record_, partition: number) => void | Promise<void>,
  onPartitionDone?: (partition: number, state: ScanState) => void | Promise<void>,
): Promise<{ complete: boolean; state: ScanState }> {
  const partitions = plan.partitions ?? Array.from({ length: table.partitionCount }, (_, index) => index);
  const scanners: Scanner[] = table.unorderedScanners(table.partitionCount, plan.options);
  const state: ScanState = { partitionsDone: 0, partitionsTotal: partitions.length, records: 0 };
  let next = 0;
  let stopped = false;
  let failed = false;

  const worker = async (): Promise<void> => {
    while (!stopped && !failed && next < partitions.length) {
      const partition = partitions[next++]!;
      const scanner = scanners[partition]!;
      const iterator = scanner[Symbol.asyncIterator]();
      for (;;) {
        const step = await context.race(iterator.next());
        if (step.done === true) break;
        state.records++;
        await onRecord(step.value, partition);
        if (plan.stop?.() === true) {
          stopped = true;
          break;
        }
        context.checkInterrupted();
        if (failed) return;
      }
      if (stopped) break;
      state.partitionsDone++;
      await onPartitionDone?.(partition, state);
    }
  };

  try {
    const guarded = (): Promise<void> =>
      worker().catch((error: unknown) => {
        failed = true;
        throw error;
      });
    const workers = Array.from({ length: Math.max(1, Math.min(plan.concurrency ?? 1, partitions.length)) }, guarded);
    const results = await Promise.allSettled(workers);
    const rejected = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (rejected !== undefined) throw rejected.reason;
  } finally {
    await Promise.all(scanners.map((scanner) => scanner.close().catch(() => undefined)));
  }
  return { complete: !stopped, state };
}
