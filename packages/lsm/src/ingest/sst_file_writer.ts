/**
 * SstFileWriter: builds an SSTable outside any database, for `Db.ingest` (bulk load). Keys must
 * come in strictly increasing order, each once; every entry is stored with sequence 0, and the
 * database that ingests the file gives all of them one new sequence number at ingestion
 * (recorded in its manifest — the file itself is never rewritten, so ingestion can hard-link it).
 */
import { PetrelError, type Vfs, type VfsFile } from '@petrel/base';
import { compareUserKeys, KIND_DELETE, KIND_PUT, makeInternalKey } from '../format/internal_key.js';
import { DEFAULT_TABLE_OPTIONS, TableBuilder, type TableOptions } from '../sstable/table_builder.js';

export interface SstFileInfo {
  path: string;
  entries: number;
  fileSize: number;
  /** The first and last user keys. */
  smallestKey: Buffer;
  largestKey: Buffer;
}

export class SstFileWriter {
  private lastKey: Buffer | undefined;
  private smallestKey: Buffer | undefined;
  private finished = false;

  private constructor(
    readonly path: string,
    private readonly file: VfsFile,
    private readonly builder: TableBuilder,
  ) {}

  /** Creates `path` (which must not exist). */
  static async create(vfs: Vfs, path: string, options: Partial<TableOptions> = {}): Promise<SstFileWriter> {
    const file = await vfs.open(path, { create: true, exclusive: true });
    return new SstFileWriter(path, file, new TableBuilder(file, { ...DEFAULT_TABLE_OPTIONS, ...options }));
  }

  put(key: Uint8Array, value: Uint8Array): this {
    this.add(key, value, KIND_PUT);
    return this;
  }

  /** A deletion: after ingestion, the key is absent whatever older data held. */
  del(key: Uint8Array): this {
    this.add(key, Buffer.alloc(0), KIND_DELETE);
    return this;
  }

  private add(key: Uint8Array, value: Uint8Array, kind: typeof KIND_PUT | typeof KIND_DELETE): void {
    if (this.finished) throw new PetrelError('INVALID_ARGUMENT', `${this.path}: the writer is finished`);
    if (this.lastKey !== undefined && compareUserKeys(this.lastKey, key) >= 0) {
      throw new PetrelError('INVALID_ARGUMENT', `${this.path}: keys must be added in strictly increasing order, each once`);
    }
    const copy = Buffer.from(key);
    this.smallestKey ??= copy;
    this.lastKey = copy;
    this.builder.add(makeInternalKey(copy, 0, kind), value);
  }

  /** Writes the rest, syncs and closes. At least one entry is needed. */
  async finish(): Promise<SstFileInfo> {
    if (this.finished) throw new PetrelError('INVALID_ARGUMENT', `${this.path}: the writer is finished`);
    if (this.lastKey === undefined) throw new PetrelError('INVALID_ARGUMENT', `${this.path}: an SSTable needs at least one entry`);
    this.finished = true;
    try {
      const { fileSize, properties } = await this.builder.finish();
      return { path: this.path, entries: properties.entries, fileSize, smallestKey: this.smallestKey as Buffer, largestKey: this.lastKey };
    } finally {
      await this.file.close();
    }
  }

  /** Gives up: closes the file (the caller removes it). */
  async abandon(): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    await this.file.close();
  }
}
