/**
 * Write groups: how writes reach the log and the memtable without an object or a copy per write.
 *
 * The engine encodes every write once, into its **write arena** (SharedArrayBuffer chunks), in
 * the layout below. Standalone mode gathers the writes made in one turn of the event loop into a
 * **group**: one log record, whose payload is exactly those arena bytes; once the record is
 * written, the memtable links its skip-list nodes to the same bytes (Memtable.addInPlace), and
 * every write of the group resolves with the group's one promise. External-log mode encodes a
 * batch the same way and links it at once. The arena's chunks are then the memtable's chunks, so
 * a flush worker reads them as they are (see memtable.ts).
 *
 * Log record payload, version 2:
 *
 *   u8 version (2)
 *   entries, to the end of the payload:
 *     u8        kind (1 put, 0 delete)
 *     varint32  user-key length
 *     varint32  value length (0 for a delete)
 *     bytes     user key
 *     8 bytes   the entry's internal-key trailer: inverted sequence and kind (format/internal_key.ts)
 *     bytes     value
 *
 * The entries' sequences are consecutive from the record's index. Key, trailer and value lie
 * back to back, so the internal key and the value of an entry are plain views of the arena.
 * Version 1 payloads (WriteBatch.encode) are still read on recovery.
 */
import { PetrelError, putVarint } from '@petrel/base';
import { KIND_DELETE, KIND_PUT, type Kind, TRAILER_BYTES, writeTrailer } from './format/internal_key.js';
import type { Memtable } from './memtable/memtable.js';
import type { MemtableRecycler } from './memtable/recycler.js';

export const GROUP_VERSION = 2;

const KiB = 1024;
const EMPTY = Buffer.alloc(0);

