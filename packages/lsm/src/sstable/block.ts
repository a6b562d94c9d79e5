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
import { BufferReader, PetrelError, checksum32, grownBuffer, putVarint, varintLength } from '@petrel/base';
import { CHUNKED_BYTES, compareBytes, compareInternalKeys, keyChunk, LookupKey, TRAILER_BYTES, writeTrailer } from '../format/internal_key.js';

export const BLOCK_TRAILER_BYTES = 5;
export const COMPRESSION_NONE = 0;

export class BlockBuilder {
  private buffer: Buffer;
  private position = 0;
  private restarts = new Uint32Array(64);
  private restartCount = 1;
  private counter = 0;
  /** The previous key, where it lies (its bytes stay unchanged until the next add). */
  private lastSource: Uint8Array = EMPTY;
  private lastStart = 0;
  private lastLength = 0;
  private entries = 0;

  constructor(
    private readonly restartInterval: number,
    capacity = 8192,
  ) {
    this.buffer = Buffer.allocUnsafe(capacity);
  }

  get isEmpty(): boolean {
    return this.entries === 0;
  }

  /** Bytes the block will take when finished (without the trailer). */
  get estimatedBytes(): number {
    return this.position + this.restartCount * 4 + 4;
  }

  add(key: Buffer, value: Uint8Array): void {
    this.addFrom(key, 0, key.length, value, 0, value.length);
  }

  /**
   * Adds the key keySource[keyStart, +keyLength) with the value valueSource[valueStart,
   * +valueLength). The key's bytes must stay unchanged until the next add (they are compared with
   * the next key's, not copied).
   */
  addFrom(keySource: Uint8Array, keyStart: number, keyLength: number, valueSource: Uint8Array, valueStart: number, valueLength: number): void {
    let shared = 0;
    if (this.entries > 0) {
      const last = this.lastSource;
      const lastStart = this.lastStart;
      const limit = keyLength < this.lastLength ? keyLength : this.lastLength;
      while (shared < limit && keySource[keyStart + shared] === last[lastStart + shared]) shared++;
    }
    this.addShared(shared, keySource, keyStart, keyLength, valueSource, valueStart, valueLength);
  }

  /**
   * addFrom for a caller that knows how many leading bytes the key shares with the previous key
   * added (TableBuilder computes it for its order check). At a restart point the key is stored
   * whole. The bytes are copied: the caller may reuse its buffers (but then must not call addFrom,
   * which compares with the previous key where it was).
   */
  addShared(sharedWithLast: number, keySource: Uint8Array, keyStart: number, keyLength: number, valueSource: Uint8Array, valueStart: number, valueLength: number): void {
    let shared = sharedWithLast;
    if (this.counter >= this.restartInterval || this.entries === 0) {
      if (this.entries > 0) {
        if (this.restartCount === this.restarts.length) {
          const grown = new Uint32Array(this.restarts.length * 2);
          grown.set(this.restarts);
          this.restarts = grown;
        }
        this.restarts[this.restartCount++] = this.position;
      }
      this.counter = 0;
      shared = 0;
    }
    const unshared = keyLength - shared;
    this.reserve(15 + unshared + valueLength);
    const buffer = this.buffer;
    let at = this.position;
    at = putVarint(buffer, at, shared);
    at = putVarint(buffer, at, unshared);
    at = putVarint(buffer, at, valueLength);
    if (valueSource === keySource && valueStart === keyStart + keyLength) {
      // Key and value lie back to back (a memtable's arena): one copy.
      copyBytes(buffer, at, keySource, keyStart + shared, unshared + valueLength);
    } else {
      copyBytes(buffer, at, keySource, keyStart + shared, unshared);
      copyBytes(buffer, at + unshared, valueSource, valueStart, valueLength);
    }
    this.position = at + unshared + valueLength;
    this.lastSource = keySource;
    this.lastStart = keyStart;
    this.lastLength = keyLength;
    this.counter++;
    this.entries++;
  }

