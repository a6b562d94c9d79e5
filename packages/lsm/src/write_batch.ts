/**
 * WriteBatch: writes applied atomically, with consecutive sequence numbers from the batch's first.
 *
 * Encoding (the standalone log's record payload):
 *   u8 version (1), varint32 count, then per write:
 *     u8 kind (1 put, 0 delete), lengthPrefixed user key, [lengthPrefixed value if put]
 * The first sequence number is the log record's index.
 */
import { BufferReader, BufferWriter, PetrelError, putVarint, varintLength } from '@petrel/base';
import { KIND_DELETE, KIND_PUT, type Kind } from './format/internal_key.js';

export interface BatchEntry {
  kind: Kind;
  key: Buffer;
  value: Buffer;
}

const EMPTY = Buffer.alloc(0);
const BATCH_VERSION = 1;

/**
 * The encoding of a batch of one put, made in one allocation, with views of its key and value
 * (the fast path of Db.put: no batch object, one copy of the bytes).
 */
export function encodeSinglePut(key: Uint8Array, value: Uint8Array): { data: Buffer; key: Buffer; value: Buffer } {
  const keyLength = varintLength(key.length);
  const valueLength = varintLength(value.length);
  const data = Buffer.allocUnsafe(3 + keyLength + key.length + valueLength + value.length);
  data[0] = BATCH_VERSION;
  data[1] = 1; // count, varint32
  data[2] = KIND_PUT;
  let at = putVarint(data, 3, key.length);
  data.set(key, at);
  const keyView = data.subarray(at, at + key.length);
  at = putVarint(data, at + key.length, value.length);
  data.set(value, at);
  return { data, key: keyView, value: data.subarray(at, at + value.length) };
}

export class WriteBatch {
  readonly entries: BatchEntry[] = [];
  private bytes = 0;

  put(key: Uint8Array, value: Uint8Array): this {
    const k = Buffer.from(key);
    const v = Buffer.from(value);
    this.entries.push({ kind: KIND_PUT, key: k, value: v });
    this.bytes += k.length + v.length + 16;
    return this;
  }

  del(key: Uint8Array): this {
    const k = Buffer.from(key);
    this.entries.push({ kind: KIND_DELETE, key: k, value: EMPTY });
    this.bytes += k.length + 16;
    return this;
  }

  get count(): number {
    return this.entries.length;
  }

  /** Approximate memory the batch takes in a memtable. */
  get approximateBytes(): number {
    return this.bytes;
  }

  clear(): void {
    this.entries.length = 0;
    this.bytes = 0;
  }

  encode(): Buffer {
    const writer = new BufferWriter(this.bytes + 8);
    writer.u8(BATCH_VERSION).varint32(this.entries.length);
    for (const entry of this.entries) {
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