/** Bytes of a varint32 (no checks: lengths come from typed arrays). */
function varintBytes(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** The encoded size of one entry. */
export function entryBytes(keyLength: number, valueLength: number): number {
  return 1 + varintBytes(keyLength) + varintBytes(valueLength) + keyLength + TRAILER_BYTES + valueLength;
}

/** Encodes one entry at `at`; returns the offset after it. */
export function encodeEntry(target: Buffer, at: number, kind: Kind, key: Uint8Array, value: Uint8Array, sequence: number): number {
  target[at++] = kind;
  at = putVarint(target, at, key.length);
  at = putVarint(target, at, value.length);
  target.set(key, at);
  at += key.length;
  writeTrailer(target, at, sequence, kind);
  at += TRAILER_BYTES;
  if (value.length > 0) target.set(value, at);
  return at + value.length;
}

/** What readEntryHeader read (one reader at a time: everything here is synchronous). */
export const entryHeader = { kind: KIND_PUT as Kind, keyLength: 0, valueLength: 0 };

/** Reads the header of the entry at `at` into `entryHeader`; returns where its key starts. */
export function readEntryHeader(bytes: Uint8Array, at: number): number {
  entryHeader.kind = bytes[at++] as Kind;
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  entryHeader.keyLength = value;
  value = 0;
  scale = 1;
  for (;;) {
    const byte = bytes[at++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) break;
    scale *= 128;
  }
  entryHeader.valueLength = value;
  return at;
}

/**
 * Writes the sequences `firstSequence`, `firstSequence + 1`, … into the trailers of the entries
 * in bytes[start, end) (a WriteBatch's entries, copied into a group); returns how many there are.
 */
export function stampSequences(bytes: Buffer, start: number, end: number, firstSequence: number): number {
  let at = start;
  let sequence = firstSequence;
  while (at < end) {
    at = readEntryHeader(bytes, at) + entryHeader.keyLength;
    writeTrailer(bytes, at, sequence++, entryHeader.kind);
    at += TRAILER_BYTES + entryHeader.valueLength;
  }
  return sequence - firstSequence;
}

/**
 * The write arena: chunks of SharedArrayBuffer, filled front to back. A chunk lives as long as a
 * memtable (or a value handed to a reader) refers to it; the engine gives a chunk to the recycler
 * only once nothing can read it again (db.ts, recycler.ts), and a new chunk is taken from there
 * when one is kept.
 */
export class WriteArena {
  /** The chunk being filled, and the first free offset in it. */
  chunk: Buffer = EMPTY;
  used = 0;
  readonly chunkBytes: number;

  /** `memtableSizeBytes` sizes the chunks: an eighth of it, between 4 KiB and 1 MiB. */
  constructor(
    memtableSizeBytes: number,
    private readonly recycler?: MemtableRecycler,
  ) {
    let bytes = 4 * KiB;
    while (bytes < memtableSizeBytes / 8 && bytes < 1024 * KiB) bytes *= 2;
    this.chunkBytes = bytes;
  }

  /** Makes sure `bytes` contiguous bytes are free at `used` (a new chunk when the current one is short). */
  reserve(bytes: number): void {
    if (this.used + bytes <= this.chunk.length) return;
    const size = Math.max(this.chunkBytes, bytes);
    this.chunk = (size === this.chunkBytes ? this.recycler?.takeChunk(size) : undefined) ?? Buffer.from(new SharedArrayBuffer(size));
    this.used = 0;
  }
}

/** What applying a run of encoded entries did. */
export interface Applied {
  count: number;
  userBytes: number;
}

/**
 * Links the entries encoded in chunk[start, end) (no version byte) into `memtable`, with
 * sequences from `firstSequence`. The bytes are the engine's own, checked when they were made
 * (or by checkGroupRecord on recovery).
 */
export function applyEntries(memtable: Memtable, chunk: Buffer, start: number, end: number, firstSequence: number, applied: Applied): void {
  let at = start;
  let sequence = firstSequence;
  let userBytes = 0;
  while (at < end) {
    const kind = chunk[at++] as Kind;
    // Varints, inline: most lengths take one byte.
    let keyLength = chunk[at++] as number;
    if (keyLength >= 0x80) {
      keyLength &= 0x7f;
      let scale = 128;
      let byte: number;
      do {
        byte = chunk[at++] as number;
        keyLength += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte >= 0x80);
    }
    let valueLength = chunk[at++] as number;
    if (valueLength >= 0x80) {
      valueLength &= 0x7f;
      let scale = 128;
      let byte: number;
      do {
        byte = chunk[at++] as number;
        valueLength += (byte & 0x7f) * scale;
        scale *= 128;
      } while (byte >= 0x80);
    }
    memtable.addInPlace(chunk, at, keyLength, valueLength, sequence++, kind);
    at += keyLength + TRAILER_BYTES + valueLength;
    userBytes += keyLength + valueLength;
  }
  applied.count = sequence - firstSequence;
  applied.userBytes = userBytes;
}

/**
 * Checks a version-2 log record read back on recovery: every entry whole, kinds known, trailers
 * carrying the sequences `index`, `index + 1`, … Returns the number of entries; throws CORRUPTION
 * naming `where` otherwise.
 */
export function checkGroupRecord(data: Uint8Array, index: number, where: string): number {
  const fail = (why: string): never => {
    throw new PetrelError('CORRUPTION', `${where}: ${why}`);
  };
  if (data[0] !== GROUP_VERSION) fail(`unknown write group version ${data[0]}`);
  const trailer = Buffer.alloc(TRAILER_BYTES);
  let at = 1;
  let count = 0;
  const varint = (): number => {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (at >= data.length) fail('entry cut short');
      const byte = data[at++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    return fail('varint longer than 5 bytes');
  };
  while (at < data.length) {
    const kind = data[at++] as number;
    if (kind !== KIND_PUT && kind !== KIND_DELETE) fail(`unknown write kind ${kind}`);
    const keyLength = varint();
    const valueLength = varint();
    if (kind === KIND_DELETE && valueLength !== 0) fail('a delete with a value');
    if (at + keyLength + TRAILER_BYTES + valueLength > data.length) fail('entry cut short');
    writeTrailer(trailer, 0, index + count, kind as Kind);
    for (let i = 0; i < TRAILER_BYTES; i++) {
      if (data[at + keyLength + i] !== trailer[i]) fail(`entry ${count} does not carry sequence ${index + count}`);
    }
    at += keyLength + TRAILER_BYTES + valueLength;
    count++;
  }
  if (count === 0) fail('empty write group');
  return count;
}
