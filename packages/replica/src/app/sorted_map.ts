/**
 * SortedMap: an in-memory ordered map from byte strings to byte strings — a skip list (Pugh,
 * 1990) with forward links, ordered by Buffer.compare. Levels come from a seeded generator, so
 * the same operations build the same structure (the simulator replays from seeds).
 *
 * Iterators follow the engine iterator contract (engine.ts). An iterator remembers the map's
 * version when it was positioned; after a write it re-finds its place by key, so moving on after
 * writes is correct (it sees the map as it is now).
 */
import { Prng, assert } from '@petrel/base';
import type { EngineIterator, IteratorBounds } from './engine.js';

const MAX_LEVEL = 24;
const EMPTY = Buffer.alloc(0);

class Node {
  readonly next: (Node | undefined)[];
  constructor(
    readonly key: Buffer,
    public value: Buffer,
    level: number,
  ) {
    this.next = new Array<Node | undefined>(level).fill(undefined);
  }
}

export class SortedMap {
  private readonly head = new Node(EMPTY, EMPTY, MAX_LEVEL);
  private level = 1;
  private count = 0;
  private readonly prng: Prng;
  /** Bumped by every change, so that iterators notice. */
  version = 0;

  constructor(seed = 0x5eed) {
    this.prng = new Prng(seed);
  }

  get size(): number {
    return this.count;
  }

  private randomLevel(): number {
    let level = 1;
    // Each level holds a quarter of the one below.
    while (level < MAX_LEVEL && this.prng.int(4) === 0) level++;
    return level;
  }

  /** The last node with key < `key` (the head when none), filling `previous` per level. */
  private findLess(key: Buffer, previous?: Node[]): Node {
    let node = this.head;
    for (let level = this.level - 1; level >= 0; level--) {
      for (;;) {
        const next = node.next[level];
        if (next === undefined || Buffer.compare(next.key, key) >= 0) break;
        node = next;
      }
      if (previous !== undefined) previous[level] = node;
    }
    return node;
  }

  /** The first node with key ≥ `key`. */
  findGreaterOrEqual(key: Buffer): Node | undefined {
    return this.findLess(key).next[0];
  }

  /** The last node with key < `key`, or undefined. */
  findLessThan(key: Buffer): Node | undefined {
    const node = this.findLess(key);
    return node === this.head ? undefined : node;
  }

  /** The last node with key ≤ `key`, or undefined. */
  findLessOrEqual(key: Buffer): Node | undefined {
    const less = this.findLess(key);
    const next = less.next[0];
    if (next !== undefined && next.key.equals(key)) return next;
    return less === this.head ? undefined : less;
  }

  first(): Node | undefined {
    return this.head.next[0];
  }

  last(): Node | undefined {
    let node = this.head;
    for (let level = this.level - 1; level >= 0; level--) {
      for (;;) {
        const next = node.next[level];
        if (next === undefined) break;
        node = next;
      }
    }
    return node === this.head ? undefined : node;
  }

  get(key: Buffer): Buffer | undefined {
    const node = this.findGreaterOrEqual(key);
    return node !== undefined && node.key.equals(key) ? node.value : undefined;
  }

  set(key: Buffer, value: Buffer): void {
    this.version++;
    const previous = new Array<Node>(MAX_LEVEL);
    const less = this.findLess(key, previous);
    const existing = less.next[0];
    if (existing !== undefined && existing.key.equals(key)) {
      existing.value = value;
      return;
    }
    const level = this.randomLevel();
    for (let i = this.level; i < level; i++) previous[i] = this.head;
    if (level > this.level) this.level = level;
    const node = new Node(key, value, level);
    for (let i = 0; i < level; i++) {
      const before = previous[i] as Node;
      node.next[i] = before.next[i];
      before.next[i] = node;
    }
    this.count++;
  }

  delete(key: Buffer): boolean {
    const previous = new Array<Node>(MAX_LEVEL);
    const less = this.findLess(key, previous);
    const node = less.next[0];
    if (node === undefined || !node.key.equals(key)) return false;
    this.version++;
    for (let i = 0; i < node.next.length; i++) {
      const before = previous[i] as Node;
      if (before.next[i] === node) before.next[i] = node.next[i];
    }
    while (this.level > 1 && this.head.next[this.level - 1] === undefined) this.level--;
    this.count--;
    return true;
  }

  *entries(): Generator<[Buffer, Buffer]> {
    for (let node = this.head.next[0]; node !== undefined; node = node.next[0]) yield [node.key, node.value];
  }

  iterator(bounds: IteratorBounds = {}): EngineIterator {
    return new SortedMapIterator(this, bounds.lower, bounds.upper);
  }
}

class SortedMapIterator implements EngineIterator {
  private node: Node | undefined;
  private version = -1;

  constructor(
    private readonly map: SortedMap,
    private readonly lower: Buffer | undefined,
    private readonly upper: Buffer | undefined,
  ) {}

  /** Keeps `node` if it is inside the bounds, else becomes invalid. */
  private settle(node: Node | undefined): void {
    if (node !== undefined && this.upper !== undefined && Buffer.compare(node.key, this.upper) >= 0) node = undefined;
    if (node !== undefined && this.lower !== undefined && Buffer.compare(node.key, this.lower) < 0) node = undefined;
    this.node = node;
    this.version = this.map.version;
  }

  valid(): boolean {
    return this.node !== undefined;
  }

  key(): Buffer {
    assert(this.node !== undefined, 'key of an invalid iterator');
    return this.node.key;
  }

  value(): Buffer {
    assert(this.node !== undefined, 'value of an invalid iterator');
    return this.node.value;
  }

  seekToFirst(): void {
    this.settle(this.lower === undefined ? this.map.first() : this.map.findGreaterOrEqual(this.lower));
  }

  seekToLast(): void {
    this.settle(this.upper === undefined ? this.map.last() : this.map.findLessThan(this.upper));
  }

  seek(target: Buffer): void {
    const start = this.lower !== undefined && Buffer.compare(target, this.lower) < 0 ? this.lower : target;
    this.settle(this.map.findGreaterOrEqual(start));
  }

  seekForPrev(target: Buffer): void {
    if (this.upper !== undefined && Buffer.compare(target, this.upper) >= 0) return this.seekToLast();
    this.settle(this.map.findLessOrEqual(target));
  }

  next(): void {
    assert(this.node !== undefined, 'next on an invalid iterator');
    if (this.version === this.map.version) return this.settle(this.node.next[0]);
    // The map changed since: the first key after the current one, found again.
    const following = this.map.findGreaterOrEqual(this.node.key);
    this.settle(following !== undefined && following.key.equals(this.node.key) ? following.next[0] : following);
  }

  prev(): void {
    assert(this.node !== undefined, 'prev on an invalid iterator');
    this.settle(this.map.findLessThan(this.node.key));
  }

  close(): void {
    this.node = undefined;
  }
}
