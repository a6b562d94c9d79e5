/**
 * TableReader: lookups and iteration over one SSTable. Opening reads the footer, the index, the
 * filter and the properties (all verified); data blocks are read on demand with synchronous
 * positional reads and kept, decoded, in the shared block cache.
 */
import { PetrelError, type Vfs, type VfsFile, assert, readExactSync } from '@petrel/base';
import { compareBytes, compareInternalKeys, KIND_DELETE, LookupKey, setSequence, TRAILER_BYTES } from '../format/internal_key.js';
import type { InternalIterator } from '../iterator/iterator.js';
import type { MemtableLookup } from '../memtable/memtable.js';
import { BLOCK_TRAILER_BYTES, type BlockHit, DecodedBlock, decodeHandle, unsealBlock } from './block.js';
import type { BlockCache } from './block_cache.js';
import { bloomMayContain, FILTER_BLOCKED_MURMUR3, hashForFilter, legacyBloomMayContain } from './bloom.js';
import { decodeFooter, decodeProperties, FOOTER_BYTES, type Handle, type TableProperties } from './format.js';
import { closeQuietly, type HandleHolder, type TableFiles } from './table_files.js';

const NOT_FOUND: MemtableLookup = { found: false };
const lookupScratch = new LookupKey();
const blockHit: BlockHit = { keyBytes: Buffer.alloc(0), keyStart: 0, keyLength: 0, valueStart: 0, valueLength: 0 };

export class TableReader implements HandleHolder {
  private readonly cacheId: number;
  private readonly blockOffsets: number[];
  private readonly blockSizes: number[];
  /** This table's blocks that are in the block cache now (see block_cache.ts). */
  private readonly cachedBlocks: (DecodedBlock | undefined)[];

  private closed = false;

