/**
 * Which records one client worker may read, and the key numbers of the records it inserts.
 *
 * Records 0 .. recordCount-1 are loaded before any workload runs. During workloads D and E each
 * of W workers inserts records of its own — worker w's j-th insert is record number
 * recordCount + w + W*j — so workers never insert the same key and need no coordination.
 *
 * A worker draws the records it touches from a local index space [0, count): indexes below
 * recordCount are the loaded records, the ones above are its own inserts, in insertion order.
 * `count` only covers inserts that have been acknowledged and every insert before them (YCSB's
 * "acknowledged counter"), so a read never asks for a record that may not exist yet, and
 * "latest" (the highest index) is the newest record this worker knows to be stored.
 */
import { assert } from '@petrel/base';

/** The most inserts that may be outstanding at once (bounded by in-flight requests). */
const WINDOW = 1 << 16;

export class KeySequence {
  private issuedInserts = 0;
  private acknowledgedInserts = 0;
  private readonly acknowledged = new Uint8Array(WINDOW);

  constructor(
    readonly recordCount: number,
    readonly workerIndex: number,
    readonly workerCount: number,
  ) {
    assert(recordCount >= 1 && workerIndex >= 0 && workerIndex < workerCount, 'bad key sequence parameters');
  }

  /** How many local indexes may be read: loaded records plus contiguously acknowledged inserts. */
  get count(): number {
    return this.recordCount + this.acknowledgedInserts;
  }

  /** The record number behind local index `index`. */
  keyNumberAt(index: number): number {
    if (index < this.recordCount) return index;
    return this.recordCount + this.workerIndex + this.workerCount * (index - this.recordCount);
  }

  /** Starts an insert: returns its local insert number (pass it to `acknowledge`). */
  nextInsert(): number {
    assert(this.issuedInserts - this.acknowledgedInserts < WINDOW, 'too many inserts outstanding');
    return this.issuedInserts++;
  }

  /** The record number of local insert `insert`. */
  insertKeyNumber(insert: number): number {
    return this.keyNumberAt(this.recordCount + insert);
  }

  /** Marks insert `insert` as stored; the readable count advances over every contiguous one. */
  acknowledge(insert: number): void {
    assert(insert >= this.acknowledgedInserts && insert < this.issuedInserts, 'acknowledging an insert that is not outstanding');
    this.acknowledged[insert % WINDOW] = 1;
    while (this.acknowledgedInserts < this.issuedInserts && this.acknowledged[this.acknowledgedInserts % WINDOW] === 1) {
      this.acknowledged[this.acknowledgedInserts % WINDOW] = 0;
      this.acknowledgedInserts++;
    }
  }

  /**
   * Forgets an insert that failed: it counts as acknowledged so later ones can become readable
   * (a read of it may then miss, and is counted as "not found").
   */
  abandon(insert: number): void {
    this.acknowledge(insert);
  }
}
