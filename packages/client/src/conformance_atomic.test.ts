/**
 * Conformance through the network client, part 2: the read-modify-write operations of the
 * storage app's atomic suite (after Pegasus's test_check_and_set.cpp, test_check_and_mutate.cpp,
 * test_incr.cpp) over WebSockets: every check type against absent, expired, empty, text and int
 * values; returned check values; ordered atomic mutations; TTLs counted from the call; incr with
 * overflow, invalid values and every TTL rule; compareExchange.
 */
import { ManualClock, type PetrelError } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { codeOf, text, withRig } from './test_support.js';
import type { CheckResult, CheckType, Table } from './types.js';

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

/** Runs a check-and-* call; an INVALID_ARGUMENT from an int check carries the check result. */
async function outcome(call: Promise<CheckResult>): Promise<{ result: CheckResult; error: string | null }> {
  try {
    return { result: await call, error: null };
  } catch (error) {
    const failure = error as PetrelError & { checkResult?: CheckResult };
    if (failure.checkResult === undefined) throw error;
    return { result: failure.checkResult, error: failure.code };
  }
}

async function prepare(table: Table, clock: ManualClock, stored: Stored): Promise<void> {
  await table.del('cas', 'k');
  await table.del('cas', 'target');
  if (stored === 'expired') {
    await table.set('cas', 'k', '5', { ttlSeconds: 1 });
    clock.advance(1000);
  } else if (stored !== null) await table.set('cas', 'k', stored);
}

function rig(body: (table: Table, clock: ManualClock) => Promise<void>): () => Promise<void> {
  const clock = new ManualClock({ wallMs: Math.floor(Date.now() / 1000) * 1000 });
  return () => withRig(({ table }) => body(table, clock), { cluster: { clock } });
}

test(
  'checkAndSet: every check type against absent, expired, empty, text and int values',
  rig(async (table, clock) => {
    for (const [checkType, stored, operand, expect] of CHECK_CASES) {
      await prepare(table, clock, stored);
      const what = `${checkType}(${JSON.stringify(operand)}) on ${JSON.stringify(stored)}`;
      const { result, error } = await outcome(table.checkAndSet('cas', 'k', checkType, operand, 'target', 'new', { returnCheckValue: true }));
      assert.is(result.succeeded, expect === 'pass', what);
      assert.is(error, expect === 'invalid' ? 'INVALID_ARGUMENT' : null, what);
      assert.is(text(await table.get('cas', 'target')), expect === 'pass' ? 'new' : null, what);
      const live = stored !== null && stored !== 'expired';
      assert.is(result.checkValueReturned, true, what);
      assert.is(result.checkValueExists, live, what);
      assert.is(text(result.checkValue), live ? stored : null, what);
    }
  }),
);

test(
  'checkAndMutate: every check type, the same outcomes',
  rig(async (table, clock) => {
    for (const [checkType, stored, operand, expect] of CHECK_CASES) {
      await prepare(table, clock, stored);
      const what = `${checkType}(${JSON.stringify(operand)}) on ${JSON.stringify(stored)}`;
      const { result, error } = await outcome(table.checkAndMutate('cas', 'k', checkType, operand, [{ op: 'set', sortKey: 'target', value: 'new' }], { returnCheckValue: true }));
      assert.is(result.succeeded, expect === 'pass', what);
      assert.is(error, expect === 'invalid' ? 'INVALID_ARGUMENT' : null, what);
      assert.is(text(await table.get('cas', 'target')), expect === 'pass' ? 'new' : null, what);
      assert.is(result.checkValueExists, stored !== null && stored !== 'expired', what);
    }
  }),
);

