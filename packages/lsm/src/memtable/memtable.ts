/**
 * Memtable: the newest writes, in memory, ordered by internal key. A skip list (measured against
 * a sorted array with binary-search insertion: the array's O(n) moves lose past ~50k entries).
 *
 * A skip list's cost is the memory it touches per step, so its nodes are not objects but records
 * in one growing Int32Array, each holding what a comparison needs next to the node's links:
 *
 *   [c0 … c5]   the first 18 bytes of the user key as six 24-bit chunks, zero-padded
 *   [6]         user-key length
 *   [7]         kind
 *   [8] [9]     sequence: high 21 bits, low 32 bits (stored signed; read back with >>> 0)
 *   [10]        ordinal: the index of the node's key and value in `keys` / `values`
 *   [11]        height
 *   [12 …]      the offset of the next record at each level (0 = none; offset 0 is the head)
 *
 * A step of a search reads one record — usually one cache line — instead of a node object, its
 * links array and its key buffer. Two keys compare by the numbers; only when both user keys are
 * longer than 18 bytes and agree on the first 18 do the bytes decide. The order is exactly
 * compareInternalKeys': user key bytewise (a prefix first), then newest first, then kind
 * descending (tested against it in memtable.test.ts).
 *
 * Single writer (the event loop); readers see a write as soon as `add` returns. Once full, the
 * memtable is made immutable and flushed to an SSTable while a new one takes the writes.
 */
import { assert } from '@petrel/base';
import { CHUNKED_BYTES, compareBytes, compareInternalKeys, KIND_DELETE, keyChunk, type Kind, makeInternalKey, sequenceOf, TRAILER_BYTES } from '../format/internal_key.js';
import type { InternalIterator } from '../iterator/iterator.js';

const MAX_HEIGHT = 20;
/** Each node reaches the next level with probability 1/4. */
const BRANCHING = 4;

const USER_LENGTH = 6;
const KIND = 7;
const SEQUENCE_HIGH = 8;
const SEQUENCE_LOW = 9;
const ORDINAL = 10;
const HEIGHT = 11;
const LINKS = 12;
const HEAD = 0;

/** A key as the skip list compares it. */
interface Probe {
  c0: number;
  c1: number;
  c2: number;
  c3: number;
  c4: number;
  c5: number;
  userLength: number;
  kind: number;
  sequenceHigh: number;
  sequenceLow: number;
  /** Bytes whose first `userLength` are the user key (an internal key, or the user key itself). */
  bytes: Uint8Array;
}

const chunk = keyChunk;

function makeProbe(bytes: Uint8Array, userLength: number, sequence: number, kind: number): Probe {
  return {
    c0: chunk(bytes, 0, userLength),
    c1: chunk(bytes, 3, userLength),
    c2: chunk(bytes, 6, userLength),
    c3: chunk(bytes, 9, userLength),
    c4: chunk(bytes, 12, userLength),
    c5: chunk(bytes, 15, userLength),
    userLength,
    kind,
    sequenceHigh: Math.floor(sequence / 4294967296),
    sequenceLow: sequence % 4294967296,
    bytes,
  };
}

function probeOfInternalKey(key: Buffer): Probe {
  return makeProbe(key, key.length - TRAILER_BYTES, sequenceOf(key), 255 - (key[key.length - 1] as number));
}

export type MemtableLookup = { found: true; deleted: boolean; value: Buffer } | { found: false };

export class Memtable {
  private pool = new Int32Array(4096);
  /** The first free offset in `pool`. */
  private top = LINKS + MAX_HEIGHT;
  private readonly keys: Buffer[] = [];
  private readonly values: Buffer[] = [];
  private height = 1;
  private randomState = 0x2545f491;
  private bytes = 0;
  /** The largest decree among the writes here (external-log mode), or 0. */
  lastDecree = 0;
  /** The smallest and largest sequence number of the writes here. */
  firstSequence = Number.MAX_SAFE_INTEGER;
  lastSequence = 0;
  private immutable = false;
  /** Scratch for add(): the record before the new one at each level. */
  private readonly update = new Int32Array(MAX_HEIGHT);

