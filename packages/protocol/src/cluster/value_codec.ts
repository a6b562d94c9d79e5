/**
 * A compact self-describing binary encoding of plain data — null, booleans, safe integers,
 * doubles, strings, byte arrays, arrays and plain objects — for the cluster's internal messages
 * (replica ↔ replica, replica ↔ meta). Those messages are the PacificA cores' values; encoding them
 * generically keeps the wire in step with the cores without a hand-written layout per message.
 * Client messages, the hot and public path, have their own fixed layouts (messages/).
 *
 * Encoding: one tag byte, then
 *   0 null · 1 false · 2 true · 3 undefined (object fields only: dropped on decode)
 *   4 integer: zigzag varint (|n| < 2^52; larger integers go as doubles, exactly)
 *   5 double: 8 bytes, little endian
 *   6 string: varint byte length, UTF-8
 *   7 bytes: varint length, raw
 *   8 array: varint count, then each element
 *   9 object: varint count, then (key as a tag-less string: varint length, UTF-8; value) each
 *
 * Decoding hostile bytes throws only PetrelError(CORRUPTION): every length is checked against
 * the bytes left before anything is allocated, nesting is limited to 64 levels, and a count can
 * never exceed the bytes left (each element takes at least one byte), so a frame cannot make the
 * decoder allocate more than its own size or loop without consuming input.
 */
import { PetrelError } from '@petrel/base';

export type PlainValue = null | boolean | number | string | Uint8Array | readonly PlainValue[] | { readonly [key: string]: PlainValue | undefined };

const TAG_NULL = 0;
const TAG_FALSE = 1;
const TAG_TRUE = 2;
const TAG_UNDEFINED = 3;
const TAG_INTEGER = 4;
const TAG_DOUBLE = 5;
const TAG_STRING = 6;
const TAG_BYTES = 7;
const TAG_ARRAY = 8;
const TAG_OBJECT = 9;

const MAX_DEPTH = 64;

class Writer {
  buffer: Buffer;
  at = 0;

  constructor(size: number) {
    this.buffer = Buffer.allocUnsafeSlow(size);
  }

  reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.at + bytes));
    this.buffer.copy(grown, 0, 0, this.at);
    this.buffer = grown;
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.at++] = value;
  }

  /** Unsigned varint of a non-negative safe integer. */
  varint(value: number): void {
    this.reserve(8);
    while (value >= 0x80) {
      this.buffer[this.at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buffer[this.at++] = value;
  }

  double(value: number): void {
    this.reserve(8);
    this.buffer.writeDoubleLE(value, this.at);
    this.at += 8;
  }

  bytes(value: Uint8Array): void {
    this.varint(value.length);
    this.reserve(value.length);
    this.buffer.set(value, this.at);
    this.at += value.length;
  }

  string(value: string): void {
    const count = value.length;
    if (count < 0x80) {
      // Field names, addresses, ids: short and ASCII, copied here without a call into UTF-8.
      this.reserve(1 + count);
      const buffer = this.buffer;
      const start = this.at + 1;
      let i = 0;
      for (; i < count; i++) {
        const code = value.charCodeAt(i);
        if (code >= 0x80) break;
        buffer[start + i] = code;
      }
      if (i === count) {
        buffer[this.at] = count;
        this.at = start + count;
        return;
      }
    }
    const length = Buffer.byteLength(value, 'utf8');
    this.varint(length);
    this.reserve(length);
    this.at += this.buffer.write(value, this.at, 'utf8');
  }
}

/** Thrown inside encodeInto where the value is not plain data; encodeValue then says where. */
const NOT_PLAIN = new Error('not plain data');

function encodeInto(writer: Writer, value: unknown, depth: number): void {
  if (depth > MAX_DEPTH) throw NOT_PLAIN;
  switch (typeof value) {
    case 'number':
      // Zigzag doubles the magnitude: beyond 2^52 the exact double is the smaller encoding anyway.
      if (Number.isSafeInteger(value) && Math.abs(value) < 2 ** 52 && !Object.is(value, -0)) {
        writer.byte(TAG_INTEGER);
        // Zigzag without 32-bit operators (values reach 2^53).
        writer.varint(value >= 0 ? value * 2 : -value * 2 - 1);
      } else {
        writer.byte(TAG_DOUBLE);
        writer.double(value);
      }
      return;
    case 'string':
      writer.byte(TAG_STRING);
      writer.string(value);
      return;
    case 'boolean':
      writer.byte(value ? TAG_TRUE : TAG_FALSE);
      return;
    case 'undefined':
      writer.byte(TAG_UNDEFINED);
      return;
    case 'object': {
      if (value === null) {
        writer.byte(TAG_NULL);
        return;
      }
      if (value instanceof Uint8Array) {
        writer.byte(TAG_BYTES);
        writer.bytes(value);
        return;
      }
      if (Array.isArray(value)) {
        writer.byte(TAG_ARRAY);
        writer.varint(value.length);
        for (let i = 0; i < value.length; i++) encodeInto(writer, value[i], depth + 1);
        return;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) break;
      const keys = Object.keys(value);
      writer.byte(TAG_OBJECT);
      writer.varint(keys.length);
      for (const key of keys) {
        writer.string(key);
        encodeInto(writer, (value as Record<string, unknown>)[key], depth + 1);
      }
      return;
    }
  }
  throw NOT_PLAIN;
}

/** What makes `value` not plain data, and where (the slow walk, only after encodeInto refused). */
function problemIn(value: unknown, depth: number, path: string): string | undefined {
  if (depth > MAX_DEPTH) return `value nested deeper than ${MAX_DEPTH} at ${path}`;
  if (value === null || value === undefined || value instanceof Uint8Array) return undefined;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const problem = problemIn(value[i], depth + 1, `${path}[${i}]`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  if (typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    for (const [key, field] of Object.entries(value as Record<string, unknown>)) {
      const problem = problemIn(field, depth + 1, `${path}.${key}`);
      if (problem !== undefined) return problem;
    }
    return undefined;
  }
  return `cannot encode ${typeof value === 'object' ? ((value as object).constructor?.name ?? 'object') : typeof value} at ${path}`;
}

/** One writer reused by every encoding (copied out at the end); a larger one is not kept. */
const SCRATCH_BYTES = 4096;
const SCRATCH_KEEP_BYTES = 1024 * 1024;
let scratch = new Writer(SCRATCH_BYTES);
let scratchInUse = false;

/**
 * Encodes plain data; throws INVALID_ARGUMENT for anything else (class instances, bigint,
 * functions, cycles). `headroom`: zero bytes left at the front of the result, for the
 * caller's header (cluster_messages.ts puts the envelope there: one copy fewer).
 */
export function encodeValue(value: unknown, headroom = 0): Buffer {
  // A getter could encode from inside an encoding: that one gets a writer of its own.
  const shared = !scratchInUse;
  const writer = shared ? scratch : new Writer(256);
  if (shared) scratchInUse = true;
  try {
    writer.at = 0;
    writer.reserve(headroom);
    writer.at = headroom;
    encodeInto(writer, value, 0);
    const out = Buffer.allocUnsafe(writer.at);
    // The headroom is zeroed: a pooled allocation holds old bytes the caller might not overwrite.
    out.fill(0, 0, headroom);
    writer.buffer.copy(out, headroom, headroom, writer.at);
    return out;
  } catch (error) {
    if (error !== NOT_PLAIN) throw error;
    throw new PetrelError('INVALID_ARGUMENT', problemIn(value, 0, '$') ?? 'cannot encode the value');
  } finally {
    if (shared) {
      scratchInUse = false;
      if (writer.buffer.length > SCRATCH_KEEP_BYTES) scratch = new Writer(SCRATCH_BYTES);
    }
  }
}

/**
 * Recently decoded short ASCII strings (field names, addresses, ids, message types — the same few
 * in every message), found by a hash of their bytes and checked byte by byte: a hit allocates
 * nothing. Bounded: one string of at most SHORT_STRING_BYTES per slot.
 */
const STRING_SLOTS = 512;
const SHORT_STRING_BYTES = 32;
const recentStrings: string[] = new Array<string>(STRING_SLOTS).fill('');

class Reader {
  private at: number;

  constructor(
    private readonly bytes: Uint8Array,
    start: number,
    private readonly end: number,
  ) {
    this.at = start;
  }

  fail(why: string): never {
    throw new PetrelError('CORRUPTION', `cluster message: ${why} at byte ${this.at}`);
  }

  get left(): number {
    return this.end - this.at;
  }

  byte(): number {
    if (this.at >= this.end) this.fail('truncated');
    return this.bytes[this.at++] as number;
  }

  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; ; i++) {
      if (i >= 8) this.fail('varint too long');
      const byte = this.byte();
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) break;
      scale *= 0x80;
    }
    if (!Number.isSafeInteger(value)) this.fail('varint out of range');
    return value;
  }

  take(length: number): Uint8Array {
    if (length > this.left) this.fail(`length ${length} past the end`);
    const slice = this.bytes.subarray(this.at, this.at + length);
    this.at += length;
    return slice;
  }

  string(): string {
    const length = this.varint();
    if (length > this.left) this.fail(`length ${length} past the end`);
    const bytes = this.bytes;
    const start = this.at;
    if (length <= SHORT_STRING_BYTES) {
      let hash = length;
      let ascii = true;
      for (let i = start; i < start + length; i++) {
        const byte = bytes[i] as number;
        if (byte >= 0x80) {
          ascii = false;
          break;
        }
        hash = (Math.imul(hash, 31) + byte) | 0;
      }
      if (ascii) {
        this.at += length;
        const slot = hash & (STRING_SLOTS - 1);
        const recent = recentStrings[slot] as string;
        if (recent.length === length) {
          let same = true;
          for (let i = 0; i < length; i++) {
            if (recent.charCodeAt(i) !== bytes[start + i]) {
              same = false;
              break;
            }
          }
          if (same) return recent;
        }
        const decoded = String.fromCharCode.apply(null, bytes.subarray(start, start + length) as unknown as number[]);
        recentStrings[slot] = decoded;
        return decoded;
      }
    }
    const slice = this.take(length);
    return Buffer.from(slice.buffer, slice.byteOffset, slice.length).toString('utf8');
  }

  double(): number {
    const slice = this.take(8);
    return Buffer.from(slice.buffer, slice.byteOffset, 8).readDoubleLE(0);
  }

  atEnd(): boolean {
    return this.at === this.end;
  }
}

