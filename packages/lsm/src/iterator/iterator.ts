/**
 * The iterator contract, implemented by every layer (memtable, block, table, level, merging, db)
 * and checked by one shared harness (iterator_harness.ts).
 *
 * - An iterator is positioned on an entry or invalid (`valid()` false). A new iterator is invalid
 *   until positioned.
 * - `seekToFirst` / `seekToLast`: the first / last entry. `seek(t)`: the first entry with key ≥ t.
 *   `seekForPrev(t)`: the last entry with key ≤ t. `next` / `prev` move one entry; calling them,
 *   `key` or `value` on an invalid iterator is a bug (an assertion).
 * - Keys are internal keys, ordered by compareInternalKeys (user key, then newest first).
 * - Ownership: `key()` and `value()` return buffers the caller must not modify; they stay valid
 *   after the iterator moves (no layer reuses them), so callers may keep them without copying.
 * - Errors: corruption or IO failure throws a PetrelError from the positioning call that met it;
 *   the iterator is invalid afterwards.
 * - Everything is synchronous: blocks are read with synchronous positional reads from the page
 *   cache or the block cache (ARCHITECTURE.md, decision 8).
 * - `close` releases what the iterator pins (a Version, cache handles); closing twice is fine.
 */

export interface InternalIterator {
  valid(): boolean;
  seekToFirst(): void;
  seekToLast(): void;
  seek(target: Buffer): void;
  seekForPrev(target: Buffer): void;
  next(): void;
  prev(): void;
  key(): Buffer;
  value(): Buffer;
  close(): void;
}
