/**
 * Conformance, part 1: single-key operations and multiGet, after Pegasus's function tests
 * (base_api_test/test_basic.cpp): set/get/del/exist/sortKeyCount, then multiGet on one hash key
 * holding the sort keys "", "1", "1-abcdefg", "2", "2-abcdefg", "3", "3-efghijk", "4",
 * "4-hijklmn", "5", "5-hijklmn", "6", "7" — every bound combination, every filter type with
 * several patterns, reverse, count and byte limits, expired rows — first the cases Pegasus
 * spells out, then a sweep of all combinations against a brute-force reference.
 */
import { MAX_HASH_KEY_BYTES } from '@petrel/protocol';
import type { FilterType } from '@petrel/protocol';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type EngineFactory, Harness, type RangeOptions, codeOf } from './harness.js';

const SORT_KEYS = ['', '1', '1-abcdefg', '2', '2-abcdefg', '3', '3-efghijk', '4', '4-hijklmn', '5', '5-hijklmn', '6', '7'];
const valueOf = (sortKey: string) => (sortKey === '' ? '0' : sortKey);
const KVS: Record<string, string> = Object.fromEntries(SORT_KEYS.map((k) => [k, valueOf(k)]));
const ALL = SORT_KEYS.join(',');
const HK = 'basic_test_multi_get';

/** The sort keys a range read should return, computed the simplest way. */
function reference(start: string, stop: string, options: RangeOptions): string[] {
  const startInclusive = options.startInclusive ?? true;
  const stopInclusive = stop === '' ? false : (options.stopInclusive ?? false);
  const [type, pattern] = options.filter ?? ['none', ''];
  const p = String(pattern);
  return SORT_KEYS.filter((key) => {
    if (key < start || (key === start && !startInclusive)) return false;
    if (stop !== '' && (key > stop || (key === stop && !stopInclusive))) return false;
    if (type === 'none' || p === '') return true;
    if (type === 'anywhere') return key.includes(p);
    if (type === 'prefix') return key.startsWith(p);
    return key.endsWith(p);
  });
}

