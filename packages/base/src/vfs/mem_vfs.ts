/**
 * MemVfs: an in-memory file system that remembers what was made durable, so that `crash()` can
 * throw away everything else — the way a power cut would.
 *
 * What survives a crash:
 * - A file's data as of its last `sync()`. With `tearWrites` on (the default), a random prefix of
 *   the writes and truncations made since then survives too, the last of them torn at a random
 *   byte (and, one time in four, the torn part reads as zeros: the size reached the disk, the
 *   data did not). The draws come from the seed, so a crash replays exactly.
 * - A name as of the last `syncDir()` of its directory: a file created, renamed, linked or
 *   unlinked since then reverts.
 * - Directories are simpler: `mkdir`, directory renames and `removeTree` are durable at once.
 *
 * After `crash()` every open handle fails with CLOSED; reopen the files to go on.
 */
import { assert } from '../assert.js';
import { PetrelError } from '../errors.js';
import { Prng } from '../random.js';
import type { FileStat, OpenOptions, Vfs, VfsFile } from './vfs.js';

/** How to undo one change made since the file's last sync. */
interface Undo {
  position: number;
  /** The bytes written, or null for a truncation. */
  written: Buffer | null;
  /** The old content of the bytes the change replaced or cut off. */
  replaced: Buffer;
  lengthBefore: number;
}

class Inode {
  data = Buffer.alloc(0);
  length = 0;
  undo: Undo[] = [];
  unsyncedBytes = 0;

  private ensureCapacity(size: number): void {
    if (size <= this.data.length) return;
    const grown = Buffer.alloc(Math.max(size, this.data.length * 2, 64));
    this.data.copy(grown, 0, 0, this.length);
    this.data = grown;
  }

  content(): Buffer {
    return this.data.subarray(0, this.length);
  }

  write(bytes: Uint8Array, position: number, recordUndo: boolean): void {
    const end = position + bytes.length;
    if (recordUndo) {
      const replaced = Buffer.from(this.data.subarray(Math.min(position, this.length), Math.min(end, this.length)));
      this.undo.push({ position, written: Buffer.from(bytes), replaced, lengthBefore: this.length });
      this.unsyncedBytes += bytes.length;
    }
    this.ensureCapacity(end);
    if (position > this.length) this.data.fill(0, this.length, position);
    this.data.set(bytes, position);
    this.length = Math.max(this.length, end);
  }

  truncate(size: number, recordUndo: boolean): void {
    if (recordUndo) {
      const replaced = Buffer.from(this.data.subarray(Math.min(size, this.length), this.length));
      this.undo.push({ position: size, written: null, replaced, lengthBefore: this.length });
    }
    if (size > this.length) {
      this.ensureCapacity(size);
      this.data.fill(0, this.length, size);
    }
    this.length = size;
  }

  sync(): void {
    this.undo = [];
    this.unsyncedBytes = 0;
  }

  private revert(change: Undo): void {
    this.ensureCapacity(change.lengthBefore);
    const start = Math.min(change.position, change.lengthBefore);
    this.data.set(change.replaced, start);
    this.length = change.lengthBefore;
  }

  /** Loses what was not synced; a random prefix of it may survive, its last change torn. */
  crash(prng: Prng | undefined): void {
    const changes = this.undo;
    this.undo = [];
    this.unsyncedBytes = 0;
    const kept = prng === undefined ? 0 : prng.int(changes.length + 1);
    for (let i = changes.length - 1; i >= kept; i--) this.revert(changes[i] as Undo);
    if (prng === undefined || kept >= changes.length) return;
    // The change just past the kept prefix reached the disk in part.
    const torn = changes[kept] as Undo;
    if (torn.written === null) return;
    const cut = prng.int(torn.written.length + 1);
    const zeros = prng.chance(0.25);
    this.write(torn.written.subarray(0, cut), torn.position, false);
    if (zeros && cut < torn.written.length) this.write(Buffer.alloc(torn.written.length - cut), torn.position + cut, false);
  }
}

type Entry = { kind: 'file'; inode: Inode } | { kind: 'dir' };

function normalize(path: string): string {
  assert(path.length > 0, 'empty path');
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

function parentOf(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash);
}

function notFound(path: string): PetrelError {
  return new PetrelError('NOT_FOUND', `${path}: no such file or directory`, { path });
}

class MemFile implements VfsFile {
  private closed = false;

  constructor(
    readonly path: string,
    private readonly inode: Inode,
    private readonly vfs: MemVfs,
    private readonly generation: number,
    private readonly readOnly: boolean,
  ) {}