function decodeFrom(reader: Reader, depth: number): PlainValue | undefined {
  if (depth > MAX_DEPTH) reader.fail(`nested deeper than ${MAX_DEPTH}`);
  const tag = reader.byte();
  switch (tag) {
    case TAG_NULL:
      return null;
    case TAG_FALSE:
      return false;
    case TAG_TRUE:
      return true;
    case TAG_UNDEFINED:
      return undefined;
    case TAG_INTEGER: {
      const zigzag = reader.varint();
      return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
    }
    case TAG_DOUBLE:
      return reader.double();
    case TAG_STRING:
      return reader.string();
    case TAG_BYTES:
      // A copy: the frame's buffer is not kept alive by a decoded message.
      return Buffer.from(reader.take(reader.varint()));
    case TAG_ARRAY: {
      const count = reader.varint();
      if (count > reader.left) reader.fail(`array of ${count} in ${reader.left} bytes`);
      const array: (PlainValue | undefined)[] = [];
      for (let i = 0; i < count; i++) array.push(decodeFrom(reader, depth + 1));
      return array as PlainValue[];
    }
    case TAG_OBJECT: {
      const count = reader.varint();
      if (count > reader.left) reader.fail(`object of ${count} fields in ${reader.left} bytes`);
      // A normal object: with __proto__ refused, every key becomes an own property.
      const object: Record<string, PlainValue> = {};
      let seen: Set<string> | undefined;
      for (let i = 0; i < count; i++) {
        const key = reader.string();
        if (key === '__proto__') reader.fail('field __proto__');
        const value = decodeFrom(reader, depth + 1);
        // A field given twice is refused, also when its first value was undefined (not stored).
        if (Object.hasOwn(object, key) || seen?.has(key) === true) reader.fail(`field ${JSON.stringify(key)} twice`);
        if (value !== undefined) object[key] = value;
        else (seen ??= new Set()).add(key);
      }
      return object;
    }
    default:
      return reader.fail(`unknown tag ${tag}`);
  }
}

/** Decodes one value filling bytes[start, end) exactly. */
export function decodeValue(bytes: Uint8Array, start = 0, end = bytes.length): PlainValue {
  const reader = new Reader(bytes, start, end);
  const value = decodeFrom(reader, 0);
  if (value === undefined) return reader.fail('undefined at the top level');
  if (!reader.atEnd()) reader.fail(`${reader.left} bytes left over`);
  return value;
}