export function basicSuite(engineName: string, factory: EngineFactory): void {
  const test = suite(`conformance/basic [${engineName}]`);
  let h: Harness;
  test.before.each(async () => {
    h = await Harness.open(factory);
  });
  test.after.each(async () => {
    await h.close();
  });

  test('set, exist, sortKeyCount, get, del: as Pegasus basic.set_get_del', () => {
    h.set('basic_test_hash_key_1', 'basic_test_sort_key_1', 'basic_test_value_1');
    assert.is(h.exist('basic_test_hash_key_1', 'basic_test_sort_key_1'), true);
    assert.is(h.exist('basic_test_hash_key_1', 'basic_test_sort_key_2'), false);
    assert.is(h.sortKeyCount('basic_test_hash_key_1'), 1);
    assert.is(h.get('basic_test_hash_key_1', 'basic_test_sort_key_1'), 'basic_test_value_1');
    assert.is(h.get('basic_test_hash_key_1', 'basic_test_sort_key_2'), null);
    h.del('basic_test_hash_key_1', 'basic_test_sort_key_1');
    assert.is(h.exist('basic_test_hash_key_1', 'basic_test_sort_key_1'), false);
    assert.is(h.sortKeyCount('basic_test_hash_key_1'), 0);
    assert.is(h.get('basic_test_hash_key_1', 'basic_test_sort_key_1'), null);
    h.del('basic_test_hash_key_1', 'basic_test_sort_key_1');
    assert.is(h.get('basic_test_hash_key_1', 'basic_test_sort_key_1'), null, 'del is idempotent');
  });

  test('empty values are stored and returned as empty, distinct from absent', () => {
    h.set('h', 'empty', '');
    assert.is(h.get('h', 'empty'), '');
    assert.is(h.exist('h', 'empty'), true);
    assert.is(h.ttl('h', 'empty'), -1);
    assert.is(h.get('h', 'absent'), null);
    assert.equal(h.multiGet('h', []).entries, [['empty', '']]);
    assert.equal(h.batchGet([['h', 'empty'], ['h', 'absent']]), ['', null]);
  });

  test('an empty hash key works for single-key operations and is INVALID_HASH_KEY for multi-key ones', () => {
    h.set('', 'sk', 'v');
    assert.is(h.get('', 'sk'), 'v');
    assert.is(h.exist('', 'sk'), true);
    assert.is(h.ttl('', 'sk'), -1);
    assert.is(h.incr('', 'n', 2), 2n);
    h.del('', 'sk');
    assert.is(h.get('', 'sk'), null);
    assert.is(codeOf(() => h.multiSet('', { a: '1' })), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.multiDel('', ['a'])), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.multiGet('', [])), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.multiGetRange('', 'a', 'b')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.sortKeyCount('')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.app.multiGetSortKeys(Buffer.alloc(0))), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.checkAndSet('', 'a', 'noCheck', '', 'a', 'v')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.checkAndMutate('', 'a', 'noCheck', '', [{ op: 'del', sortKey: 'a' }])), 'INVALID_HASH_KEY');
  });

  test('a hash key of 65535 bytes or more is INVALID_HASH_KEY everywhere; 65534 bytes is fine', () => {
    const tooLong = Buffer.alloc(MAX_HASH_KEY_BYTES + 1, 0x61);
    assert.is(codeOf(() => h.set(tooLong, 's', 'v')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.get(tooLong, 's')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.exist(tooLong, 's')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.ttl(tooLong, 's')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.del(tooLong, 's')), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.incr(tooLong, 's', 1)), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.multiSet(tooLong, { a: 'b' })), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.multiGet(tooLong, [])), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.sortKeyCount(tooLong)), 'INVALID_HASH_KEY');
    assert.is(codeOf(() => h.batchGet([[tooLong, 's']])), 'INVALID_HASH_KEY');
    const longest = Buffer.alloc(MAX_HASH_KEY_BYTES, 0x62);
    h.set(longest, 's', 'v');
    assert.is(h.get(longest, 's'), 'v');
    assert.is(h.sortKeyCount(longest), 1);
  });

  test('multiSet with no entries and multiDel with no sort keys are INVALID_VALUE; a negative TTL is INVALID_ARGUMENT', () => {
    assert.is(codeOf(() => h.multiSet('h', {})), 'INVALID_VALUE');
    assert.is(codeOf(() => h.multiDel('h', [])), 'INVALID_VALUE');
    assert.is(codeOf(() => h.set('h', 's', 'v', -1)), 'INVALID_ARGUMENT');
    assert.is(codeOf(() => h.multiSet('h', { a: 'b' }, -5)), 'INVALID_ARGUMENT');
    assert.is(codeOf(() => h.set('h', 's', 'v', 1.5)), 'INVALID_ARGUMENT');
    assert.is(h.sortKeyCount('h'), 0, 'nothing was written');
  });

  test('a write over 1 MiB is VALUE_TOO_LARGE and writes nothing', () => {
    assert.is(codeOf(() => h.set('h', 's', Buffer.alloc(1 << 20))), 'VALUE_TOO_LARGE');
    assert.is(
      codeOf(() =>
        h.multiSet(
          'h',
          Array.from({ length: 5 }, (_, i) => [`k${i}`, Buffer.alloc(300_000)] as [string, Buffer]),
        ),
      ),
      'VALUE_TOO_LARGE',
    );
    assert.is(h.sortKeyCount('h'), 0);
    h.set('h', 's', Buffer.alloc((1 << 20) - 10));
    assert.is(h.get('h', 's')?.length, (1 << 20) - 10);
  });

  test('multiDel returns the number of sort keys asked for, present or not', () => {
    h.multiSet('h', { a: '1', b: '2' });
    assert.is(h.multiDel('h', ['a', 'b', 'c', 'd']), 4);
    assert.is(h.sortKeyCount('h'), 0);
  });

  test('batchGet answers in the order of the keys, across hash keys, absent and expired as null', () => {
    h.set('h1', 'a', 'A');
    h.set('h2', 'b', 'B');
    h.set('h3', 'c', 'C', 5);
    h.clock.advance(5000);
    assert.equal(h.batchGet([['h2', 'b'], ['h1', 'x'], ['h1', 'a'], ['h3', 'c'], ['', 'z']]), ['B', null, 'A', null, null]);
  });

  test('multiGet: the ranges of Pegasus basic.multi_get, forward and reverse', () => {
    h.multiSet(HK, KVS);
    assert.is(h.sortKeyCount(HK), 13);
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
        const result = h.multiGetRange(HK, start, stop, { startInclusive, stopInclusive, reverse });
        const what = `${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} reverse=${reverse}`;
        assert.is(result.entries.map(([k]) => k).join(','), expected, what);
        assert.is(result.complete, true, what);
        for (const [key, value] of result.entries) assert.is(value, valueOf(key));
      }
    }
    // [null, 1) holds only the empty sort key; as a joined list it reads as ''.
    assert.equal(h.multiGetRange(HK, '', '1', { startInclusive: true, stopInclusive: false }).entries, [['', '0']]);
  });

  test('multiGet: the filters of Pegasus basic.multi_get', () => {
    h.multiSet(HK, KVS);
    const cases: [FilterType, string, string, string, boolean, boolean, string][] = [
      ['anywhere', '-', '', '', true, false, '1-abcdefg,2-abcdefg,3-efghijk,4-hijklmn,5-hijklmn'],
      ['anywhere', '1', '', '', true, false, '1,1-abcdefg'],
      ['anywhere', '1-', '', '', true, false, '1-abcdefg'],
      ['anywhere', 'abc', '', '', true, false, '1-abcdefg,2-abcdefg'],
      ['prefix', '1', '', '', true, false, '1,1-abcdefg'],
      ['prefix', '1', '0', '1', true, false, ''],
      ['prefix', '1', '0', '1', true, true, '1'],
      ['prefix', '1', '1', '2', true, true, '1,1-abcdefg'],
      ['prefix', '1', '1', '2', false, true, '1-abcdefg'],
      ['prefix', '1', '1-abcdefg', '2', false, true, ''],
      ['prefix', '1-', '', '', true, false, '1-abcdefg'],
      ['prefix', '1-x', '', '', true, false, ''],
      ['prefix', 'abc', '', '', true, false, ''],
      ['prefix', 'efg', '', '', true, false, ''],
      ['prefix', 'ijk', '', '', true, false, ''],
      ['prefix', 'lmn', '', '', true, false, ''],
      ['prefix', '5-hijklmn', '', '', true, false, '5-hijklmn'],
      ['postfix', '1', '', '', true, false, '1'],
      ['postfix', '1-', '', '', true, false, ''],
      ['postfix', '1-x', '', '', true, false, ''],
      ['postfix', 'abc', '', '', true, false, ''],
      ['postfix', 'efg', '', '', true, false, '1-abcdefg,2-abcdefg'],
      ['postfix', 'ijk', '', '', true, false, '3-efghijk'],
      ['postfix', 'lmn', '', '', true, false, '4-hijklmn,5-hijklmn'],
      ['postfix', '5-hijklmn', '', '', true, false, '5-hijklmn'],
      ['anywhere', '', '', '', true, false, ALL],
      ['prefix', '', '', '', true, false, ALL],
      ['postfix', '', '', '', true, false, ALL],
    ];
    for (const reverse of [false, true]) {
      for (const [type, pattern, start, stop, startInclusive, stopInclusive, expected] of cases) {
        const what = `${type}(${pattern}) in ${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} reverse=${reverse}`;
        assert.is(h.rangeKeys(HK, start, stop, { filter: [type, pattern], startInclusive, stopInclusive, reverse }), expected, what);
      }
    }
  });

  test('multiGet: maxCount stops the read with complete:false, keeping the first rows, or the last ones in reverse', () => {
    h.multiSet(HK, KVS);
    let result = h.multiGetRange(HK, '', '', { maxCount: 4, maxBytes: -1 });
    assert.is(result.complete, false);
    assert.equal(result.entries, [['', '0'], ['1', '1'], ['1-abcdefg', '1-abcdefg'], ['2', '2']]);
    result = h.multiGetRange(HK, '5', '6', { startInclusive: true, stopInclusive: true, maxCount: 1, maxBytes: -1 });
    assert.is(result.complete, false);
    assert.equal(result.entries, [['5', '5']]);
    result = h.multiGetRange(HK, '', '', { maxCount: 4, reverse: true });
    assert.is(result.complete, false);
    assert.equal(result.entries.map(([k]) => k), ['5', '5-hijklmn', '6', '7'], 'reverse keeps the last rows, still ascending');
    result = h.multiGetRange(HK, '5', '6', { startInclusive: true, stopInclusive: true, maxCount: 1, reverse: true });
    assert.equal(result.entries.map(([k]) => k), ['6']);
    assert.is(result.complete, false);
    // A limit reached exactly at the end of the range leaves nothing behind: complete.
    result = h.multiGetRange(HK, '', '', { maxCount: 13 });
    assert.is(result.complete, true);
    assert.is(result.entries.length, 13);
    result = h.multiGetRange(HK, '5', '6', { startInclusive: true, stopInclusive: true, maxCount: 3 });
    assert.is(result.complete, true);
  });

  test('multiGet: an expired row is invisible, and a count limit skips past it (Pegasus basic.multi_get)', () => {
    h.multiSet(HK, KVS);
    h.set(HK, '', 'expire_value', 1);
    h.clock.advance(1000);
    const result = h.multiGetRange(HK, '', '', { maxCount: 2 });
    assert.is(result.complete, false);
    assert.equal(result.entries, [['1', '1'], ['1-abcdefg', '1-abcdefg']]);
    assert.is(h.sortKeyCount(HK), 12);
    assert.is(h.multiDel(HK, SORT_KEYS), 13);
    assert.is(h.sortKeyCount(HK), 0);
  });

  test('multiGet: maxBytes counts sort key and value bytes; the row that crosses it is still returned', () => {
    h.multiSet(HK, KVS);
    // '' + '0' = 1 byte, '1' + '1' = 2, '1-abcdefg' x2 = 18.
    assert.equal(h.multiGetRange(HK, '', '', { maxBytes: 1 }).entries.map(([k]) => k), ['']);
    assert.equal(h.multiGetRange(HK, '', '', { maxBytes: 2 }).entries.map(([k]) => k), ['', '1']);
    assert.equal(h.multiGetRange(HK, '', '', { maxBytes: 3 }).entries.map(([k]) => k), ['', '1']);
    assert.equal(h.multiGetRange(HK, '', '', { maxBytes: 4 }).entries.map(([k]) => k), ['', '1', '1-abcdefg']);
    assert.is(h.multiGetRange(HK, '', '', { maxBytes: 4 }).complete, false);
    // With noValue only the sort keys count.
    assert.equal(h.multiGetRange(HK, '', '', { maxBytes: 2, noValue: true }).entries, [['', ''], ['1', ''], ['1-abcdefg', '']]);
    assert.is(h.multiGetRange(HK, '', '', { maxBytes: 0 }).entries.length, 13, 'maxBytes ≤ 0: no limit');
    assert.is(h.multiGetRange(HK, '', '', { maxCount: 0 }).entries.length, 13, 'maxCount ≤ 0: no limit');
    assert.is(h.multiGetRange(HK, '', '', { maxCount: -1 }).complete, true);
  });

  test('multiGet by sort keys: ascending, each once, absent and expired skipped, limits from the smallest', () => {
    h.multiSet(HK, KVS);
    h.set(HK, '6', 'six', 1);
    h.clock.advance(1000);
    let result = h.multiGet(HK, ['3', '1', 'missing', '6', '1', '']);
    assert.is(result.complete, true);
    assert.equal(result.entries, [['', '0'], ['1', '1'], ['3', '3']]);
    result = h.multiGet(HK, ['3', '1', '2', '4'], { maxCount: 2 });
    assert.is(result.complete, false);
    assert.equal(result.entries.map(([k]) => k), ['1', '2']);
    result = h.multiGet(HK, ['3', '1', 'zz'], { maxCount: 2 });
    assert.is(result.complete, true, 'the limit stopped nothing: no third key exists');
    result = h.multiGet(HK, ['1', '2-abcdefg', '3'], { maxBytes: 3 });
    assert.equal(result.entries.map(([k]) => k), ['1', '2-abcdefg']);
    assert.is(result.complete, false);
    assert.equal(h.multiGet(HK, ['2'], { noValue: true }).entries, [['2', '']]);
  });

  test('multiGetSortKeys: every sort key without values, with its limits', () => {
    h.multiSet(HK, KVS);
    const all = h.app.multiGetSortKeys(Buffer.from(HK));
    assert.is(all.complete, true);
    assert.equal(all.sortKeys.map(String), SORT_KEYS);
    const some = h.app.multiGetSortKeys(Buffer.from(HK), { maxCount: 3 });
    assert.is(some.complete, false);
    assert.equal(some.sortKeys.map(String), SORT_KEYS.slice(0, 3));
  });

  test('multiGet: every bound combination, filter and direction agrees with a brute-force reference', () => {
    h.multiSet(HK, KVS);
    // Other hash keys around it must never leak in.
    h.multiSet('basic_test_multi_gea', { x: 'x' });
    h.multiSet('basic_test_multi_geu', { '': 'y', '1': 'y' });
    h.multiSet('basic_test_multi_get_', { '1': 'z' });
    const bounds = ['', '0', '1', '1-', '1-abcdefg', '2', '3-efghijk', '4-z', '5-hijklmn', '7', '8'];
    const filters: [FilterType, string][] = [
      ['none', ''],
      ['anywhere', '-'],
      ['anywhere', '1'],
      ['anywhere', 'ijk'],
      ['prefix', '1'],
      ['prefix', '1-'],
      ['prefix', '5-hijklmn'],
      ['prefix', '8'],
      ['prefix', ''],
      ['postfix', 'g'],
      ['postfix', 'lmn'],
      ['postfix', '7'],
    ];
    let checked = 0;
    for (const start of bounds) {
      for (const stop of bounds) {
        for (const startInclusive of [true, false]) {
          for (const stopInclusive of [true, false]) {
            for (const filter of filters) {
              for (const reverse of [false, true]) {
                const options: RangeOptions = { startInclusive, stopInclusive, filter, reverse };
                const result = h.multiGetRange(HK, start, stop, options);
                const expected = reference(start, stop, options);
                const what = `${startInclusive ? '[' : '('}${start}, ${stop}${stopInclusive ? ']' : ')'} ${filter[0]}(${filter[1]}) reverse=${reverse}`;
                assert.equal(result.entries.map(([k]) => k), expected, what);
                assert.is(result.complete, true, what);
                checked++;
              }
            }
          }
        }
      }
    }
    assert.is(checked, bounds.length * bounds.length * 4 * filters.length * 2);
  });

  test('multiGet: every maxCount, forward and reverse, returns the first or last rows and says whether any remain', () => {
    h.multiSet(HK, KVS);
    for (let maxCount = 1; maxCount <= 14; maxCount++) {
      for (const reverse of [false, true]) {
        const result = h.multiGetRange(HK, '', '', { maxCount, reverse });
        const expected = reverse ? SORT_KEYS.slice(Math.max(0, 13 - maxCount)) : SORT_KEYS.slice(0, maxCount);
        assert.equal(result.entries.map(([k]) => k), expected, `maxCount ${maxCount} reverse=${reverse}`);
        assert.is(result.complete, maxCount >= 13, `maxCount ${maxCount} reverse=${reverse}`);
      }
    }
  });

  test.run();
}
