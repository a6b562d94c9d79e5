/**
 * Conformance through the network client, part 1: the scenarios of the storage app's basic suite
 * (packages/replica/src/app/conformance/basic_suite.ts, after Pegasus's test_basic.cpp) sent over
 * WebSockets to the fake cluster — single-key operations, empty values and hash keys, limits,
 * multiGet over the 13 sort keys with every bound, filter, direction and limit.
 */
import { MAX_HASH_KEY_BYTES } from '@petrel/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { codeOf, keysOf, pairs, text, withRig } from './test_support.js';
import type { FilterType, RangeOptions, FetchLimits } from './types.js';

const SORT_KEYS = ['', '1', '1-abcdefg', '2', '2-abcdefg', '3', '3-efghijk', '4', '4-hijklmn', '5', '5-hijklmn', '6', '7'];
const valueOf = (sortKey: string) => (sortKey === '' ? '0' : sortKey);
const KVS: Record<string, string> = Object.fromEntries(SORT_KEYS.map((k) => [k, valueOf(k)]));
const ALL = SORT_KEYS.join(',');
const HK = 'basic_test_multi_get';

function reference(start: string, stop: string, options: RangeOptions): string[] {
  const startInclusive = options.startInclusive ?? true;
  const stopInclusive = stop === '' ? false : (options.stopInclusive ?? false);
  const type = options.sortKeyFilter?.type ?? 'none';
  const pattern = String(options.sortKeyFilter?.pattern ?? '');
  return SORT_KEYS.filter((key) => {
    if (key < start || (key === start && !startInclusive)) return false;
    if (stop !== '' && (key > stop || (key === stop && !stopInclusive))) return false;
    if (type === 'none' || pattern === '') return true;
    if (type === 'anywhere') return key.includes(pattern);
    if (type === 'prefix') return key.startsWith(pattern);
    return key.endsWith(pattern);
  });
}

test('set, exist, sortKeyCount, get, del: as Pegasus basic.set_get_del', () =>
  withRig(async ({ table, cluster }) => {
    await table.set('basic_test_hash_key_1', 'basic_test_sort_key_1', 'basic_test_value_1');
    assert.is(await table.exist('basic_test_hash_key_1', 'basic_test_sort_key_1'), true);
    assert.is(await table.exist('basic_test_hash_key_1', 'basic_test_sort_key_2'), false);
    assert.is(await table.sortKeyCount('basic_test_hash_key_1'), 1);
    assert.is(text(await table.get('basic_test_hash_key_1', 'basic_test_sort_key_1')), 'basic_test_value_1');
    assert.is(await table.get('basic_test_hash_key_1', 'basic_test_sort_key_2'), null);
    await table.del('basic_test_hash_key_1', 'basic_test_sort_key_1');
    assert.is(await table.exist('basic_test_hash_key_1', 'basic_test_sort_key_1'), false);
    assert.is(await table.sortKeyCount('basic_test_hash_key_1'), 0);
    await table.del('basic_test_hash_key_1', 'basic_test_sort_key_1');
    assert.is(await table.get('basic_test_hash_key_1', 'basic_test_sort_key_1'), null, 'del is idempotent');
    assert.is(cluster.misroutes, 0);
  }));

test('keys and values go in as strings or bytes and come back as Buffers', () =>
  withRig(async ({ table }) => {
    await table.set(new Uint8Array([0, 1, 2]), Buffer.from([0xff]), new Uint8Array([9, 8]));
    const value = await table.get(Buffer.from([0, 1, 2]), new Uint8Array([0xff]));
    assert.ok(Buffer.isBuffer(value));
    assert.equal([...(value as Buffer)], [9, 8]);
    await table.set('ключ', '🙂', 'значение');
    assert.is(text(await table.get('ключ', '🙂')), 'значение');
  }));

test('empty values are stored and returned as empty, distinct from absent', () =>
  withRig(async ({ table }) => {
    await table.set('h', 'empty', '');
    assert.is(text(await table.get('h', 'empty')), '');
    assert.is(await table.exist('h', 'empty'), true);
    assert.is(await table.ttl('h', 'empty'), -1);
    assert.is(await table.get('h', 'absent'), null);
    assert.equal(pairs(await table.multiGet('h')), [['empty', '']]);
    assert.equal((await table.batchGet([['h', 'empty'], ['h', 'absent']])).map(text), ['', null]);
  }));

