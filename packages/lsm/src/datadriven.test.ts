/**
 * Data-driven tests (testdata/*.txt; `--rewrite` regenerates the expected outputs):
 * - block.txt: block building (restart points, prefix compression) and iteration over a block;
 * - shape.txt: the LSM's shape (levels, files, key ranges, sequences) after scripted writes and
 *   flushes, and reads through it;
 * - picker.txt: which compaction the picker chooses for a described Version.
 */
import { MemVfs, initChecksum, joinPath } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Db } from './db.js';
import { describeInternalKey, KIND_DELETE, KIND_PUT, makeInternalKey, printable } from './format/internal_key.js';
import { BlockBuilder, DecodedBlock } from './sstable/block.js';
import { compareInternalKeys } from './format/internal_key.js';
import { BlockCache } from './sstable/block_cache.js';

const testdata = joinPath(import.meta.dirname, '..', 'testdata');

/** `a#5,SET` or `a#5,DEL` → internal key. */
function parseKey(text: string): Buffer {
  const match = /^(.*)#(\d+),(SET|DEL)$/.exec(text.trim());
  if (match === null) throw new Error(`bad key ${text}`);
  return makeInternalKey(Buffer.from(match[1]!), Number(match[2]), match[3] === 'SET' ? KIND_PUT : KIND_DELETE);
}

test.before(async () => {
  await initChecksum();
});

test('block building and iteration (testdata/block.txt)', async () => {
  let block: DecodedBlock | undefined;
  const mismatches = await runCases('block.txt', (c) => {
    switch (c.command) {
      case 'build': {
        const builder = new BlockBuilder(Number(c.args.get('restart') ?? 16));
        for (const line of c.input) {
          const [key, value] = line.split(' = ');
          builder.add(parseKey(key!), Buffer.from(value ?? ''));
        }
        const contents = builder.finish();
        block = DecodedBlock.decode(contents, 'test', 0);
        const restarts = contents.readUInt32LE(contents.length - 4);
        const offsets: number[] = [];
        for (let i = 0; i < restarts; i++) offsets.push(contents.readUInt32LE(contents.length - 4 - (restarts - i) * 4));
        // Walk the entries to show the prefix compression.
        const entries: string[] = [];
        let at = 0;
        const end = contents.length - 4 - restarts * 4;
        while (at < end) {
          const shared = contents[at++]!;
          const unshared = contents[at++]!;
          const valueLength = contents[at++]!;
          entries.push(`shared=${shared} unshared=${printable(contents.subarray(at, at + unshared))} value=${printable(contents.subarray(at + unshared, at + unshared + valueLength))}`);
          at += unshared + valueLength;
        }
        return [`size: ${contents.length} bytes`, `restarts: ${offsets.join(' ')}`, ...entries].join('\n');
      }
      case 'seek': {
        const out: string[] = [];
        for (const line of c.input) {
          const position = block!.lowerBound(parseKey(line), compareInternalKeys);
          out.push(`${line.trim()} -> ${position < block!.count ? `${describeInternalKey(block!.key(position))} = ${block!.value(position).toString()}` : '<end>'}`);
        }
        return out.join('\n');
      }
      default:
        throw new Error(`unknown command ${c.command}`);
    }
  });
  assert.equal(mismatches, []);
});

test('the LSM shape after scripted writes and flushes (testdata/shape.txt)', async () => {
  let vfs = new MemVfs();
  let db: Db | undefined;
  const mismatches = await runCases('shape.txt', async (c) => {
    switch (c.command) {
      case 'open': {
        await db?.close();
        if (c.args.has('fresh')) vfs = new MemVfs();
        db = await Db.open('/db', { vfs, memtableSizeBytes: 1 << 20, blockCache: new BlockCache(1 << 20) });
        return db.debugString();
      }
      case 'write': {
        for (const line of c.input) {
          const [op, key, value] = line.trim().split(/\s+/);
          if (op === 'put') await db!.put(Buffer.from(key!), Buffer.from(value ?? ''));
          else if (op === 'del') await db!.del(Buffer.from(key!));
          else throw new Error(`unknown write ${op}`);
        }
        return `sequence: ${db!.sequence}`;
      }
      case 'flush':
        await db!.flush();
        return db!.debugString();
      case 'get':
        return c.input.map((line) => `${line.trim()} -> ${db!.get(Buffer.from(line.trim()))?.toString() ?? '<absent>'}`).join('\n');
      case 'scan': {
        const iterator = db!.iterator();
        const out: string[] = [];
        if (c.args.has('reverse')) for (iterator.seekToLast(); iterator.valid(); iterator.prev()) out.push(`${iterator.key()}=${iterator.value()}`);
        else for (iterator.seekToFirst(); iterator.valid(); iterator.next()) out.push(`${iterator.key()}=${iterator.value()}`);
        iterator.close();
        return out.join(' ');
      }
      default:
        throw new Error(`unknown command ${c.command}`);
    }
  });
  await db?.close();
  assert.equal(mismatches, []);
});

