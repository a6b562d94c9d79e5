/**
 * Blocks: the unit of an SSTable that is read, checksummed and cached.
 *
 * Block contents (data and index blocks alike):
 *   entries:  varint32 shared key bytes, varint32 unshared key bytes, varint32 value length,
 *             the unshared key bytes, the value
 *   restarts: u32le offset of every `restartInterval`-th entry (whose shared length is 0)
 *   u32le     number of restarts (≥ 1)
 * On disk each block is followed by a 5-byte trailer: u8 compression (0 = none), u32le checksum
 * (low 32 bits of xxh64 over the contents and the compression byte).
 *
 * A block read from disk is decoded once into arrays (keys, value offsets) and cached decoded, so
 * a lookup in a cached block is a binary search with no parsing.
 */
import { BufferReader, BufferWriter, PetrelError, checksum32, putVarint, varintLength } from '@petrel/base';
import { CHUNKED_BYTES, compareBytes, compareInternalKeys, keyChunk, TRAILER_BYTES } from '../format/internal_key.js';

export const BLOCK_TRAILER_BYTES = 5;
export const COMPRESSION_NONE = 0;

export class BlockBuilder {
  private readonly buffer = new BufferWriter(8192);
  private readonly restarts: number[] = [0];
  private counter = 0;
  private lastKey: Buffer = Buffer.alloc(0);
  private entries = 0;

  constructor(private readonly restartInterval: number) {}

  get isEmpty(): boolean {
    return this.entries === 0;
  }

  /** Bytes the block will take when finished (without the trailer). */
  get estimatedBytes(): number {
    return this.buffer.length + this.restarts.length * 4 + 4;
  }

  add(key: Buffer, value: Uint8Array): void {
    let shared = 0;
    if (this.counter < this.restartInterval) {
      const limit = Math.min(key.length, this.lastKey.length);
      while (shared < limit && key[shared] === this.lastKey[shared]) shared++;
    } else {
      this.restarts.push(this.buffer.length);
      this.counter = 0;
    }
    const unshared = key.length - shared;
    this.buffer.reserve(15 + unshared + value.length);
    this.buffer.varint32(shared).varint32(unshared).varint32(value.length);
    this.buffer.bytes(key.subarray(shared)).bytes(value);
    this.lastKey = key;
    this.counter++;
    this.entries++;
  }

  /** The block contents; the builder is reset for the next block. */
  finish(): Buffer {
    for (const restart of this.restarts) this.buffer.u32le(restart);
    this.buffer.u32le(this.restarts.length);
    const contents = this.buffer.toBuffer();
    this.buffer.reset();
    this.restarts.length = 0;
    this.restarts.push(0);
    this.counter = 0;
    this.entries = 0;
    this.lastKey = Buffer.alloc(0);
    return contents;
  }
}

/** Contents + trailer, ready to write. */
export function sealBlock(contents: Buffer): Buffer {
  const out = Buffer.allocUnsafe(contents.length + BLOCK_TRAILER_BYTES);
  contents.copy(out, 0);
  out[contents.length] = COMPRESSION_NONE;
  out.writeUInt32LE(checksum32(out.subarray(0, contents.length + 1)), contents.length + 1);
  return out;
}

/** Checks a block read with its trailer and returns the contents. */
export function unsealBlock(raw: Buffer, path: string, offset: number): Buffer {
  const size = raw.length - BLOCK_TRAILER_BYTES;
  if (size < 0) throw new PetrelError('CORRUPTION', `${path}: block at offset ${offset} is too short`, { path, offset });
  const expected = raw.readUInt32LE(size + 1);
  if (checksum32(raw.subarray(0, size + 1)) !== expected) {
    throw new PetrelError('CORRUPTION', `${path}: block checksum mismatch at offset ${offset}`, { path, offset });
  }
  if (raw[size] !== COMPRESSION_NONE) throw new PetrelError('CORRUPTION', `${path}: unknown compression ${raw[size]} at offset ${offset}`, { path, offset });
  return raw.subarray(0, size);
}

/** A block decoded into arrays. Keys are whole (prefix compression undone). */
export class DecodedBlock {
  constructor(
    readonly keys: Buffer[],
    private readonly data: Buffer,
    private readonly valueOffsets: Uint32Array,
    private readonly valueLengths: Uint32Array,
  ) {}

  get count(): number {
    return this.keys.length;
  }

  value(index: number): Buffer {
    const offset = this.valueOffsets[index] as number;
    return this.data.subarray(offset, offset + (this.valueLengths[index] as number));
  }

  /** Memory the decoded block holds, for cache accounting. */
  get charge(): number {
    return this.data.length + this.keys.length * 124;
  }

