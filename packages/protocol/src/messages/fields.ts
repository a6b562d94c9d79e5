/**
 * Field encodings shared by every message body (doc/messages.md, "Fields"):
 *
 *   bytes    varint32 length, then the bytes            (decoded as a view, never copied)
 *   bool     u8 0 or 1                                   (anything else is rejected)
 *   uint     varint32 (0 … 2^32 - 1)
 *   int      zigzag varint64 of an integer in ±(2^52 - 1)
 *   int64    8 bytes, big-endian two's complement (bigint)
 *   string   bytes holding UTF-8
 *   list     varint32 count, then the elements           (count checked against the bytes left
 *                                                         before anything is allocated)
 *   optional u8 0 (absent) or 1 followed by the value
 *
 * Writers validate what they are given (INVALID_ARGUMENT for a value a field cannot hold);
 * readers fail through their BufferReader, whose code is INVALID_ARGUMENT for wire input and
 * CORRUPTION for stored mutations.
 */
import { type BufferReader, type BufferWriter, type ErrorCode, PetrelError, isErrorCode } from '@petrel/base';
import { CHECK_TYPE_IDS, FILTER_TYPE_IDS } from './ids.js';
import type { CheckType, ErrorInfo, Filter, FilterType } from './types.js';

const TWO_POW_32 = 4294967296;
const SIGNED_LIMIT = 2 ** 52 - 1;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const EMPTY = Buffer.alloc(0);

function invalid(message: string): never {
  throw new PetrelError('INVALID_ARGUMENT', message);
}

export function writeBytes(writer: BufferWriter, data: Uint8Array, field: string): void {
  if (!(data instanceof Uint8Array)) invalid(`${field}: bytes expected`);
  writer.lengthPrefixed(data);
}

export function readBytes(reader: BufferReader): Buffer {
  return reader.lengthPrefixed();
}

export function writeBool(writer: BufferWriter, value: boolean, field: string): void {
  if (typeof value !== 'boolean') invalid(`${field}: boolean expected`);
  writer.u8(value ? 1 : 0);
}

export function readBool(reader: BufferReader, field: string): boolean {
  const byte = reader.u8();
  if (byte > 1) reader.fail(`${field}: boolean byte ${byte}`);
  return byte === 1;
}

export function writeUint(writer: BufferWriter, value: number, field: string): void {
  if (!Number.isInteger(value) || value < 0 || value >= TWO_POW_32) invalid(`${field}: ${value} is not a u32`);
  writer.varint32(value);
}

export function readUint(reader: BufferReader): number {
  return reader.varint32();
}

export function writeInt(writer: BufferWriter, value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < -SIGNED_LIMIT || value > SIGNED_LIMIT) invalid(`${field}: ${value} is not an integer within ±(2^52 - 1)`);
  writer.varint64(value >= 0 ? value * 2 : -value * 2 - 1);
}

export function readInt(reader: BufferReader, field: string): number {
  const zigzag = reader.varint64();
  const value = zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
  if (value < -SIGNED_LIMIT || value > SIGNED_LIMIT) reader.fail(`${field}: ${value} is outside ±(2^52 - 1)`);
  return value;
}

export function writeInt64(writer: BufferWriter, value: bigint, field: string): void {
  if (typeof value !== 'bigint' || value < INT64_MIN || value > INT64_MAX) invalid(`${field}: ${String(value)} is not an int64`);
  writer.i64beBig(value);
}

export function readInt64(reader: BufferReader): bigint {
  return reader.i64beBig();
}

export function writeString(writer: BufferWriter, value: string, field: string): void {
  if (typeof value !== 'string') invalid(`${field}: string expected`);
  writer.string(value);
}

export function readString(reader: BufferReader): string {
  return reader.string();
}

/** Reads a list count and checks that `count` elements of at least `minElementBytes` fit. */
export function readCount(reader: BufferReader, minElementBytes: number, field: string): number {
  const count = reader.varint32();
  if (count * minElementBytes > reader.remaining) reader.fail(`${field}: ${count} elements cannot fit in ${reader.remaining} bytes`);
  return count;
}

