/**
 * Compaction picking: a pure function of a Version (no IO), so it is tested with data-driven
 * files. Leveled, as LevelDB does it:
 *
 * - L0's score is its file count over `l0CompactionTrigger`; Ln's (n ≥ 1) is its bytes over its
 *   target (`levelOneTargetBytes` × `levelSizeMultiplier`^(n−1)). The highest score ≥ 1 wins.
 * - From L0 every file goes (L0 files overlap), with the L1 files they overlap — unless the
 *   oldest L0 file overlaps nothing in L1: then it alone moves down (keys written in order make
 *   such files, and moving them rewrites nothing). Only the oldest may: no older L0 file can then
 *   hold a version of its keys that would end up above it.
 * - From Ln one file goes — the first after the level's compaction pointer (round robin through
 *   the key space) — with the Ln+1 files it overlaps.
 * - A single input with nothing to overlap in the next level is a trivial move: the file changes
 *   level in the manifest, nothing is rewritten.
 */
import { compareUserKeys, userKeyOf } from '../format/internal_key.js';
import { LEVELS, type Version } from '../version/version.js';
import type { FileMetadata } from '../version/version_edit.js';

export interface CompactionOptions {
  /** L0 is compacted once it holds this many files (default 4). */
  l0CompactionTrigger: number;
  /** L1's target size (default 64 MiB). */
  levelOneTargetBytes: number;
  /** Each level's target is this many times the one above (default 10). */
  levelSizeMultiplier: number;
  /** Output files are cut at this size (default 8 MiB). */
  targetFileBytes: number;
}

export const DEFAULT_COMPACTION_OPTIONS: CompactionOptions = {
  l0CompactionTrigger: 4,
  levelOneTargetBytes: 64 * 2 ** 20,
  levelSizeMultiplier: 10,
  targetFileBytes: 8 * 2 ** 20,
};

export interface Compaction {
  level: number;
  outputLevel: number;
  /** Files of `level`, then files of `outputLevel`. */
  inputs: FileMetadata[];
  levelInputs: FileMetadata[];
  outputLevelInputs: FileMetadata[];
  trivialMove: boolean;
  /** Why it was picked, for stats and tests. */
  reason: string;
}

export function levelTargetBytes(level: number, options: CompactionOptions): number {
  return options.levelOneTargetBytes * options.levelSizeMultiplier ** (level - 1);
}

function totalBytes(files: readonly FileMetadata[]): number {
  let sum = 0;
  for (const file of files) sum += file.size;
  return sum;
}

export function levelScores(version: Version, options: CompactionOptions): number[] {
  const scores: number[] = [];
  for (let level = 0; level < LEVELS - 1; level++) {
    const files = version.levels[level] as FileMetadata[];
    scores.push(level === 0 ? files.length / options.l0CompactionTrigger : totalBytes(files) / levelTargetBytes(level, options));
  }
  return scores;
}

/** User-key range [smallest, largest] covered by files. */
export function userKeyRange(files: readonly FileMetadata[]): [Buffer, Buffer] {
  let smallest = userKeyOf(files[0]!.smallest);
  let largest = userKeyOf(files[0]!.largest);
  for (const file of files) {
    const s = userKeyOf(file.smallest);
    const l = userKeyOf(file.largest);
    if (compareUserKeys(s, smallest) < 0) smallest = s;
    if (compareUserKeys(l, largest) > 0) largest = l;
  }
  return [smallest, largest];
}

/** Files of a level whose user-key range meets [smallest, largest]. */
export function overlapping(files: readonly FileMetadata[], smallest: Uint8Array, largest: Uint8Array): FileMetadata[] {
  return files.filter((file) => compareUserKeys(userKeyOf(file.largest), smallest) >= 0 && compareUserKeys(userKeyOf(file.smallest), largest) <= 0);
}

export function compactionFor(version: Version, level: number, levelInputs: FileMetadata[], reason: string, allowTrivialMove = true): Compaction {
  const outputLevel = level + 1;
  const [smallest, largest] = userKeyRange(levelInputs);
  const outputLevelInputs = overlapping(version.levels[outputLevel] as FileMetadata[], smallest, largest);
  const trivialMove = allowTrivialMove && levelInputs.length === 1 && outputLevelInputs.length === 0;
  return { level, outputLevel, inputs: [...levelInputs, ...outputLevelInputs], levelInputs, outputLevelInputs, trivialMove, reason };
}

/**
 * The compaction to run next, or undefined when every level is within its target.
 * `pointers[level]` is the largest user key compacted last time from that level.
 */
export function pickCompaction(version: Version, options: CompactionOptions, pointers: readonly (Buffer | undefined)[]): Compaction | undefined {
  const scores = levelScores(version, options);
  let best = -1;
  let bestScore = 1;
  for (let level = 0; level < scores.length; level++) {
    if ((scores[level] as number) >= bestScore) {
      best = level;
      bestScore = scores[level] as number;
    }
  }
  if (best < 0) return undefined;
  const files = version.levels[best] as FileMetadata[];
  const reason = `L${best} score ${bestScore.toFixed(2)}`;
  if (best === 0) {
    const oldest = files[files.length - 1] as FileMetadata;
    const alone = compactionFor(version, 0, [oldest], reason);
    if (alone.trivialMove) return alone;
    return compactionFor(version, 0, [...files], reason);
  }
  const pointer = pointers[best];
  const next = files.find((file) => pointer === undefined || compareUserKeys(userKeyOf(file.largest), pointer) > 0) ?? files[0]!;
  return compactionFor(version, best, [next], reason);
}

/** User-key ranges of every file below `outputLevel`: where a key may still have older versions. */
export function deeperRanges(version: Version, outputLevel: number): [Buffer, Buffer][] {
  const ranges: [Buffer, Buffer][] = [];
  for (let level = outputLevel + 1; level < LEVELS; level++) {
    for (const file of version.levels[level] as FileMetadata[]) ranges.push([userKeyOf(file.smallest), userKeyOf(file.largest)]);
  }
  return ranges;
}
