/**
 * A bloom filter over the user keys of one SSTable: `bitsPerKey` bits a key (default 10, about
 * 1% false positives), k = round(bitsPerKey × ln 2) probes by double hashing the two halves of
 * the key's xxh64.
 *
 * Filter block contents: the bit array (⌈bits / 8⌉ bytes), then u8 k.
 */
import { xxh64 } from '@petrel/base';

export function hashForFilter(userKey: Uint8Array): bigint {
  return xxh64(userKey);
}

export class BloomBuilder {
  private readonly hashes: bigint[] = [];

  constructor(private readonly bitsPerKey: number) {}

  add(userKey: Uint8Array): void {
    this.hashes.push(hashForFilter(userKey));
  }

  finish(): Buffer {
    const probes = Math.max(1, Math.min(30, Math.round(this.bitsPerKey * 0.69)));
    const bits = Math.max(64, this.hashes.length * this.bitsPerKey);
    const bytes = Math.ceil(bits / 8);
    const filter = Buffer.alloc(bytes + 1);
    const totalBits = bytes * 8;
    for (const hash of this.hashes) {
      let h1 = Number(hash & 0xffffffffn);
      const h2 = Number(hash >> 32n) | 1;
      for (let i = 0; i < probes; i++) {
        const bit = h1 % totalBits;
        filter[bit >>> 3] = (filter[bit >>> 3] as number) | (1 << (bit & 7));
        h1 = (h1 + h2) >>> 0;
      }
    }
    filter[bytes] = probes;
    return filter;
  }
}

/** False when the key is certainly absent. */
export function bloomMayContain(filter: Buffer, hash: bigint): boolean {
  const bytes = filter.length - 1;
  if (bytes <= 0) return true;
  const probes = filter[bytes] as number;
  const totalBits = bytes * 8;
  let h1 = Number(hash & 0xffffffffn);
  const h2 = Number(hash >> 32n) | 1;
  for (let i = 0; i < probes; i++) {
    const bit = h1 % totalBits;
    if (((filter[bit >>> 3] as number) & (1 << (bit & 7))) === 0) return false;
    h1 = (h1 + h2) >>> 0;
  }
  return true;
}
