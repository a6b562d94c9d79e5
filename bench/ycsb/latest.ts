/**
 * YCSB's "latest" request distribution (workload D): the most recently inserted record is the
 * most popular, and popularity falls off as a zipfian over how long ago a record was inserted.
 * Given a count of records whose last index is `count - 1`, it draws `count - 1 - rank` with
 * rank zipfian over [0, count): as records are inserted the zipfian's item count grows with them.
 */
import type { Prng } from '@petrel/base';
import { ZipfianGenerator } from './zipfian.js';

export class SkewedLatestGenerator {
  private readonly ranks: ZipfianGenerator;

  constructor(random: Prng, initialCount: number) {
    this.ranks = new ZipfianGenerator(random, initialCount);
  }

  /** An index in [0, count), `count - 1` (the latest) the most likely. */
  next(count: number): number {
    return count - 1 - this.ranks.next(count);
  }
}