test('compaction picking (testdata/picker.txt)', async () => {
  let version: Version | undefined;
  let options = { ...DEFAULT_COMPACTION_OPTIONS };
  const mismatches = await runCases('picker.txt', (c) => {
    switch (c.command) {
      case 'define': {
        // Lines `L<n>: <number>:<smallest>-<largest>:<bytes> …`; sizes may end in K or M.
        options = {
          ...DEFAULT_COMPACTION_OPTIONS,
          l0CompactionTrigger: Number(c.args.get('l0-trigger') ?? DEFAULT_COMPACTION_OPTIONS.l0CompactionTrigger),
          levelOneTargetBytes: parseBytes(c.args.get('l1-target') ?? String(DEFAULT_COMPACTION_OPTIONS.levelOneTargetBytes)),
          levelSizeMultiplier: Number(c.args.get('multiplier') ?? DEFAULT_COMPACTION_OPTIONS.levelSizeMultiplier),
        };
        const levels: FileMetadata[][] = Array.from({ length: LEVELS }, () => []);
        let sequence = 1;
        for (const line of c.input) {
          const match = /^L(\d):(.*)$/.exec(line.trim());
          if (match === null) throw new Error(`bad level line: ${line}`);
          for (const word of match[2]!.trim().split(/\s+/).filter((w) => w !== '')) {
            const file = /^(\d+):([^-]+)-([^:]+):(\d+[KM]?)$/.exec(word);
            if (file === null) throw new Error(`bad file: ${word}`);
            const first = sequence++;
            const last = sequence++;
            levels[Number(match[1])]!.push({
              number: Number(file[1]),
              size: parseBytes(file[4]!),
              smallest: makeInternalKey(Buffer.from(file[2]!), first, KIND_PUT),
              largest: makeInternalKey(Buffer.from(file[3]!), last, KIND_PUT),
              smallestSequence: first,
              largestSequence: last,
              entries: 2,
            });
          }
        }
        version = new Version(levels, () => undefined);
        return levelScores(version, options)
          .map((score, level) => `L${level} score ${score.toFixed(2)}`)
          .join('\n');
      }
      case 'pick': {
        const pointers: (Buffer | undefined)[] = [];
        for (const [name, value] of c.args) {
          const level = /^pointer-L(\d)$/.exec(name);
          if (level !== null) pointers[Number(level[1])] = Buffer.from(value);
        }
        const compaction = pickCompaction(version!, options, pointers);
        if (compaction === undefined) return 'none';
        const names = (files: FileMetadata[]) => files.map((file) => file.number).join(' ') || '-';
        return [
          `L${compaction.level} -> L${compaction.outputLevel} (${compaction.reason})${compaction.trivialMove ? ' trivial move' : ''}`,
          `  L${compaction.level}: ${names(compaction.levelInputs)}`,
          `  L${compaction.outputLevel}: ${names(compaction.outputLevelInputs)}`,
        ].join('\n');
      }
      default:
        throw new Error(`unknown command ${c.command}`);
    }
  });
  assert.equal(mismatches, []);
});

function parseBytes(text: string): number {
  const match = /^(\d+)([KM]?)$/.exec(text);
  if (match === null) throw new Error(`bad size ${text}`);
  return Number(match[1]) * (match[2] === 'K' ? 1024 : match[2] === 'M' ? 2 ** 20 : 1);
}

import { runDataDriven, type DataDrivenCase } from '@petrel/base';
import { DEFAULT_COMPACTION_OPTIONS, levelScores, pickCompaction } from './compaction/picker.js';
import { LEVELS, Version } from './version/version.js';
import type { FileMetadata } from './version/version_edit.js';

function runCases(file: string, handler: (c: DataDrivenCase) => string | Promise<string>): Promise<string[]> {
  return runDataDriven(joinPath(testdata, file), handler);
}

test.run();
