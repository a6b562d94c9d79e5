/**
 * TableBuilder: writes an SSTable from internal keys added in order. Data blocks go to the file
 * as they fill (synchronous positional writes: page cache); `finish` writes the filter, the
 * properties, the index and the footer, and syncs the file.
 */
import { PetrelError, type VfsFile, assert } from '@petrel/base';
import { compareInternalKeys, KIND_DELETE, kindOf, sequenceOf, userKeyOf } from '../format/internal_key.js';
import { BlockBuilder, encodeHandle, sealBlock } from './block.js';
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

export class TableBuilder {
  private readonly data: BlockBuilder;
  private readonly index: BlockBuilder;
  private readonly bloom: BloomBuilder | undefined;
  private offset = 0;
  private lastKey: Buffer | undefined;
  private lastUserKey: Buffer | undefined;
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
    this.data = new BlockBuilder(options.restartInterval);
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
    if (this.lastKey !== undefined && compareInternalKeys(this.lastKey, key) >= 0) {
      throw new PetrelError('SERVER_INTERNAL_ERROR', 'table builder: keys out of order');
    }
    this.flushIndexEntry();
    if (this.properties.entries === 0) this.properties.smallestKey = Buffer.from(key);
    const userKey = userKeyOf(key);
    if (this.bloom !== undefined && (this.lastUserKey === undefined || !this.lastUserKey.equals(userKey))) this.bloom.add(userKey);
    this.lastUserKey = userKey;
    this.data.add(key, value);
    this.lastKey = key;
    const sequence = sequenceOf(key);
    const props = this.properties;
    props.entries++;
    if (kindOf(key) === KIND_DELETE) props.deletions++;
    if (sequence < props.smallestSequence) props.smallestSequence = sequence;
    if (sequence > props.largestSequence) props.largestSequence = sequence;
    props.rawKeyBytes += key.length;
    props.rawValueBytes += value.length;
    if (this.data.estimatedBytes >= this.options.blockSizeBytes) this.finishDataBlock();
  }

  private writeBlock(contents: Buffer): Handle {
    const sealed = sealBlock(contents);
    this.file.writeSync(sealed, this.offset);
    const handle = { offset: this.offset, size: contents.length };
    this.offset += sealed.length;
    return handle;
  }

  private finishDataBlock(): void {
    if (this.data.isEmpty) return;
    this.pendingHandle = this.writeBlock(this.data.finish());
    this.pendingIndexKey = this.lastKey;
    this.properties.dataBlocks++;
  }

  /** The index entry of a finished block is added once the next key is known (or at the end). */
  private flushIndexEntry(): void {
    if (this.pendingHandle === undefined || this.pendingIndexKey === undefined) return;
    this.index.add(this.pendingIndexKey, encodeHandle(this.pendingHandle.offset, this.pendingHandle.size));
    this.pendingHandle = undefined;
    this.pendingIndexKey = undefined;
  }

  /** Writes the rest and syncs; returns the file size and properties. */
  async finish(): Promise<{ fileSize: number; properties: TableProperties }> {
    assert(this.properties.entries > 0, 'an SSTable needs at least one entry');
    this.finishDataBlock();
    this.flushIndexEntry();
    this.properties.largestKey = Buffer.from(this.lastKey as Buffer);
    const filter = this.bloom === undefined ? { offset: 0, size: 0 } : this.writeBlock(this.bloom.finish());
    const properties = this.writeBlock(encodeProperties(this.properties));
    const index = this.writeBlock(this.index.finish());
    const footer = encodeFooter({ index, filter, properties });
    this.file.writeSync(footer, this.offset);
    this.offset += footer.length;
    await this.file.sync();
    return { fileSize: this.offset, properties: this.properties };
  }
}
