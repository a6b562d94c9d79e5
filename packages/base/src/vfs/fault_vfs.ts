/**
 * FaultVfs: wraps any Vfs and makes it fail on command — an IO error on chosen operations, "disk
 * full" once a byte budget is spent, and bit flips in the data that reads return. Everything it
 * does not inject passes through unchanged. The draws (which read to corrupt, which bit) come
 * from a seed.
 */
import { PetrelError } from '../errors.js';
import { Prng } from '../random.js';
import type { FileStat, OpenOptions, Vfs, VfsFile } from './vfs.js';

export type FaultOp =
  | 'open'
  | 'read'
  | 'write'
  | 'sync'
  | 'truncate'
  | 'close'
  | 'readFile'
  | 'writeFile'
  | 'rename'
  | 'unlink'
  | 'link'
  | 'readdir'
  | 'mkdir'
  | 'removeTree'
  | 'syncDir'
  | 'stat';

export interface FaultRule {
  /** The operation to fail, or '*' for any. */
  op: FaultOp | '*';
  /** Only paths containing this string, or matching this pattern. */
  path?: string | RegExp;
  /** Let this many matching calls through first (default 0). */
  after?: number;
  /** How many calls to fail once it starts (default 1; Infinity for all). */
  times?: number;
  /** The error to raise (default IO_ERROR). */
  code?: 'IO_ERROR' | 'NO_SPACE';
}

interface ActiveRule {
  rule: FaultRule;
  skip: number;
  left: number;
}

function matches(pattern: string | RegExp | undefined, path: string): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);
}

class FaultFile implements VfsFile {
  constructor(
    private readonly inner: VfsFile,
    private readonly vfs: FaultVfs,
  ) {}

  get path(): string {
    return this.inner.path;
  }

  async read(target: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    this.vfs.check('read', this.path);
    const read = await this.inner.read(target, offset, length, position);
    this.vfs.corrupt(target, offset, read, this.path);
    return read;
  }

  readSync(target: Uint8Array, offset: number, length: number, position: number): number {
    this.vfs.check('read', this.path);
    const read = this.inner.readSync(target, offset, length, position);
    this.vfs.corrupt(target, offset, read, this.path);
    return read;
  }

  async write(data: Uint8Array, position: number): Promise<void> {
    this.vfs.check('write', this.path);
    this.vfs.spend(data.length, this.path);
    await this.inner.write(data, position);
  }

  writeSync(data: Uint8Array, position: number): void {
    this.vfs.check('write', this.path);
    this.vfs.spend(data.length, this.path);
    this.inner.writeSync(data, position);
  }

  async sync(): Promise<void> {
    this.vfs.check('sync', this.path);
    await this.inner.sync();
  }

  /** Fails as a write or as a sync would (rules for either apply), and spends the bytes. */
  async writeDurable(data: Uint8Array, position: number): Promise<void> {
    this.vfs.check('write', this.path);
    this.vfs.spend(data.length, this.path);
    this.vfs.check('sync', this.path);
    await this.inner.writeDurable(data, position);
  }

  async truncate(size: number): Promise<void> {
    this.vfs.check('truncate', this.path);
    await this.inner.truncate(size);
  }

  size(): number {
    return this.inner.size();
  }

  async close(): Promise<void> {
    this.vfs.check('close', this.path);
    await this.inner.close();
  }
}

export class FaultVfs implements Vfs {
  private rules: ActiveRule[] = [];
  private spaceLeft: number | undefined;
  private flipProbability = 0;
  private flipPath: string | RegExp | undefined;
  private readonly prng: Prng;
  /** How many faults (errors and bit flips) were injected so far. */
  injected = 0;

  constructor(
    readonly inner: Vfs,
    options: { seed?: number } = {},
  ) {
    this.prng = new Prng(options.seed ?? 1);
  }

  /** Adds a rule; the first rule that matches a call decides. */
  inject(rule: FaultRule): void {
    this.rules.push({ rule, skip: rule.after ?? 0, left: rule.times ?? 1 });
  }

