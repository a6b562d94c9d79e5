/**
 * WriteBatch: writes applied atomically, with consecutive sequence numbers from the batch's first.
 *
 * A batch keeps its writes already encoded as write-group entries (write_group.ts), with blank
 * trailers: `put` and `del` copy the bytes once, into one growing buffer, and the engine copies
 * that buffer into a write group whole, stamping each entry's sequence — no object per write.
 * Asking for `entries` turns the batch into an array of objects (a subclass may push to it); the
 * engine takes such a batch entry by entry.
 *
 * Version-1 encoding (`encode`/`decode`; the standalone log's record payload before write groups,
 * still read on recovery):
 *   u8 version (1), varint32 count, then per write:
 *     u8 kind (1 put, 0 delete), lengthPrefixed user key, [lengthPrefixed value if put]
 * The first sequence number is the log record's index.
 */
import { BufferReader, BufferWriter, PetrelError } from '@petrel/base';
import { KIND_DELETE, KIND_PUT, type Kind, TRAILER_BYTES } from './format/internal_key.js';
import { encodeEntry, entryBytes, readEntryHeader, entryHeader } from './write_group.js';

export interface BatchEntry {
  kind: Kind;
  key: Buffer;
  value: Buffer;
}

const EMPTY = Buffer.alloc(0);
const BATCH_VERSION = 1;

export class WriteBatch {
  /** The writes as write-group entries with blank trailers: rep[0, repLength), repCount of them. */
  private rep: Buffer | undefined;
  private repLength = 0;
  private repCount = 0;
  /** The writes as objects, once `entries` was asked for. */
  private list: BatchEntry[] | undefined;
  private bytes = 0;

  /** The writes as objects (copies of the batch's bytes; the batch keeps them from now on). */
  get entries(): BatchEntry[] {
    if (this.list === undefined) {
      const list: BatchEntry[] = [];
      const rep = this.rep;
      let at = 0;
      while (rep !== undefined && at < this.repLength) {
        at = readEntryHeader(rep, at);
        const keyEnd = at + entryHeader.keyLength;
        const valueStart = keyEnd + TRAILER_BYTES;
        list.push({
          kind: entryHeader.kind,
          key: Buffer.from(rep.subarray(at, keyEnd)),
          value: entryHeader.kind === KIND_PUT ? Buffer.from(rep.subarray(valueStart, valueStart + entryHeader.valueLength)) : EMPTY,
        });
        at = valueStart + entryHeader.valueLength;
      }
      this.list = list;
      this.rep = undefined;
      this.repLength = 0;
      this.repCount = 0;
    }
    return this.list;
  }

  put(key: Uint8Array, value: Uint8Array): this {
    if (this.list !== undefined) {
      const k = Buffer.from(key);
      const v = Buffer.from(value);
      this.list.push({ kind: KIND_PUT, key: k, value: v });
    } else {
      this.append(KIND_PUT, key, value);
    }
    this.bytes += key.length + value.length + 16;
    return this;
  }

  del(key: Uint8Array): this {
    if (this.list !== undefined) this.list.push({ kind: KIND_DELETE, key: Buffer.from(key), value: EMPTY });
    else this.append(KIND_DELETE, key, EMPTY);
    this.bytes += key.length + 16;
    return this;
  }

  private append(kind: Kind, key: Uint8Array, value: Uint8Array): void {
    const needed = this.repLength + entryBytes(key.length, value.length);
    let rep = this.rep;
    if (rep === undefined || needed > rep.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, rep === undefined ? 256 : rep.length * 2));
      if (rep !== undefined) rep.copy(grown, 0, 0, this.repLength);
      rep = this.rep = grown;
    }
    // Sequence 0 in the trailer for now: the engine stamps the real ones (stampSequences).
    this.repLength = encodeEntry(rep, this.repLength, kind, key, value, 0);
    this.repCount++;
  }

  get count(): number {
    return this.list === undefined ? this.repCount : this.list.length;
  }

  /** Approximate memory the batch takes in a memtable. */
  get approximateBytes(): number {
    return this.bytes;
  }

  /**
   * @internal The writes as write-group entries (blank trailers), when the batch holds them so:
   * bytes[0, length). Undefined once `entries` was asked for.
   */
  encodedEntries(): { bytes: Buffer; length: number } | undefined {
    if (this.list !== undefined) return undefined;
    return { bytes: this.rep ?? EMPTY, length: this.repLength };
  }

  clear(): void {
    if (this.list !== undefined) this.list.length = 0;
    this.repLength = 0;
    this.repCount = 0;
    this.bytes = 0;
  }

  encode(): Buffer {
    const entries = this.entries;
    const writer = new BufferWriter(this.bytes + 8);
    writer.u8(BATCH_VERSION).varint32(entries.length);
    for (const entry of entries) {
      writer.u8(entry.kind).lengthPrefixed(entry.key);
      if (entry.kind === KIND_PUT) writer.lengthPrefixed(entry.value);
    }
    return writer.toBuffer();
  }

  static decode(data: Uint8Array, where: string): WriteBatch {
    const reader = new BufferReader(data, 'CORRUPTION', where);
    const version = reader.u8();
    if (version !== BATCH_VERSION) throw new PetrelError('CORRUPTION', `${where}: unknown write batch version ${version}`);
    const count = reader.varint32();
    const batch = new WriteBatch();
    for (let i = 0; i < count; i++) {
      const kind = reader.u8();
      const key = reader.lengthPrefixed();
      if (kind === KIND_PUT) batch.put(key, reader.lengthPrefixed());
      else if (kind === KIND_DELETE) batch.del(key);
      else reader.fail(`unknown write kind ${kind}`);
    }
    reader.expectEnd();
    return batch;
  }
}