test('an empty hash key works for single-key operations and is INVALID_HASH_KEY for multi-key ones', () =>
  withRig(async ({ table, cluster }) => {
    await table.set('', 'sk', 'v');
    assert.is(text(await table.get('', 'sk')), 'v');
    assert.is(await table.exist('', 'sk'), true);
    assert.is(await table.ttl('', 'sk'), -1);
    assert.is(await table.incr('', 'n', 2), 2n);
    await table.del('', 'sk');
    assert.is(await table.get('', 'sk'), null);
    cluster.clearLog();
    assert.is(await codeOf(table.multiSet('', { a: '1' })), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.multiDel('', ['a'])), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.multiGet('', [])), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.multiGetRange('', 'a', 'b')), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.multiGetSortKeys('')), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.sortKeyCount('')), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.delRange('', 'a', 'b')), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.checkAndSet('', 'a', 'noCheck', '', 'a', 'v')), 'INVALID_HASH_KEY');
    assert.is(await codeOf(table.checkAndMutate('', 'a', 'noCheck', '', [{ op: 'del', sortKey: 'a' }])), 'INVALID_HASH_KEY');
    assert.is(await codeOf(() => table.scan('')), 'INVALID_HASH_KEY');
    assert.is(cluster.dataRequests().length, 0, 'refused before sending');
  }));

test('a hash key of 65535 bytes or more is INVALID_HASH_KEY everywhere; 65534 bytes is fine', () =>
  withRig(async ({ table }) => {
    const tooLong = Buffer.alloc(MAX_HASH_KEY_BYTES + 1, 0x61);
    for (const call of [
      () => table.set(tooLong, 's', 'v'),
      () => table.get(tooLong, 's'),
      () => table.exist(tooLong, 's'),
      () => table.ttl(tooLong, 's'),
      () => table.del(tooLong, 's'),
      () => table.incr(tooLong, 's', 1),
      () => table.multiSet(tooLong, { a: 'b' }),
      () => table.multiGet(tooLong, []),
      () => table.sortKeyCount(tooLong),
      () => table.batchGet([[tooLong, 's']]),
      () => table.batchSet([{ hashKey: tooLong, sortKey: 's', value: 'v' }]),
      () => table.compareExchange(tooLong, 's', 'a', 'b'),
    ]) {
      assert.is(await codeOf(call), 'INVALID_HASH_KEY', String(call));
    }
    const longest = Buffer.alloc(MAX_HASH_KEY_BYTES, 0x62);
    await table.set(longest, 's', 'v');
    assert.is(text(await table.get(longest, 's')), 'v');
    assert.is(await table.sortKeyCount(longest), 1);
  }));

test('multiSet with no entries and multiDel with no sort keys are INVALID_VALUE; a negative TTL is INVALID_ARGUMENT', () =>
  withRig(async ({ table }) => {
    assert.is(await codeOf(table.multiSet('h', {})), 'INVALID_VALUE');
    assert.is(await codeOf(table.multiSet('h', [])), 'INVALID_VALUE');
    assert.is(await codeOf(table.multiDel('h', [])), 'INVALID_VALUE');
    assert.is(await codeOf(table.set('h', 's', 'v', { ttlSeconds: -1 })), 'INVALID_ARGUMENT');
    assert.is(await codeOf(table.multiSet('h', { a: 'b' }, { ttlSeconds: -5 })), 'INVALID_ARGUMENT');
    assert.is(await codeOf(table.set('h', 's', 'v', { ttlSeconds: 1.5 })), 'INVALID_ARGUMENT');
    assert.is(await table.sortKeyCount('h'), 0, 'nothing was written');
  }));

test('a write over 1 MiB is VALUE_TOO_LARGE and writes nothing', () =>
  withRig(async ({ table }) => {
    assert.is(await codeOf(table.set('h', 's', Buffer.alloc(1 << 20))), 'VALUE_TOO_LARGE');
    assert.is(await codeOf(table.multiSet('h', Array.from({ length: 5 }, (_, i) => [`k${i}`, Buffer.alloc(300_000)] as [string, Buffer]))), 'VALUE_TOO_LARGE');
    assert.is(await table.sortKeyCount('h'), 0);
    await table.set('h', 's', Buffer.alloc((1 << 20) - 10));
    assert.is((await table.get('h', 's'))?.length, (1 << 20) - 10);
  }));

test('multiSet takes an array of pairs, a Map or a record; multiDel returns the number of sort keys asked for', () =>
  withRig(async ({ table }) => {
    await table.multiSet('h', [['a', '1']]);
    await table.multiSet('h', new Map([['b', '2']]));
    await table.multiSet('h', { c: '3' });
    assert.equal(pairs(await table.multiGet('h')), [['a', '1'], ['b', '2'], ['c', '3']]);
    assert.is(await table.multiDel('h', ['a', 'b', 'c', 'd']), 4);
    assert.is(await table.sortKeyCount('h'), 0);
  }));