  /**
   * Per key: its user key's first 18 bytes as six 24-bit chunks and its user-key length (7
   * integers a key), built on the first search of the block; see lowerBoundInternal.
   */
  private chunks: Int32Array | undefined;

  /** Index of the first key ≥ target under `compare`, or count. */
  lowerBound(target: Buffer, compare: (a: Buffer, b: Buffer) => number): number {
    if (compare === compareInternalKeys) return this.lowerBoundInternal(target);
    let low = 0;
    let high = this.keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compare(this.keys[middle] as Buffer, target) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * lowerBound under compareInternalKeys, comparing the keys' chunks as integers and reading key
   * bytes only past 18 equal bytes or for equal user keys (then the trailers decide).
   */
  private lowerBoundInternal(target: Buffer): number {
    const keys = this.keys;
    let chunks = this.chunks;
    if (chunks === undefined) {
      chunks = new Int32Array(keys.length * 7);
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as Buffer;
        const userLength = key.length - TRAILER_BYTES;
        const base = i * 7;
        for (let c = 0; c < 6; c++) chunks[base + c] = keyChunk(key, c * 3, userLength);
        chunks[base + 6] = userLength;
      }
      this.chunks = chunks;
    }
    const targetUser = target.length - TRAILER_BYTES;
    const t0 = keyChunk(target, 0, targetUser);
    const t1 = keyChunk(target, 3, targetUser);
    const t2 = keyChunk(target, 6, targetUser);
    const t3 = keyChunk(target, 9, targetUser);
    const t4 = keyChunk(target, 12, targetUser);
    const t5 = keyChunk(target, 15, targetUser);
    let low = 0;
    let high = keys.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const base = middle * 7;
      let difference = (chunks[base] as number) - t0;
      if (difference === 0) difference = (chunks[base + 1] as number) - t1;
      if (difference === 0) difference = (chunks[base + 2] as number) - t2;
      if (difference === 0) difference = (chunks[base + 3] as number) - t3;
      if (difference === 0) difference = (chunks[base + 4] as number) - t4;
      if (difference === 0) difference = (chunks[base + 5] as number) - t5;
      if (difference === 0) {
        const key = keys[middle] as Buffer;
        const userLength = chunks[base + 6] as number;
        if (userLength > CHUNKED_BYTES && targetUser > CHUNKED_BYTES) {
          difference = compareBytes(key, CHUNKED_BYTES, userLength, target, CHUNKED_BYTES, targetUser);
        } else {
          difference = userLength - targetUser;
        }
        // The same user key: the trailers (inverted sequence, then kind) decide, bytewise.
        if (difference === 0) difference = compareBytes(key, userLength, key.length, target, targetUser, target.length);
      }
      if (difference < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  static decode(contents: Buffer, path: string, offset: number): DecodedBlock {
    const fail = (why: string): never => {
      throw new PetrelError('CORRUPTION', `${path}: block at offset ${offset}: ${why}`, { path, offset });
    };
    if (contents.length < 4) fail('too short');
    const restartCount = contents.readUInt32LE(contents.length - 4);
    const restartsStart = contents.length - 4 - restartCount * 4;
    if (restartCount === 0 || restartsStart < 0) fail(`bad restart count ${restartCount}`);
    const reader = new BufferReader(contents, 'CORRUPTION', `${path}: block at offset ${offset}`, 0, restartsStart);
    const keys: Buffer[] = [];
    const offsets: number[] = [];
    const lengths: number[] = [];
    let lastKey = Buffer.alloc(0);
    while (!reader.atEnd()) {
      const shared = reader.varint32();
      const unshared = reader.varint32();
      const valueLength = reader.varint32();
      if (shared > lastKey.length) reader.fail(`shared length ${shared} longer than the previous key`);
      const delta = reader.bytes(unshared);
      const key = Buffer.allocUnsafe(shared + unshared);
      lastKey.copy(key, 0, 0, shared);
      delta.copy(key, shared);
      const valueOffset = reader.offset;
      reader.skip(valueLength);
      keys.push(key);
      offsets.push(valueOffset);
      lengths.push(valueLength);
      lastKey = key;
    }
    return new DecodedBlock(keys, contents, Uint32Array.from(offsets), Uint32Array.from(lengths));
  }
}

/** Encodes a block handle (offset, size) as an index value: two varint64s. */
export function encodeHandle(offset: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(varintLength(offset) + varintLength(size));
  putVarint(out, putVarint(out, 0, offset), size);
  return out;
}

export function decodeHandle(value: Buffer, path: string): { offset: number; size: number } {
  const reader = new BufferReader(value, 'CORRUPTION', `${path}: block handle`);
  const handle = { offset: reader.varint64(), size: reader.varint64() };
  reader.expectEnd();
  return handle;
}
