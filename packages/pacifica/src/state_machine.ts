/**
 * ReplicaApp: the state machine a replica applies committed mutations to. The cores never call
 * it — they emit `apply`, `read`, `takeCheckpoint` and `restore` effects, and the driver calls
 * the app — so any app can be plugged in: the storage app over the LSM in a replica server, a
 * small in-memory key-value machine in the simulator.
 *
 * Contract:
 * - `apply(decree, writes)` is called for decrees 1, 2, 3, ... in order, each exactly once per
 *   opening (after a restart, from the restored checkpoint's decree + 1). It must be
 *   deterministic: two replicas that applied the same mutations are in the same state. It returns
 *   one response per write (what the client is answered).
 * - `read(request)` answers from the state as of the last apply, synchronously.
 * - `checkpoint()` captures the state at `lastAppliedDecree()`; `restore(checkpoint)` replaces
 *   the state with one. Both may be asynchronous; the driver keeps effects in order around them.
 */
import type { Checkpoint } from './types.js';

export interface ReplicaApp {
  lastAppliedDecree(): number;
  apply(decree: number, writes: readonly Uint8Array[]): readonly Uint8Array[] | Promise<readonly Uint8Array[]>;
  read(request: Uint8Array): Uint8Array;
  checkpoint(): Checkpoint | Promise<Checkpoint>;
  restore(checkpoint: Checkpoint): void | Promise<void>;
}