test('multiGet: the ranges of Pegasus basic.multi_get, forward and reverse', () =>
  withRig(async ({ table }) => {
    await table.multiSet(HK, KVS);
    assert.is(await table.sortKeyCount(HK), 13);
    const cases: [string, string, boolean, boolean, string][] = [
      ['', '', true, false, ALL],
      ['', '', true, true, ALL],
      ['', '', false, false, SORT_KEYS.slice(1).join(',')],
      ['', '', false, true, SORT_KEYS.slice(1).join(',')],
      ['', '1', true, true, ',1'],
      ['', '1', true, false, ''],
      ['', '1', false, true, '1'],
      ['', '1', false, false, ''],
      ['1', '1', true, true, '1'],
      ['1', '1', true, false, ''],
      ['1', '1', false, true, ''],
      ['1', '1', false, false, ''],
      ['2', '1', true, true, ''],
    ];
    for (const reverse of [false, true]) {
      for (const [start, stop, startInclusive, stopInclusive, expected] of cases) {
        const result = await table.multiGetRange(HK, start, stop, { startInclusive, stopInclusive, reverse });
        const what = `${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} reverse=${reverse}`;
        assert.is(keysOf(result), expected, what);
        assert.is(result.complete, true, what);
        for (const [key, value] of pairs(result)) assert.is(value, valueOf(key));
      }
    }
    assert.equal(pairs(await table.multiGetRange(HK, '', '1')), [['', '0']]);
  }));

test('multiGet: the filters of Pegasus basic.multi_get', () =>
  withRig(async ({ table }) => {
    await table.multiSet(HK, KVS);
    const cases: [FilterType, string, string, string, boolean, boolean, string][] = [
      ['anywhere', '-', '', '', true, false, '1-abcdefg,2-abcdefg,3-efghijk,4-hijklmn,5-hijklmn'],
      ['anywhere', '1', '', '', true, false, '1,1-abcdefg'],
      ['anywhere', 'abc', '', '', true, false, '1-abcdefg,2-abcdefg'],
      ['prefix', '1', '', '', true, false, '1,1-abcdefg'],
      ['prefix', '1', '0', '1', true, false, ''],
      ['prefix', '1', '0', '1', true, true, '1'],
      ['prefix', '1', '1', '2', true, true, '1,1-abcdefg'],
      ['prefix', '1', '1', '2', false, true, '1-abcdefg'],
      ['prefix', '1', '1-abcdefg', '2', false, true, ''],
      ['prefix', '1-x', '', '', true, false, ''],
      ['prefix', '5-hijklmn', '', '', true, false, '5-hijklmn'],
      ['postfix', '1', '', '', true, false, '1'],
      ['postfix', '1-', '', '', true, false, ''],
      ['postfix', 'efg', '', '', true, false, '1-abcdefg,2-abcdefg'],
      ['postfix', 'lmn', '', '', true, false, '4-hijklmn,5-hijklmn'],
      ['anywhere', '', '', '', true, false, ALL],
      ['prefix', '', '', '', true, false, ALL],
      ['postfix', '', '', '', true, false, ALL],
    ];
    for (const reverse of [false, true]) {
      for (const [type, pattern, start, stop, startInclusive, stopInclusive, expected] of cases) {
        const what = `${type}(${pattern}) in ${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} reverse=${reverse}`;
        const result = await table.multiGetRange(HK, start, stop, { sortKeyFilter: { type, pattern }, startInclusive, stopInclusive, reverse });
        assert.is(keysOf(result), expected, what);
      }
    }
  }));

