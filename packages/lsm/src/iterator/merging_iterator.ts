/**
 * MergingIterator: the union of several sorted iterators, in order. Children are few (memtables,
 * L0 tables, one per deeper level), so the smallest or largest child is found by a linear scan.
 * Moving against the current direction repositions every other child around the current key,
 * as LevelDB does.
 */
import { assert } from '@petrel/base';
import { compareInternalKeys } from '../format/internal_key.js';
import type { InternalIterator } from './iterator.js';

export class MergingIterator implements InternalIterator {
  private current: InternalIterator | undefined;
  private forward = true;

  constructor(private readonly children: InternalIterator[]) {}

  valid(): boolean {
    return this.current !== undefined && this.current.valid();
  }

  private findSmallest(): void {
    let smallest: InternalIterator | undefined;
    for (const child of this.children) {
      if (child.valid() && (smallest === undefined || compareInternalKeys(child.key(), smallest.key()) < 0)) smallest = child;
    }
    this.current = smallest;
  }

  private findLargest(): void {
    let largest: InternalIterator | undefined;
    for (let i = this.children.length - 1; i >= 0; i--) {
      const child = this.children[i] as InternalIterator;
      if (child.valid() && (largest === undefined || compareInternalKeys(child.key(), largest.key()) > 0)) largest = child;
    }
    this.current = largest;
  }

  seekToFirst(): void {
    for (const child of this.children) child.seekToFirst();
    this.forward = true;
    this.findSmallest();
  }

  seekToLast(): void {
    for (const child of this.children) child.seekToLast();
    this.forward = false;
    this.findLargest();
  }

  seek(target: Buffer): void {
    for (const child of this.children) child.seek(target);
    this.forward = true;
    this.findSmallest();
  }

  seekForPrev(target: Buffer): void {
    for (const child of this.children) child.seekForPrev(target);
    this.forward = false;
    this.findLargest();
  }

  next(): void {
    assert(this.valid(), 'next on an invalid iterator');
    const current = this.current as InternalIterator;
    if (!this.forward) {
      // Every other child is at or before the current key: move each to the first key after it.
      const key = current.key();
      for (const child of this.children) {
        if (child === current) continue;
        child.seek(key);
        if (child.valid() && compareInternalKeys(child.key(), key) === 0) child.next();
      }
      this.forward = true;
    }
    current.next();
    this.findSmallest();
  }

  prev(): void {
    assert(this.valid(), 'prev on an invalid iterator');
    const current = this.current as InternalIterator;
    if (this.forward) {
      const key = current.key();
      for (const child of this.children) {
        if (child === current) continue;
        child.seekForPrev(key);
        if (child.valid() && compareInternalKeys(child.key(), key) === 0) child.prev();
      }
      this.forward = false;
    }
    current.prev();
    this.findLargest();
  }

  key(): Buffer {
    assert(this.valid(), 'key of an invalid iterator');
    return (this.current as InternalIterator).key();
  }

  value(): Buffer {
    assert(this.valid(), 'value of an invalid iterator');
    return (this.current as InternalIterator).value();
  }

  close(): void {
    for (const child of this.children) child.close();
    this.current = undefined;
  }
}
