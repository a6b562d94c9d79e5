/**
 * The byte layout of a log segment (specified in doc/wal_format.md).
 *
 * A segment file is named `<first record index, 20 decimal digits>.wal` and holds:
 *
 *   segment header, 32 bytes:
 *     0   8  magic "PTRLWAL\0"
 *     8   4  u32le format version (1)
 *     12  4  u32le flags (0)
 *     16  8  u64le index of the first record (equals the file name)
 *     24  4  u32le reserved (0)
 *     28  4  u32le checksum32 of bytes 0..28
 *   records, back to back:
 *     0   4  u32le xxh32 (seed 0) of bytes 4..(17 + length) of this record
 *     4   4  u32le payload length
 *     8   1  u8 record type (1 = data; 0 is never written, so a zero-filled tail ends the log)
 *     9   8  u64le index
 *     17  …  payload
 *
 * A preallocated segment continues with zeros after its last record.
 */
import { BufferReader, PetrelError, checksum32, xxh32 } from '@petrel/base';

export const SEGMENT_MAGIC = Buffer.from('PTRLWAL\0', 'latin1');
export const FORMAT_VERSION = 1;
export const SEGMENT_HEADER_BYTES = 32;
export const RECORD_HEADER_BYTES = 17;
export const RECORD_TYPE_DATA = 1;
export const SEGMENT_SUFFIX = '.wal';

export function segmentName(firstIndex: number): string {
  return `${String(firstIndex).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** The first index a segment's name claims, or undefined when the name is not a segment's. */
export function parseSegmentName(name: string): number | undefined {
  if (!/^\d{20}\.wal$/.test(name)) return undefined;
  const index = Number(name.slice(0, 20));
  return Number.isSafeInteger(index) ? index : undefined;
}

export function encodeSegmentHeader(firstIndex: number): Buffer {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  SEGMENT_MAGIC.copy(header, 0);
  header.writeUInt32LE(FORMAT_VERSION, 8);
  header.writeUInt32LE(0, 12);
  header.writeUInt32LE(firstIndex % 4294967296, 16);
  header.writeUInt32LE(Math.floor(firstIndex / 4294967296), 20);
  header.writeUInt32LE(checksum32(header.subarray(0, 28)), 28);
  return header;
}

export type SegmentHeaderCheck =
  | { kind: 'valid'; firstIndex: number }
  /** Shorter than a header, or zeros, or a prefix of a valid header: a segment whose creation was cut short. */
  | { kind: 'torn' };

/**
 * Checks a segment header. Throws CORRUPTION for a file that is not a Petrel log segment and
 * UNSUPPORTED_VERSION for one written by a newer format.
 */
export function checkSegmentHeader(bytes: Buffer, path: string): SegmentHeaderCheck {
  const prefix = bytes.subarray(0, Math.min(bytes.length, SEGMENT_MAGIC.length));
  const allZero = bytes.every((byte) => byte === 0);
  const magicPrefix = prefix.equals(SEGMENT_MAGIC.subarray(0, prefix.length));
  if (bytes.length < SEGMENT_HEADER_BYTES) {
    if (allZero || magicPrefix) return { kind: 'torn' };
    throw notALog(path);
  }
  if (!magicPrefix) {
    if (allZero) return { kind: 'torn' };
    throw notALog(path);
  }
  if (bytes.readUInt32LE(28) !== checksum32(bytes.subarray(0, 28))) {
    return { kind: 'torn' };
  }
  const reader = new BufferReader(bytes, 'CORRUPTION', path, 8, 28);
  const version = reader.u32le();
  if (version > FORMAT_VERSION) {
    throw new PetrelError('UNSUPPORTED_VERSION', `${path}: log segment format version ${version} is newer than this build reads (${FORMAT_VERSION}); upgrade Petrel`, { path });
  }
  if (version < 1) throw notALog(path);
  reader.u32le();
  return { kind: 'valid', firstIndex: reader.u64le() };
}

function notALog(path: string): PetrelError {
  return new PetrelError('CORRUPTION', `${path}: not a Petrel log segment (bad magic)`, { path, offset: 0 });
}

/** Writes a record's header in front of its payload, which must already be at `start + 17`. */
export function sealRecord(target: Buffer, start: number, index: number, length: number): void {
  target.writeUInt32LE(length, start + 4);
  target[start + 8] = RECORD_TYPE_DATA;
  target.writeUInt32LE(index % 4294967296, start + 9);
  target.writeUInt32LE(Math.floor(index / 4294967296), start + 13);
  target.writeUInt32LE(recordChecksum(target.subarray(start + 4, start + RECORD_HEADER_BYTES + length)), start);
}

/**
 * A record's checksum: xxh32. For records of a few hundred bytes it costs less than the low half
 * of xxh64 (no 64-bit value crosses from WebAssembly), and records are where the log spends.
 */
export function recordChecksum(bytes: Uint8Array): number {
  return xxh32(bytes);
}
