/**
 * Memtable: the newest writes, in memory, ordered by internal key. A skip list (measured against
 * a sorted array with binary-search insertion: the array's O(n) moves lose past ~50k entries).
 *
 * Nothing in it is a JavaScript object per entry, so a full memtable costs the garbage collector
 * nothing and can be read by another thread without copying:
 *
 * - The bytes of each write — the internal key (user key + 8-byte trailer) followed by the
 *   value — are copied into an **arena** of SharedArrayBuffer chunks, back to back.
 * - The skip list's nodes are records in one Int32Array over a SharedArrayBuffer, each holding
 *   what a comparison needs next to the node's links:
 *
 *   [c0 … c5]   the first 18 bytes of the user key as six 24-bit chunks, zero-padded
 *   [6]         user-key length
 *   [7]         kind
 *   [8] [9]     sequence: high 21 bits, low 32 bits (stored signed; read back with >>> 0)
 *   [10] [11]   arena chunk and offset of the entry's bytes
 *   [12]        value length
 *   [13]        height
 *   [14 …]      the offset of the next record at each level (0 = none; offset 0 is the head)
 *
 * A step of a search reads one record — usually one cache line. Two keys compare by the numbers;
 * only when both user keys are longer than 18 bytes and agree on the first 18 do the bytes decide.
 * The order is exactly compareInternalKeys': user key bytewise (a prefix first), then newest
 * first, then kind descending (tested against it in memtable.test.ts).
 *
 * Inserting just after the previous insert (keys written in order) skips the search: the
 * predecessors the previous insert found are still the right ones (`add`).
 *
 * Point reads skip the search too: a hash index (open addressing over two Int32Arrays, outside
 * the shared memory) maps each user key to its newest record. A `get` at or above that record's
 * sequence — every read without a snapshot — is one hash and a probe or two, found or not; an
 * older snapshot's read falls back to the skip list. Reads of keys that live in the SSTables pass
 * through every memtable first, so the misses gain as much as the hits. The index costs each
 * insert a hash and a probe (~20% of an insert measured alone), so a memtable builds it at its
 * first `get` and keeps it from then on: one that is only written (a bulk load) never pays. Its
 * arrays count toward the memtable's size. A worker's read-only view (`fromShared`) has no index
 * and always searches.
 *
 * Single writer (the event loop); readers see a write as soon as `add` returns, and the bytes of
 * an entry never change once written, so keys and values handed out stay valid (the engine reuses
 * a flushed memtable's arena only if it never handed any out: `exposed`, recycler.ts). Once full, the
 * memtable is made immutable and flushed to an SSTable while a new one takes the writes; the flush
 * may run in a worker thread, which sees the same memory through `shared()` / `fromShared()`.
 */
import { assert } from '@petrel/base';
import { CHUNKED_BYTES, compareBytes, compareInternalKeys, KIND_DELETE, keyChunk, type Kind, sequenceOf, TRAILER_BYTES, writeTrailer } from '../format/internal_key.js';
import type { InternalIterator } from '../iterator/iterator.js';

const MAX_HEIGHT = 20;
/** Each node reaches the next level with probability 1/4. */
const BRANCHING = 4;

const USER_LENGTH = 6;
const KIND = 7;
const SEQUENCE_HIGH = 8;
const SEQUENCE_LOW = 9;
const CHUNK = 10;
const OFFSET = 11;
const VALUE_LENGTH = 12;
const HEIGHT = 13;
const LINKS = 14;
const HEAD = 0;

const KiB = 1024;
const MIN_CHUNK_BYTES = 4 * KiB;
const MAX_CHUNK_BYTES = 1024 * KiB;
const INITIAL_NODE_WORDS = 4096;
const MAX_INITIAL_NODE_WORDS = 65536;
/** Below this many bytes a loop copies a part of an array faster than a native call. */
const SHORT_COPY_BYTES = 32;
/** The hash index starts with this many slots and doubles when half full. */
const INITIAL_INDEX_SLOTS = 1024;