  /** Makes every write that does not fit in `bytes` more fail with NO_SPACE; undefined lifts it. */
  setSpaceLimit(bytes: number | undefined): void {
    this.spaceLeft = bytes;
  }

  /** Flips one random bit in the data of a read, with this probability per read. */
  flipBitsOnRead(probability: number, path?: string | RegExp): void {
    this.flipProbability = probability;
    this.flipPath = path;
  }

  /** Removes every rule, the space limit and bit flipping. */
  heal(): void {
    this.rules = [];
    this.spaceLeft = undefined;
    this.flipProbability = 0;
    this.flipPath = undefined;
  }

  /** @internal Throws if a rule says this call fails. */
  check(op: FaultOp, path: string): void {
    for (const active of this.rules) {
      if (active.left <= 0) continue;
      if (active.rule.op !== '*' && active.rule.op !== op) continue;
      if (!matches(active.rule.path, path)) continue;
      if (active.skip > 0) {
        active.skip--;
        continue;
      }
      active.left--;
      this.injected++;
      const code = active.rule.code ?? 'IO_ERROR';
      throw new PetrelError(code, `${path}: injected ${code === 'NO_SPACE' ? 'disk full' : 'I/O error'} on ${op}`, { path });
    }
  }

  /** @internal Charges a write against the space limit. */
  spend(bytes: number, path: string): void {
    if (this.spaceLeft === undefined) return;
    if (bytes > this.spaceLeft) {
      this.injected++;
      throw new PetrelError('NO_SPACE', `${path}: injected disk full (${bytes} bytes, ${this.spaceLeft} left)`, { path });
    }
    this.spaceLeft -= bytes;
  }

  /** @internal Maybe flips a bit in bytes just read. */
  corrupt(target: Uint8Array, offset: number, length: number, path: string): void {
    if (length <= 0 || this.flipProbability <= 0 || !matches(this.flipPath, path)) return;
    if (!this.prng.chance(this.flipProbability)) return;
    const index = offset + this.prng.int(length);
    target[index] = (target[index] as number) ^ (1 << this.prng.int(8));
    this.injected++;
  }

  async open(path: string, options?: OpenOptions): Promise<VfsFile> {
    this.check('open', path);
    return new FaultFile(await this.inner.open(path, options), this);
  }

  openReadSync(path: string): VfsFile {
    this.check('open', path);
    return new FaultFile(this.inner.openReadSync(path), this);
  }

  async readFile(path: string): Promise<Buffer> {
    this.check('readFile', path);
    const data = await this.inner.readFile(path);
    this.corrupt(data, 0, data.length, path);
    return data;
  }

  async writeFile(path: string, data: Uint8Array, options?: { sync?: boolean }): Promise<void> {
    this.check('writeFile', path);
    this.spend(data.length, path);
    await this.inner.writeFile(path, data, options);
  }

  async rename(source: string, target: string): Promise<void> {
    this.check('rename', source);
    await this.inner.rename(source, target);
  }

  async unlink(path: string): Promise<void> {
    this.check('unlink', path);
    await this.inner.unlink(path);
  }

  async link(existing: string, target: string): Promise<void> {
    this.check('link', target);
    await this.inner.link(existing, target);
  }

  async readdir(path: string): Promise<string[]> {
    this.check('readdir', path);
    return this.inner.readdir(path);
  }

  async mkdir(path: string, options?: { recursive?: boolean }): Promise<void> {
    this.check('mkdir', path);
    await this.inner.mkdir(path, options);
  }

  async removeTree(path: string): Promise<void> {
    this.check('removeTree', path);
    await this.inner.removeTree(path);
  }

  async syncDir(path: string): Promise<void> {
    this.check('syncDir', path);
    await this.inner.syncDir(path);
  }

  async stat(path: string): Promise<FileStat> {
    this.check('stat', path);
    return this.inner.stat(path);
  }

  exists(path: string): Promise<boolean> {
    return this.inner.exists(path);
  }
}
