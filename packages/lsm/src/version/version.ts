/**
 * Version: an immutable set of live SSTables, per level. L0 files may overlap and are kept newest
 * first; L1 and deeper hold disjoint files sorted by smallest key. A Version is reference-counted:
 * readers and iterators pin the one they started with, and a file is deleted only when no live
 * Version lists it.
 */
import { PetrelError, assert } from '@petrel/base';
import { compareInternalKeys, describeInternalKey } from '../format/internal_key.js';
import type { FileMetadata, VersionEdit } from './version_edit.js';

export const LEVELS = 7;

export class Version {
  private references = 0;

  constructor(
    readonly levels: readonly (readonly FileMetadata[])[],
    private readonly onUnused: (version: Version) => void,
  ) {
    assert(levels.length === LEVELS, 'a version has every level');
  }

  ref(): void {
    this.references++;
  }

  unref(): void {
    assert(this.references > 0, 'unref of an unreferenced version');
    if (--this.references === 0) this.onUnused(this);
  }

  get referenced(): boolean {
    return this.references > 0;
  }

  /** A new Version: this one with `edit` applied. */
  apply(edit: VersionEdit, onUnused: (version: Version) => void): Version {
    const levels = this.levels.map((files) => [...files]);
    for (const { level, number } of edit.deletedFiles) {
      const files = levels[level];
      const index = files?.findIndex((file) => file.number === number) ?? -1;
      if (files === undefined || index < 0) throw new PetrelError('CORRUPTION', `manifest deletes file ${number} from L${level}, which does not hold it`);
      files.splice(index, 1);
    }
    for (const { level, file } of edit.newFiles) {
      const files = levels[level];
      if (files === undefined) throw new PetrelError('CORRUPTION', `manifest adds a file to level ${level}`);
      files.push(file);
    }
    // L0: newest first. Deeper levels: by smallest key.
    (levels[0] as FileMetadata[]).sort((a, b) => b.largestSequence - a.largestSequence || b.number - a.number);
    for (let level = 1; level < LEVELS; level++) (levels[level] as FileMetadata[]).sort((a, b) => compareInternalKeys(a.smallest, b.smallest));
    return new Version(levels, onUnused);
  }

  *files(): Generator<{ level: number; file: FileMetadata }> {
    for (let level = 0; level < LEVELS; level++) for (const file of this.levels[level] as FileMetadata[]) yield { level, file };
  }

  /** The LSM's shape, one line a file: `L0: 000005:[a#5,SET-c#9,SET]`. */
  debugString(): string {
    const lines: string[] = [];
    for (let level = 0; level < LEVELS; level++) {
      const files = this.levels[level] as FileMetadata[];
      if (files.length === 0) continue;
      lines.push(`L${level}:`);
      for (const file of files) {
        lines.push(`  ${String(file.number).padStart(6, '0')}:[${describeInternalKey(file.smallest)}-${describeInternalKey(file.largest)}] ${file.entries} entries`);
      }
    }
    return lines.join('\n');
  }
}
