/**
 * Conformance, part 2: the read-modify-write operations, after Pegasus's function tests
 * (test_check_and_set.cpp, test_check_and_mutate.cpp, test_incr.cpp): every check type of
 * checkAndSet and checkAndMutate against absent, expired, empty, textual and numeric values,
 * invalid int operands and values, an unknown check type; returned check values; setting another
 * sort key; mutations applied in order and atomically; TTLs counted from the call; incr with
 * overflow, underflow, invalid values and every TTL rule.
 */
import type { CheckType } from '@petrel/protocol';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { type EngineFactory, Harness, codeOf } from './harness.js';

type Stored = null | 'expired' | string;
type Expect = 'pass' | 'fail' | 'invalid';

/** [check type, the value at the check key, operand, outcome]. */
const CHECK_CASES: [CheckType, Stored, string, Expect][] = [
  ['noCheck', null, '', 'pass'],
  ['noCheck', 'v1', 'whatever', 'pass'],
  ['notExist', null, '', 'pass'],
  ['notExist', 'expired', '', 'pass'],
  ['notExist', '', '', 'fail'],
  ['notExist', 'v1', '', 'fail'],
  ['notExistOrEmpty', null, '', 'pass'],
  ['notExistOrEmpty', 'expired', '', 'pass'],
  ['notExistOrEmpty', '', '', 'pass'],
  ['notExistOrEmpty', 'v1', '', 'fail'],
  ['exist', null, '', 'fail'],
  ['exist', 'expired', '', 'fail'],
  ['exist', '', '', 'pass'],
  ['exist', 'v1', '', 'pass'],
  ['notEmpty', null, '', 'fail'],
  ['notEmpty', '', '', 'fail'],
  ['notEmpty', 'v1', '', 'pass'],
  ['matchAnywhere', null, 'v', 'fail'],
  ['matchAnywhere', null, '', 'fail'],
  ['matchAnywhere', 'expired', '', 'fail'],
  ['matchAnywhere', '', 'v', 'fail'],
  ['matchAnywhere', '', '', 'pass'],
  ['matchAnywhere', 'v1', '', 'pass'],
  ['matchAnywhere', 'v111v', '11', 'pass'],
  ['matchAnywhere', 'v111v', '111', 'pass'],
  ['matchAnywhere', 'v111v', 'y', 'fail'],
  ['matchAnywhere', 'v1', 'v111v', 'fail'],
  ['matchPrefix', '', '', 'pass'],
  ['matchPrefix', 'v1', 'v', 'pass'],
  ['matchPrefix', 'v1', 'v1', 'pass'],
  ['matchPrefix', 'v1', '1', 'fail'],
  ['matchPrefix', 'v1', 'v11', 'fail'],
  ['matchPrefix', null, '', 'fail'],
  ['matchPostfix', '', '', 'pass'],
  ['matchPostfix', 'v1', '1', 'pass'],
  ['matchPostfix', 'v1', 'v1', 'pass'],
  ['matchPostfix', 'v1', 'v', 'fail'],
  ['matchPostfix', 'v1', 'xv1', 'fail'],
  ['matchPostfix', 'expired', '', 'fail'],
  ['bytesLess', null, '', 'fail'],
  ['bytesLess', 'expired', 'z', 'fail'],
  ['bytesLess', '', '', 'fail'],
  ['bytesLess', '', 'v1', 'pass'],
  ['bytesLess', 'v1', 'v2', 'pass'],
  ['bytesLess', 'v1', 'v1', 'fail'],
  ['bytesLess', 'v2', 'v1', 'fail'],
  ['bytesLessOrEqual', 'v1', 'v1', 'pass'],
  ['bytesLessOrEqual', 'v1', 'v2', 'pass'],
  ['bytesLessOrEqual', 'v2', 'v1', 'fail'],
  ['bytesLessOrEqual', null, 'v1', 'fail'],
  ['bytesEqual', '', '', 'pass'],
  ['bytesEqual', 'v1', 'v1', 'pass'],
  ['bytesEqual', 'v1', 'v2', 'fail'],
  ['bytesEqual', null, '', 'fail'],
  ['bytesGreaterOrEqual', 'v1', 'v1', 'pass'],
  ['bytesGreaterOrEqual', 'v2', 'v1', 'pass'],
  ['bytesGreaterOrEqual', 'v1', 'v2', 'fail'],
  ['bytesGreater', 'v2', 'v1', 'pass'],
  ['bytesGreater', 'v1', 'v1', 'fail'],
  ['bytesGreater', 'v1', '', 'pass'],
  ['bytesGreater', null, '', 'fail'],
  ['intLess', null, '1', 'fail'],
  ['intLess', null, 'abc', 'fail'],
  ['intLess', 'expired', '1', 'fail'],
  ['intLess', '', '1', 'invalid'],
  ['intLess', 'abc', '1', 'invalid'],
  ['intLess', '1', '', 'invalid'],
  ['intLess', '1', 'abc', 'invalid'],
  ['intLess', '1', ' 2', 'invalid'],
  ['intLess', '0x10', '20', 'invalid'],
  ['intLess', '9223372036854775808', '1', 'invalid'],
  ['intLess', '1', '2', 'pass'],
  ['intLess', '-1', '0', 'pass'],
  ['intLess', '2', '1', 'fail'],
  ['intLess', '1', '1', 'fail'],
  ['intLess', '-9223372036854775808', '9223372036854775807', 'pass'],
  ['intLessOrEqual', '1', '1', 'pass'],
  ['intLessOrEqual', '+1', '01', 'pass'],
  ['intLessOrEqual', '2', '1', 'fail'],
  ['intEqual', '-0', '0', 'pass'],
  ['intEqual', '007', '7', 'pass'],
  ['intEqual', '7', '8', 'fail'],
  ['intEqual', '7', '-', 'invalid'],
  ['intGreaterOrEqual', '1', '1', 'pass'],
  ['intGreaterOrEqual', '10', '9', 'pass'],
  ['intGreaterOrEqual', '9', '10', 'fail'],
  ['intGreater', '10', '9', 'pass'],
  ['intGreater', '9', '9', 'fail'],
  ['intGreater', '9', 'x', 'invalid'],
];