  constructor() {
    this.pool[HEIGHT] = MAX_HEIGHT;
  }

  get approximateBytes(): number {
    return this.bytes;
  }

  get count(): number {
    return this.keys.length;
  }

  get isEmpty(): boolean {
    return this.keys.length === 0;
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

  /** Orders the record at `node` against a probe as compareInternalKeys orders their keys. */
  private compare(node: number, probe: Probe): number {
    const pool = this.pool;
    let difference = (pool[node] as number) - probe.c0;
    if (difference !== 0) return difference;
    difference = (pool[node + 1] as number) - probe.c1;
    if (difference !== 0) return difference;
    difference = (pool[node + 2] as number) - probe.c2;
    if (difference !== 0) return difference;
    difference = (pool[node + 3] as number) - probe.c3;
    if (difference !== 0) return difference;
    difference = (pool[node + 4] as number) - probe.c4;
    if (difference !== 0) return difference;
    difference = (pool[node + 5] as number) - probe.c5;
    if (difference !== 0) return difference;
    const userLength = pool[node + USER_LENGTH] as number;
    if (userLength !== probe.userLength || userLength > CHUNKED_BYTES) {
      // Equal on the zero-padded first 18 bytes: if either key is that short, it is a prefix of
      // the other and the lengths decide; otherwise the rest of the bytes do.
      if (userLength > CHUNKED_BYTES && probe.userLength > CHUNKED_BYTES) {
        const key = this.keys[pool[node + ORDINAL] as number] as Buffer;
        difference = compareBytes(key, CHUNKED_BYTES, userLength, probe.bytes, CHUNKED_BYTES, probe.userLength);
        if (difference !== 0) return difference;
      } else if (userLength !== probe.userLength) {
        return userLength - probe.userLength;
      }
    }
    // Same user key: the newer sequence first, then the larger kind.
    difference = probe.sequenceHigh - (pool[node + SEQUENCE_HIGH] as number);
    if (difference !== 0) return difference;
    difference = probe.sequenceLow - ((pool[node + SEQUENCE_LOW] as number) >>> 0);
    if (difference !== 0) return difference;
    return probe.kind - (pool[node + KIND] as number);
  }

  /** The last record < probe at each level, in `update`; returns the record after level 0's (0: none). */
  private findGreaterOrEqual(probe: Probe, update: Int32Array | undefined): number {
    const pool = this.pool;
    let node = HEAD;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = pool[node + LINKS + level] as number;
        if (next !== 0 && this.compare(next, probe) < 0) node = next;
        else break;
      }
      if (update !== undefined) update[level] = node;
    }
    return pool[node + LINKS] as number;
  }

  /** The last record < probe (0: none). */
  private findLessThan(probe: Probe): number {
    const pool = this.pool;
    let node = HEAD;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = pool[node + LINKS + level] as number;
        if (next !== 0 && this.compare(next, probe) < 0) node = next;
        else break;
      }
    }
    return node;
  }

  private findLast(): number {
    const pool = this.pool;
    let node = HEAD;
    for (let level = this.height - 1; level >= 0; level--) {
      for (;;) {
        const next = pool[node + LINKS + level] as number;
        if (next === 0) break;
        node = next;
      }
    }
    return node;
  }

  add(sequence: number, kind: Kind, userKey: Uint8Array, value: Buffer): void {
    assert(!this.immutable, 'write to an immutable memtable');
    const key = makeInternalKey(userKey, sequence, kind);
    const probe = makeProbe(key, userKey.length, sequence, kind);
    const update = this.update;
    this.findGreaterOrEqual(probe, update);
    const height = this.randomHeight();
    if (height > this.height) {
      for (let level = this.height; level < height; level++) update[level] = HEAD;
      this.height = height;
    }
    const node = this.allocate(LINKS + height);
    const pool = this.pool;
    pool[node] = probe.c0;
    pool[node + 1] = probe.c1;
    pool[node + 2] = probe.c2;
    pool[node + 3] = probe.c3;
    pool[node + 4] = probe.c4;
    pool[node + 5] = probe.c5;
    pool[node + USER_LENGTH] = probe.userLength;
    pool[node + KIND] = kind;
    pool[node + SEQUENCE_HIGH] = probe.sequenceHigh;
    pool[node + SEQUENCE_LOW] = probe.sequenceLow | 0;
    pool[node + ORDINAL] = this.keys.length;
    pool[node + HEIGHT] = height;
    for (let level = 0; level < height; level++) {
      const previous = update[level] as number;
      pool[node + LINKS + level] = pool[previous + LINKS + level] as number;
      pool[previous + LINKS + level] = node;
    }
    this.keys.push(key);
    // The value is kept as given: callers (WriteBatch, the engine's own replay) pass buffers they own.
    this.values.push(value);
    this.bytes += key.length + value.length + 16 + (LINKS + height) * 4;
    if (sequence < this.firstSequence) this.firstSequence = sequence;
    if (sequence > this.lastSequence) this.lastSequence = sequence;
  }

  private allocate(words: number): number {
    if (this.top + words > this.pool.length) {
      const grown = new Int32Array(Math.max(this.pool.length * 2, this.top + words));
      grown.set(this.pool);
      this.pool = grown;
    }
    const node = this.top;
    this.top += words;
    return node;
  }

  /** The newest write of `userKey` visible at `sequence`. */
  get(userKey: Uint8Array, sequence: number): MemtableLookup {
    // The first entry of userKey at or below `sequence`: kind 255 sorts before every real kind.
    const node = this.findGreaterOrEqual(makeProbe(userKey, userKey.length, sequence, 255), undefined);
    if (node === 0) return { found: false };
    const key = this.keyAt(node);
    const nodeUserLength = key.length - TRAILER_BYTES;
    if (nodeUserLength !== userKey.length || compareBytes(key, 0, nodeUserLength, userKey, 0, userKey.length) !== 0) return { found: false };
    return { found: true, deleted: this.pool[node + KIND] === KIND_DELETE, value: this.valueAt(node) };
  }

  iterator(): InternalIterator {
    return new MemtableIterator(this);
  }

  /** @internal The internal key of a record. */
  keyAt(node: number): Buffer {
    return this.keys[this.pool[node + ORDINAL] as number] as Buffer;
  }
  /** @internal */
  valueAt(node: number): Buffer {
    return this.values[this.pool[node + ORDINAL] as number] as Buffer;
  }
  /** @internal The first record ≥ key (0: none). */
  seekNode(key: Buffer): number {
    return this.findGreaterOrEqual(probeOfInternalKey(key), undefined);
  }
  /** @internal The last record < key (0: none). */
  prevNode(key: Buffer): number {
    return this.findLessThan(probeOfInternalKey(key));
  }
  /** @internal */
  nextNode(node: number): number {
    return this.pool[node + LINKS] as number;
  }
  /** @internal */
  firstNode(): number {
    return this.pool[HEAD + LINKS] as number;
  }
  /** @internal */
  lastNode(): number {
    return this.findLast();
  }
}

/** Positions are record offsets; 0 (the head) means "not valid". */
class MemtableIterator implements InternalIterator {
  private node = 0;

  constructor(private readonly memtable: Memtable) {}

  valid(): boolean {
    return this.node !== 0;
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
    if (node !== 0 && compareInternalKeys(this.memtable.keyAt(node), target) === 0) this.node = node;
    else this.node = this.memtable.prevNode(target);
  }
  next(): void {
    assert(this.node !== 0, 'next on an invalid iterator');
    this.node = this.memtable.nextNode(this.node);
  }
  prev(): void {
    assert(this.node !== 0, 'prev on an invalid iterator');
    this.node = this.memtable.prevNode(this.memtable.keyAt(this.node));
  }
  key(): Buffer {
    assert(this.node !== 0, 'key of an invalid iterator');
    return this.memtable.keyAt(this.node);
  }
  value(): Buffer {
    assert(this.node !== 0, 'value of an invalid iterator');
    return this.memtable.valueAt(this.node);
  }
  close(): void {
    this.node = 0;
  }
}
