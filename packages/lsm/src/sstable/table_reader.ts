/**
 * TableReader: lookups and iteration over one SSTable. Opening reads the footer, the index, the
 * filter and the properties (all verified); data blocks are read on demand with synchronous
 * positional reads and kept, decoded, in the shared block cache.
 */
import { PetrelError, type Vfs, type VfsFile, assert, readExactSync } from '@petrel/base';
import { compareBytes, compareInternalKeys, KIND_DELETE, setSequence, TRAILER_BYTES } from '../format/internal_key.js';
import type { InternalIterator } from '../iterator/iterator.js';
import type { MemtableLookup } from '../memtable/memtable.js';
import { BLOCK_TRAILER_BYTES, DecodedBlock, decodeHandle, unsealBlock } from './block.js';
import type { BlockCache } from './block_cache.js';
import { bloomMayContain, hashForFilter } from './bloom.js';
import { decodeFooter, decodeProperties, FOOTER_BYTES, type Handle, type TableProperties } from './format.js';
import { closeQuietly, type HandleHolder, type TableFiles } from './table_files.js';

export class TableReader implements HandleHolder {
  private readonly cacheId: number;
  private readonly blockOffsets: number[];
  private readonly blockSizes: number[];

  private closed = false;

  private constructor(
    private readonly vfs: Vfs,
    readonly path: string,
    /** Undefined while the table-file limit has taken the handle back. */
    private file: VfsFile | undefined,
    readonly fileSize: number,
    private readonly index: DecodedBlock,
    private readonly filter: Buffer | undefined,
    readonly properties: TableProperties,
    private readonly cache: BlockCache,
    private readonly files: TableFiles | undefined,
    /** An ingested table's sequence, given to every entry in place of the 0 its file holds. */
    readonly globalSequence: number | undefined,
  ) {
    this.cacheId = cache.newId();
    this.blockOffsets = [];
    this.blockSizes = [];
    for (let i = 0; i < index.count; i++) {
      const handle = decodeHandle(index.value(i), path);
      if (handle.offset + handle.size + BLOCK_TRAILER_BYTES > fileSize) {
        throw new PetrelError('CORRUPTION', `${path}: index entry ${i} points outside the file`, { path });
      }
      this.blockOffsets.push(handle.offset);
      this.blockSizes.push(handle.size);
    }
  }

  /**
   * `files`, when given, limits how many tables keep their file open (see table_files.ts).
   * `globalSequence` is given for an ingested table (see ingest.ts): its file's entries all carry
   * sequence 0, and every key read from it carries `globalSequence` instead.
   */
  static async open(vfs: Vfs, path: string, cache: BlockCache, files?: TableFiles, globalSequence?: number): Promise<TableReader> {
    const file = await vfs.open(path, { readOnly: true });
    try {
      const fileSize = file.size();
      if (fileSize < FOOTER_BYTES) throw new PetrelError('CORRUPTION', `${path}: file of ${fileSize} bytes is too short for an SSTable`, { path });
      const footerBytes = Buffer.allocUnsafe(FOOTER_BYTES);
      readExactSync(file, footerBytes, 0, FOOTER_BYTES, fileSize - FOOTER_BYTES);
      const footer = decodeFooter(footerBytes, path, fileSize);
      const index = DecodedBlock.decode(readBlock(file, path, footer.index), path, footer.index.offset);
      const filter = footer.filter.size > 0 ? readBlock(file, path, footer.filter) : undefined;
      const properties = decodeProperties(readBlock(file, path, footer.properties), path);
      if (globalSequence !== undefined) {
        if (properties.largestSequence !== 0) {
          throw new PetrelError('CORRUPTION', `${path}: an ingested table must hold sequence 0 only, not up to ${properties.largestSequence}`, { path });
        }
        for (const key of index.keys) setSequence(key, globalSequence);
        setSequence(properties.smallestKey, globalSequence);
        setSequence(properties.largestKey, globalSequence);
        properties.smallestSequence = globalSequence;
        properties.largestSequence = globalSequence;
      }
      const reader = new TableReader(vfs, path, file, fileSize, index, filter, properties, cache, files, globalSequence);
      files?.touch(reader);
      return reader;
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  get blockCount(): number {
    return this.blockOffsets.length;
  }

  /** @internal The decoded data block `i`, from the cache or the file. */
  block(i: number): DecodedBlock {
    const offset = this.blockOffsets[i] as number;
    const cached = this.cache.get(this.cacheId, offset);
    if (cached !== undefined) return cached;
    const contents = readBlock(this.openFile(), this.path, { offset, size: this.blockSizes[i] as number });
    const block = DecodedBlock.decode(contents, this.path, offset);
    if (this.globalSequence !== undefined) for (const key of block.keys) setSequence(key, this.globalSequence);
    this.cache.set(this.cacheId, offset, block);
    return block;
  }

  /** @internal */
  indexKeys(): Buffer[] {
    return this.index.keys;
  }

  /** Index of the first block whose last key is ≥ target, or blockCount. */
  findBlock(target: Buffer): number {
    return this.index.lowerBound(target, compareInternalKeys);
  }

  get hasFilter(): boolean {
    return this.filter !== undefined;
  }

  mayContain(userKey: Uint8Array, hash: bigint = hashForFilter(userKey)): boolean {
    return this.filter === undefined || bloomMayContain(this.filter, hash);
  }

  /**
   * The newest entry of `userKey` at or below the sequence in `lookup` (an internal key). `hash`
   * is the key's filter hash (hashForFilter), computed once by the caller for every table.
   */
  get(userKey: Uint8Array, lookup: Buffer, hash?: bigint): MemtableLookup {
    if (this.filter !== undefined && !bloomMayContain(this.filter, hash ?? hashForFilter(userKey))) return { found: false };
    const blockIndex = this.findBlock(lookup);
    if (blockIndex >= this.blockCount) return { found: false };
    const block = this.block(blockIndex);
    const position = block.lowerBound(lookup, compareInternalKeys);
    if (position >= block.count) return { found: false };
    const key = block.keys[position] as Buffer;
    const userLength = key.length - TRAILER_BYTES;
    if (userLength !== userKey.length || compareBytes(key, 0, userLength, userKey, 0, userKey.length) !== 0) return { found: false };
    const kind = 255 - (key[key.length - 1] as number);
    return { found: true, deleted: kind === KIND_DELETE, value: block.value(position) };
  }

  iterator(): InternalIterator {
    return new TableIterator(this);
  }

  /** The file handle, reopened if the table-file limit took it. */
  private openFile(): VfsFile {
    if (this.closed) throw new PetrelError('CLOSED', `${this.path}: table is closed`, { path: this.path });
    if (this.file === undefined) {
      const file = this.vfs.openReadSync(this.path);
      if (file.size() !== this.fileSize) {
        closeQuietly(file);
        throw new PetrelError('CORRUPTION', `${this.path}: reopened table is ${file.size()} bytes, was ${this.fileSize}`, { path: this.path });
      }
      this.file = file;
    }
    this.files?.touch(this);
    return this.file;
  }

  releaseHandle(): void {
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) closeQuietly(file);
  }

  /** Whether the file handle is open now (tests and stats). */
  get hasOpenHandle(): boolean {
    return this.file !== undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.files?.forget(this);
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) await file.close();
  }
}