test(
  'checkAndSet: the scenarios of Pegasus check_and_set.value_not_exist and value_exist',
  rig(async (table) => {
    let r = await table.checkAndSet('h', 'k1', 'notExist', '', 'k1', 'v1', { returnCheckValue: true });
    assert.ok(r.succeeded && r.checkValueReturned && !r.checkValueExists);
    assert.is(text(await table.get('h', 'k1')), 'v1');
    r = await table.checkAndSet('h', 'k1', 'notExist', '', 'k1', 'v2', { returnCheckValue: true });
    assert.ok(!r.succeeded && r.checkValueReturned && r.checkValueExists);
    assert.is(text(r.checkValue), 'v1');
    r = await table.checkAndSet('h', 'k1', 'notExist', '', 'k1', 'v1');
    assert.ok(!r.succeeded && !r.checkValueReturned && !r.checkValueExists);
    assert.is(r.checkValue, null, 'not asked: not returned');
    r = await table.checkAndSet('h', 'k2', 'notExist', '', 'k2', '', { returnCheckValue: true });
    assert.ok(r.succeeded);
    assert.is(text(await table.get('h', 'k2')), '', 'an empty value is set');
    r = await table.checkAndSet('h', 'k3', 'notExist', '', 'k4', 'v4', { returnCheckValue: true });
    assert.ok(r.succeeded && !r.checkValueExists);
    assert.is(text(await table.get('h', 'k4')), 'v4', 'the set key may differ from the check key');
    await table.set('h', 'k5', 'v5');
    r = await table.checkAndSet('h', 'k5', 'exist', '', 'k5', 'v6', { returnCheckValue: true });
    assert.ok(r.succeeded);
    assert.is(text(r.checkValue), 'v5', 'the value before the set');
    assert.is(text(await table.get('h', 'k5')), 'v6');
  }),
);

test(
  'checkAndSet: the set value takes its TTL, counted from the call',
  rig(async (table, clock) => {
    clock.advance(10_000);
    const r = await table.checkAndSet('h', 'k', 'notExist', '', 'k', 'v', { ttlSeconds: 10 });
    assert.ok(r.succeeded);
    assert.is(await table.ttl('h', 'k'), 10);
    clock.advance(10_000);
    assert.is(await table.get('h', 'k'), null);
    assert.is(await codeOf(table.checkAndSet('h', 'k', 'noCheck', '', 'k', 'v', { ttlSeconds: -1 })), 'INVALID_ARGUMENT');
  }),
);

test(
  'an unknown check type and checkAndMutate without mutations or with an unknown operation are INVALID_ARGUMENT',
  rig(async (table) => {
    assert.is(await codeOf(table.checkAndSet('h', 'k', 'valueIsPrime' as CheckType, '', 'k', 'v')), 'INVALID_ARGUMENT');
    assert.is(await codeOf(table.checkAndMutate('h', 'k', 'valueIsPrime' as CheckType, '', [{ op: 'set', sortKey: 'k', value: 'v' }])), 'INVALID_ARGUMENT');
    assert.is(await codeOf(table.checkAndMutate('h', 'k', 'noCheck', '', [])), 'INVALID_ARGUMENT');
    assert.is(await codeOf(table.checkAndMutate('h', 'k', 'noCheck', '', [{ op: 'put' as 'set', sortKey: 'a', value: 'b' }])), 'INVALID_ARGUMENT');
    assert.is(await codeOf(table.checkAndMutate('h', 'k', 'noCheck', '', [{ op: 'set', sortKey: 'a', value: 'b', ttlSeconds: -2 }])), 'INVALID_ARGUMENT');
    assert.is(await table.get('h', 'k'), null);
  }),
);

test(
  'checkAndMutate: mutations apply in order, atomically: set then del leaves the key absent',
  rig(async (table) => {
    await table.multiSet('h', { a: '1', b: '2' });
    let r = await table.checkAndMutate('h', 'a', 'bytesEqual', '1', [
      { op: 'set', sortKey: 'c', value: '3' },
      { op: 'del', sortKey: 'c' },
      { op: 'del', sortKey: 'b' },
      { op: 'set', sortKey: 'b', value: 'two' },
      { op: 'set', sortKey: 'a', value: 'one' },
    ]);
    assert.ok(r.succeeded);
    assert.is(await table.get('h', 'c'), null);
    assert.is(text(await table.get('h', 'b')), 'two');
    assert.is(text(await table.get('h', 'a')), 'one');
    r = await table.checkAndMutate('h', 'a', 'bytesEqual', '1', [{ op: 'del', sortKey: 'a' }], { returnCheckValue: true });
    assert.ok(!r.succeeded);
    assert.is(text(r.checkValue), 'one');
    assert.is(text(await table.get('h', 'a')), 'one', 'a failed check changes nothing');
  }),
);

test(
  'checkAndMutate: each set has its own TTL, counted from the call',
  rig(async (table, clock) => {
    clock.advance(123_000);
    const r = await table.checkAndMutate('h', 'x', 'notExist', '', [
      { op: 'set', sortKey: 'short', value: 's', ttlSeconds: 5 },
      { op: 'set', sortKey: 'long', value: 'l', ttlSeconds: 50 },
      { op: 'set', sortKey: 'forever', value: 'f' },
    ]);
    assert.ok(r.succeeded);
    assert.is(await table.ttl('h', 'short'), 5);
    assert.is(await table.ttl('h', 'long'), 50);
    assert.is(await table.ttl('h', 'forever'), -1);
    clock.advance(5000);
    assert.is(await table.get('h', 'short'), null);
    assert.is(text(await table.get('h', 'long')), 'l');
  }),
);

