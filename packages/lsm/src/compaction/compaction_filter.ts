/**
 * The compaction filter hook: a per-record decision — keep, drop, or rewrite the value — made by
 * user code while a compaction copies records. It must be able to run in a worker thread, so it
 * is given as a module to import plus JSON options, not as a function:
 *
 *   { module: 'file:///…/ttl_filter.ts', options: { … } }
 *
 * The module exports `createCompactionFilter(options)`, returning the decision function. The
 * replica uses one to drop expired records.
 *
 * A dropped record that may hide older versions deeper in the tree becomes a deletion marker
 * instead, so dropping never resurrects an older value.
 */

export interface CompactionFilterSpec {
  /** A module URL (file://… or a package specifier) exporting createCompactionFilter. */
  module: string;
  /** Passed to createCompactionFilter; must survive structured cloning. */
  options?: unknown;
}

export interface CompactionFilterContext {
  /** Wall-clock seconds when the compaction started (the same for every record). */
  nowSeconds: number;
  /** The compaction writes to the last level that holds data for this key. */
  bottommost: boolean;
}

/**
 * 'keep', 'drop', or the new value. The `userKey` and `value` a filter is given are views of the
 * compaction's read buffers: valid during the call only (copy what must outlive it).
 */
export type CompactionDecision = 'keep' | 'drop' | Uint8Array;

export type CompactionFilter = (userKey: Buffer, value: Buffer, context: CompactionFilterContext) => CompactionDecision;

export async function loadCompactionFilter(spec: CompactionFilterSpec): Promise<CompactionFilter> {
  const module = (await import(spec.module)) as { createCompactionFilter?: (options: unknown) => CompactionFilter };
  if (typeof module.createCompactionFilter !== 'function') {
    throw new Error(`compaction filter module ${spec.module} does not export createCompactionFilter`);
  }
  return module.createCompactionFilter(spec.options);
}
