/**
 * Binary coding: fixed-width integers (big and little endian), varints (LEB128, 7 bits a byte, low
 * group first) and length-prefixed byte strings, through a growable BufferWriter and a
 * bounds-checked BufferReader.
 *
 * 64-bit values are JavaScript numbers limited to Number.MAX_SAFE_INTEGER (2^53 - 1): decrees,
 * sequence numbers, offsets and sizes never come near it. The `...Big` variants carry full
 * 64-bit values as bigint.
 *
 * A reader never reads past its buffer: a truncated or malformed field throws a PetrelError with
 * the reader's code (CORRUPTION for files, INVALID_ARGUMENT for wire input), so hostile bytes can
 * never crash a caller with a RangeError.
 */
import { assert } from './assert.js';
import { type ErrorCode, PetrelError } from './errors.js';

const TWO_POW_32 = 4294967296;
const EMPTY = Buffer.alloc(0);

// Checks below are written `if (!ok) assert(false, `...`)`: these run once per field, and a
// template string as assert's argument would be formatted on every call, failing or not.

/** The number of bytes `value`'s varint takes. */
export function varintLength(value: number): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) assert(false, `varint of ${value}`);
  let length = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    length++;
  }
  return length;
}

/** Writes the varint of `value` at `offset`; returns the offset after it. */
export function putVarint(target: Uint8Array, offset: number, value: number): number {
  while (value >= 128) {
    target[offset++] = (value % 128) | 128;
    value = Math.floor(value / 128);
  }
  target[offset++] = value;
  return offset;
}

/**
 * `buffer` if it holds `needed` bytes, else a buffer of double (or more) the capacity holding its
 * first `used` bytes: the growth of every append-only writer here.
 */
export function grownBuffer(buffer: Buffer, used: number, needed: number): Buffer {
  if (needed <= buffer.length) return buffer;
  let capacity = Math.max(1, buffer.length) * 2;
  while (capacity < needed) capacity *= 2;
  const grown = Buffer.allocUnsafe(capacity);
  buffer.copy(grown, 0, 0, used);
  return grown;
}

export class BufferWriter {
  private buffer: Buffer;
  private position = 0;

  constructor(initialCapacity = 256) {
    this.buffer = Buffer.allocUnsafe(Math.max(16, initialCapacity));
  }

  get length(): number {
    return this.position;
  }

  /** The bytes the writer holds before it has to grow. */
  get capacity(): number {
    return this.buffer.length;
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    this.buffer = grownBuffer(this.buffer, this.position, this.position + bytes);
  }

  u8(value: number): this {
    this.reserve(1);
    this.buffer[this.position++] = value & 0xff;
    return this;
  }

  u16be(value: number): this {
    this.reserve(2);
    this.position = this.buffer.writeUInt16BE(value, this.position);
    return this;
  }

  u32be(value: number): this {
    this.reserve(4);
    this.position = this.buffer.writeUInt32BE(value >>> 0, this.position);
    return this;
  }

  u32le(value: number): this {
    this.reserve(4);
    this.position = this.buffer.writeUInt32LE(value >>> 0, this.position);
    return this;
  }

  u64be(value: number): this {
    if (!(Number.isSafeInteger(value) && value >= 0)) assert(false, `u64 of ${value}`);
    this.reserve(8);
    this.buffer.writeUInt32BE(Math.floor(value / TWO_POW_32), this.position);
    this.buffer.writeUInt32BE(value % TWO_POW_32, this.position + 4);
    this.position += 8;
    return this;
  }

  u64le(value: number): this {
    if (!(Number.isSafeInteger(value) && value >= 0)) assert(false, `u64 of ${value}`);
    this.reserve(8);
    this.buffer.writeUInt32LE(value % TWO_POW_32, this.position);
    this.buffer.writeUInt32LE(Math.floor(value / TWO_POW_32), this.position + 4);
    this.position += 8;
    return this;
  }

  u64beBig(value: bigint): this {
    this.reserve(8);
    this.position = this.buffer.writeBigUInt64BE(value, this.position);
    return this;
  }

  u64leBig(value: bigint): this {
    this.reserve(8);
    this.position = this.buffer.writeBigUInt64LE(value, this.position);
    return this;
  }

