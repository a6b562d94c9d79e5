/**
 * TableScan: a forward-only pass over the entries of one or more SSTables — a run of tables with
 * disjoint, increasing key ranges (a level's files) read one after the other — for compaction.
 *
 * A compaction reads every entry exactly once, in order, so a scan needs neither the block cache
 * nor a decoded block: it reads the file in large windows (one system call per window, not per
 * block), checks each block's checksum, and walks the block's entries in place, rebuilding each
 * key (prefix compression) in one scratch buffer. The current entry is
 *
 *   key    = key[0, keyLength)                       (overwritten by next())
 *   value  = valueSource[valueStart, valueStart + valueLength)   (valid until next())
 *
 * so a whole compaction makes no object per entry.
 */
import { PetrelError, readExactSync } from '@petrel/base';
import { KIND_DELETE, TRAILER_BYTES, writeTrailer } from '../format/internal_key.js';
import { BLOCK_TRAILER_BYTES, unsealBlock } from '../sstable/block.js';
import type { TableReader } from '../sstable/table_reader.js';

/** Bytes read from a table file in one go. */
const WINDOW_BYTES = 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export class TableScan {
  /** The current entry's internal key: key[0, keyLength). */
  key = Buffer.allocUnsafe(64);
  keyLength = 0;
  valueSource: Buffer = EMPTY;
  valueStart = 0;
  valueLength = 0;
  /** False once every entry has been read. */
  valid = false;

  private tableIndex = -1;
  private table: TableReader | undefined;
  private blockIndex = 0;
  /** The current block's contents, the next entry's offset, and where its entries end. */
  private block: Buffer = EMPTY;
  private at = 0;
  private end = 0;
  private window: Buffer = EMPTY;
  private windowOffset = 0;
  private windowTable: TableReader | undefined;

  /** `tables`: in key order, their ranges disjoint (or one table). `windowBytes`: read size (tests vary it). */
  constructor(
    private readonly tables: readonly TableReader[],
    private readonly windowBytes = WINDOW_BYTES,
  ) {}

  /** Positions on the first entry. */
  start(): void {
    this.tableIndex = -1;
    this.table = undefined;
    this.block = EMPTY;
    this.at = 0;
    this.end = 0;
    this.valid = true;
    this.next();
  }

  /** Moves to the next entry (valid turns false after the last). */
  next(): void {
    while (this.at >= this.end) {
      if (!this.nextBlock()) {
        this.valid = false;
        return;
      }
    }
    this.parseEntry();
  }

  private fail(why: string): never {
    const path = this.table?.path ?? '?';
    throw new PetrelError('CORRUPTION', `${path}: block ${this.blockIndex}: ${why}`, { path });
  }

  /** Loads the next non-empty block (of this table or the next ones); false at the end. */
  private nextBlock(): boolean {
    for (;;) {
      if (this.table !== undefined && this.blockIndex + 1 < this.table.blockCount) {
        this.blockIndex++;
      } else {
        this.tableIndex++;
        const table = this.tables[this.tableIndex];
        if (table === undefined) return false;
        this.table = table;
        this.blockIndex = 0;
        if (table.blockCount === 0) continue;
      }
      this.loadBlock(this.table, this.blockIndex);
      this.keyLength = 0;
      if (this.at < this.end) return true;
    }
  }

  private loadBlock(table: TableReader, index: number): void {
    const offset = table.blockOffset(index);
    const length = table.blockSize(index) + BLOCK_TRAILER_BYTES;
    if (this.windowTable !== table || offset < this.windowOffset || offset + length > this.windowOffset + this.window.length) {
      const size = Math.min(Math.max(this.windowBytes, length), table.fileSize - offset);
      if (size < length) this.fail('block runs past the end of the file');
      const window = this.window.length >= size && this.window.length <= 2 * this.windowBytes ? this.window : Buffer.allocUnsafe(Math.max(size, this.windowBytes));
      readExactSync(table.fileHandle(), window, 0, size, offset);
      this.window = window;
      this.windowOffset = offset;
      this.windowTable = table;
    }
    const start = offset - this.windowOffset;
    const contents = unsealBlock(this.window.subarray(start, start + length), table.path, offset);
    if (contents.length < 4) this.fail('too short');
    const restarts = contents.readUInt32LE(contents.length - 4);
    const end = contents.length - 4 - restarts * 4;
    if (restarts === 0 || end < 0) this.fail(`bad restart count ${restarts}`);
    this.block = contents;
    this.at = 0;
    this.end = end;
  }

  private varint(): number {
    const block = this.block;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (this.at >= this.end) this.fail('entry cut short');
      const byte = block[this.at++] as number;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    return this.fail('varint longer than 5 bytes');
  }

  private parseEntry(): void {
    const block = this.block;
    // One-byte varints (nearly every length) inline; the rest the careful way.
    let shared = block[this.at] as number;
    if (shared < 0x80 && this.at < this.end) this.at++;
    else shared = this.varint();
    let unshared = block[this.at] as number;
    if (unshared < 0x80 && this.at < this.end) this.at++;
    else unshared = this.varint();
    let valueLength = block[this.at] as number;
    if (valueLength < 0x80 && this.at < this.end) this.at++;
    else valueLength = this.varint();
    if (shared > this.keyLength) this.fail(`shared length ${shared} longer than the previous key`);
    const keyLength = shared + unshared;
    if (keyLength < TRAILER_BYTES) this.fail(`key of ${keyLength} bytes is shorter than its trailer`);
    const valueStart = this.at + unshared;
    if (valueStart + valueLength > this.end) this.fail('entry runs past the block');
    if (keyLength > this.key.length) {
      const grown = Buffer.allocUnsafe(Math.max(keyLength, this.key.length * 2));
      this.key.copy(grown, 0, 0, shared);
      this.key = grown;
    }
    const key = this.key;
    if (unshared <= 24) {
      for (let i = 0; i < unshared; i++) key[shared + i] = block[this.at + i] as number;
    } else {
      block.copy(key, shared, this.at, valueStart);
    }
    this.keyLength = keyLength;
    this.valueSource = block;
    this.valueStart = valueStart;
    this.valueLength = valueLength;
    this.at = valueStart + valueLength;
    const globalSequence = (this.table as TableReader).globalSequence;
    if (globalSequence !== undefined) {
      // An ingested table: every entry carries the sequence it was given at ingestion.
      const kind = 255 - (key[keyLength - 1] as number);
      writeTrailer(key, keyLength - TRAILER_BYTES, globalSequence, kind === KIND_DELETE ? KIND_DELETE : 1);
    }
  }
}
