/**
 * Decimal int64s as incr and the int* checks read and write them: an optional sign, then one or
 * more decimal digits, nothing else (no spaces, no hex); the value must fit in a signed 64-bit
 * integer. An empty value does not parse.
 */

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;

/** The int64 in `bytes`, or undefined when it is not one. */
export function parseInt64(bytes: Uint8Array): bigint | undefined {
  const length = bytes.length;
  if (length === 0) return undefined;
  let index = 0;
  const sign = bytes[0];
  if (sign === 0x2b || sign === 0x2d) index = 1;
  if (index === length) return undefined;
  // Leading zeros do not count toward the 19 digits an int64 can have.
  let firstDigit = index;
  for (let i = index; i < length; i++) {
    const byte = bytes[i] as number;
    if (byte < 0x30 || byte > 0x39) return undefined;
    if (byte === 0x30 && firstDigit === i && i < length - 1) firstDigit = i + 1;
  }
  if (length - firstDigit > 19) return undefined;
  let value = 0n;
  for (let i = firstDigit; i < length; i++) value = value * 10n + BigInt((bytes[i] as number) - 0x30);
  if (sign === 0x2d) value = -value;
  return value >= INT64_MIN && value <= INT64_MAX ? value : undefined;
}

export function isInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}
