/**
 * A log-linear latency histogram in the manner of HdrHistogram: bounded relative error at any
 * magnitude, constant-time recording, no allocation per value, and mergeable across processes.
 *
 * Values are non-negative integers (latencies are recorded in nanoseconds). With `precisionBits`
 * = k, values below 2^(k+1) have a bucket each (exact); a value v >= 2^(k+1) with highest set bit
 * e falls in a bucket of width 2^(e-k), one of the 2^k buckets that split [2^e, 2^(e+1)). The
 * bucket index of v is
 *
 *     v < 2^k:  v
 *     v >= 2^k: (e - k + 1) * 2^k + (floor(v / 2^(e-k)) - 2^k)
 *
 * which is continuous at 2^k. A bucket's width is at most 2^-k of its lowest value, and a
 * percentile is reported as the middle of its bucket (clamped to the exact min and max), so the
 * reported value is within 2^-(k+1) of the exact one, relative to it: 0.4% with the default k = 7.
 *
 * Percentiles use the nearest-rank definition: the p-th percentile of n values is the value of
 * rank ceil(p / 100 * n) (at least 1) in ascending order.
 */

const TWO_TO_32 = 4294967296;
/** The largest value recordable exactly as a double integer. */
const MAX_VALUE = Number.MAX_SAFE_INTEGER;

export interface HistogramSnapshot {
  precisionBits: number;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Sparse bucket counts: [index, count, index, count, ...]. */
  buckets: number[];
}

/** The 1-based rank of the p-th percentile of `count` values (nearest rank). */
export function percentileRank(percentile: number, count: number): number {
  // The epsilon keeps 99.9% of 1000 at rank 999 despite 99.9 / 100 * 1000 = 999.0000000000001.
  const rank = Math.ceil((percentile / 100) * count - 1e-9);
  return rank < 1 ? 1 : rank > count ? count : rank;
}

function highestBit(value: number): number {
  if (value < TWO_TO_32) return 31 - Math.clz32(value);
  return 63 - Math.clz32(Math.floor(value / TWO_TO_32));
}

export class Histogram {
  private readonly counts: Float64Array;
  private readonly subBucketCount: number;
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  constructor(readonly precisionBits = 7) {
    if (!Number.isInteger(precisionBits) || precisionBits < 1 || precisionBits > 16) {
      throw new RangeError(`precisionBits must be an integer in [1, 16], got ${precisionBits}`);
    }
    this.subBucketCount = 2 ** precisionBits;
    this.counts = new Float64Array(this.indexOf(MAX_VALUE) + 1);
  }

  /** Records `value` (rounded to an integer; negative values count as 0) `times` times. */
  record(value: number, times = 1): void {
    let v = Math.round(value);
    if (!(v >= 0)) v = 0;
    else if (v > MAX_VALUE) v = MAX_VALUE;
    this.counts[this.indexOf(v)]! += times;
    this.count += times;
    this.sum += v * times;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  get mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }

  /** The p-th percentile (p in [0, 100]); NaN when empty. */
  percentile(percentile: number): number {
    if (this.count === 0) return NaN;
    if (!(percentile >= 0 && percentile <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${percentile}`);
    const rank = percentileRank(percentile, this.count);
    if (rank === this.count) return this.max;
    let seen = 0;
    for (let index = 0; index < this.counts.length; index++) {
      seen += this.counts[index]!;
      if (seen >= rank) {
        const low = this.lowestValueAt(index);
        const middle = low + Math.floor((this.widthAt(index) - 1) / 2);
        return Math.min(this.max, Math.max(this.min, middle));
      }
    }
    return this.max;
  }

  /** Adds every value recorded in `other` (which must have the same precision). */
  merge(other: Histogram | HistogramSnapshot): void {
    if (other.precisionBits !== this.precisionBits) throw new RangeError('cannot merge histograms of different precision');
    if (other.count === 0) return;
    if (other instanceof Histogram) {
      for (let i = 0; i < other.counts.length; i++) if (other.counts[i] !== 0) this.counts[i]! += other.counts[i]!;
    } else {
      for (let i = 0; i < other.buckets.length; i += 2) this.counts[other.buckets[i]!]! += other.buckets[i + 1]!;
    }
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.min = Infinity;
    this.max = -Infinity;
  }

  /** A compact, JSON-safe copy (for sending between processes). */
  snapshot(): HistogramSnapshot {
    const buckets: number[] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i] !== 0) buckets.push(i, this.counts[i]!);
    return { precisionBits: this.precisionBits, count: this.count, sum: this.sum, min: this.min, max: this.max, buckets };
  }

  static fromSnapshot(snapshot: HistogramSnapshot): Histogram {
    const histogram = new Histogram(snapshot.precisionBits);
    histogram.merge(snapshot);
    return histogram;
  }

  private indexOf(value: number): number {
    if (value < this.subBucketCount) return value;
    const shift = highestBit(value) - this.precisionBits;
    const subBucket = Math.floor(value / 2 ** shift);
    return (shift + 1) * this.subBucketCount + (subBucket - this.subBucketCount);
  }

  private lowestValueAt(index: number): number {
    if (index < this.subBucketCount) return index;
    const shift = Math.floor(index / this.subBucketCount) - 1;
    const subBucket = (index % this.subBucketCount) + this.subBucketCount;
    return subBucket * 2 ** shift;
  }

  private widthAt(index: number): number {
    return index < this.subBucketCount ? 1 : 2 ** (Math.floor(index / this.subBucketCount) - 1);
  }
}