export function atomicSuite(engineName: string, factory: EngineFactory): void {
  const test = suite(`conformance/atomic [${engineName}]`);
  let h: Harness;
  test.before.each(async () => {
    h = await Harness.open(factory);
  });
  test.after.each(async () => {
    await h.close();
  });

  function prepare(stored: Stored): void {
    h.del('cas', 'k');
    h.del('cas', 'target');
    if (stored === 'expired') {
      h.set('cas', 'k', '5', 1);
      h.clock.advance(1000);
    } else if (stored !== null) h.set('cas', 'k', stored);
  }

  test('checkAndSet: every check type against absent, expired, empty, text and int values', () => {
    for (const [checkType, stored, operand, expect] of CHECK_CASES) {
      prepare(stored);
      const what = `${checkType}(${JSON.stringify(operand)}) on ${JSON.stringify(stored)}`;
      const result = h.checkAndSet('cas', 'k', checkType, operand, 'target', 'new', { returnCheckValue: true });
      assert.is(result.succeeded, expect === 'pass', what);
      assert.is(result.error?.code ?? null, expect === 'invalid' ? 'INVALID_ARGUMENT' : null, what);
      assert.is(h.get('cas', 'target'), expect === 'pass' ? 'new' : null, what);
      // The check value is returned even when the int parse failed.
      const live = stored !== null && stored !== 'expired';
      assert.is(result.checkValueReturned, true, what);
      assert.is(result.checkValueExists, live, what);
      assert.is(result.checkValue?.toString() ?? null, live ? stored : null, what);
    }
  });

  test('checkAndMutate: every check type, the same outcomes', () => {
    for (const [checkType, stored, operand, expect] of CHECK_CASES) {
      prepare(stored);
      const what = `${checkType}(${JSON.stringify(operand)}) on ${JSON.stringify(stored)}`;
      const result = h.checkAndMutate('cas', 'k', checkType, operand, [{ op: 'set', sortKey: 'target', value: 'new' }], { returnCheckValue: true });
      assert.is(result.succeeded, expect === 'pass', what);
      assert.is(result.error?.code ?? null, expect === 'invalid' ? 'INVALID_ARGUMENT' : null, what);
      assert.is(h.get('cas', 'target'), expect === 'pass' ? 'new' : null, what);
      assert.is(result.checkValueExists, stored !== null && stored !== 'expired', what);
    }
  });

  test('checkAndSet: the scenarios of Pegasus check_and_set.value_not_exist and value_exist', () => {
    let r = h.checkAndSet('h', 'k1', 'notExist', '', 'k1', 'v1', { returnCheckValue: true });
    assert.ok(r.succeeded && r.checkValueReturned && !r.checkValueExists);
    assert.is(h.get('h', 'k1'), 'v1');
    r = h.checkAndSet('h', 'k1', 'notExist', '', 'k1', 'v2', { returnCheckValue: true });
    assert.ok(!r.succeeded && r.checkValueReturned && r.checkValueExists);
    assert.is(r.checkValue?.toString(), 'v1');
    assert.is(h.get('h', 'k1'), 'v1');
    r = h.checkAndSet('h', 'k1', 'notExist', '', 'k1', 'v1');
    assert.ok(!r.succeeded && !r.checkValueReturned && !r.checkValueExists);
    assert.is(r.checkValue, null, 'not asked: not returned');
    r = h.checkAndSet('h', 'k2', 'notExist', '', 'k2', '', { returnCheckValue: true });
    assert.ok(r.succeeded);
    assert.is(h.get('h', 'k2'), '', 'an empty value is set');
    r = h.checkAndSet('h', 'k2', 'notExist', '', 'k2', 'v2', { returnCheckValue: true });
    assert.ok(!r.succeeded && r.checkValueExists);
    assert.is(r.checkValue?.toString(), '');
    r = h.checkAndSet('h', 'k3', 'notExist', '', 'k4', 'v4', { returnCheckValue: true });
    assert.ok(r.succeeded && !r.checkValueExists);
    assert.is(h.get('h', 'k4'), 'v4', 'the set key may differ from the check key');
    assert.is(h.get('h', 'k3'), null);
    h.set('h', 'k5', 'v5');
    r = h.checkAndSet('h', 'k5', 'exist', '', 'k5', 'v6', { returnCheckValue: true });
    assert.ok(r.succeeded);
    assert.is(r.checkValue?.toString(), 'v5', 'the value before the set');
    assert.is(h.get('h', 'k5'), 'v6');
  });

  test('checkAndSet: the set value takes its TTL, counted from the call', () => {
    h.clock.advance(10_000);
    const r = h.checkAndSet('h', 'k', 'notExist', '', 'k', 'v', { ttlSeconds: 10 });
    assert.ok(r.succeeded);
    assert.is(h.ttl('h', 'k'), 10);
    h.clock.advance(10_000);
    assert.is(h.get('h', 'k'), null);
    assert.is(codeOf(() => h.checkAndSet('h', 'k', 'noCheck', '', 'k', 'v', { ttlSeconds: -1 })), 'INVALID_ARGUMENT');
  });

  test('an unknown check type is INVALID_ARGUMENT and writes nothing', () => {
    assert.is(codeOf(() => h.checkAndSet('h', 'k', 'valueIsPrime' as CheckType, '', 'k', 'v')), 'INVALID_ARGUMENT');
    assert.is(codeOf(() => h.checkAndMutate('h', 'k', 'valueIsPrime' as CheckType, '', [{ op: 'set', sortKey: 'k', value: 'v' }])), 'INVALID_ARGUMENT');
    assert.is(h.get('h', 'k'), null);
    // Even a mutation that bypassed the primary's checks is answered with an error, not applied.
    const responses = h.app.apply(h.app.lastAppliedDecree + 1, {
      nowSeconds: 1,
      defaultTtlSeconds: 0,
      writes: [
        { type: 'checkAndSet', hashKey: Buffer.from('h'), checkSortKey: Buffer.from('k'), checkType: 'valueIsPrime' as CheckType, checkOperand: Buffer.alloc(0), setSortKey: Buffer.from('k'), setValue: Buffer.from('v'), expireTs: 0, returnCheckValue: true },
        { type: 'set', hashKey: Buffer.from('h'), sortKey: Buffer.from('other'), value: Buffer.from('x'), expireTs: 0 },
      ],
    });
    assert.is(responses[0]?.type, 'checkAndSet');
    const first = responses[0]?.response as { error: { code: string } | null; succeeded: boolean; checkValueReturned: boolean };
    assert.is(first.error?.code, 'INVALID_ARGUMENT');
    assert.is(first.succeeded, false);
    assert.is(first.checkValueReturned, false);
    assert.is(h.get('h', 'k'), null);
    assert.is(h.get('h', 'other'), 'x', 'the other writes of the mutation still apply');
  });

  test('checkAndMutate: no mutations is INVALID_ARGUMENT; an unknown operation too', () => {
    assert.is(codeOf(() => h.checkAndMutate('h', 'k', 'noCheck', '', [])), 'INVALID_ARGUMENT');
    assert.is(codeOf(() => h.checkAndMutate('h', 'k', 'noCheck', '', [{ op: 'put' as 'set', sortKey: 'a', value: 'b' }])), 'INVALID_ARGUMENT');
    assert.is(codeOf(() => h.checkAndMutate('h', 'k', 'noCheck', '', [{ op: 'set', sortKey: 'a', value: 'b', ttlSeconds: -2 }])), 'INVALID_ARGUMENT');
  });

  test('checkAndMutate: mutations apply in order, atomically: set then del leaves the key absent', () => {
    h.multiSet('h', { a: '1', b: '2' });
    let r = h.checkAndMutate('h', 'a', 'bytesEqual', '1', [
      { op: 'set', sortKey: 'c', value: '3' },
      { op: 'del', sortKey: 'c' },
      { op: 'del', sortKey: 'b' },
      { op: 'set', sortKey: 'b', value: 'two' },
      { op: 'set', sortKey: 'a', value: 'one' },
    ]);
    assert.ok(r.succeeded);
    assert.is(h.get('h', 'c'), null);
    assert.is(h.get('h', 'b'), 'two');
    assert.is(h.get('h', 'a'), 'one');
    r = h.checkAndMutate('h', 'a', 'bytesEqual', '1', [{ op: 'del', sortKey: 'a' }], { returnCheckValue: true });
    assert.ok(!r.succeeded);
    assert.is(r.checkValue?.toString(), 'one');
    assert.is(h.get('h', 'a'), 'one', 'a failed check changes nothing');
  });

  test('checkAndMutate: each set has its own TTL, counted from the call', () => {
    h.clock.advance(123_000);
    const r = h.checkAndMutate('h', 'x', 'notExist', '', [
      { op: 'set', sortKey: 'short', value: 's', ttlSeconds: 5 },
      { op: 'set', sortKey: 'long', value: 'l', ttlSeconds: 50 },
      { op: 'set', sortKey: 'forever', value: 'f' },
    ]);
    assert.ok(r.succeeded);
    assert.is(h.ttl('h', 'short'), 5);
    assert.is(h.ttl('h', 'long'), 50);
    assert.is(h.ttl('h', 'forever'), -1);
    h.clock.advance(5000);
    assert.is(h.get('h', 'short'), null);
    assert.is(h.get('h', 'long'), 'l');
  });

  test('incr: absent, expired or empty counts as 0; the result is stored as a decimal string', () => {
    assert.is(h.incr('h', 'n', 1), 1n);
    assert.is(h.get('h', 'n'), '1');
    assert.is(h.incr('h', 'n', 100), 101n);
    assert.is(h.incr('h', 'n', -200), -99n);
    assert.is(h.get('h', 'n'), '-99');
    assert.is(h.incr('h', 'n', 0), -99n);
    h.set('h', 'e', '');
    assert.is(h.incr('h', 'e', 7), 7n);
    h.set('h', 'x', '5', 1);
    h.clock.advance(1000);
    assert.is(h.incr('h', 'x', 2), 2n, 'an expired value counts as 0');
    h.set('h', 'signed', '+12');
    assert.is(h.incr('h', 'signed', 1), 13n);
  });

  test('incr: a value that is not a decimal int64 is INVALID_ARGUMENT and stays unchanged', () => {
    for (const bad of ['abc', '1.5', ' 1', '1 ', '0x10', '9223372036854775808', '-9223372036854775809', '+', '-']) {
      h.set('h', 'bad', bad);
      const response = h.incrResponse('h', 'bad', 1);
      assert.is(response.error?.code, 'INVALID_ARGUMENT', bad);
      assert.is(h.get('h', 'bad'), bad, bad);
    }
    assert.is(codeOf(() => h.incr('h', 'n', 1n << 63n)), 'INVALID_ARGUMENT', 'an increment beyond int64');
  });

  test('incr: overflow and underflow are INVALID_ARGUMENT, the value unchanged and reported', () => {
    h.set('h', 'max', '9223372036854775807');
    let response = h.incrResponse('h', 'max', 1);
    assert.is(response.error?.code, 'INVALID_ARGUMENT');
    assert.is(response.newValue, 9223372036854775807n);
    assert.is(h.get('h', 'max'), '9223372036854775807');
    assert.is(h.incr('h', 'max', -1), 9223372036854775806n);
    h.set('h', 'min', '-9223372036854775808');
    response = h.incrResponse('h', 'min', -1);
    assert.is(response.error?.code, 'INVALID_ARGUMENT');
    assert.is(h.get('h', 'min'), '-9223372036854775808');
    assert.is(h.incr('h', 'zero', -9223372036854775808n), -9223372036854775808n);
    assert.is(h.incr('h', 'zero', 9223372036854775807n), -1n);
  });

  test('incr: ttlSeconds 0 keeps the TTL, > 0 sets one, -1 removes it, < -1 is INVALID_ARGUMENT', () => {
    h.set('h', 'n', '1', 100);
    assert.is(h.incr('h', 'n', 1), 2n);
    assert.is(h.ttl('h', 'n'), 100, '0 keeps the existing TTL');
    h.clock.advance(10_000);
    assert.is(h.incr('h', 'n', 1, 0), 3n);
    assert.is(h.ttl('h', 'n'), 90);
    assert.is(h.incr('h', 'n', 1, 500), 4n);
    assert.is(h.ttl('h', 'n'), 500, '> 0 sets a new TTL');
    assert.is(h.incr('h', 'n', 1, -1), 5n);
    assert.is(h.ttl('h', 'n'), -1, '-1 removes it');
    assert.is(codeOf(() => h.incr('h', 'n', 1, -2)), 'INVALID_ARGUMENT');
    assert.is(h.get('h', 'n'), '5');
    // Absent: only a positive TTL applies.
    assert.is(h.incr('h', 'fresh', 1, -1), 1n);
    assert.is(h.ttl('h', 'fresh'), -1);
    assert.is(h.incr('h', 'fresh2', 1, 30), 1n);
    assert.is(h.ttl('h', 'fresh2'), 30);
    // Expired: counts as 0 and does not keep its old TTL.
    h.set('h', 'old', '9', 5);
    h.clock.advance(5000);
    assert.is(h.incr('h', 'old', 1), 1n);
    assert.is(h.ttl('h', 'old'), -1);
  });

  test('writes of one mutation see each other, and each gets its own response', () => {
    const responses = h.applyAll([
      { type: 'incr', request: { hashKey: Buffer.from('h'), sortKey: Buffer.from('n'), increment: 5n, ttlSeconds: 0 } },
      { type: 'incr', request: { hashKey: Buffer.from('h'), sortKey: Buffer.from('n'), increment: 6n, ttlSeconds: 0 } },
      { type: 'set', request: { hashKey: Buffer.from('h'), sortKey: Buffer.from('t'), value: Buffer.from('abc'), ttlSeconds: 0 } },
      { type: 'incr', request: { hashKey: Buffer.from('h'), sortKey: Buffer.from('t'), increment: 1n, ttlSeconds: 0 } },
      { type: 'checkAndSet', request: { hashKey: Buffer.from('h'), checkSortKey: Buffer.from('n'), checkType: 'intEqual', checkOperand: Buffer.from('11'), setSortKey: Buffer.from('ok'), setValue: Buffer.from('yes'), ttlSeconds: 0, returnCheckValue: true } },
      { type: 'del', request: { hashKey: Buffer.from('h'), sortKey: Buffer.from('n') } },
      { type: 'checkAndSet', request: { hashKey: Buffer.from('h'), checkSortKey: Buffer.from('n'), checkType: 'exist', checkOperand: Buffer.alloc(0), setSortKey: Buffer.from('bad'), setValue: Buffer.from('no'), ttlSeconds: 0, returnCheckValue: false } },
    ]);
    assert.equal(
      responses.map((r) => r.type),
      ['incr', 'incr', 'set', 'incr', 'checkAndSet', 'del', 'checkAndSet'],
    );
    assert.is((responses[0]?.response as { newValue: bigint }).newValue, 5n);
    assert.is((responses[1]?.response as { newValue: bigint }).newValue, 11n);
    assert.is((responses[3]?.response as { error: { code: string } | null }).error?.code, 'INVALID_ARGUMENT');
    assert.is((responses[4]?.response as { succeeded: boolean }).succeeded, true);
    assert.is((responses[6]?.response as { succeeded: boolean }).succeeded, false);
    assert.is(h.get('h', 'ok'), 'yes');
    assert.is(h.get('h', 'bad'), null);
    assert.is(h.get('h', 'n'), null);
    assert.is(h.get('h', 't'), 'abc');
  });

  test.run();
}
