/**
 * Zipfian key choice as YCSB defines it (Gray et al., "Quickly generating billion-record
 * synthetic databases", SIGMOD 1994): item i (0-based) is drawn with probability proportional to
 * 1 / (i + 1)^theta, theta = 0.99 ("zipfian constant"). Item 0 is the most popular.
 *
 * `ZipfianGenerator` draws ranks over a count of items that may grow between draws (the "latest"
 * distribution needs that); zeta(n) = sum over i = 1..n of 1/i^theta is extended incrementally
 * when the count grows, as YCSB does, and recomputed when it shrinks.
 *
 * `ScrambledZipfianGenerator` is YCSB's default request distribution: it draws a rank from a
 * zipfian over 10^10 items (with YCSB's precomputed zeta for that count and theta 0.99) and
 * hashes it (FNV-1a 64) modulo the item count, so the popular items are scattered over the key
 * space instead of being the first records loaded.
 */
import type { Prng } from '@petrel/base';
import { fnv52 } from './fnv64.js';

export const ZIPFIAN_CONSTANT = 0.99;

/** zeta(n) for theta 0.99 and n = 10^10, the item count YCSB's scrambled zipfian draws from. */
const SCRAMBLED_ITEM_COUNT = 10_000_000_000;
const SCRAMBLED_ZETA = 26.46902820178302;

/** sum over i = from + 1 .. to of 1 / i^theta, added to `initial`. */
export function zeta(from: number, to: number, theta: number, initial = 0): number {
  let sum = initial;
  for (let i = from + 1; i <= to; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

export class ZipfianGenerator {
  private readonly alpha: number;
  private readonly zeta2: number;
  private readonly halfPowTheta: number;
  private zetaCount: number;
  private zetaN: number;
  private eta: number;

  /**
   * @param itemCount the number of items drawn over until `next(count)` says otherwise.
   * @param knownZeta zeta(itemCount, theta) if already known (it costs O(itemCount) to compute).
   */
  constructor(
    private readonly random: Prng,
    itemCount: number,
    readonly theta: number = ZIPFIAN_CONSTANT,
    knownZeta?: number,
  ) {
    if (!(itemCount >= 1)) throw new RangeError(`a zipfian needs at least one item, got ${itemCount}`);
    if (!(theta > 0 && theta < 1)) throw new RangeError(`zipfian theta must be in (0, 1), got ${theta}`);
    this.alpha = 1 / (1 - theta);
    this.zeta2 = zeta(0, 2, theta);
    this.halfPowTheta = Math.pow(0.5, theta);
    this.zetaCount = itemCount;
    this.zetaN = knownZeta ?? zeta(0, itemCount, theta);
    this.eta = this.etaFor(itemCount);
  }

  get itemCount(): number {
    return this.zetaCount;
  }

  /** A rank in [0, itemCount), 0 the most likely; `itemCount` defaults to the current count. */
  next(itemCount: number = this.zetaCount): number {
    if (itemCount !== this.zetaCount) this.resize(itemCount);
    const u = this.random.next();
    const uz = u * this.zetaN;
    if (uz < 1) return 0;
    if (uz < 1 + this.halfPowTheta) return 1;
    const rank = Math.floor(itemCount * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    // Rounding at the far tail can reach itemCount itself; it belongs to the last item.
    return rank < itemCount ? rank : itemCount - 1;
  }

  private resize(itemCount: number): void {
    if (!(itemCount >= 1)) throw new RangeError(`a zipfian needs at least one item, got ${itemCount}`);
    this.zetaN = itemCount > this.zetaCount ? zeta(this.zetaCount, itemCount, this.theta, this.zetaN) : zeta(0, itemCount, this.theta);
    this.zetaCount = itemCount;
    this.eta = this.etaFor(itemCount);
  }

  private etaFor(itemCount: number): number {
    // With one or two items the closed form divides by zero; those draws never reach it.
    if (itemCount <= 2) return 0;
    return (1 - Math.pow(2 / itemCount, 1 - this.theta)) / (1 - this.zeta2 / this.zetaN);
  }
}

export class ScrambledZipfianGenerator {
  private readonly ranks: ZipfianGenerator;

  constructor(
    random: Prng,
    readonly itemCount: number,
  ) {
    if (!(itemCount >= 1)) throw new RangeError(`a zipfian needs at least one item, got ${itemCount}`);
    this.ranks = new ZipfianGenerator(random, SCRAMBLED_ITEM_COUNT, ZIPFIAN_CONSTANT, SCRAMBLED_ZETA);
  }

  /** An item in [0, itemCount). */
  next(): number {
    return fnv52(this.ranks.next()) % this.itemCount;
  }
}
