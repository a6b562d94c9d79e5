/**
 * Memory of flushed memtables, kept for new ones: node pools (memtable.ts) and write-arena chunks
 * (write_group.ts), both SharedArrayBuffers.
 *
 * Why: new memory costs a page fault per 4 KiB the first time it is touched — about 12 µs on the
 * VMs the benches ran on, so a fresh 8 MiB memtable (arena and nodes) cost ~35 ms of faults — and
 * a flushed memtable's buffers are freed only when both the main thread's and the flush thread's
 * garbage collectors get to them, long after the next memtable has faulted in its own.
 *
 * What may come here is decided by the engine (db.ts): a node pool once no iterator is open on its
 * flushed memtable; an arena chunk once every memtable that linked entries in it is flushed and
 * none of them handed out a view of its bytes (`Memtable.exposed`): values from `get` and keys and
 * values from iterators are views of the arena, valid for as long as their holder keeps them.
 *
 * One recycler serves every engine of a process (`sharedRecycler`), bounded in bytes: past the
 * bound a buffer is left to the garbage collector as before.
 */
import { assert } from '@petrel/base';

const MiB = 1024 * 1024;

export interface RecyclerStats {
  /** Bytes held for reuse now, and how many of the buffers held are arena chunks. */
  spareBytes: number;
  spareChunks: number;
  /** Node pools and arena chunks handed out again instead of new memory. */
  poolsReused: number;
  chunksReused: number;
}

export class MemtableRecycler {
  private readonly pools: Int32Array[] = [];
  /** Arena chunks by size (the size an engine's arena asks for depends on its memtable size). */
  private readonly chunks = new Map<number, Buffer[]>();
  private spare = 0;
  private poolsReused = 0;
  private chunksReused = 0;

  constructor(readonly maxBytes: number) {
    assert(Number.isSafeInteger(maxBytes) && maxBytes >= 0, 'maxBytes must be a whole number ≥ 0');
  }

  /** Keeps a node pool nothing reads any more, if there is room. */
  givePool(pool: Int32Array): void {
    if (this.spare + pool.byteLength > this.maxBytes) return;
    this.pools.push(pool);
    this.spare += pool.byteLength;
  }

  /** The largest node pool kept, or undefined. */
  takePool(): Int32Array | undefined {
    if (this.pools.length === 0) return undefined;
    let best = 0;
    for (let i = 1; i < this.pools.length; i++) if ((this.pools[i] as Int32Array).length > (this.pools[best] as Int32Array).length) best = i;
    const pool = this.pools[best] as Int32Array;
    this.pools.splice(best, 1);
    this.spare -= pool.byteLength;
    this.poolsReused++;
    return pool;
  }

  /** Keeps an arena chunk (a whole SharedArrayBuffer) nothing reads any more, if there is room. */
  giveChunk(chunk: Buffer): void {
    assert(chunk.buffer instanceof SharedArrayBuffer && chunk.byteOffset === 0 && chunk.length === chunk.buffer.byteLength, 'a recycled chunk is a whole SharedArrayBuffer');
    if (this.spare + chunk.length > this.maxBytes) return;
    let list = this.chunks.get(chunk.length);
    if (list === undefined) {
      list = [];
      this.chunks.set(chunk.length, list);
    }
    list.push(chunk);
    this.spare += chunk.length;
  }

  /** A kept chunk of exactly `bytes`, or undefined. */
  takeChunk(bytes: number): Buffer | undefined {
    const chunk = this.chunks.get(bytes)?.pop();
    if (chunk === undefined) return undefined;
    this.spare -= chunk.length;
    this.chunksReused++;
    return chunk;
  }

  stats(): RecyclerStats {
    let spareChunks = 0;
    for (const list of this.chunks.values()) spareChunks += list.length;
    return { spareBytes: this.spare, spareChunks, poolsReused: this.poolsReused, chunksReused: this.chunksReused };
  }
}

let shared: MemtableRecycler | undefined;

/**
 * The process's recycler: 32 MiB, a little over two memtables' worth at the default 8 MiB — what
 * a steady stream of flushes hands back between one memtable and the next.
 */
export function sharedRecycler(): MemtableRecycler {
  shared ??= new MemtableRecycler(32 * MiB);
  return shared;
}