  i64beBig(value: bigint): this {
    this.reserve(8);
    this.position = this.buffer.writeBigInt64BE(value, this.position);
    return this;
  }

  f64be(value: number): this {
    this.reserve(8);
    this.position = this.buffer.writeDoubleBE(value, this.position);
    return this;
  }

  /** An unsigned varint of at most 32 bits. */
  varint32(value: number): this {
    if (!(Number.isInteger(value) && value >= 0 && value < TWO_POW_32)) assert(false, `varint32 of ${value}`);
    this.reserve(5);
    this.position = putVarint(this.buffer, this.position, value);
    return this;
  }

  /** An unsigned varint of a safe integer (at most 53 bits, 8 bytes). */
  varint64(value: number): this {
    if (!(Number.isSafeInteger(value) && value >= 0)) assert(false, `varint64 of ${value}`);
    this.reserve(8);
    this.position = putVarint(this.buffer, this.position, value);
    return this;
  }

  bytes(data: Uint8Array): this {
    this.reserve(data.length);
    this.buffer.set(data, this.position);
    this.position += data.length;
    return this;
  }

  /** A varint32 length followed by the bytes. */
  lengthPrefixed(data: Uint8Array): this {
    this.varint32(data.length);
    return this.bytes(data);
  }

  /** A UTF-8 string, length-prefixed. */
  string(value: string): this {
    const length = Buffer.byteLength(value);
    this.varint32(length);
    this.reserve(length);
    this.position += this.buffer.write(value, this.position, 'utf8');
    return this;
  }

  /** Overwrites a u32be written earlier (for lengths and checksums known only at the end). */
  patchU32be(offset: number, value: number): void {
    assert(offset >= 0 && offset + 4 <= this.position, 'patch outside the written bytes');
    this.buffer.writeUInt32BE(value >>> 0, offset);
  }

  /** The bytes written so far, as a view that the next write may overwrite. */
  view(): Buffer {
    return this.buffer.subarray(0, this.position);
  }

  /** A copy of the bytes written so far. */
  toBuffer(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.position));
  }

  /**
   * The written bytes without a copy: a view of the writer's buffer, which the writer gives up
   * (it starts over, empty, with a new buffer at its next write). For one-shot encoders.
   */
  take(): Buffer {
    const bytes = this.buffer.subarray(0, this.position);
    this.buffer = EMPTY;
    this.position = 0;
    return bytes;
  }

  reset(): void {
    this.position = 0;
  }
}

/** The writer `encodeWithScratch` reuses; a larger one than SCRATCH_KEEP_BYTES is not kept. */
const SCRATCH_BYTES = 64 * 1024;
const SCRATCH_KEEP_BYTES = 1024 * 1024;
let scratch: BufferWriter | undefined;
let scratchInUse = false;

/**
 * The bytes `write(writer, value)` writes, in a buffer of exactly their size: written into one
 * writer reused by every call, then copied out. For a message of a few hundred bytes or more this
 * costs less than a fresh writer, which starts small and grows, allocating and copying at each
 * doubling (a 1 KiB value: 2–3 times the time, bench:codec). A call made while another is writing
 * (from inside `write`) gets a writer of its own.
 */
export function encodeWithScratch<T>(write: (writer: BufferWriter, value: T) => void, value: T): Buffer {
  if (scratchInUse) {
    const own = new BufferWriter(256);
    write(own, value);
    return own.take();
  }
  const writer = (scratch ??= new BufferWriter(SCRATCH_BYTES));
  scratchInUse = true;
  try {
    writer.reset();
    write(writer, value);
    const out = Buffer.allocUnsafe(writer.length);
    writer.view().copy(out);
    return out;
  } finally {
    scratchInUse = false;
    if (writer.capacity > SCRATCH_KEEP_BYTES) scratch = undefined;
  }
}

export class BufferReader {
  private readonly buffer: Buffer;
  private position: number;
  private readonly end: number;

  /**
   * @param errorCode what a malformed field is: CORRUPTION for stored data, INVALID_ARGUMENT for
   *   input from the network.
   * @param what names the thing being read, for error messages.
   */
  constructor(
    data: Uint8Array,
    private readonly errorCode: ErrorCode = 'CORRUPTION',
    private readonly what = 'data',
    start = 0,
    end = data.length,
  ) {
    this.buffer = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.position = start;
    this.end = end;
  }

