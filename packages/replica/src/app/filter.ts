/**
 * Key filters of multiGet and scans: `anywhere`, `prefix` and `postfix` match the pattern inside,
 * at the start or at the end of a key; an empty pattern and the type `none` match everything.
 */
import { PetrelError } from '@petrel/base';
import { type Filter, isFilterType } from '@petrel/protocol';

/** INVALID_ARGUMENT unless `filter` is a filter this build knows. */
export function checkFilter(filter: Filter, field: string): void {
  if (typeof filter !== 'object' || filter === null || !isFilterType(filter.type) || !(filter.pattern instanceof Uint8Array)) {
    throw new PetrelError('INVALID_ARGUMENT', `${field}: unknown filter type ${String((filter as { type?: unknown } | null)?.type)}`);
  }
}

export function matchesFilter(filter: Filter, data: Buffer): boolean {
  const pattern = filter.pattern;
  if (filter.type === 'none' || pattern.length === 0) return true;
  if (data.length < pattern.length) return false;
  switch (filter.type) {
    case 'anywhere':
      return data.indexOf(pattern) >= 0;
    case 'prefix':
      return data.compare(pattern, 0, pattern.length, 0, pattern.length) === 0;
    case 'postfix':
      return data.compare(pattern, 0, pattern.length, data.length - pattern.length, data.length) === 0;
    default:
      return false;
  }
}