export function writeList<T>(writer: BufferWriter, items: readonly T[], field: string, writeItem: (item: T) => void): void {
  if (!Array.isArray(items)) invalid(`${field}: list expected`);
  writeUint(writer, items.length, field);
  for (const item of items) writeItem(item);
}

export function readList<T>(reader: BufferReader, minElementBytes: number, field: string, readItem: () => T): T[] {
  const count = readCount(reader, minElementBytes, field);
  const items: T[] = [];
  for (let i = 0; i < count; i++) items.push(readItem());
  return items;
}

export function writeNullableBytes(writer: BufferWriter, data: Uint8Array | null, field: string): void {
  if (data === null) writer.u8(0);
  else {
    writer.u8(1);
    writeBytes(writer, data, field);
  }
}

export function readNullableBytes(reader: BufferReader, field: string): Buffer | null {
  return readBool(reader, field) ? readBytes(reader) : null;
}

const checkTypeById = new Map<number, CheckType>(Object.entries(CHECK_TYPE_IDS).map(([name, id]) => [id, name as CheckType]));
const filterTypeById = new Map<number, FilterType>(Object.entries(FILTER_TYPE_IDS).map(([name, id]) => [id, name as FilterType]));

export function checkTypeId(checkType: CheckType): number {
  if (typeof checkType !== 'string' || !Object.hasOwn(CHECK_TYPE_IDS, checkType)) invalid(`unknown check type ${String(checkType)}`);
  return CHECK_TYPE_IDS[checkType];
}

export function writeCheckType(writer: BufferWriter, checkType: CheckType): void {
  writer.u8(checkTypeId(checkType));
}

export function readCheckType(reader: BufferReader): CheckType {
  const id = reader.u8();
  const checkType = checkTypeById.get(id);
  if (checkType === undefined) reader.fail(`unknown check type ${id}`);
  return checkType;
}

export function writeFilter(writer: BufferWriter, filter: Filter, field: string): void {
  const id = typeof filter === 'object' && filter !== null && Object.hasOwn(FILTER_TYPE_IDS, filter.type) ? FILTER_TYPE_IDS[filter.type] : undefined;
  if (id === undefined) invalid(`${field}: unknown filter type ${String((filter as { type?: unknown } | null)?.type)}`);
  writer.u8(id);
  writeBytes(writer, filter.pattern ?? EMPTY, `${field}.pattern`);
}

export function readFilter(reader: BufferReader): Filter {
  const id = reader.u8();
  const type = filterTypeById.get(id);
  if (type === undefined) reader.fail(`unknown filter type ${id}`);
  return { type, pattern: readBytes(reader) };
}

/** An error: its code's name (stable) and a message. An unknown code reads as SERVER_INTERNAL_ERROR. */
export function writeErrorInfo(writer: BufferWriter, error: ErrorInfo): void {
  if (!isErrorCode(error.code)) invalid(`unknown error code ${String(error.code)}`);
  writer.string(error.code);
  writeString(writer, error.message, 'error.message');
}

export function readErrorInfo(reader: BufferReader): ErrorInfo {
  const code = reader.string();
  const message = reader.string();
  if (isErrorCode(code)) return { code, message };
  const fallback: ErrorCode = 'SERVER_INTERNAL_ERROR';
  const shown = code.slice(0, 40).replace(/[^A-Za-z0-9_]/g, '?');
  return { code: fallback, message: `unknown error code ${shown} from the peer: ${message}` };
}

export function writeNullableError(writer: BufferWriter, error: ErrorInfo | null): void {
  if (error === null) writer.u8(0);
  else {
    writer.u8(1);
    writeErrorInfo(writer, error);
  }
}

export function readNullableError(reader: BufferReader): ErrorInfo | null {
  return readBool(reader, 'error') ? readErrorInfo(reader) : null;
}
