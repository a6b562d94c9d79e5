/**
 * TableBuilder: writes an SSTable from internal keys added in order. Finished data blocks gather
 * in an output buffer written to the file (synchronous positional writes: page cache) each time it
 * fills; `finish` writes the filter, the properties, the index and the footer, and syncs the file.
 *
 * `addFrom` takes keys and values where they lie (a memtable's arena, a decoded block), so that
 * building a table makes no object per entry.
 */
import { PetrelError, type VfsFile, assert } from '@petrel/base';
import { KIND_DELETE, TRAILER_BYTES } from '../format/internal_key.js';
import { BlockBuilder, copyBytes, encodeHandle, sealBlock } from './block.js';
import { BloomBuilder } from './bloom.js';
import { encodeFooter, encodeProperties, type Handle, type TableProperties } from './format.js';

export interface TableOptions {
  /** Target size of a data block before its trailer (default 4 KiB). */
  blockSizeBytes: number;
  /** Entries between restart points (default 16). */
  restartInterval: number;
  /** Bloom filter bits per key; 0 disables the filter (default 10). */
  bloomBitsPerKey: number;
}

export const DEFAULT_TABLE_OPTIONS: TableOptions = { blockSizeBytes: 4096, restartInterval: 16, bloomBitsPerKey: 10 };

/** Finished blocks are written to the file once this many bytes wait. */
const OUTPUT_BUFFER_BYTES = 256 * 1024;
const SEQUENCE_SPACE = Number.MAX_SAFE_INTEGER;

/** The sequence number in the trailer at bytes[at, at + 8). */
function trailerSequence(bytes: Uint8Array, at: number): number {
  const high = ((bytes[at] as number) << 16) | ((bytes[at + 1] as number) << 8) | (bytes[at + 2] as number);
  const low = (((bytes[at + 3] as number) << 24) | ((bytes[at + 4] as number) << 16) | ((bytes[at + 5] as number) << 8) | (bytes[at + 6] as number)) >>> 0;
  return SEQUENCE_SPACE - (high * 4294967296 + low);
}

export class TableBuilder {
  private readonly data: BlockBuilder;
  private readonly index: BlockBuilder;
  private readonly bloom: BloomBuilder | undefined;
  /** Bytes of the file so far: written, plus waiting in `output`. */
  private offset = 0;
  private output = Buffer.allocUnsafe(OUTPUT_BUFFER_BYTES);
  private outputUsed = 0;
  /** Where `output` starts in the file. */
  private outputOffset = 0;
  /** A copy of the last key added: lastKey[0, lastLength). */
  private lastKey = Buffer.allocUnsafe(64);
  private lastLength = 0;
  private pendingIndexKey: Buffer | undefined;
  private pendingHandle: Handle | undefined;
  private readonly properties: TableProperties = {
    smallestKey: Buffer.alloc(0),
    largestKey: Buffer.alloc(0),
    entries: 0,
    deletions: 0,
    smallestSequence: Number.MAX_SAFE_INTEGER,
    largestSequence: 0,
    rawKeyBytes: 0,
    rawValueBytes: 0,
    dataBlocks: 0,
  };

  constructor(
    private readonly file: VfsFile,
    private readonly options: TableOptions = DEFAULT_TABLE_OPTIONS,
  ) {
    this.data = new BlockBuilder(options.restartInterval, Math.max(1024, options.blockSizeBytes * 2));
    this.index = new BlockBuilder(1);
    this.bloom = options.bloomBitsPerKey > 0 ? new BloomBuilder(options.bloomBitsPerKey) : undefined;
  }

  get entries(): number {
    return this.properties.entries;
  }

  /** Bytes written so far plus the block being built. */
  get estimatedBytes(): number {
    return this.offset + this.data.estimatedBytes;
  }

  add(key: Buffer, value: Uint8Array): void {
    this.addFrom(key, 0, key.length, value, 0, value.length);
  }

