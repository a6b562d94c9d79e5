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
  private buffer = Buffer.allocUnsafe(256);
  private at = 0;

  private reserve(bytes: number): void {
    if (this.at + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.at + bytes));
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
    const length = Buffer.byteLength(value, 'utf8');
    this.varint(length);
    this.reserve(length);
    this.at += this.buffer.write(value, this.at, 'utf8');
  }

  finish(): Buffer {
    return this.buffer.subarray(0, this.at);
  }
}

function encodeInto(writer: Writer, value: unknown, depth: number, path: string): void {
  if (depth > MAX_DEPTH) throw new PetrelError('INVALID_ARGUMENT', `value nested deeper than ${MAX_DEPTH} at ${path}`);
  if (value === null) writer.byte(TAG_NULL);
  else if (value === false) writer.byte(TAG_FALSE);
  else if (value === true) writer.byte(TAG_TRUE);
  else if (value === undefined) writer.byte(TAG_UNDEFINED);
  else if (typeof value === 'number') {
    // Zigzag doubles the magnitude: beyond 2^52 the exact double is the smaller encoding anyway.
    if (Number.isSafeInteger(value) && Math.abs(value) < 2 ** 52 && !Object.is(value, -0)) {
      writer.byte(TAG_INTEGER);
      // Zigzag without 32-bit operators (values reach 2^53).
      writer.varint(value >= 0 ? value * 2 : -value * 2 - 1);
    } else {
      writer.byte(TAG_DOUBLE);
      writer.double(value);
    }
  } else if (typeof value === 'string') {
    writer.byte(TAG_STRING);
    writer.string(value);
  } else if (value instanceof Uint8Array) {
    writer.byte(TAG_BYTES);
    writer.bytes(value);
  } else if (Array.isArray(value)) {
    writer.byte(TAG_ARRAY);
    writer.varint(value.length);
    value.forEach((element, i) => encodeInto(writer, element, depth + 1, `${path}[${i}]`));
  } else if (typeof value === 'object' && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null)) {
    const entries = Object.entries(value as Record<string, unknown>);
    writer.byte(TAG_OBJECT);
    writer.varint(entries.length);
    for (const [key, field] of entries) {
      writer.string(key);
      encodeInto(writer, field, depth + 1, `${path}.${key}`);
    }
  } else {
    throw new PetrelError('INVALID_ARGUMENT', `cannot encode ${typeof value === 'object' ? (value as object).constructor?.name ?? 'object' : typeof value} at ${path}`);
  }
}

/** Encodes plain data; throws INVALID_ARGUMENT for anything else (class instances, bigint, functions, cycles). */
export function encodeValue(value: unknown): Buffer {
  const writer = new Writer();
  encodeInto(writer, value, 0, '$');
  return writer.finish();
}

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
    const slice = this.take(this.varint());
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
      const object: Record<string, PlainValue> = Object.create(null) as Record<string, PlainValue>;
      for (let i = 0; i < count; i++) {
        const key = reader.string();
        if (key === '__proto__') reader.fail('field __proto__');
        const value = decodeFrom(reader, depth + 1);
        if (key in object) reader.fail(`field ${JSON.stringify(key)} twice`);
        if (value !== undefined) object[key] = value;
      }
      // A normal prototype again, for callers that compare or spread it.
      return Object.assign({}, object);
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
