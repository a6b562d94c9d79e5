/**
 * The YCSB core workloads, as proportions of operations and a request distribution.
 *
 *   A  update heavy   50% read, 50% update                         zipfian
 *   B  read mostly    95% read,  5% update                         zipfian
 *   C  read only     100% read                                     zipfian
 *   D  read latest    95% read,  5% insert                         latest
 *   E  short ranges   95% scan (1..100 records), 5% insert         zipfian (start key)
 *   F  read-modify-write  50% read, 50% read-modify-write          zipfian
 *
 * Differences from YCSB's CoreWorkload, on purpose: a record is one value of `valueSizeBytes`
 * (Petrel is a key-value store; YCSB's default is ten 100-byte fields), and an update writes the
 * whole value. A read-modify-write is a read followed by an update of the same key, timed as one
 * operation, not atomic (as in YCSB).
 */

import { PetrelError } from '@petrel/base';

export const OPERATIONS = ['read', 'update', 'insert', 'scan', 'readModifyWrite'] as const;
export type Operation = (typeof OPERATIONS)[number];
export type RequestDistribution = 'zipfian' | 'uniform' | 'latest';

export interface WorkloadSpec {
  name: string;
  description: string;
  proportions: Record<Operation, number>;
  requestDistribution: RequestDistribution;
  /** Scans read a uniform 1..maxScanLength records. */
  maxScanLength: number;
}

function proportions(p: Partial<Record<Operation, number>>): Record<Operation, number> {
  return { read: p.read ?? 0, update: p.update ?? 0, insert: p.insert ?? 0, scan: p.scan ?? 0, readModifyWrite: p.readModifyWrite ?? 0 };
}

export const WORKLOADS: Readonly<Record<string, WorkloadSpec>> = {
  A: { name: 'A', description: 'update heavy: 50% read, 50% update', proportions: proportions({ read: 0.5, update: 0.5 }), requestDistribution: 'zipfian', maxScanLength: 100 },
  B: { name: 'B', description: 'read mostly: 95% read, 5% update', proportions: proportions({ read: 0.95, update: 0.05 }), requestDistribution: 'zipfian', maxScanLength: 100 },
  C: { name: 'C', description: 'read only: 100% read', proportions: proportions({ read: 1 }), requestDistribution: 'zipfian', maxScanLength: 100 },
  D: { name: 'D', description: 'read latest: 95% read, 5% insert', proportions: proportions({ read: 0.95, insert: 0.05 }), requestDistribution: 'latest', maxScanLength: 100 },
  E: { name: 'E', description: 'short ranges: 95% scan, 5% insert', proportions: proportions({ scan: 0.95, insert: 0.05 }), requestDistribution: 'zipfian', maxScanLength: 100 },
  F: { name: 'F', description: 'read-modify-write: 50% read, 50% RMW', proportions: proportions({ read: 0.5, readModifyWrite: 0.5 }), requestDistribution: 'zipfian', maxScanLength: 100 },
};

/**
 * Workload `name` (A..F), with its request distribution replaced by `distribution` when given.
 * Workload D keeps "latest" unless told otherwise: that is what it measures.
 */
export function workload(name: string, distribution?: 'zipfian' | 'uniform'): WorkloadSpec {
  const spec = WORKLOADS[name.toUpperCase()];
  if (spec === undefined) throw new PetrelError('INVALID_ARGUMENT', `unknown workload ${name}: expected one of ${Object.keys(WORKLOADS).join(', ')}`);
  if (distribution === undefined || spec.requestDistribution === 'latest') return spec;
  return { ...spec, requestDistribution: distribution };
}

/** Picks operations in the workload's proportions from a uniform draw in [0, 1). */
export class OperationChooser {
  private readonly thresholds: number[] = [];
  private readonly operations: Operation[] = [];

  constructor(spec: WorkloadSpec) {
    let total = 0;
    for (const operation of OPERATIONS) {
      const share = spec.proportions[operation];
      if (share <= 0) continue;
      total += share;
      this.thresholds.push(total);
      this.operations.push(operation);
    }
    if (this.operations.length === 0) throw new PetrelError('INVALID_ARGUMENT', `workload ${spec.name} has no operations`);
    for (let i = 0; i < this.thresholds.length; i++) this.thresholds[i]! /= total;
  }

  choose(uniform: number): Operation {
    for (let i = 0; i < this.thresholds.length - 1; i++) if (uniform < this.thresholds[i]!) return this.operations[i]!;
    return this.operations[this.operations.length - 1]!;
  }
}