/** What a worker thread needs to read an immutable memtable (structured-clonable, shares memory). */
export interface SharedMemtable {
  nodes: SharedArrayBuffer;
  chunks: SharedArrayBuffer[];
  height: number;
  count: number;
  bytes: number;
  firstSequence: number;
  lastSequence: number;
}

/** A key as the skip list compares it (one per memtable, reused by every search). */
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
  /** Bytes holding the user key at `start` (an internal key, the user key itself, or the arena). */
  bytes: Uint8Array;
  start: number;
}

function setProbe(probe: Probe, bytes: Uint8Array, start: number, userLength: number, sequence: number, kind: number): void {
  const end = start + userLength;
  probe.c0 = keyChunk(bytes, start, end);
  probe.c1 = keyChunk(bytes, start + 3, end);
  probe.c2 = keyChunk(bytes, start + 6, end);
  probe.c3 = keyChunk(bytes, start + 9, end);
  probe.c4 = keyChunk(bytes, start + 12, end);
  probe.c5 = keyChunk(bytes, start + 15, end);
  probe.userLength = userLength;
  probe.kind = kind;
  probe.sequenceHigh = Math.floor(sequence / 4294967296);
  probe.sequenceLow = sequence % 4294967296;
  probe.bytes = bytes;
  probe.start = start;
}

/** One 32-bit word into a running hash (a multiply, a rotation, another multiply). */
function mixWord(h: number, word: number): number {
  const k = Math.imul(h ^ word, 0xcc9e2d51);
  return (Math.imul((k << 13) | (k >>> 19), 5) + 0xe6546b64) | 0;
}