  /**
   * Adds the internal key keySource[keyStart, +keyLength) with the value valueSource[valueStart,
   * +valueLength). Both are copied before this returns: the caller may reuse its buffers.
   */
  addFrom(keySource: Uint8Array, keyStart: number, keyLength: number, valueSource: Uint8Array, valueStart: number, valueLength: number): void {
    const userLength = keyLength - TRAILER_BYTES;
    const props = this.properties;
    let newUserKey = true;
    // One pass over the bytes the new key shares with the last one gives the order check, whether
    // the user key is new (for the filter) and the block's prefix compression.
    let shared = 0;
    if (props.entries > 0) {
      const last = this.lastKey;
      const lastStart = 0;
      const lastLength = this.lastLength;
      const limit = keyLength < lastLength ? keyLength : lastLength;
      while (shared < limit && keySource[keyStart + shared] === last[lastStart + shared]) shared++;
      const lastUser = lastLength - TRAILER_BYTES;
      const minUser = userLength < lastUser ? userLength : lastUser;
      let order: number;
      if (shared < minUser) {
        order = (last[lastStart + shared] as number) - (keySource[keyStart + shared] as number);
      } else if (lastUser !== userLength) {
        order = lastUser - userLength;
      } else {
        // The same user key: the trailers decide (newest first), bytewise.
        newUserKey = false;
        order = shared < keyLength ? (last[lastStart + shared] as number) - (keySource[keyStart + shared] as number) : 0;
      }
      if (order >= 0) throw new PetrelError('SERVER_INTERNAL_ERROR', 'table builder: keys out of order');
      this.flushIndexEntry();
    } else {
      props.smallestKey = Buffer.from(keySource.subarray(keyStart, keyStart + keyLength));
    }
    if (this.bloom !== undefined && newUserKey) this.bloom.addFrom(keySource, keyStart, keyStart + userLength);
    this.data.addShared(shared, keySource, keyStart, keyLength, valueSource, valueStart, valueLength);
    // Keep the key: only the bytes past those it shares with the last one need copying.
    if (keyLength > this.lastKey.length) {
      const grown = Buffer.allocUnsafe(Math.max(keyLength, this.lastKey.length * 2));
      this.lastKey.copy(grown, 0, 0, shared);
      this.lastKey = grown;
    }
    copyBytes(this.lastKey, shared, keySource, keyStart + shared, keyLength - shared);
    this.lastLength = keyLength;
    const trailer = keyStart + userLength;
    const sequence = trailerSequence(keySource, trailer);
    props.entries++;
    if (255 - (keySource[trailer + 7] as number) === KIND_DELETE) props.deletions++;
    if (sequence < props.smallestSequence) props.smallestSequence = sequence;
    if (sequence > props.largestSequence) props.largestSequence = sequence;
    props.rawKeyBytes += keyLength;
    props.rawValueBytes += valueLength;
    if (this.data.estimatedBytes >= this.options.blockSizeBytes) this.finishDataBlock();
  }

  /** Appends bytes to the file through the output buffer. */
  private append(bytes: Uint8Array): void {
    if (this.outputUsed + bytes.length > this.output.length) {
      this.drain();
      if (bytes.length > this.output.length) this.output = Buffer.allocUnsafe(bytes.length);
    }
    this.output.set(bytes, this.outputUsed);
    this.outputUsed += bytes.length;
    this.offset += bytes.length;
  }

  private drain(): void {
    if (this.outputUsed === 0) return;
    this.file.writeSync(this.output.subarray(0, this.outputUsed), this.outputOffset);
    this.outputOffset += this.outputUsed;
    this.outputUsed = 0;
  }

  private writeBlock(contents: Buffer): Handle {
    const handle = { offset: this.offset, size: contents.length };
    this.append(sealBlock(contents));
    return handle;
  }

  private finishDataBlock(): void {
    if (this.data.isEmpty) return;
    const { sealed, contentsLength } = this.data.finishSealed();
    this.pendingHandle = { offset: this.offset, size: contentsLength };
    this.append(sealed);
    this.pendingIndexKey = Buffer.from(this.lastKey.subarray(0, this.lastLength));
    this.properties.dataBlocks++;
  }

  /** The index entry of a finished block is added once the next key is known (or at the end). */
  private flushIndexEntry(): void {
    if (this.pendingHandle === undefined || this.pendingIndexKey === undefined) return;
    this.index.add(this.pendingIndexKey, encodeHandle(this.pendingHandle.offset, this.pendingHandle.size));
    this.pendingHandle = undefined;
    this.pendingIndexKey = undefined;
  }

  /**
   * Writes the rest and syncs; returns the file size and properties. With `sync: false` the file
   * is written but not synced: the caller syncs it before it counts on it (compaction syncs an
   * output while it builds the next).
   */
  async finish(options: { sync?: boolean } = {}): Promise<{ fileSize: number; properties: TableProperties }> {
    assert(this.properties.entries > 0, 'an SSTable needs at least one entry');
    this.finishDataBlock();
    this.flushIndexEntry();
    this.properties.largestKey = Buffer.from(this.lastKey.subarray(0, this.lastLength));
    const filter = this.bloom === undefined ? { offset: 0, size: 0 } : this.writeBlock(this.bloom.finish());
    const properties = this.writeBlock(encodeProperties(this.properties));
    const index = this.writeBlock(this.index.finish());
    this.append(encodeFooter({ index, filter, properties }));
    this.drain();
    if (options.sync !== false) await this.file.sync();
    return { fileSize: this.offset, properties: this.properties };
  }
}
