/**
 * BlockCache: decoded data blocks, shared by every table of every database in the process (a
 * replica server hosts many partitions), bounded in bytes, least recently used out first.
 * Entries are keyed by a number: the table's cache id (unique per open table in this process)
 * times 2^32 plus the block's offset (tables are far below 4 GiB).
 */
import { LRUCache } from 'lru-cache';
import type { DecodedBlock } from './block.js';

export class BlockCache {
  private readonly cache: LRUCache<number, DecodedBlock>;
  hits = 0;
  misses = 0;
  private nextId = 1;

  constructor(readonly capacityBytes: number) {
    this.cache = new LRUCache<number, DecodedBlock>({ maxSize: Math.max(1, capacityBytes), sizeCalculation: (block) => Math.max(1, block.charge) });
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

  set(tableId: number, offset: number, block: DecodedBlock): void {
    if (block.charge <= this.capacityBytes) this.cache.set(tableId * 4294967296 + offset, block);
  }

  get usedBytes(): number {
    return this.cache.calculatedSize;
  }
}

let shared: BlockCache | undefined;

/** The process-wide cache (default 256 MiB), created on first use. */
export function sharedBlockCache(): BlockCache {
  shared ??= new BlockCache(256 * 2 ** 20);
  return shared;
}
