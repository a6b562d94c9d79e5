/**
 * FNV-1a, 64-bit, over the eight little-endian bytes of a key number: the hash YCSB uses to turn
 * a key number into a key ("hashed" insert order) and to scatter the popular items of its
 * scrambled zipfian distribution over the key space. JavaScript numbers cannot hold a 64-bit
 * product, so the state is kept as two unsigned 32-bit halves; every intermediate product stays
 * below 2^53 and is therefore exact.
 */

const OFFSET_BASIS_HIGH = 0xcbf29ce4;
const OFFSET_BASIS_LOW = 0x84222325;
/** The FNV 64-bit prime is 2^40 + 0x1b3: multiplying by it is `x * 0x1b3 + (x << 40)`. */
const PRIME_LOW = 0x1b3;
const TWO_TO_32 = 4294967296;

/** The two halves of the last hash; reused so hashing allocates nothing. */
export const fnvState = { high: 0, low: 0 };

/** Hashes `value` (a non-negative safe integer) into `fnvState`. */
export function fnv64(value: number): void {
  let high = OFFSET_BASIS_HIGH;
  let low = OFFSET_BASIS_LOW;
  let valueLow = value >>> 0;
  let valueHigh = Math.floor(value / TWO_TO_32) >>> 0;
  for (let i = 0; i < 8; i++) {
    const octet = i < 4 ? valueLow & 0xff : valueHigh & 0xff;
    if (i < 4) valueLow >>>= 8;
    else valueHigh >>>= 8;
    low = (low ^ octet) >>> 0;
    const lowProduct = low * PRIME_LOW; // < 2^41: exact
    const carry = Math.floor(lowProduct / TWO_TO_32);
    high = (Math.imul(high, PRIME_LOW) + carry + ((low << 8) >>> 0)) >>> 0;
    low = lowProduct >>> 0;
  }
  fnvState.high = high;
  fnvState.low = low;
}

/** The hash as a non-negative integer below 2^52 (its low 52 bits), exact in a double. */
export function fnv52(value: number): number {
  fnv64(value);
  return (fnvState.high & 0xfffff) * TWO_TO_32 + fnvState.low;
}

/** The hash as 16 lowercase hexadecimal digits. */
export function fnv64Hex(value: number): string {
  fnv64(value);
  return fnvState.high.toString(16).padStart(8, '0') + fnvState.low.toString(16).padStart(8, '0');
}