test(
  'compareExchange: succeeds on the expected value (actualValue null), else returns the current value, null when absent',
  rig(async (table) => {
    let r = await table.compareExchange('h', 'k', 'old', 'new');
    assert.equal(r, { succeeded: false, actualValue: null }, 'absent');
    assert.is(await table.get('h', 'k'), null);
    await table.set('h', 'k', 'old');
    r = await table.compareExchange('h', 'k', 'old', 'new', { ttlSeconds: 30 });
    assert.equal(r, { succeeded: true, actualValue: null });
    assert.is(text(await table.get('h', 'k')), 'new');
    assert.is(await table.ttl('h', 'k'), 30);
    r = await table.compareExchange('h', 'k', 'old', 'newer');
    assert.is(r.succeeded, false);
    assert.is(text(r.actualValue), 'new');
    await table.set('h', 'e', '');
    r = await table.compareExchange('h', 'e', '', 'filled');
    assert.is(r.succeeded, true, 'an empty value equals an empty expected value');
  }),
);

test(
  'incr: absent, expired or empty counts as 0; the result is stored as a decimal string; numbers and bigints',
  rig(async (table, clock) => {
    assert.is(await table.incr('h', 'n', 1), 1n);
    assert.is(text(await table.get('h', 'n')), '1');
    assert.is(await table.incr('h', 'n', 100n), 101n);
    assert.is(await table.incr('h', 'n', -200), -99n);
    assert.is(text(await table.get('h', 'n')), '-99');
    await table.set('h', 'e', '');
    assert.is(await table.incr('h', 'e', 7), 7n);
    await table.set('h', 'x', '5', { ttlSeconds: 1 });
    clock.advance(1000);
    assert.is(await table.incr('h', 'x', 2), 2n, 'an expired value counts as 0');
    assert.is(await codeOf(table.incr('h', 'n', 1.5)), 'INVALID_ARGUMENT');
    assert.is(await codeOf(table.incr('h', 'n', 1n << 63n)), 'INVALID_ARGUMENT', 'an increment beyond int64');
  }),
);

test(
  'incr: a value that is not a decimal int64, and overflow, are INVALID_ARGUMENT with the value unchanged',
  rig(async (table) => {
    for (const bad of ['abc', '1.5', ' 1', '0x10', '9223372036854775808', '+']) {
      await table.set('h', 'bad', bad);
      assert.is(await codeOf(table.incr('h', 'bad', 1)), 'INVALID_ARGUMENT', bad);
      assert.is(text(await table.get('h', 'bad')), bad, bad);
    }
    await table.set('h', 'max', '9223372036854775807');
    assert.is(await codeOf(table.incr('h', 'max', 1)), 'INVALID_ARGUMENT');
    assert.is(text(await table.get('h', 'max')), '9223372036854775807');
    assert.is(await table.incr('h', 'max', -1), 9223372036854775806n);
    assert.is(await table.incr('h', 'zero', -9223372036854775808n), -9223372036854775808n);
  }),
);

test(
  'incr: ttlSeconds 0 keeps the TTL, > 0 sets one, -1 removes it, < -1 is INVALID_ARGUMENT',
  rig(async (table, clock) => {
    await table.set('h', 'n', '1', { ttlSeconds: 100 });
    assert.is(await table.incr('h', 'n', 1), 2n);
    assert.is(await table.ttl('h', 'n'), 100, '0 keeps the existing TTL');
    clock.advance(10_000);
    assert.is(await table.incr('h', 'n', 1, { ttlSeconds: 0 }), 3n);
    assert.is(await table.ttl('h', 'n'), 90);
    assert.is(await table.incr('h', 'n', 1, { ttlSeconds: 500 }), 4n);
    assert.is(await table.ttl('h', 'n'), 500, '> 0 sets a new TTL');
    assert.is(await table.incr('h', 'n', 1, { ttlSeconds: -1 }), 5n);
    assert.is(await table.ttl('h', 'n'), -1, '-1 removes it');
    assert.is(await codeOf(table.incr('h', 'n', 1, { ttlSeconds: -2 })), 'INVALID_ARGUMENT');
    assert.is(text(await table.get('h', 'n')), '5');
  }),
);

test.run();
