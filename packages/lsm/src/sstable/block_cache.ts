/**
 * BlockCache: data blocks (searched in place or decoded: see DecodedBlock), shared by every table
 * of every database in the process (a replica server hosts many partitions), bounded in bytes,
 * least recently used out first.
 * Entries are keyed by a number: the table's cache id (unique per open table in this process)
 * times 2^32 plus the block's offset (tables are far below 4 GiB).
 *
 * Each table also keeps direct references to its blocks that are in the cache (DecodedBlock's
 * cacheSlots, cleared here when the cache drops a block), so that a hit costs an array read
 * rather than a lookup in the cache's map; such hits refresh the block's recency in the cache one
 * time in REFRESH_EVERY (`touch`), which keeps hot blocks from being evicted.
 *
 * Admission: once the cache is full, a block a point lookup misses is cached on its second miss
 * within a while, not its first (`admit`; a direct-mapped table of recently missed blocks, sized
 * like the cache). Under random reads over more data than the cache holds, most blocks read are
 * not read again before they would be evicted: caching them costs allocations that outlive the
 * young generation, and every major garbage collection they cause marks the whole heap. While
 * the cache has room, every block is cached. Iterators always cache.
 */
import { LRUCache } from 'lru-cache';
import type { DecodedBlock } from './block.js';

export class BlockCache {
  private readonly cache: LRUCache<number, DecodedBlock>;
  hits = 0;
  misses = 0;
  private touches = 0;
  /** Keys of blocks missed lately, each in the slot its hash picks (0: empty; ids start at 1). */
  private readonly recentMisses: Float64Array;
  private nextId = 1;

  constructor(readonly capacityBytes: number) {
    let slots = 1024;
    while (slots < capacityBytes / 4096 && slots < 1 << 20) slots *= 2;
    this.recentMisses = new Float64Array(slots);
    this.cache = new LRUCache<number, DecodedBlock>({
      maxSize: Math.max(1, capacityBytes),
      sizeCalculation: (block) => Math.max(1, block.charge),
      dispose: (block) => {
        const slots = block.cacheSlots;
        if (slots !== undefined && slots[block.cacheSlot] === block) slots[block.cacheSlot] = undefined;
        block.cacheSlots = undefined;
      },
    });
  }

  /** A fresh id for a newly opened table. */
  newId(): number {
    return this.nextId++;
  }

  get(tableId: number, offset: number): DecodedBlock | undefined {
    const block = this.cache.get(tableId * 4294967296 + offset);
    if (block === undefined) this.misses++;
    else this.hits++;
    return block;
  }

  /** Caches `block`; returns whether it was kept (a block larger than the whole cache is not). */
  set(tableId: number, offset: number, block: DecodedBlock): boolean {
    if (block.charge > this.capacityBytes) return false;
    this.cache.set(tableId * 4294967296 + offset, block);
    return true;
  }

  /** A hit served from a table's own reference: counted, and now and then refreshed in the LRU order. */
  touch(tableId: number, offset: number): void {
    this.hits++;
    if ((++this.touches & (REFRESH_EVERY - 1)) === 0) this.cache.get(tableId * 4294967296 + offset);
  }

  /**
   * Whether a block of `bytes` just missed should be cached: yes while the cache has room (caching
   * evicts nothing then), and otherwise when it was missed lately too.
   */
  admit(tableId: number, offset: number, bytes: number): boolean {
    if (this.cache.calculatedSize + bytes <= this.capacityBytes) return true;
    const key = tableId * 4294967296 + offset;
    const slot = ((Math.imul(tableId, 0x9e3779b1) ^ Math.imul(offset, 0x85ebca6b)) >>> 0) & (this.recentMisses.length - 1);
    if (this.recentMisses[slot] === key) return true;
    this.recentMisses[slot] = key;
    return false;
  }

  /** Weighs a cached block again (it has grown: decoded). */
  recharge(tableId: number, offset: number, block: DecodedBlock): void {
    const key = tableId * 4294967296 + offset;
    if (this.cache.peek(key) === block) this.cache.set(key, block);
  }

  /** Drops a block (its table is closing). */
  delete(tableId: number, offset: number): void {
    this.cache.delete(tableId * 4294967296 + offset);
  }

  get usedBytes(): number {
    return this.cache.calculatedSize;
  }
}

/** A power of two: one hit in this many served from a table's reference refreshes the LRU order. */
const REFRESH_EVERY = 8;

let shared: BlockCache | undefined;

/** The process-wide cache (default 256 MiB), created on first use. */
export function sharedBlockCache(): BlockCache {
  shared ??= new BlockCache(256 * 2 ** 20);
  return shared;
}