test('multiGet: maxCount and maxBytes stop the read with complete:false, keeping the first rows, or the last in reverse', () =>
  withRig(async ({ table }) => {
    await table.multiSet(HK, KVS);
    let result = await table.multiGetRange(HK, '', '', { maxCount: 4, maxBytes: -1 });
    assert.is(result.complete, false);
    assert.equal(pairs(result), [['', '0'], ['1', '1'], ['1-abcdefg', '1-abcdefg'], ['2', '2']]);
    result = await table.multiGetRange(HK, '', '', { maxCount: 4, reverse: true });
    assert.is(result.complete, false);
    assert.is(keysOf(result), '5,5-hijklmn,6,7', 'reverse keeps the last rows, still ascending');
    result = await table.multiGetRange(HK, '', '', { maxCount: 13 });
    assert.is(result.complete, true, 'a limit reached exactly at the end of the range leaves nothing behind');
    assert.equal(keysOf(await table.multiGetRange(HK, '', '', { maxBytes: 4 })), ',1,1-abcdefg');
    assert.is((await table.multiGetRange(HK, '', '', { maxBytes: 4 })).complete, false);
    assert.equal(pairs(await table.multiGetRange(HK, '', '', { maxBytes: 2, noValue: true })), [['', ''], ['1', ''], ['1-abcdefg', '']]);
    assert.is((await table.multiGetRange(HK, '', '', { maxBytes: 0 })).entries.length, 13, 'maxBytes ≤ 0: no limit');
    assert.is((await table.multiGetRange(HK, '', '', { maxCount: 0 })).entries.length, 13, 'maxCount ≤ 0: no limit');
    for (let maxCount = 1; maxCount <= 14; maxCount++) {
      for (const reverse of [false, true]) {
        const limited = await table.multiGetRange(HK, '', '', { maxCount, reverse });
        const expected = reverse ? SORT_KEYS.slice(Math.max(0, 13 - maxCount)) : SORT_KEYS.slice(0, maxCount);
        assert.is(keysOf(limited), expected.join(','), `maxCount ${maxCount} reverse=${reverse}`);
        assert.is(limited.complete, maxCount >= 13);
      }
    }
  }));

test('multiGet by sort keys: ascending, each once, absent skipped, limits from the smallest; default limits 100 rows', () =>
  withRig(async ({ table }) => {
    await table.multiSet(HK, KVS);
    let result = await table.multiGet(HK, ['3', '1', 'missing', '1', '']);
    assert.is(result.complete, true);
    assert.equal(pairs(result), [['', '0'], ['1', '1'], ['3', '3']]);
    result = await table.multiGet(HK, ['3', '1', '2', '4'], { maxCount: 2 });
    assert.is(result.complete, false);
    assert.is(keysOf(result), '1,2');
    assert.equal(pairs(await table.multiGet(HK, ['2'], { noValue: true })), [['2', '']]);
    const many = Array.from({ length: 150 }, (_, i) => [`k${String(i).padStart(3, '0')}`, 'v'] as [string, string]);
    await table.multiSet('many', many);
    const first = await table.multiGet('many');
    assert.is(first.entries.length, 100, 'maxCount defaults to 100');
    assert.is(first.complete, false);
  }));

test('multiGetSortKeys: every sort key without values, with its limits', () =>
  withRig(async ({ table }) => {
    await table.multiSet(HK, KVS);
    const all = await table.multiGetSortKeys(HK);
    assert.is(all.complete, true);
    assert.equal(all.sortKeys.map(String), SORT_KEYS);
    const some = await table.multiGetSortKeys(HK, { maxCount: 3 });
    assert.is(some.complete, false);
    assert.equal(some.sortKeys.map(String), SORT_KEYS.slice(0, 3));
  }));

test('multiGet: every bound combination, filter and direction agrees with a brute-force reference (pipelined)', () =>
  withRig(async ({ table, cluster }) => {
    await table.multiSet(HK, KVS);
    await table.multiSet('basic_test_multi_gea', { x: 'x' });
    await table.multiSet('basic_test_multi_get_', { '1': 'z' });
    const bounds = ['', '0', '1', '1-', '2', '3-efghijk', '5-hijklmn', '7', '8'];
    const filters: [FilterType, string][] = [
      ['none', ''],
      ['anywhere', '-'],
      ['prefix', '1'],
      ['prefix', '5-hijklmn'],
      ['postfix', 'g'],
      ['postfix', '7'],
    ];
    const checks: Promise<void>[] = [];
    for (const start of bounds) {
      for (const stop of bounds) {
        for (const startInclusive of [true, false]) {
          for (const stopInclusive of [true, false]) {
            for (const [type, pattern] of filters) {
              for (const reverse of [false, true]) {
                const options: RangeOptions & FetchLimits = { startInclusive, stopInclusive, sortKeyFilter: { type, pattern }, reverse };
                const what = `${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} ${type}(${pattern}) reverse=${reverse}`;
                checks.push(
                  table.multiGetRange(HK, start, stop, options).then((result) => {
                    assert.is(keysOf(result), reference(start, stop, options).join(','), what);
                    assert.is(result.complete, true, what);
                  }),
                );
              }
            }
          }
        }
      }
    }
    await Promise.all(checks);
    assert.is(checks.length, bounds.length * bounds.length * 4 * filters.length * 2);
    assert.is(cluster.misroutes, 0);
  }));

test.run();
