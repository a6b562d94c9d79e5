/**
 * DbIterator: the user's view of the database through a snapshot — user keys in order, each with
 * its newest value at or below the snapshot's sequence, deleted keys hidden, within optional
 * bounds [lower, upper). Built on the merging iterator of every source, LevelDB's way: forward,
 * it skips hidden versions; backward, it walks each user key's versions from oldest to newest and
 * keeps the newest visible one.
 */
import { assert } from '@petrel/base';
import { KIND_DELETE, KIND_PUT, makeInternalKey, MAX_SEQUENCE, sequenceOf, TRAILER_BYTES } from '../format/internal_key.js';
import type { InternalIterator } from './iterator.js';

export interface IteratorOptions {
  /** Inclusive lower bound on user keys. */
  lower?: Uint8Array;
  /** Exclusive upper bound on user keys. */
  upper?: Uint8Array;
}

function userKey(internalKey: Buffer): Buffer {
  return internalKey.subarray(0, internalKey.length - TRAILER_BYTES);
}

function kind(internalKey: Buffer): number {
  return 255 - (internalKey[internalKey.length - 1] as number);
}

export class DbIterator {
  private currentKey: Buffer | undefined;
  private currentValue: Buffer | undefined;
  private forward = true;
  private closed = false;
  private readonly lower: Buffer | undefined;
  private readonly upper: Buffer | undefined;

  constructor(
    private readonly internal: InternalIterator,
    private readonly sequence: number,
    options: IteratorOptions,
    private readonly onClose: () => void,
  ) {
    this.lower = options.lower === undefined ? undefined : Buffer.from(options.lower);
    this.upper = options.upper === undefined ? undefined : Buffer.from(options.upper);
  }

  valid(): boolean {
    return this.currentKey !== undefined;
  }

  key(): Buffer {
    assert(this.currentKey !== undefined, 'key of an invalid iterator');
    return this.currentKey;
  }

  value(): Buffer {
    assert(this.currentValue !== undefined, 'value of an invalid iterator');
    return this.currentValue;
  }

  seekToFirst(): void {
    if (this.lower !== undefined) return this.seek(this.lower);
    this.internal.seekToFirst();
    this.findNext(undefined);
  }

  seekToLast(): void {
    if (this.upper !== undefined) {
      this.internal.seekForPrev(makeInternalKey(this.upper, MAX_SEQUENCE, KIND_PUT));
    } else this.internal.seekToLast();
    this.findPrev();
  }

  /** The first key ≥ target (and ≥ lower). */
  seek(target: Uint8Array): void {
    const start = this.lower !== undefined && Buffer.compare(target, this.lower) < 0 ? this.lower : target;
    this.internal.seek(makeInternalKey(start, this.sequence, KIND_PUT));
    this.findNext(undefined);
  }

  /** The last key ≤ target (and < upper). */
  seekForPrev(target: Uint8Array): void {
    if (this.upper !== undefined && Buffer.compare(target, this.upper) >= 0) return this.seekToLast();
    this.internal.seekForPrev(makeInternalKey(target, 0, KIND_DELETE));
    this.findPrev();
  }

  next(): void {
    assert(this.currentKey !== undefined, 'next on an invalid iterator');
    const skip = this.currentKey;
    if (!this.forward) {
      this.internal.seek(makeInternalKey(skip, MAX_SEQUENCE, KIND_PUT));
    }
    this.findNext(skip);
  }

  prev(): void {
    assert(this.currentKey !== undefined, 'prev on an invalid iterator');
    if (this.forward) {
      // Step before every version of the current key.
      this.internal.seekForPrev(makeInternalKey(this.currentKey, MAX_SEQUENCE, KIND_PUT));
    }
    this.findPrev();
  }

  /** From the internal position forward: the first visible, live user key not equal to `skip`. */
  private findNext(skip: Buffer | undefined): void {
    this.forward = true;
    const internal = this.internal;
    while (internal.valid()) {
      const key = internal.key();
      const user = userKey(key);
      if (this.upper !== undefined && user.compare(this.upper) >= 0) break;
      if (sequenceOf(key) <= this.sequence) {
        if (skip !== undefined && user.equals(skip)) {
          // An older version of a key already handled.
        } else if (kind(key) === KIND_DELETE) {
          skip = user;
        } else {
          this.currentKey = user;
          this.currentValue = internal.value();
          return;
        }
      }
      internal.next();
    }
    this.currentKey = undefined;
    this.currentValue = undefined;
  }

  /** From the internal position backward: the newest visible version of the previous live key. */
  private findPrev(): void {
    this.forward = false;
    const internal = this.internal;
    let savedKey: Buffer | undefined;
    let savedValue: Buffer | undefined;
    let savedKind = KIND_DELETE;
    while (internal.valid()) {
      const key = internal.key();
      const user = userKey(key);
      if (this.lower !== undefined && user.compare(this.lower) < 0) break;
      const tooHigh = this.upper !== undefined && user.compare(this.upper) >= 0;
      if (!tooHigh && sequenceOf(key) <= this.sequence) {
        if (savedKind !== KIND_DELETE && savedKey !== undefined && user.compare(savedKey) < 0) break;
        savedKind = kind(key);
        savedKey = user;
        savedValue = savedKind === KIND_DELETE ? undefined : internal.value();
      }
      internal.prev();
    }
    if (savedKind === KIND_DELETE || savedKey === undefined) {
      this.currentKey = undefined;
      this.currentValue = undefined;
    } else {
      this.currentKey = savedKey;
      this.currentValue = savedValue;
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.internal.close();
    this.onClose();
  }

  /** Iterates from the current position (or the first key) to the end. */
  *entries(): Generator<[Buffer, Buffer]> {
    if (!this.valid()) this.seekToFirst();
    while (this.valid()) {
      yield [this.key(), this.value()];
      this.next();
    }
  }
}