  private reserve(bytes: number): void {
    this.buffer = grownBuffer(this.buffer, this.position, this.position + bytes);
  }

  /** Appends the restart array and count; returns the contents' length. */
  private seal(): number {
    this.reserve(this.restartCount * 4 + 4 + BLOCK_TRAILER_BYTES);
    const buffer = this.buffer;
    let at = this.position;
    for (let i = 0; i < this.restartCount; i++) at = buffer.writeUInt32LE(this.restarts[i] as number, at);
    return buffer.writeUInt32LE(this.restartCount, at);
  }

  private reset(): void {
    this.position = 0;
    this.restartCount = 1;
    this.counter = 0;
    this.entries = 0;
    this.lastSource = EMPTY;
    this.lastLength = 0;
  }

  /** The block contents (a copy); the builder is reset for the next block. */
  finish(): Buffer {
    const length = this.seal();
    const contents = Buffer.from(this.buffer.subarray(0, length));
    this.reset();
    return contents;
  }

  /**
   * The block contents followed by their trailer, as a view of the builder's buffer that the next
   * add overwrites; the builder is reset. `contentsLength` tells the contents' size.
   */
  finishSealed(): { sealed: Buffer; contentsLength: number } {
    const length = this.seal();
    writeBlockTrailer(this.buffer, length);
    const sealed = this.buffer.subarray(0, length + BLOCK_TRAILER_BYTES);
    this.reset();
    return { sealed, contentsLength: length };
  }
}

/** Writes the trailer of the block contents buffer[0, length) at `length` (room must be there). */
function writeBlockTrailer(buffer: Buffer, length: number): void {
  buffer[length] = COMPRESSION_NONE;
  buffer.writeUInt32LE(checksum32(buffer.subarray(0, length + 1)), length + 1);
}

/** Contents + trailer, ready to write. */
export function sealBlock(contents: Buffer): Buffer {
  const out = Buffer.allocUnsafe(contents.length + BLOCK_TRAILER_BYTES);
  contents.copy(out, 0);
  writeBlockTrailer(out, contents.length);
  return out;
}

const EMPTY = Buffer.alloc(0);

/** Copies source[start, start + length) to target at `at`, by the cheapest means for the size. */
export function copyBytes(target: Uint8Array, at: number, source: Uint8Array, start: number, length: number): void {
  if (length <= 24) {
    for (let i = 0; i < length; i++) target[at + i] = source[start + i] as number;
  } else if (start === 0 && length === source.length) {
    target.set(source, at);
  } else {
    // One view and a memmove: Buffer#copy checks its arguments and makes the same view.
    target.set(new Uint8Array(source.buffer, source.byteOffset + start, length), at);
  }
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

/** Where the last readVarint ended, and why it failed (it returns −1 then). */
let varintEnd = 0;
let varintError = '';

/** A varint32 at bytes[at…] before `end`; −1 when cut short or too long (see varintError). */
function readVarint(bytes: Uint8Array, at: number, end: number): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 5; i++) {
    if (at >= end) {
      varintError = 'entry cut short';
      return -1;
    }
    const byte = bytes[at++] as number;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) {
      varintEnd = at;
      return value;
    }
    scale *= 128;
  }
  varintError = 'varint longer than 5 bytes';
  return -1;
}

/** The target of lowerBound(target: Buffer): made once, reused by every call. */
const scratchLookup = new LookupKey();

/** Scratch for decoding: per entry, key start, value start and value length (grown as needed). */
let decodeScratch = new Int32Array(512);

/** Where a point lookup landed in a block (BlockHit): the entry's key and value, where they lie. */
export interface BlockHit {
  keyBytes: Buffer;
  keyStart: number;
  keyLength: number;
  valueStart: number;
  valueLength: number;
}

/** The key a raw search rebuilds entries into (reads are synchronous: one search at a time). */
let rawKey = Buffer.allocUnsafe(256);

