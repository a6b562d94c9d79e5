/** A compaction filter for tests: drops keys with one prefix, upper-cases values of another. */
import type { CompactionFilter } from './compaction_filter.js';

export function createCompactionFilter(options: { dropPrefix: string; upperPrefix: string }): CompactionFilter {
  return (userKey, value) => {
    const key = userKey.toString();
    if (key.startsWith(options.dropPrefix)) return 'drop';
    if (key.startsWith(options.upperPrefix)) return Buffer.from(value.toString().toUpperCase());
    return 'keep';
  };
}