  private check(writing: boolean): void {
    if (this.closed || this.generation !== this.vfs.generation) {
      throw new PetrelError('CLOSED', `${this.path}: file is closed`, { path: this.path });
    }
    if (writing && this.readOnly) throw new PetrelError('IO_ERROR', `${this.path}: opened read-only`, { path: this.path });
  }

  readSync(target: Uint8Array, offset: number, length: number, position: number): number {
    this.check(false);
    const available = Math.max(0, Math.min(length, this.inode.length - position));
    if (available > 0) target.set(this.inode.data.subarray(position, position + available), offset);
    return available;
  }

  read(target: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    try {
      return Promise.resolve(this.readSync(target, offset, length, position));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  writeSync(data: Uint8Array, position: number): void {
    this.check(true);
    this.inode.write(data, position, true);
  }

  write(data: Uint8Array, position: number): Promise<void> {
    try {
      this.writeSync(data, position);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The write, then the whole file synced: a little stronger than O_DSYNC, which makes only these
   * bytes durable (the file's other unsynced writes here become durable too).
   */
  writeDurable(data: Uint8Array, position: number): Promise<void> {
    try {
      this.writeSync(data, position);
      this.inode.sync();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  sync(): Promise<void> {
    try {
      this.check(false);
      this.inode.sync();
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  truncate(size: number): Promise<void> {
    try {
      this.check(true);
      this.inode.truncate(size, true);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
  }

  size(): number {
    this.check(false);
    return this.inode.length;
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

export interface MemVfsOptions {
  /** Seed of the draws that decide what a crash keeps. */
  seed?: number;
  /** Keep a random torn prefix of unsynced writes on crash (default true); false drops them all. */
  tearWrites?: boolean;
}

export class MemVfs implements Vfs {
  /** Bumped by every crash; handles from an older generation are dead. */
  generation = 0;
  private live = new Map<string, Entry>([['/', { kind: 'dir' }]]);
  private durable = new Map<string, Entry>([['/', { kind: 'dir' }]]);
  private readonly prng: Prng;
  private readonly tearWrites: boolean;

  constructor(options: MemVfsOptions = {}) {
    this.prng = new Prng(options.seed ?? 1);
    this.tearWrites = options.tearWrites ?? true;
  }

  /** Simulates a power cut and restart: only what was made durable survives (see above). */
  crash(): void {
    const inodes = new Set<Inode>();
    for (const map of [this.live, this.durable]) {
      for (const entry of map.values()) if (entry.kind === 'file') inodes.add(entry.inode);
    }
    for (const inode of inodes) inode.crash(this.tearWrites ? this.prng : undefined);
    this.live = new Map(this.durable);
    this.generation++;
  }

  /** Bytes written since their file's last sync, over every file. */
  unsyncedBytes(): number {
    let total = 0;
    const seen = new Set<Inode>();
    for (const entry of this.live.values()) {
      if (entry.kind === 'file' && !seen.has(entry.inode)) {
        seen.add(entry.inode);
        total += entry.inode.unsyncedBytes;
      }
    }
    return total;
  }

  private requireDir(path: string): void {
    const entry = this.live.get(path);
    if (entry === undefined) throw notFound(path);
    if (entry.kind !== 'dir') throw new PetrelError('IO_ERROR', `${path}: not a directory`, { path });
  }

  private file(path: string): Inode {
    const entry = this.live.get(path);
    if (entry === undefined) throw notFound(path);
    if (entry.kind !== 'file') throw new PetrelError('IO_ERROR', `${path}: is a directory`, { path });
    return entry.inode;
  }

  private attempt<T>(action: () => T): Promise<T> {
    try {
      return Promise.resolve(action());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  open(rawPath: string, options: OpenOptions = {}): Promise<VfsFile> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      let entry = this.live.get(path);
      if (entry !== undefined && options.create && options.exclusive && !options.readOnly) {
        throw new PetrelError('ALREADY_EXISTS', `${path}: file exists`, { path });
      }
      if (entry === undefined) {
        if (!options.create || options.readOnly) throw notFound(path);
        this.requireDir(parentOf(path));
        entry = { kind: 'file', inode: new Inode() };
        this.live.set(path, entry);
      }
      if (entry.kind !== 'file') throw new PetrelError('IO_ERROR', `${path}: is a directory`, { path });
      return new MemFile(path, entry.inode, this, this.generation, options.readOnly ?? false);
    });
  }

  openReadSync(rawPath: string): VfsFile {
    const path = normalize(rawPath);
    const entry = this.live.get(path);
    if (entry === undefined) throw notFound(path);
    if (entry.kind !== 'file') throw new PetrelError('IO_ERROR', `${path}: is a directory`, { path });
    return new MemFile(path, entry.inode, this, this.generation, true);
  }

  readFile(rawPath: string): Promise<Buffer> {
    return this.attempt(() => Buffer.from(this.file(normalize(rawPath)).content()));
  }

  writeFile(rawPath: string, data: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      this.requireDir(parentOf(path));
      // Like open(O_TRUNC) + write: a new file, or the old inode cut to zero and rewritten.
      let entry = this.live.get(path);
      if (entry === undefined) {
        entry = { kind: 'file', inode: new Inode() };
        this.live.set(path, entry);
      }
      if (entry.kind !== 'file') throw new PetrelError('IO_ERROR', `${path}: is a directory`, { path });
      entry.inode.truncate(0, true);
      entry.inode.write(data, 0, true);
      if (options.sync) entry.inode.sync();
    });
  }

  rename(rawSource: string, rawTarget: string): Promise<void> {
    return this.attempt(() => {
      const source = normalize(rawSource);
      const target = normalize(rawTarget);
      const entry = this.live.get(source);
      if (entry === undefined) throw notFound(source);
      this.requireDir(parentOf(target));
      if (entry.kind === 'file') {
        if (this.live.get(target)?.kind === 'dir') throw new PetrelError('IO_ERROR', `${target}: is a directory`, { path: target });
        this.live.set(target, entry);
        this.live.delete(source);
        return;
      }
      // Directory renames move the whole subtree, durably at once.
      for (const map of [this.live, this.durable]) {
        for (const [path, value] of [...map]) {
          if (path === source || path.startsWith(source + '/')) {
            map.delete(path);
            map.set(target + path.slice(source.length), value);
          }
        }
      }
    });
  }

  unlink(rawPath: string): Promise<void> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      this.file(path);
      this.live.delete(path);
    });
  }

  link(rawExisting: string, rawTarget: string): Promise<void> {
    return this.attempt(() => {
      const existing = normalize(rawExisting);
      const target = normalize(rawTarget);
      const inode = this.file(existing);
      this.requireDir(parentOf(target));
      if (this.live.has(target)) throw new PetrelError('ALREADY_EXISTS', `${target}: file exists`, { path: target });
      this.live.set(target, { kind: 'file', inode });
    });
  }

  readdir(rawPath: string): Promise<string[]> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      this.requireDir(path);
      const prefix = path === '/' ? '/' : path + '/';
      const names: string[] = [];
      for (const key of this.live.keys()) {
        if (key !== '/' && key.startsWith(prefix) && !key.includes('/', prefix.length)) names.push(key.slice(prefix.length));
      }
      return names.sort();
    });
  }

  mkdir(rawPath: string, options: { recursive?: boolean } = {}): Promise<void> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      const existing = this.live.get(path);
      if (existing !== undefined) {
        if (options.recursive && existing.kind === 'dir') return;
        throw new PetrelError('ALREADY_EXISTS', `${path}: exists`, { path });
      }
      const parent = parentOf(path);
      if (!this.live.has(parent)) {
        if (!options.recursive) throw notFound(parent);
        this.mkdirSync(parent);
      }
      this.mkdirSync(path);
    });
  }