  get offset(): number {
    return this.position;
  }

  get remaining(): number {
    return this.end - this.position;
  }

  atEnd(): boolean {
    return this.position >= this.end;
  }

  fail(message: string): never {
    throw new PetrelError(this.errorCode, `${this.what}: ${message} at offset ${this.position}`, {
      offset: this.position,
    });
  }

  private need(bytes: number): void {
    if (this.end - this.position < bytes) this.fail(`truncated (needs ${bytes} more bytes, has ${this.end - this.position})`);
  }

  u8(): number {
    this.need(1);
    return this.buffer[this.position++] as number;
  }

  u16be(): number {
    this.need(2);
    const value = this.buffer.readUInt16BE(this.position);
    this.position += 2;
    return value;
  }

  u32be(): number {
    this.need(4);
    const value = this.buffer.readUInt32BE(this.position);
    this.position += 4;
    return value;
  }

  u32le(): number {
    this.need(4);
    const value = this.buffer.readUInt32LE(this.position);
    this.position += 4;
    return value;
  }

  u64be(): number {
    this.need(8);
    const high = this.buffer.readUInt32BE(this.position);
    const low = this.buffer.readUInt32BE(this.position + 4);
    if (high > 0x1fffff) this.fail('64-bit value above 2^53');
    this.position += 8;
    return high * TWO_POW_32 + low;
  }

  u64le(): number {
    this.need(8);
    const low = this.buffer.readUInt32LE(this.position);
    const high = this.buffer.readUInt32LE(this.position + 4);
    if (high > 0x1fffff) this.fail('64-bit value above 2^53');
    this.position += 8;
    return high * TWO_POW_32 + low;
  }

  u64beBig(): bigint {
    this.need(8);
    const value = this.buffer.readBigUInt64BE(this.position);
    this.position += 8;
    return value;
  }

  u64leBig(): bigint {
    this.need(8);
    const value = this.buffer.readBigUInt64LE(this.position);
    this.position += 8;
    return value;
  }

  i64beBig(): bigint {
    this.need(8);
    const value = this.buffer.readBigInt64BE(this.position);
    this.position += 8;
    return value;
  }

  f64be(): number {
    this.need(8);
    const value = this.buffer.readDoubleBE(this.position);
    this.position += 8;
    return value;
  }

  varint32(): number {
    // Multiplies rather than shifts (a shift would wrap at 2^31) and keeps `scale` by hand: `2 ** shift`
    // compiles to a call of the generic pow, which showed in profiles of the request path.
    let result = 0;
    let scale = 1;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.position >= this.end) this.fail('truncated varint');
      const byte = this.buffer[this.position++] as number;
      if (shift === 28 && byte > 0x0f) this.fail('varint32 overflows 32 bits');
      result += (byte & 0x7f) * scale;
      if (byte < 128) return result;
      scale *= 128;
    }
    return this.fail('varint32 longer than 5 bytes');
  }

  varint64(): number {
    let result = 0;
    let scale = 1;
    for (let shift = 0; shift < 56; shift += 7) {
      if (this.position >= this.end) this.fail('truncated varint');
      const byte = this.buffer[this.position++] as number;
      result += (byte & 0x7f) * scale;
      if (byte < 128) {
        if (!Number.isSafeInteger(result)) this.fail('varint64 above 2^53');
        return result;
      }
      scale *= 128;
    }
    return this.fail('varint64 longer than 8 bytes');
  }

  /** `length` raw bytes, as a view into the reader's buffer (no copy). */
  bytes(length: number): Buffer {
    this.need(length);
    const view = this.buffer.subarray(this.position, this.position + length);
    this.position += length;
    return view;
  }

  /** A varint32 length and that many bytes, as a view. */
  lengthPrefixed(): Buffer {
    return this.bytes(this.varint32());
  }

  string(): string {
    const view = this.lengthPrefixed();
    return view.toString('utf8');
  }

  skip(length: number): void {
    this.need(length);
    this.position += length;
  }

  /** Fails unless every byte has been read. */
  expectEnd(): void {
    if (this.position !== this.end) this.fail(`${this.end - this.position} unexpected trailing bytes`);
  }
}
