/**
 * SegmentReader: walks the records of one segment file from a byte offset, reading it in chunks
 * with synchronous positional reads (the file is usually in the page cache, so this costs
 * microseconds where an async read would cost a thread-pool round trip).
 *
 * `next()` returns the next valid record, or a description of why the walk stopped: the end of the
 * data (`end`), or a record that does not check out (`bad`, with its offset and the reason). It is
 * the caller's choice whether `bad` means a torn tail or corruption.
 */
import { type VfsFile, readExactSync } from '@petrel/base';
import { RECORD_HEADER_BYTES, RECORD_TYPE_DATA, recordChecksum } from './format.js';

export interface SegmentRecord {
  index: number;
  /** A view into the reader's chunk; valid as long as the caller keeps it (chunks are never reused). */
  data: Buffer;
  offset: number;
  /** Offset just past this record. */
  end: number;
}

export type SegmentStep =
  | { kind: 'record'; record: SegmentRecord }
  | { kind: 'end'; offset: number }
  | { kind: 'bad'; offset: number; reason: string };

const CHUNK_BYTES = 1 << 20;

export class SegmentReader {
  private chunk = Buffer.alloc(0);
  private chunkStart = 0;
  private position: number;

  constructor(
    private readonly file: VfsFile,
    start: number,
    /** Bytes of the file that may hold records (the file size, or the written end of an active segment). */
    private readonly limit: number,
    private readonly maxRecordBytes: number,
  ) {
    this.position = start;
  }

  get offset(): number {
    return this.position;
  }

  /** Makes bytes [position, position + bytes) available in the chunk; false if past the limit. */
  private load(bytes: number): boolean {
    if (this.position + bytes > this.limit) return false;
    const chunkEnd = this.chunkStart + this.chunk.length;
    if (this.position >= this.chunkStart && this.position + bytes <= chunkEnd) return true;
    const length = Math.min(Math.max(bytes, CHUNK_BYTES), this.limit - this.position);
    const chunk = Buffer.allocUnsafe(length);
    readExactSync(this.file, chunk, 0, length, this.position);
    this.chunk = chunk;
    this.chunkStart = this.position;
    return true;
  }

  next(): SegmentStep {
    const offset = this.position;
    if (offset >= this.limit) return { kind: 'end', offset };
    if (!this.load(RECORD_HEADER_BYTES)) return { kind: 'bad', offset, reason: 'truncated record header' };
    let at = offset - this.chunkStart;
    const type = this.chunk[at + 8] as number;
    const length = this.chunk.readUInt32LE(at + 4);
    const stored = this.chunk.readUInt32LE(at);
    if (type === 0 && length === 0 && stored === 0) {
      // Zeros: the preallocated space after the last record, or a header that never reached the disk.
      return { kind: 'end', offset };
    }
    if (type !== RECORD_TYPE_DATA) return { kind: 'bad', offset, reason: `unknown record type ${type}` };
    if (length > this.maxRecordBytes) return { kind: 'bad', offset, reason: `record length ${length} over the limit ${this.maxRecordBytes}` };
    if (!this.load(RECORD_HEADER_BYTES + length)) return { kind: 'bad', offset, reason: 'truncated record payload' };
    at = offset - this.chunkStart;
    const end = at + RECORD_HEADER_BYTES + length;
    if (recordChecksum(this.chunk.subarray(at + 4, end)) !== stored) return { kind: 'bad', offset, reason: 'checksum mismatch' };
    const high = this.chunk.readUInt32LE(at + 13);
    const index = high * 4294967296 + this.chunk.readUInt32LE(at + 9);
    this.position = offset + RECORD_HEADER_BYTES + length;
    return { kind: 'record', record: { index, data: this.chunk.subarray(at + RECORD_HEADER_BYTES, end), offset, end: this.position } };
  }
}