  private constructor(
    private readonly vfs: Vfs,
    readonly path: string,
    /** Undefined while the table-file limit has taken the handle back. */
    private file: VfsFile | undefined,
    readonly fileSize: number,
    private readonly index: DecodedBlock,
    private readonly filter: Buffer | undefined,
    /** The filter's hash: murmur3 (format version 2) or xxh64 (version 1). */
    private readonly legacyFilter: boolean,
    readonly properties: TableProperties,
    private readonly cache: BlockCache,
    private readonly files: TableFiles | undefined,
    /** An ingested table's sequence, given to every entry in place of the 0 its file holds. */
    readonly globalSequence: number | undefined,
  ) {
    this.cacheId = cache.newId();
    this.blockOffsets = [];
    this.blockSizes = [];
    this.cachedBlocks = new Array<DecodedBlock | undefined>(index.count).fill(undefined);
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
      if (filter !== undefined && footer.version >= 2 && filter[filter.length - 1] !== FILTER_BLOCKED_MURMUR3) {
        throw new PetrelError('CORRUPTION', `${path}: unknown filter layout ${filter[filter.length - 1]}`, { path });
      }
      const properties = decodeProperties(readBlock(file, path, footer.properties), path);
      if (globalSequence !== undefined) {
        if (properties.largestSequence !== 0) {
          throw new PetrelError('CORRUPTION', `${path}: an ingested table must hold sequence 0 only, not up to ${properties.largestSequence}`, { path });
        }
        index.setSequence(globalSequence);
        setSequence(properties.smallestKey, globalSequence);
        setSequence(properties.largestKey, globalSequence);
        properties.smallestSequence = globalSequence;
        properties.largestSequence = globalSequence;
      }
      const reader = new TableReader(vfs, path, file, fileSize, index, filter, footer.version < 2, properties, cache, files, globalSequence);
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

  /** @internal Where data block `i` starts in the file. */
  blockOffset(i: number): number {
    return this.blockOffsets[i] as number;
  }

  /** @internal The size of data block `i`'s contents (without its trailer). */
  blockSize(i: number): number {
    return this.blockSizes[i] as number;
  }

  /** @internal The open file, for a reader that reads blocks itself (compaction's TableScan). */
  fileHandle(): VfsFile {
    return this.openFile();
  }

  /** @internal The decoded data block `i`, from the cache or the file (for iterating). */
  block(i: number): DecodedBlock {
    const block = this.cachedBlock(i);
    if (!block.isDecoded) {
      block.decodeNow();
      this.cache.recharge(this.cacheId, this.blockOffsets[i] as number, block);
    }
    return block;
  }

  /** Data block `i` as the cache holds it (decoded or not), from the cache or the file. */
  private cachedBlock(i: number, forLookup = false): DecodedBlock {
    const offset = this.blockOffsets[i] as number;
    const held = this.cachedBlocks[i];
    if (held !== undefined) {
      this.cache.touch(this.cacheId, offset);
      return held;
    }
    let block = this.cache.get(this.cacheId, offset);
    if (block !== undefined) return block;
    const size = this.blockSizes[i] as number;
    if (forLookup && this.globalSequence === undefined && !this.cache.admit(this.cacheId, offset, size + 256)) {
      // A block's first miss: read into scratch memory and not cached (see BlockCache.admit).
      // The caller copies what it returns out of it.
      return DecodedBlock.lazy(readBlock(this.openFile(), this.path, { offset, size }, scratchBlockBuffer), this.path, offset, true);
    }
    const contents = readBlock(this.openFile(), this.path, { offset, size }, allocateBlockBuffer);
    block = DecodedBlock.lazy(contents, this.path, offset);
    if (this.globalSequence !== undefined) block.setSequence(this.globalSequence);
    if (this.cache.set(this.cacheId, offset, block) && !this.closed) {
      block.cacheSlots = this.cachedBlocks;
      block.cacheSlot = i;
      this.cachedBlocks[i] = block;
    }
    return block;
  }

  /** Index of the first block whose last key is ≥ target, or blockCount. */
  findBlock(target: Buffer): number {
    return this.index.lowerBound(target, compareInternalKeys);
  }

  get hasFilter(): boolean {
    return this.filter !== undefined;
  }

  /** False when the key is certainly absent. `hash`: its hashForFilter, when the caller has it. */
  mayContain(userKey: Uint8Array, hash?: number): boolean {
    if (this.filter === undefined) return true;
    if (this.legacyFilter) return legacyBloomMayContain(this.filter, userKey);
    return bloomMayContain(this.filter, hash ?? hashForFilter(userKey));
  }

  /**
   * The newest entry of `userKey` at or below the sequence in `lookup` (an internal key). `hash`
   * is the key's filter hash (hashForFilter), computed once by the caller for every table.
   */
  get(userKey: Uint8Array, lookup: Buffer, hash?: number): MemtableLookup {
    return this.lookup(userKey, lookupScratch.setInternal(lookup), hash);
  }

  /** get(), with the target already made (Db.get makes one per read for every table). */
  lookup(userKey: Uint8Array, target: LookupKey, hash?: number): MemtableLookup {
    if (this.filter !== undefined && !this.mayContain(userKey, hash)) return NOT_FOUND;
    const blockIndex = this.index.lowerBoundKey(target);
    if (blockIndex >= this.blockCount) return NOT_FOUND;
    const block = this.cachedBlock(blockIndex, true);
    const hit = blockHit;
    if (!block.find(target, hit)) return NOT_FOUND;
    const userLength = hit.keyLength - TRAILER_BYTES;
    if (userLength !== userKey.length || compareBytes(hit.keyBytes, hit.keyStart, hit.keyStart + userLength, userKey, 0, userLength) !== 0) return NOT_FOUND;
    const kind = 255 - (hit.keyBytes[hit.keyStart + hit.keyLength - 1] as number);
    const value = block.valueAt(hit.valueStart, hit.valueLength);
    return { found: true, deleted: kind === KIND_DELETE, value: block.transient ? Buffer.from(value) : value };
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
    // The table is going away (obsolete after a compaction, or the database closes): its blocks
    // would only take room in the shared cache until evicted.
    for (let i = 0; i < this.cachedBlocks.length; i++) {
      if (this.cachedBlocks[i] !== undefined) this.cache.delete(this.cacheId, this.blockOffsets[i] as number);
    }
    this.files?.forget(this);
    const file = this.file;
    this.file = undefined;
    if (file !== undefined) await file.close();
  }
}

function readBlock(file: VfsFile, path: string, handle: Handle, allocate: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const raw = allocate(handle.size + BLOCK_TRAILER_BYTES);
  readExactSync(file, raw, 0, raw.length, handle.offset);
  return unsealBlock(raw, path, handle.offset);
}

/**
 * Data blocks read for the cache are cut from slabs of SLAB_BYTES: creating an ArrayBuffer per
 * block costs about a microsecond and loads the garbage collector, and a random read misses the
 * cache nearly every time. A slab lives while any block cut from it does; blocks read together
 * age together in the LRU order, so slabs are let go about whole.
 */
const SLAB_BYTES = 64 * 1024;
let slab = Buffer.alloc(0);
let slabUsed = 0;

/** Where a block read but not cached lands (reads are synchronous: one at a time). */
let scratchBlock = Buffer.allocUnsafeSlow(8192);

function scratchBlockBuffer(size: number): Buffer {
  if (size > scratchBlock.length) scratchBlock = Buffer.allocUnsafeSlow(Math.max(size, scratchBlock.length * 2));
  return scratchBlock.subarray(0, size);
}

function allocateBlockBuffer(size: number): Buffer {
  if (size > SLAB_BYTES / 4) return Buffer.allocUnsafeSlow(size);
  if (slabUsed + size > slab.length) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const block = slab.subarray(slabUsed, slabUsed + size);
  slabUsed += (size + 7) & ~7;
  return block;
}

/** Two levels: a position in the index, and a position in that block. */
class TableIterator implements InternalIterator {
  private blockIndex = -1;
  private block: DecodedBlock | undefined;
  private position = -1;
  /** The key at (keyBlock, keyPosition), made once: merging iterators ask for it repeatedly. */
  private keyBlock: DecodedBlock | undefined;
  private keyPosition = -1;
  private currentKey: Buffer | undefined;

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
    if (position >= block.count || compareInternalKeys(block.key(position), target) > 0) position--;
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
    if (this.keyBlock !== this.block || this.keyPosition !== this.position) {
      this.keyBlock = this.block;
      this.keyPosition = this.position;
      this.currentKey = (this.block as DecodedBlock).key(this.position);
    }
    return this.currentKey as Buffer;
  }

  value(): Buffer {
    assert(this.valid(), 'value of an invalid iterator');
    return (this.block as DecodedBlock).value(this.position);
  }

  close(): void {
    this.block = undefined;
    this.keyBlock = undefined;
    this.currentKey = undefined;
  }
}