/** A user key's hash from its probe: the six chunks and the length, then any bytes past them. */
function hashProbe(probe: Probe): number {
  let h = Math.imul(probe.userLength ^ 0x9e3779b9, 0x85ebca6b);
  h = mixWord(h, probe.c0);
  h = mixWord(h, probe.c1);
  h = mixWord(h, probe.c2);
  h = mixWord(h, probe.c3);
  h = mixWord(h, probe.c4);
  h = mixWord(h, probe.c5);
  const bytes = probe.bytes;
  for (let i = probe.start + CHUNKED_BYTES, end = probe.start + probe.userLength; i < end; i++) {
    h = Math.imul(h ^ (bytes[i] as number), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h | 0;
}

function copyBytes(target: Uint8Array, at: number, source: Uint8Array, start: number, length: number): void {
  // A whole typed array is copied by `set` with no call into C++ (measured: 12 ns for 100 bytes,
  // against 50 ns for Buffer#copy and 120 ns for a loop).
  if (start === 0 && length === source.length) target.set(source, at);
  else if (length <= SHORT_COPY_BYTES) {
    for (let i = 0; i < length; i++) target[at + i] = source[start + i] as number;
  } else {
    Buffer.prototype.copy.call(source, target, at, start, start + length);
  }
}

export type MemtableLookup = { found: true; deleted: boolean; value: Buffer } | { found: false };

const NOT_FOUND: MemtableLookup = { found: false };
const EMPTY_CHUNK = Buffer.alloc(0);

export class Memtable {
  private pool: Int32Array;
  /** The first free offset in `pool`. */
  private top = LINKS + MAX_HEIGHT;
  private readonly chunks: Buffer[] = [];
  /** The chunk being filled, its index, and the bytes used in it. */
  private arena: Buffer = EMPTY_CHUNK;
  private arenaIndex = -1;
  private arenaUsed = 0;
  private readonly chunkBytes: number;
  /** The last chunk given to addInPlace, and its index in `chunks`. */
  private lastForeignChunk: Buffer | undefined;
  private lastForeignIndex = -1;
  /** Set once a view of the arena — a value from `get`, a key or value from an iterator — was handed out. */
  private viewsHandedOut = false;
  private entries = 0;
  private height = 1;
  private randomState = 0x2545f491;
  private bytes = 0;
  /** The largest decree among the writes here (external-log mode), or 0. */
  lastDecree = 0;
  /** The smallest and largest sequence number of the writes here. */
  firstSequence = Number.MAX_SAFE_INTEGER;
  lastSequence = 0;
  private immutable = false;
  /** The last record < the last inserted one at each level (valid below `height`); see add(). */
  private readonly update = new Int32Array(MAX_HEIGHT);
  /** The record the last add inserted (0: none, or a search has run since). */
  private lastInserted = 0;
  private readonly probe: Probe = { c0: 0, c1: 0, c2: 0, c3: 0, c4: 0, c5: 0, userLength: 0, kind: 0, sequenceHigh: 0, sequenceLow: 0, bytes: EMPTY_CHUNK, start: 0 };
  /**
   * The hash index: per slot, the newest record of a user key (0: empty) and that key's hash.
   * Undefined until the first `get` builds it (and for good where `noIndex`).
   */
  private indexNodes: Int32Array | undefined;
  private indexHashes = new Int32Array(0);
  private indexUsed = 0;
  private noIndex = false;
  /** Iterators open on this memtable: its node pool is not given away while any is (`releasePool`). */
  private pins = 0;
  private released = false;

  /**
   * `sizeHint`: the bytes this memtable is expected to reach (sizes its arena chunks). `pool`: the
   * node pool of a flushed memtable to reuse (from `releasePool`), instead of new memory.
   */
  constructor(sizeHint = 4 * 1024 * KiB, pool?: Int32Array) {
    let chunk = MIN_CHUNK_BYTES;
    while (chunk < sizeHint / 8 && chunk < MAX_CHUNK_BYTES) chunk *= 2;
    this.chunkBytes = chunk;
    if (pool !== undefined) {
      assert(pool.buffer instanceof SharedArrayBuffer && pool.length >= LINKS + MAX_HEIGHT, 'a reused node pool is shared and holds the head');
      // Only the head is read before it is written: every other record is written whole before
      // anything links to it, so the old records past it need no clearing.
      pool.fill(0, HEAD, HEAD + LINKS + MAX_HEIGHT);
      this.pool = pool;
    } else {
      // Nodes take a quarter to a third of a memtable's bytes when entries are small: start near
      // that (up to 256 KiB: a process may hold many mostly idle memtables), so that a full
      // memtable grows (copies) its node pool a few times, not ten.
      let words = INITIAL_NODE_WORDS;
      while (words < sizeHint / 16 && words < MAX_INITIAL_NODE_WORDS) words *= 2;
      this.pool = new Int32Array(new SharedArrayBuffer(words * 4));
    }
    this.pool[HEIGHT] = MAX_HEIGHT;
  }

  /** A read-only memtable over memory another thread filled (see `shared()`). */
  static fromShared(shared: SharedMemtable): Memtable {
    const memtable = new Memtable(0);
    memtable.noIndex = true;
    memtable.pool = new Int32Array(shared.nodes);
    for (const chunk of shared.chunks) memtable.chunks.push(Buffer.from(chunk));
    memtable.height = shared.height;
    memtable.entries = shared.count;
    memtable.bytes = shared.bytes;
    memtable.firstSequence = shared.firstSequence;
    memtable.lastSequence = shared.lastSequence;
    memtable.immutable = true;
    return memtable;
  }

  /** The memory of an immutable memtable, for a worker thread to read. */
  shared(): SharedMemtable {
    assert(this.immutable && !this.released, 'only an immutable memtable is shared, before it gives up its node pool');
    return {
      nodes: this.pool.buffer as SharedArrayBuffer,
      chunks: this.chunks.map((chunk) => chunk.buffer as SharedArrayBuffer),
      height: this.height,
      count: this.entries,
      bytes: this.bytes,
      firstSequence: this.firstSequence,
      lastSequence: this.lastSequence,
    };
  }

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

  /**
   * Gives up the node pool, for the next memtable to reuse (`new Memtable(size, pool)`), when
   * nothing can read this memtable again: it is immutable, no iterator on it is open, and the
   * caller no longer reads it (flushed, dropped from the engine's list). Returns undefined when an
   * iterator is open. The pool's pages are already in memory: a new pool of fresh memory costs a
   * page fault per 4 KiB on first touch (about 12 µs each on the VMs the benches ran on), and
   * growing it by doubling copies it several times as it fills.
   *
   * The arena is not the memtable's to give: its chunks are the engine's write arena, shared with
   * the next memtable, and may be reused only if no view of them was handed out (`exposed`).
   */
  releasePool(): Int32Array | undefined {
    assert(this.immutable && !this.released, 'only an immutable memtable gives up its node pool, once');
    if (this.pins > 0) return undefined;
    this.released = true;
    const pool = this.pool;
    this.pool = new Int32Array(0);
    this.indexNodes = undefined;
    this.indexHashes = new Int32Array(0);
    this.noIndex = true;
    return pool;
  }

  /** @internal An iterator on this memtable closed. */
  unpin(): void {
    this.pins--;
  }

  /**
   * Whether a view of the arena's bytes was ever handed out (a value from `get`, a key or a value
   * read through an iterator): then whoever holds it may read those bytes at any later time, and
   * the chunks must never be rewritten.
   */
  get exposed(): boolean {
    return this.viewsHandedOut;
  }

  /**
   * The chunks given to `addInPlace`, in the order their first entries came (the arena's order),
   * for a memtable filled only that way (the engine's).
   */
  inPlaceChunks(): readonly Buffer[] {
    assert(this.arenaIndex === -1, 'a memtable with arena chunks of its own (add, addFrom)');
    return this.chunks;
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

  /** Orders the record at `node` against the probe as compareInternalKeys orders their keys. */
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
        const chunk = this.chunks[pool[node + CHUNK] as number] as Buffer;
        const at = pool[node + OFFSET] as number;
        difference = compareBytes(chunk, at + CHUNKED_BYTES, at + userLength, probe.bytes, probe.start + CHUNKED_BYTES, probe.start + probe.userLength);
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

  add(sequence: number, kind: Kind, userKey: Uint8Array, value: Uint8Array): void {
    this.addFrom(sequence, kind, userKey, 0, userKey.length, value, 0, value.length);
  }

  /**
   * Inserts a write whose user key is keySource[keyStart, keyStart + keyLength) and whose value
   * is valueSource[valueStart, valueStart + valueLength); the bytes are copied into the arena.
   */
  addFrom(sequence: number, kind: Kind, keySource: Uint8Array, keyStart: number, keyLength: number, valueSource: Uint8Array, valueStart: number, valueLength: number): void {
    assert(!this.immutable, 'write to an immutable memtable');
    // The entry's bytes: user key, trailer, value.
    const entryBytes = keyLength + TRAILER_BYTES + valueLength;
    if (this.arenaUsed + entryBytes > this.arena.length) this.newChunk(entryBytes);
    const arena = this.arena;
    const at = this.arenaUsed;
    copyBytes(arena, at, keySource, keyStart, keyLength);
    writeTrailer(arena, at + keyLength, sequence, kind);
    copyBytes(arena, at + keyLength + TRAILER_BYTES, valueSource, valueStart, valueLength);
    this.arenaUsed = at + entryBytes;
    this.link(this.arenaIndex, at, keyLength, valueLength, sequence, kind);
  }

  /**
   * Inserts a write whose bytes — user key, trailer (with this sequence and kind), value — are
   * already at `chunk[at…]`, a SharedArrayBuffer-backed buffer that nobody will change again (the
   * engine's write arena: the log record's bytes are the memtable's, with no copy).
   */
  addInPlace(chunk: Buffer, at: number, keyLength: number, valueLength: number, sequence: number, kind: Kind): void {
    assert(!this.immutable, 'write to an immutable memtable');
    if (chunk !== this.lastForeignChunk) {
      assert(chunk.buffer instanceof SharedArrayBuffer && chunk.byteOffset === 0, 'addInPlace needs a whole SharedArrayBuffer');
      this.chunks.push(chunk);
      this.lastForeignChunk = chunk;
      this.lastForeignIndex = this.chunks.length - 1;
    }
    this.link(this.lastForeignIndex, at, keyLength, valueLength, sequence, kind);
  }

  /** Links a new record for the entry at chunks[chunkIndex][at…] into the skip list. */
  private link(chunkIndex: number, at: number, keyLength: number, valueLength: number, sequence: number, kind: Kind): void {
    const probe = this.probe;
    setProbe(probe, this.chunks[chunkIndex] as Buffer, at, keyLength, sequence, kind);
    const update = this.update;
    // In-order writes: when the new key falls right after the last one inserted, the predecessors
    // that insert found (and then became) are this one's too, at every level.
    const last = this.lastInserted;
    let fast = false;
    if (last !== 0 && this.compare(last, probe) < 0) {
      const after = this.pool[last + LINKS] as number;
      fast = after === 0 || this.compare(after, probe) > 0;
    }
    if (!fast) this.findGreaterOrEqual(probe, update);
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
    pool[node + USER_LENGTH] = keyLength;
    pool[node + KIND] = kind;
    pool[node + SEQUENCE_HIGH] = probe.sequenceHigh;
    pool[node + SEQUENCE_LOW] = probe.sequenceLow | 0;
    pool[node + CHUNK] = chunkIndex;
    pool[node + OFFSET] = at;
    pool[node + VALUE_LENGTH] = valueLength;
    pool[node + HEIGHT] = height;
    for (let level = 0; level < height; level++) {
      const previous = update[level] as number;
      pool[node + LINKS + level] = pool[previous + LINKS + level] as number;
      pool[previous + LINKS + level] = node;
      // The predecessor of whatever follows this node, at this level, is this node.
      update[level] = node;
    }
    this.lastInserted = node;
    if (this.indexNodes !== undefined) this.index(node, hashProbe(probe), probe);
    this.entries++;
    this.bytes += keyLength + TRAILER_BYTES + valueLength + 16 + (LINKS + height) * 4;
    if (sequence < this.firstSequence) this.firstSequence = sequence;
    if (sequence > this.lastSequence) this.lastSequence = sequence;
  }

  /** Records `node` (the probe's key) as its user key's newest, unless a newer one is there. */
  private index(node: number, hash: number, probe: Probe): void {
    let nodes = this.indexNodes as Int32Array;
    if ((this.indexUsed + 1) * 2 > nodes.length) nodes = this.growIndex();
    const hashes = this.indexHashes;
    const mask = nodes.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const existing = nodes[slot] as number;
      if (existing === 0) {
        nodes[slot] = node;
        hashes[slot] = hash;
        this.indexUsed++;
        return;
      }
      if (hashes[slot] === hash && this.sameUserKey(existing, probe)) {
        // The newer record wins (the engine inserts in sequence order; `add` may not).
        if (this.compare(existing, probe) > 0) nodes[slot] = node;
        return;
      }
    }
  }

  private growIndex(): Int32Array {
    const oldNodes = this.indexNodes as Int32Array;
    const oldHashes = this.indexHashes;
    const nodes = new Int32Array(oldNodes.length * 2);
    const hashes = new Int32Array(oldNodes.length * 2);
    const mask = nodes.length - 1;
    for (let i = 0; i < oldNodes.length; i++) {
      const node = oldNodes[i] as number;
      if (node === 0) continue;
      const hash = oldHashes[i] as number;
      let slot = hash & mask;
      while (nodes[slot] !== 0) slot = (slot + 1) & mask;
      nodes[slot] = node;
      hashes[slot] = hash;
    }
    this.indexNodes = nodes;
    this.indexHashes = hashes;
    // The index counts toward the memtable's size, as its nodes do.
    this.bytes += (nodes.length - oldNodes.length) * 8;
    return nodes;
  }

  /** Whether the record at `node` has the probe's user key. */
  private sameUserKey(node: number, probe: Probe): boolean {
    const pool = this.pool;
    const userLength = pool[node + USER_LENGTH] as number;
    if (
      userLength !== probe.userLength ||
      pool[node] !== probe.c0 ||
      pool[node + 1] !== probe.c1 ||
      pool[node + 2] !== probe.c2 ||
      pool[node + 3] !== probe.c3 ||
      pool[node + 4] !== probe.c4 ||
      pool[node + 5] !== probe.c5
    ) {
      return false;
    }
    if (userLength <= CHUNKED_BYTES) return true;
    const chunk = this.chunks[pool[node + CHUNK] as number] as Buffer;
    const at = pool[node + OFFSET] as number;
    return compareBytes(chunk, at + CHUNKED_BYTES, at + userLength, probe.bytes, probe.start + CHUNKED_BYTES, probe.start + userLength) === 0;
  }

  /** Indexes every record there is (the first `get`): in order, a key's newest record comes first. */
  private buildIndex(): void {
    let slots = INITIAL_INDEX_SLOTS;
    while (slots < this.entries * 4) slots *= 2;
    this.indexNodes = new Int32Array(slots);
    this.indexHashes = new Int32Array(slots);
    this.indexUsed = 0;
    this.bytes += slots * 8;
    const probe = this.probe;
    const pool = this.pool;
    for (let node = pool[HEAD + LINKS] as number; node !== 0; node = pool[node + LINKS] as number) {
      const sequence = (pool[node + SEQUENCE_HIGH] as number) * 4294967296 + ((pool[node + SEQUENCE_LOW] as number) >>> 0);
      setProbe(probe, this.chunks[pool[node + CHUNK] as number] as Buffer, pool[node + OFFSET] as number, pool[node + USER_LENGTH] as number, sequence, pool[node + KIND] as number);
      this.index(node, hashProbe(probe), probe);
    }
  }

  /** The newest record of the probe's user key, by the index (0: none here). */
  private newestOf(probe: Probe): number {
    const nodes = this.indexNodes as Int32Array;
    const hashes = this.indexHashes;
    const mask = nodes.length - 1;
    const hash = hashProbe(probe);
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const node = nodes[slot] as number;
      if (node === 0) return 0;
      if (hashes[slot] === hash && this.sameUserKey(node, probe)) return node;
    }
  }

  private newChunk(atLeast: number): void {
    const chunk = Buffer.from(new SharedArrayBuffer(Math.max(this.chunkBytes, atLeast)));
    this.chunks.push(chunk);
    this.arena = chunk;
    this.arenaIndex = this.chunks.length - 1;
    this.arenaUsed = 0;
  }

  private allocate(words: number): number {
    if (this.top + words > this.pool.length) {
      const grown = new Int32Array(new SharedArrayBuffer(Math.max(this.pool.length * 2, this.top + words) * 4));
      grown.set(this.pool);
      this.pool = grown;
    }
    const node = this.top;
    this.top += words;
    return node;
  }

  /** The newest write of `userKey` visible at `sequence`. */
  get(userKey: Uint8Array, sequence: number): MemtableLookup {
    assert(!this.released, 'read of a memtable that gave up its node pool');
    // The first entry of userKey at or below `sequence`: kind 255 sorts before every real kind.
    if (this.indexNodes === undefined && !this.noIndex) this.buildIndex();
    const probe = this.probe;
    setProbe(probe, userKey, 0, userKey.length, sequence, 255);
    let node: number;
    if (this.indexNodes !== undefined) {
      node = this.newestOf(probe);
      if (node === 0) return NOT_FOUND;
      // Newer than the read's sequence: an older record may be the one visible; search for it.
      if (this.compare(node, probe) < 0) node = this.findGreaterOrEqual(probe, undefined);
    } else {
      node = this.findGreaterOrEqual(probe, undefined);
    }
    if (node === 0) return NOT_FOUND;
    const pool = this.pool;
    const userLength = pool[node + USER_LENGTH] as number;
    if (userLength !== userKey.length) return NOT_FOUND;
    const chunk = this.chunks[pool[node + CHUNK] as number] as Buffer;
    const at = pool[node + OFFSET] as number;
    if (compareBytes(chunk, at, at + userLength, userKey, 0, userLength) !== 0) return NOT_FOUND;
    const valueAt = at + userLength + TRAILER_BYTES;
    this.viewsHandedOut = true;
    return { found: true, deleted: pool[node + KIND] === KIND_DELETE, value: chunk.subarray(valueAt, valueAt + (pool[node + VALUE_LENGTH] as number)) };
  }

  /** An iterator over the records; close it, or this memtable's node pool is never reused. */
  iterator(): InternalIterator {
    assert(!this.released, 'iterator on a memtable that gave up its node pool');
    this.pins++;
    return new MemtableIterator(this);
  }

  /** @internal The internal key of a record (a view of the arena). */
  keyAt(node: number): Buffer {
    this.viewsHandedOut = true;
    const pool = this.pool;
    const at = pool[node + OFFSET] as number;
    return (this.chunks[pool[node + CHUNK] as number] as Buffer).subarray(at, at + (pool[node + USER_LENGTH] as number) + TRAILER_BYTES);
  }
  /** @internal */
  valueAt(node: number): Buffer {
    this.viewsHandedOut = true;
    const pool = this.pool;
    const at = (pool[node + OFFSET] as number) + (pool[node + USER_LENGTH] as number) + TRAILER_BYTES;
    return (this.chunks[pool[node + CHUNK] as number] as Buffer).subarray(at, at + (pool[node + VALUE_LENGTH] as number));
  }
  /** @internal The arena chunk holding a record's bytes. */
  chunkOf(node: number): Buffer {
    return this.chunks[this.pool[node + CHUNK] as number] as Buffer;
  }
  /** @internal Where a record's internal key starts in its chunk; the value follows the key. */
  offsetOf(node: number): number {
    return this.pool[node + OFFSET] as number;
  }
  /** @internal */
  userKeyLengthOf(node: number): number {
    return this.pool[node + USER_LENGTH] as number;
  }
  /** @internal */
  valueLengthOf(node: number): number {
    return this.pool[node + VALUE_LENGTH] as number;
  }
  /** @internal The first record ≥ key (0: none). */
  seekNode(key: Buffer): number {
    const probe = this.probe;
    setProbe(probe, key, 0, key.length - TRAILER_BYTES, sequenceOf(key), 255 - (key[key.length - 1] as number));
    return this.findGreaterOrEqual(probe, undefined);
  }
  /** @internal The last record < key (0: none). */
  prevNode(key: Buffer): number {
    const probe = this.probe;
    setProbe(probe, key, 0, key.length - TRAILER_BYTES, sequenceOf(key), 255 - (key[key.length - 1] as number));
    return this.findLessThan(probe);
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
  /** The key of `keyNode`, made once per position (merging iterators ask for it repeatedly). */
  private keyNode = 0;
  private currentKey: Buffer = EMPTY_CHUNK;
  private closed = false;

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
    this.node = this.memtable.prevNode(this.key());
  }
  key(): Buffer {
    assert(this.node !== 0, 'key of an invalid iterator');
    if (this.keyNode !== this.node) {
      this.currentKey = this.memtable.keyAt(this.node);
      this.keyNode = this.node;
    }
    return this.currentKey;
  }
  value(): Buffer {
    assert(this.node !== 0, 'value of an invalid iterator');
    return this.memtable.valueAt(this.node);
  }
  close(): void {
    this.node = 0;
    if (this.closed) return;
    this.closed = true;
    this.memtable.unpin();
  }
}
