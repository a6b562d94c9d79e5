/**
 * NodeVfs: the real file system. The only module in Petrel that imports node:fs. Node's error
 * codes become PetrelError codes (ENOENT → NOT_FOUND, EEXIST → ALREADY_EXISTS, ENOSPC → NO_SPACE,
 * anything else → IO_ERROR), with the path.
 */
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { PetrelError } from '../errors.js';
import type { FileStat, OpenOptions, Vfs, VfsFile } from './vfs.js';

function translate(error: unknown, path: string): PetrelError {
  if (error instanceof PetrelError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = `${path}: ${(error as Error | undefined)?.message ?? String(error)}`;
  switch (code) {
    case 'ENOENT':
      return new PetrelError('NOT_FOUND', message, { path, cause: error });
    case 'EEXIST':
      return new PetrelError('ALREADY_EXISTS', message, { path, cause: error });
    case 'ENOSPC':
    case 'EDQUOT':
      return new PetrelError('NO_SPACE', message, { path, cause: error });
    default:
      return new PetrelError('IO_ERROR', message, { path, cause: error });
  }
}

async function io<T>(path: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw translate(error, path);
  }
}

function ioSync<T>(path: string, action: () => T): T {
  try {
    return action();
  } catch (error) {
    throw translate(error, path);
  }
}

class NodeFile implements VfsFile {
  private closed = false;
  private knownSize: number;
  /** The same file opened with O_DSYNC, for writeDurable: opened at its first use. */
  private dsyncFd: number | undefined;

  constructor(
    readonly path: string,
    private readonly fd: number,
    size: number,
    private readonly readOnly = false,
  ) {
    this.knownSize = size;
  }

  private check(): void {
    if (this.closed) throw new PetrelError('CLOSED', `${this.path}: file is closed`, { path: this.path });
  }

  async read(target: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.check();
    return io(
      this.path,
      () =>
        new Promise<number>((resolve, reject) => {
          fs.read(this.fd, target, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead)));
        }),
    );
  }

  readSync(target: Uint8Array, offset: number, length: number, position: number): number {
    this.check();
    return ioSync(this.path, () => fs.readSync(this.fd, target, offset, length, position));
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.check();
    await this.writeAll(this.fd, data, position);
  }

  /** Writes all of `data` at `position` through `fd` (a write may take part of it), then grows the known size. */
  private async writeAll(fd: number, data: Uint8Array, position: number): Promise<void> {
    await io(this.path, async () => {
      let done = 0;
      while (done < data.length) {
        done += await new Promise<number>((resolve, reject) => {
          fs.write(fd, data, done, data.length - done, position + done, (error, written) => (error ? reject(error) : resolve(written)));
        });
      }
    });
    this.knownSize = Math.max(this.knownSize, position + data.length);
  }

  writeSync(data: Uint8Array, position: number): void {
    this.check();
    ioSync(this.path, () => {
      let done = 0;
      while (done < data.length) done += fs.writeSync(this.fd, data, done, data.length - done, position + done);
    });
    this.knownSize = Math.max(this.knownSize, position + data.length);
  }

  async writeDurable(data: Uint8Array, position: number): Promise<void> {
    this.check();
    // Its own descriptor would be writable: refuse as a write through this one would.
    if (this.readOnly) throw new PetrelError('IO_ERROR', `${this.path}: opened read-only`, { path: this.path });
    // Opened synchronously once per file (a log segment): every later call is one pool request.
    this.dsyncFd ??= ioSync(this.path, () => fs.openSync(this.path, fs.constants.O_WRONLY | fs.constants.O_DSYNC));
    await this.writeAll(this.dsyncFd, data, position);
  }

  async sync(): Promise<void> {
    this.check();
    return io(
      this.path,
      () => new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (error) => (error ? reject(error) : resolve()))),
    );
  }

  async truncate(size: number): Promise<void> {
    this.check();
    await io(this.path, () => new Promise<void>((resolve, reject) => fs.ftruncate(this.fd, size, (e) => (e ? reject(e) : resolve()))));
    this.knownSize = size;
  }

  size(): number {
    this.check();
    return this.knownSize;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const dsyncFd = this.dsyncFd;
    this.dsyncFd = undefined;
    if (dsyncFd !== undefined) await this.closeFd(dsyncFd);
    await this.closeFd(this.fd);
  }

  private closeFd(fd: number): Promise<void> {
    return io(this.path, () => new Promise<void>((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve()))));
  }
}

export class NodeVfs implements Vfs {
  async open(path: string, options: OpenOptions = {}): Promise<VfsFile> {
    let flags: number;
    if (options.readOnly) flags = fs.constants.O_RDONLY;
    else {
      flags = fs.constants.O_RDWR;
      if (options.create) flags |= fs.constants.O_CREAT;
      if (options.create && options.exclusive) flags |= fs.constants.O_EXCL;
    }
    return io(path, async () => {
      const fd = await new Promise<number>((resolve, reject) => fs.open(path, flags, 0o644, (e, fd) => (e ? reject(e) : resolve(fd))));
      const size = fs.fstatSync(fd).size;
      return new NodeFile(path, fd, size, options.readOnly === true);
    });
  }

  openReadSync(path: string): VfsFile {
    return ioSync(path, () => {
      const fd = fs.openSync(path, fs.constants.O_RDONLY);
      return new NodeFile(path, fd, fs.fstatSync(fd).size, true);
    });
  }

  readFile(path: string): Promise<Buffer> {
    return io(path, () => fsp.readFile(path));
  }

  writeFile(path: string, data: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    return io(path, async () => {
      const handle = await fsp.open(path, 'w');
      try {
        await handle.writeFile(data);
        if (options.sync) await handle.datasync();
      } finally {
        await handle.close();
      }
    });
  }

  rename(source: string, target: string): Promise<void> {
    return io(source, () => fsp.rename(source, target));
  }

  unlink(path: string): Promise<void> {
    return io(path, () => fsp.unlink(path));
  }

  link(existing: string, target: string): Promise<void> {
    return io(target, () => fsp.link(existing, target));
  }

  readdir(path: string): Promise<string[]> {
    return io(path, async () => (await fsp.readdir(path)).sort());
  }

  async mkdir(path: string, options: { recursive?: boolean } = {}): Promise<void> {
    await io(path, () => fsp.mkdir(path, { recursive: options.recursive ?? false }));
  }

  removeTree(path: string): Promise<void> {
    return io(path, () => fsp.rm(path, { recursive: true, force: true }));
  }

  syncDir(path: string): Promise<void> {
    return io(path, async () => {
      const handle = await fsp.open(path, 'r');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    });
  }

  stat(path: string): Promise<FileStat> {
    return io(path, async () => {
      const stats = await fsp.stat(path);
      return { size: stats.size, isDirectory: stats.isDirectory() };
    });
  }

  async exists(path: string): Promise<boolean> {
    try {
      await fsp.access(path);
      return true;
    } catch {
      return false;
    }
  }
}

export const nodeVfs: Vfs = new NodeVfs();