function readBlock(file: VfsFile, path: string, handle: Handle): Buffer {
  const raw = Buffer.allocUnsafe(handle.size + BLOCK_TRAILER_BYTES);
  readExactSync(file, raw, 0, raw.length, handle.offset);
  return unsealBlock(raw, path, handle.offset);
}

/** Two levels: a position in the index, and a position in that block. */
class TableIterator implements InternalIterator {
  private blockIndex = -1;
  private block: DecodedBlock | undefined;
  private position = -1;

  constructor(private readonly table: TableReader) {}

  valid(): boolean {
    return this.block !== undefined && this.position >= 0 && this.position < this.block.count;
  }

  private load(blockIndex: number): boolean {
    if (blockIndex < 0 || blockIndex >= this.table.blockCount) {
      this.block = undefined;
      this.blockIndex = -1;
      return false;
    }
    if (blockIndex !== this.blockIndex || this.block === undefined) {
      this.block = undefined;
      this.block = this.table.block(blockIndex);
      this.blockIndex = blockIndex;
    }
    return true;
  }

  /** Moves forward over empty positions into the following blocks. */
  private skipForward(): void {
    while (this.block !== undefined && this.position >= this.block.count) {
      if (!this.load(this.blockIndex + 1)) return;
      this.position = 0;
    }
  }

  private skipBackward(): void {
    while (this.block !== undefined && this.position < 0) {
      if (!this.load(this.blockIndex - 1)) return;
      this.position = (this.block as DecodedBlock).count - 1;
    }
  }

  seekToFirst(): void {
    if (this.load(0)) {
      this.position = 0;
      this.skipForward();
    }
  }

  seekToLast(): void {
    if (this.load(this.table.blockCount - 1)) {
      this.position = (this.block as DecodedBlock).count - 1;
      this.skipBackward();
    }
  }

  seek(target: Buffer): void {
    if (!this.load(this.table.findBlock(target))) return;
    this.position = (this.block as DecodedBlock).lowerBound(target, compareInternalKeys);
    this.skipForward();
  }

  seekForPrev(target: Buffer): void {
    const blockIndex = Math.min(this.table.findBlock(target), this.table.blockCount - 1);
    if (!this.load(blockIndex)) return;
    const block = this.block as DecodedBlock;
    let position = block.lowerBound(target, compareInternalKeys);
    if (position >= block.count || compareInternalKeys(block.keys[position] as Buffer, target) > 0) position--;
    this.position = position;
    this.skipBackward();
  }

  next(): void {
    assert(this.valid(), 'next on an invalid iterator');
    this.position++;
    this.skipForward();
  }

  prev(): void {
    assert(this.valid(), 'prev on an invalid iterator');
    this.position--;
    this.skipBackward();
  }

  key(): Buffer {
    assert(this.valid(), 'key of an invalid iterator');
    return (this.block as DecodedBlock).keys[this.position] as Buffer;
  }

  value(): Buffer {
    assert(this.valid(), 'value of an invalid iterator');
    return (this.block as DecodedBlock).value(this.position);
  }

  close(): void {
    this.block = undefined;
  }
}
