/**
 * Memtable: the newest writes, in memory, ordered by internal key. A skip list (measured against
 * a sorted array with binary-search insertion: the array's O(n) moves lose past ~50k entries).
 * Each node holds the encoded internal key, so iteration hands out keys without allocating and
 * comparisons are two bounded Buffer.compare calls.
 *
 * Single writer (the event loop); readers see a write as soon as `add` returns. Once full, the
 * memtable is made immutable and flushed to an SSTable while a new one takes the writes.
 */
import { assert } from '@petrel/base';
import { compareBytes, compareInternalKeys, KIND_DELETE, type Kind, lookupKey, makeInternalKey, TRAILER_BYTES } from '../format/internal_key.js';
import type { InternalIterator } from '../iterator/iterator.js';

const MAX_HEIGHT = 20;
/** Each node reaches the next level with probability 1/4. */
const BRANCHING = 4;

interface Node {
  key: Buffer;
  value: Buffer;
  next: (Node | undefined)[];
}

export type MemtableLookup = { found: true; deleted: boolean; value: Buffer } | { found: false };

export class Memtable {
  private readonly head: Node = { key: Buffer.alloc(0), value: Buffer.alloc(0), next: new Array(MAX_HEIGHT).fill(undefined) };
  private height = 1;
  private randomState = 0x2545f491;
  private bytes = 0;
  private entries = 0;
  /** The largest decree among the writes here (external-log mode), or 0. */
  lastDecree = 0;
  /** The smallest and largest sequence number of the writes here. */
  firstSequence = Number.MAX_SAFE_INTEGER;
  lastSequence = 0;
  private immutable = false;

  get approximateBytes(): number {
    return this.bytes;
  }

  get count(): number {
    return this.entries;
  }

  get isEmpty(): boolean {
    return this.entries === 0;
  }

  markImmutable(): void {
    this.immutable = true;
  }

  private randomHeight(): number {
    let height = 1;
    while (height < MAX_HEIGHT) {
      // xorshift32: fast, deterministic; the skip list only needs uneven heights.
      let x = this.randomState;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.randomState = x >>> 0;
      if (this.randomState % BRANCHING !== 0) break;
      height++;
    }
    return height;
  }

  /** The last node whose key is < key at each level, in `update`; returns the node after level 0's. */
  private findGreaterOrEqual(key: Buffer, update: Node[] | undefined): Node | undefined {
    let node = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = node.next[level];
        if (next !== undefined && compareInternalKeys(next.key, key) < 0) node = next;
        else break;
      }
      if (update !== undefined) update[level] = node;
    }
    return node.next[0];
  }

  private findLessThan(key: Buffer): Node | undefined {
    let node = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = node.next[level];
        if (next !== undefined && compareInternalKeys(next.key, key) < 0) node = next;
        else break;
      }
    }
    return node === this.head ? undefined : node;
  }

  private findLast(): Node | undefined {
    let node = this.head;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = node.next[level];
        if (next === undefined) break;
        node = next;
      }
    }
    return node === this.head ? undefined : node;
  }

  add(sequence: number, kind: Kind, userKey: Uint8Array, value: Buffer): void {
    assert(!this.immutable, 'write to an immutable memtable');
    const key = makeInternalKey(userKey, sequence, kind);
    const update = new Array<Node>(MAX_HEIGHT);
    this.findGreaterOrEqual(key, update);
    const height = this.randomHeight();
    if (height > this.height) {
      for (let level = this.height; level < height; level++) update[level] = this.head;
      this.height = height;
    }
    // The value is kept as given: callers (WriteBatch, the engine's own replay) pass buffers they own.
    const node: Node = { key, value: value as Buffer, next: new Array(height) };
    for (let level = 0; level < height; level++) {
      const previous = update[level] as Node;
      node.next[level] = previous.next[level];
      previous.next[level] = node;
    }
    this.bytes += key.length + value.length + 16 + height * 8;
    this.entries++;
    if (sequence < this.firstSequence) this.firstSequence = sequence;
    if (sequence > this.lastSequence) this.lastSequence = sequence;
  }

  /** The newest write of `userKey` visible at `sequence`. */
  get(userKey: Uint8Array, sequence: number): MemtableLookup {
    const node = this.findGreaterOrEqual(lookupKey(userKey, sequence), undefined);
    if (node === undefined) return { found: false };
    const nodeUserLength = node.key.length - TRAILER_BYTES;
    if (nodeUserLength !== userKey.length || compareBytes(node.key, 0, nodeUserLength, userKey, 0, userKey.length) !== 0) return { found: false };
    const kind = 255 - (node.key[node.key.length - 1] as number);
    return { found: true, deleted: kind === KIND_DELETE, value: node.value };
  }

  iterator(): InternalIterator {
    return new MemtableIterator(this);
  }

  /** @internal for the iterator */
  seekNode(key: Buffer): Node | undefined {
    return this.findGreaterOrEqual(key, undefined);
  }
  /** @internal */
  prevNode(key: Buffer): Node | undefined {
    return this.findLessThan(key);
  }
  /** @internal */
  firstNode(): Node | undefined {
    return this.head.next[0];
  }
  /** @internal */
  lastNode(): Node | undefined {
    return this.findLast();
  }
}

class MemtableIterator implements InternalIterator {
  private node: Node | undefined;

  constructor(private readonly memtable: Memtable) {}

  valid(): boolean {
    return this.node !== undefined;
  }
  seekToFirst(): void {
    this.node = this.memtable.firstNode();
  }
  seekToLast(): void {
    this.node = this.memtable.lastNode();
  }
  seek(target: Buffer): void {
    this.node = this.memtable.seekNode(target);
  }
  seekForPrev(target: Buffer): void {
    const node = this.memtable.seekNode(target);
    if (node !== undefined && compareInternalKeys(node.key, target) === 0) this.node = node;
    else this.node = this.memtable.prevNode(target);
  }
  next(): void {
    assert(this.node !== undefined, 'next on an invalid iterator');
    this.node = this.node.next[0];
  }
  prev(): void {
    assert(this.node !== undefined, 'prev on an invalid iterator');
    this.node = this.memtable.prevNode(this.node.key);
  }
  key(): Buffer {
    assert(this.node !== undefined, 'key of an invalid iterator');
    return this.node.key;
  }
  value(): Buffer {
    assert(this.node !== undefined, 'value of an invalid iterator');
    return this.node.value;
  }
  close(): void {
    this.node = undefined;
  }
}