/**
 * A block as the reader keeps it (in the block cache). Point lookups search its bytes in place —
 * a binary search over its restart points, then a scan of at most one restart interval — and never
 * decode it: on the 1M-key readrandom of bench:engine that is as fast as searching decoded keys
 * once the cache is warm, faster while it fills, and half the memory a cached block takes (a
 * decoded form is more fresh pages, and fresh pages are what a cold pass pays for most). A block
 * an iterator walks is decoded: every key whole (prefix compression undone), back to back in one
 * buffer, with offset arrays and (for binary searches) the keys' chunks — a few allocations a
 * block, not one per key. Values always stay in the block's contents.
 */
export class DecodedBlock {
  private readonly restartCount: number;
  /** Where the restart array starts: the entries end there. */
  private readonly entriesEnd: number;
  /** Keys back to back: key i is keyBytes[info[i], info[i + 1]) (once decoded). */
  private keyBytes: Buffer | undefined;
  /** [n + 1 key offsets][n value offsets][n value lengths] (once decoded). */
  private info: Int32Array | undefined;
  private entries = 0;
  /**
   * Per key: the 18 user-key bytes after the block's shared prefix as six 24-bit chunks, and its
   * user-key length (7 integers a key), built on the first binary search of the decoded block;
   * see lowerBoundKey.
   */
  private chunks: Int32Array | undefined;
  /** The user-key bytes every key of the block shares (set with `chunks`). */
  private prefixLength = 0;
  /**
   * While the block is in a BlockCache: the owning table's array of its cached blocks and this
   * block's index there, cleared when the cache lets the block go (see TableReader.block).
   */
  cacheSlots: (DecodedBlock | undefined)[] | undefined;
  cacheSlot = 0;

  private constructor(
    private readonly data: Buffer,
    private readonly path: string,
    private readonly offset: number,
    /** The contents lie in scratch memory the next read reuses: copy what must outlive the call. */
    readonly transient: boolean,
  ) {
    if (data.length < 4) this.fail('too short');
    const restartCount = data.readUInt32LE(data.length - 4);
    const entriesEnd = data.length - 4 - restartCount * 4;
    if (restartCount === 0 || entriesEnd < 0) this.fail(`bad restart count ${restartCount}`);
    this.restartCount = restartCount;
    this.entriesEnd = entriesEnd;
  }

  /** A block to be searched in place first and decoded when it proves worth it. */
  static lazy(contents: Buffer, path: string, offset: number, transient = false): DecodedBlock {
    return new DecodedBlock(contents, path, offset, transient);
  }

  /** A block decoded at once (every structural error found now). */
  static decode(contents: Buffer, path: string, offset: number): DecodedBlock {
    const block = new DecodedBlock(contents, path, offset, false);
    block.decodeEntries();
    return block;
  }

  private fail(why: string): never {
    throw new PetrelError('CORRUPTION', `${this.path}: block at offset ${this.offset}: ${why}`, { path: this.path, offset: this.offset });
  }

  get count(): number {
    if (this.info === undefined) this.decodeEntries();
    return this.entries;
  }

  /** Key `index` (a view of the block's key buffer: it stays valid and unchanged). */
  key(index: number): Buffer {
    if (this.info === undefined) this.decodeEntries();
    const info = this.info as Int32Array;
    return (this.keyBytes as Buffer).subarray(info[index] as number, info[index + 1] as number);
  }

  value(index: number): Buffer {
    if (this.info === undefined) this.decodeEntries();
    const info = this.info as Int32Array;
    const offset = info[this.entries + 1 + index] as number;
    return this.data.subarray(offset, offset + (info[2 * this.entries + 1 + index] as number));
  }

  /** A view of the contents (values: see BlockHit). */
  valueAt(start: number, length: number): Buffer {
    return this.data.subarray(start, start + length);
  }

  /** Rewrites every key's sequence, keeping its kind (ingested tables; before any key is handed out). */
  setSequence(sequence: number): void {
    if (this.info === undefined) this.decodeEntries();
    const keyBytes = this.keyBytes as Buffer;
    const info = this.info as Int32Array;
    for (let i = 0; i < this.entries; i++) {
      const end = info[i + 1] as number;
      const kind = 255 - (keyBytes[end - 1] as number);
      writeTrailer(keyBytes, end - TRAILER_BYTES, sequence, kind === 0 ? 0 : 1);
    }
    // Decoded now, so searches see the new trailers, never the raw bytes.
  }

