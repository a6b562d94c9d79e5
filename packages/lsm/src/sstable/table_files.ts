/**
 * TableFiles: the table cache's limit on open files. Every open TableReader keeps its index,
 * filter and properties in memory, but its file handle only while it is among the `limit` most
 * recently read tables of the process; a reader whose handle was taken reopens its file,
 * synchronously, on its next block read. Shared like the block cache: the limit that matters is
 * the process's descriptor limit, whatever the number of databases.
 */
import type { VfsFile } from '@petrel/base';

/** What TableFiles needs of a reader: to be told to give its handle back. */
export interface HandleHolder {
  /** Drops the file handle (closing it in the background); the next read reopens it. */
  releaseHandle(): void;
}

export class TableFiles {
  /** Readers holding a handle, least recently used first (Map keeps insertion order). */
  private readonly holders = new Map<HandleHolder, true>();
  opens = 0;
  evictions = 0;

  constructor(readonly limit: number) {
    if (!(limit >= 1)) throw new RangeError(`the open table file limit must be at least 1, not ${limit}`);
  }

  /** Records that `holder` holds an open handle and just used it; evicts the oldest over the limit. */
  touch(holder: HandleHolder): void {
    if (this.holders.has(holder)) {
      this.holders.delete(holder);
      this.holders.set(holder, true);
      return;
    }
    this.holders.set(holder, true);
    this.opens++;
    while (this.holders.size > this.limit) {
      const oldest = this.holders.keys().next().value as HandleHolder;
      this.holders.delete(oldest);
      this.evictions++;
      oldest.releaseHandle();
    }
  }

  /** The holder closed its handle itself. */
  forget(holder: HandleHolder): void {
    this.holders.delete(holder);
  }

  get openFiles(): number {
    return this.holders.size;
  }
}

/** Closes a handle in the background; a failure to close a read-only file loses nothing. */
export function closeQuietly(file: VfsFile): void {
  file.close().catch(() => undefined);
}

let shared: TableFiles | undefined;

/** The process-wide limit (default 1000 open table files), created on first use. */
export function sharedTableFiles(): TableFiles {
  shared ??= new TableFiles(1000);
  return shared;
}
