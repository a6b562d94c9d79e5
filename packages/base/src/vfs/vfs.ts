/**
 * Vfs: the file system as Petrel sees it. Every byte Petrel stores goes through one of these, so
 * that tests can swap the real disk (NodeVfs) for memory that can lose what was not synced
 * (MemVfs) or a disk that fails on command (FaultVfs).
 *
 * The durability contract, which MemVfs enforces and NodeVfs gets from the kernel:
 * - `file.sync()` makes the file's data durable, not its name.
 * - A created, renamed, linked or unlinked name becomes durable with `syncDir` of its directory.
 * - What was not made durable may be lost on a crash, or survive in part (a torn write).
 *
 * Reads have synchronous variants because reading page-cached data synchronously costs
 * microseconds, while one async fs call costs a thread-pool round trip (see ARCHITECTURE.md, 8).
 * Writes of the log's data may be synchronous for the same reason (in `os` mode: with fsync, the log
 * writes and syncs in one request, `writeDurable`); syncs are always asynchronous.
 *
 * Errors are PetrelErrors: NOT_FOUND, ALREADY_EXISTS, NO_SPACE, CLOSED or IO_ERROR, with the path.
 */
import { PetrelError } from '../errors.js';

export interface OpenOptions {
  /** Create the file when it does not exist (default false). */
  create?: boolean;
  /** With `create`: fail with ALREADY_EXISTS when it does exist. */
  exclusive?: boolean;
  /** Open for reading only (default false: read and write). */
  readOnly?: boolean;
}

export interface FileStat {
  size: number;
  isDirectory: boolean;
}

export interface VfsFile {
  readonly path: string;
  /** Reads up to `length` bytes at `position` into `target` at `offset`; fewer at end of file. */
  read(target: Uint8Array, offset: number, length: number, position: number): Promise<number>;
  readSync(target: Uint8Array, offset: number, length: number, position: number): number;
  /** Writes all of `data` at `position`, extending the file as needed. */
  write(data: Uint8Array, position: number): Promise<void>;
  writeSync(data: Uint8Array, position: number): void;
  /** Makes the data written so far durable. */
  sync(): Promise<void>;
  /**
   * Writes all of `data` at `position` and makes it durable — it and what is needed to read it
   * back, as a write then `sync()` would for these bytes — in one request to the I/O threads
   * (NodeVfs: a second descriptor opened with O_DSYNC), so that the caller's thread never waits
   * on the write itself. Other bytes written to the file and not synced stay as they were.
   */
  writeDurable(data: Uint8Array, position: number): Promise<void>;
  truncate(size: number): Promise<void>;
  size(): number;
  close(): Promise<void>;
}

export interface Vfs {
  open(path: string, options?: OpenOptions): Promise<VfsFile>;
  /**
   * Opens an existing file for reading, synchronously: for readers that reopen a file they closed
   * to stay under an open-file limit, in the middle of a synchronous read.
   */
  openReadSync(path: string): VfsFile;
  /** The whole content of a file. */
  readFile(path: string): Promise<Buffer>;
  /** Creates or replaces a file with `data`, syncing the data (not the name) when `sync`. */
  writeFile(path: string, data: Uint8Array, options?: { sync?: boolean }): Promise<void>;
  /** Atomically replaces `target` with `source` (same file system). */
  rename(source: string, target: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** A hard link: `target` names the same data as `existing`. */
  link(existing: string, target: string): Promise<void>;
  /** Names in a directory, sorted. */
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options?: { recursive?: boolean }): Promise<void>;
  /** Removes a directory and everything under it; absent is not an error. */
  removeTree(path: string): Promise<void>;
  /** Makes the names in a directory durable. */
  syncDir(path: string): Promise<void>;
  stat(path: string): Promise<FileStat>;
  exists(path: string): Promise<boolean>;
}

/** Reads exactly `length` bytes at `position`, or throws CORRUPTION naming the file. */
export function readExactSync(file: VfsFile, target: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const read = file.readSync(target, offset + done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  if (done !== length) throw shortRead(file.path, position, length, done);
}

export async function readExact(file: VfsFile, target: Uint8Array, offset: number, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const read = await file.read(target, offset + done, length - done, position + done);
    if (read === 0) break;
    done += read;
  }
  if (done !== length) throw shortRead(file.path, position, length, done);
}


function shortRead(path: string, position: number, length: number, done: number): PetrelError {
  return new PetrelError('CORRUPTION', `${path}: expected ${length} bytes at offset ${position}, file ends after ${done}`, {
    path,
    offset: position,
  });
}