  /** Whether the entries have been decoded (the block then takes more memory: see charge). */
  get isDecoded(): boolean {
    return this.info !== undefined;
  }

  /** Decodes the entries now (an iterator is about to walk them). */
  decodeNow(): void {
    if (this.info === undefined) this.decodeEntries();
  }

  /** Memory the block holds, for cache accounting: its contents, and its decoded form once made. */
  get charge(): number {
    const decoded = this.info === undefined ? 0 : (this.keyBytes as Buffer).length + this.info.length * 4 + this.entries * 28;
    return this.data.length + decoded + 256;
  }

  /** Index of the first key ≥ target under `compare`, or count. */
  lowerBound(target: Buffer, compare: (a: Buffer, b: Buffer) => number): number {
    if (compare === compareInternalKeys) return this.lowerBoundKey(scratchLookup.setInternal(target));
    let low = 0;
    let high = this.count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compare(this.key(middle), target) < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /**
   * The first entry ≥ `target` (compareInternalKeys' order), for a point lookup: false when every
   * key is smaller. In place unless the block is decoded already (an iterator walked it). The
   * hit's key may lie in a scratch buffer that the next search overwrites.
   */
  find(target: LookupKey, hit: BlockHit): boolean {
    if (this.info === undefined) return this.findInPlace(target, hit);
    const index = this.lowerBoundKey(target);
    if (index >= this.entries) return false;
    const info = this.info as Int32Array;
    hit.keyBytes = this.keyBytes as Buffer;
    hit.keyStart = info[index] as number;
    hit.keyLength = (info[index + 1] as number) - hit.keyStart;
    hit.valueStart = info[this.entries + 1 + index] as number;
    hit.valueLength = info[2 * this.entries + 1 + index] as number;
    return true;
  }

  /** The offset of the entry at restart point `r`, checked. */
  private restart(r: number): number {
    const offset = this.data.readUInt32LE(this.entriesEnd + 4 * r);
    if (offset >= this.entriesEnd) this.fail(`restart point ${r} at ${offset} lies past the entries`);
    return offset;
  }

  /** find() on the raw bytes: a binary search over the restart points, then a scan. */
  private findInPlace(target: LookupKey, hit: BlockHit): boolean {
    const data = this.data;
    const end = this.entriesEnd;
    // The last restart point whose key is < target (a restart entry stores its key whole).
    let low = 0;
    let high = this.restartCount - 1;
    while (low < high) {
      const middle = (low + high + 1) >>> 1;
      let at = this.restart(middle);
      if (data[at] !== 0) this.fail(`restart point ${middle} shares bytes with the key before it`);
      at++;
      const unshared = readVarint(data, at, end);
      if (unshared < 0) this.fail(varintError);
      at = varintEnd;
      if (readVarint(data, at, end) < 0) this.fail(varintError);
      at = varintEnd;
      if (at + unshared > end || unshared < TRAILER_BYTES) this.fail('restart entry runs past the block');
      if (compareToTarget(data, at, unshared, target) < 0) low = middle;
      else high = middle - 1;
    }
    let at = this.restart(low);
    let keyLength = 0;
    while (at < end) {
      let shared = data[at] as number;
      if (shared < 0x80) at++;
      else if ((shared = readVarint(data, at, end)) < 0) this.fail(varintError);
      else at = varintEnd;
      let unshared = at < end ? (data[at] as number) : 0x80;
      if (unshared < 0x80) at++;
      else if ((unshared = readVarint(data, at, end)) < 0) this.fail(varintError);
      else at = varintEnd;
      let valueLength = at < end ? (data[at] as number) : 0x80;
      if (valueLength < 0x80) at++;
      else if ((valueLength = readVarint(data, at, end)) < 0) this.fail(varintError);
      else at = varintEnd;
      if (shared > keyLength) this.fail(`shared length ${shared} longer than the previous key`);
      const valueStart = at + unshared;
      if (valueStart + valueLength > end) this.fail('entry runs past the block');
      keyLength = shared + unshared;
      if (keyLength > rawKey.length) {
        const grown = Buffer.allocUnsafe(Math.max(keyLength, rawKey.length * 2));
        rawKey.copy(grown, 0, 0, shared);
        rawKey = grown;
      }
      copyBytes(rawKey, shared, data, at, unshared);
      if (keyLength < TRAILER_BYTES) this.fail(`key of ${keyLength} bytes is shorter than its trailer`);
      if (compareToTarget(rawKey, 0, keyLength, target) >= 0) {
        hit.keyBytes = rawKey;
        hit.keyStart = 0;
        hit.keyLength = keyLength;
        hit.valueStart = valueStart;
        hit.valueLength = valueLength;
        return true;
      }
      at = valueStart + valueLength;
    }
    return false;
  }

  /**
   * The index of the first key ≥ `target` (compareInternalKeys' order), or count. The keys of a
   * block often share a long prefix (keys written in order, zero-padded numbers): the search
   * checks the target against that prefix once, then compares only the 18 bytes after it, as
   * six integers a key, and reads key bytes only past those or for equal user keys.
   */
  lowerBoundKey(target: LookupKey): number {
    if (this.info === undefined) this.decodeEntries();
    const keyBytes = this.keyBytes as Buffer;
    const info = this.info as Int32Array;
    const count = this.entries;
    if (count === 0) return 0;
    let chunks = this.chunks;
    if (chunks === undefined) chunks = this.buildChunks();
    const prefix = this.prefixLength;
    const targetBytes = target.bytes;
    const targetUser = target.userLength;
    if (prefix > 0) {
      const first = info[0] as number;
      const shared = targetUser < prefix ? targetUser : prefix;
      const order = compareBytes(targetBytes, 0, shared, keyBytes, first, first + shared);
      if (order < 0) return 0;
      if (order > 0) return count;
      // A target that is a proper prefix of every key sorts before all of them.
      if (targetUser < prefix) return 0;
    }
    target.chunksFrom(prefix);
    const t0 = target.s0;
    const t1 = target.s1;
    const t2 = target.s2;
    const t3 = target.s3;
    const t4 = target.s4;
    const t5 = target.s5;
    const chunked = prefix + CHUNKED_BYTES;
    let low = 0;
    let high = count;
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
        const start = info[middle] as number;
        const userLength = chunks[base + 6] as number;
        if (userLength > chunked && targetUser > chunked) {
          difference = compareBytes(keyBytes, start + chunked, start + userLength, targetBytes, chunked, targetUser);
        } else {
          difference = userLength - targetUser;
        }
        // The same user key: the trailers (inverted sequence, then kind) decide, bytewise.
        if (difference === 0) difference = compareBytes(keyBytes, start + userLength, info[middle + 1] as number, targetBytes, targetUser, target.length);
      }
      if (difference < 0) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** The user-key prefix every key shares, and each key's chunks after it (see lowerBoundKey). */
  private buildChunks(): Int32Array {
    const keyBytes = this.keyBytes as Buffer;
    const info = this.info as Int32Array;
    const count = this.entries;
    // Sorted keys: what the first and the last share, all share.
    const firstStart = info[0] as number;
    const firstUser = (info[1] as number) - TRAILER_BYTES - firstStart;
    const lastStart = info[count - 1] as number;
    const lastUser = (info[count] as number) - TRAILER_BYTES - lastStart;
    const limit = firstUser < lastUser ? firstUser : lastUser;
    let prefix = 0;
    while (prefix < limit && keyBytes[firstStart + prefix] === keyBytes[lastStart + prefix]) prefix++;
    const chunks = new Int32Array(count * 7);
    for (let i = 0; i < count; i++) {
      const start = (info[i] as number) + prefix;
      const userEnd = (info[i + 1] as number) - TRAILER_BYTES;
      const base = i * 7;
      chunks[base] = keyChunk(keyBytes, start, userEnd);
      chunks[base + 1] = keyChunk(keyBytes, start + 3, userEnd);
      chunks[base + 2] = keyChunk(keyBytes, start + 6, userEnd);
      chunks[base + 3] = keyChunk(keyBytes, start + 9, userEnd);
      chunks[base + 4] = keyChunk(keyBytes, start + 12, userEnd);
      chunks[base + 5] = keyChunk(keyBytes, start + 15, userEnd);
      chunks[base + 6] = userEnd - (info[i] as number);
    }
    this.prefixLength = prefix;
    this.chunks = chunks;
    return chunks;
  }

  /** Undoes the prefix compression of every entry (checking the structure as it goes). */
  private decodeEntries(): void {
    const contents = this.data;
    const end = this.entriesEnd;
    let keyBytes = Buffer.allocUnsafe(Math.max(64, Math.min(end, 2048)));
    let keysLength = 0;
    let lastStart = 0;
    let lastLength = 0;
    let count = 0;
    let at = 0;
    while (at < end) {
      // Three varints; one byte each, nearly always.
      let shared = contents[at] as number;
      if (shared < 0x80) at++;
      else if ((shared = readVarint(contents, at, end)) < 0) this.fail(varintError);
      else at = varintEnd;
      let unshared = at < end ? (contents[at] as number) : 0x80;
      if (unshared < 0x80) at++;
      else if ((unshared = readVarint(contents, at, end)) < 0) this.fail(varintError);
      else at = varintEnd;
      let valueLength = at < end ? (contents[at] as number) : 0x80;
      if (valueLength < 0x80) at++;
      else if ((valueLength = readVarint(contents, at, end)) < 0) this.fail(varintError);
      else at = varintEnd;
      if (shared > lastLength) this.fail(`shared length ${shared} longer than the previous key`);
      const valueStart = at + unshared;
      if (valueStart + valueLength > end) this.fail('entry runs past the block');
      const keyLength = shared + unshared;
      if (keysLength + keyLength > keyBytes.length) {
        const grown = Buffer.allocUnsafe(Math.max(keysLength + keyLength, keyBytes.length * 2));
        keyBytes.copy(grown, 0, 0, keysLength);
        keyBytes = grown;
      }
      // The shared prefix from the previous key (just before, in the same buffer), the rest from the block.
      keyBytes.copyWithin(keysLength, lastStart, lastStart + shared);
      copyBytes(keyBytes, keysLength + shared, contents, at, unshared);
      if (3 * count + 3 > decodeScratch.length) {
        const grown = new Int32Array(decodeScratch.length * 2);
        grown.set(decodeScratch);
        decodeScratch = grown;
      }
      decodeScratch[3 * count] = keysLength;
      decodeScratch[3 * count + 1] = valueStart;
      decodeScratch[3 * count + 2] = valueLength;
      lastStart = keysLength;
      lastLength = keyLength;
      keysLength += keyLength;
      count++;
      at = valueStart + valueLength;
    }
    const info = new Int32Array(3 * count + 1);
    for (let i = 0; i < count; i++) {
      info[i] = decodeScratch[3 * i] as number;
      info[count + 1 + i] = decodeScratch[3 * i + 1] as number;
      info[2 * count + 1 + i] = decodeScratch[3 * i + 2] as number;
    }
    info[count] = keysLength;
    this.keyBytes = keyBytes.subarray(0, keysLength);
    this.info = info;
    this.entries = count;
  }
}

/** Orders the internal key bytes[start, start + length) against `target`, as compareInternalKeys does. */
function compareToTarget(bytes: Uint8Array, start: number, length: number, target: LookupKey): number {
  const userLength = length - TRAILER_BYTES;
  const byUser = compareBytes(bytes, start, start + userLength, target.bytes, 0, target.userLength);
  if (byUser !== 0) return byUser;
  return compareBytes(bytes, start + userLength, start + length, target.bytes, target.userLength, target.length);
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
