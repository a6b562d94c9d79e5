/**
 * Chooses the record an operation touches, as a local index of a worker's KeySequence, by the
 * workload's request distribution:
 *
 *   uniform  every readable record equally likely
 *   zipfian  YCSB's scrambled zipfian over recordCount + expected inserts items; a draw past the
 *            readable count is drawn again (as YCSB does), so popular items stay popular as the
 *            record count grows
 *   latest   the newest readable record most likely (SkewedLatestGenerator)
 */
import type { Prng } from '@petrel/base';
import { SkewedLatestGenerator } from './latest.js';
import type { RequestDistribution } from './workload.js';
import { ScrambledZipfianGenerator } from './zipfian.js';

export interface KeyChooser {
  /** An index in [0, count). */
  next(count: number): number;
}

export function makeKeyChooser(distribution: RequestDistribution, random: Prng, initialCount: number, expectedInserts: number): KeyChooser {
  switch (distribution) {
    case 'uniform':
      return { next: (count) => random.int(count) };
    case 'zipfian': {
      const items = new ScrambledZipfianGenerator(random, initialCount + Math.max(0, expectedInserts));
      return {
        next(count) {
          // Bounded: with count >= 1 the chance that 64 draws all miss is negligible, and the
          // fallback keeps the distribution's support.
          for (let attempt = 0; attempt < 64; attempt++) {
            const item = items.next();
            if (item < count) return item;
          }
          return random.int(count);
        },
      };
    }
    case 'latest': {
      const latest = new SkewedLatestGenerator(random, initialCount);
      return { next: (count) => latest.next(count) };
    }
  }
}