  private mkdirSync(path: string): void {
    if (this.live.has(path)) return;
    const parent = parentOf(path);
    if (!this.live.has(parent)) this.mkdirSync(parent);
    this.requireDir(parent);
    this.live.set(path, { kind: 'dir' });
    this.durable.set(path, { kind: 'dir' });
  }

  removeTree(rawPath: string): Promise<void> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      assert(path !== '/', 'removeTree of the root');
      for (const map of [this.live, this.durable]) {
        for (const key of [...map.keys()]) if (key === path || key.startsWith(path + '/')) map.delete(key);
      }
    });
  }

  syncDir(rawPath: string): Promise<void> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      this.requireDir(path);
      const prefix = path === '/' ? '/' : path + '/';
      const isChild = (key: string) => key !== '/' && key.startsWith(prefix) && !key.includes('/', prefix.length);
      for (const key of [...this.durable.keys()]) {
        if (isChild(key) && this.durable.get(key)?.kind === 'file' && !this.live.has(key)) this.durable.delete(key);
      }
      for (const [key, entry] of this.live) {
        if (isChild(key) && entry.kind === 'file') this.durable.set(key, entry);
      }
    });
  }

  stat(rawPath: string): Promise<FileStat> {
    return this.attempt(() => {
      const path = normalize(rawPath);
      const entry = this.live.get(path);
      if (entry === undefined) throw notFound(path);
      return entry.kind === 'dir' ? { size: 0, isDirectory: true } : { size: entry.inode.length, isDirectory: false };
    });
  }

  exists(rawPath: string): Promise<boolean> {
    return Promise.resolve(this.live.has(normalize(rawPath)));
  }
}
