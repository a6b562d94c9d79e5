/** The KV register model follows one Petrel key's semantics (CLIENT_API.md). */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KvInput, KvOutput, KvState } from './kv_model.js';
import { kvModel, parseInt64 } from './kv_model.js';

function step(state: KvState, input: KvInput, output: KvOutput | undefined): { ok: boolean; newState: KvState } {
  return kvModel.step(state, input, output);
}

test('get accepts exactly the current value, and anything when its output is unknown', () => {
  assert.equal(step('a', { op: 'get', key: 'k' }, { value: 'a' }), { ok: true, newState: 'a' });
  assert.is(step('a', { op: 'get', key: 'k' }, { value: 'b' }).ok, false);
  assert.is(step(null, { op: 'get', key: 'k' }, { value: null }).ok, true);
  assert.is(step(null, { op: 'get', key: 'k' }, { value: '' }).ok, false);
  assert.is(step('a', { op: 'get', key: 'k' }, undefined).ok, true);
});

test('set stores the value and del makes the key absent', () => {
  assert.equal(step(null, { op: 'set', key: 'k', value: 'v' }, {}), { ok: true, newState: 'v' });
  assert.equal(step('v', { op: 'del', key: 'k' }, {}), { ok: true, newState: null });
  assert.equal(step(null, { op: 'del', key: 'k' }, undefined), { ok: true, newState: null });
});

test('incr on an absent or empty value counts from 0 and returns the new value', () => {
  assert.equal(step(null, { op: 'incr', key: 'k', delta: 5n }, { newValue: 5n }), { ok: true, newState: '5' });
  assert.equal(step('', { op: 'incr', key: 'k', delta: -2 }, { newValue: -2 }), { ok: true, newState: '-2' });
  assert.equal(step('+7', { op: 'incr', key: 'k', delta: 1n }, { newValue: 8n }), { ok: true, newState: '8' });
  assert.is(step('7', { op: 'incr', key: 'k', delta: 1n }, { newValue: 7n }).ok, false);
  assert.equal(step('7', { op: 'incr', key: 'k', delta: 1n }, undefined), { ok: true, newState: '8' });
});

test('incr on a non-integer value or past int64 is refused and leaves the value unchanged', () => {
  assert.equal(step('x', { op: 'incr', key: 'k', delta: 1n }, { error: 'INVALID_ARGUMENT' }), { ok: true, newState: 'x' });
  assert.is(step('x', { op: 'incr', key: 'k', delta: 1n }, { newValue: 1n }).ok, false);
  assert.is(step('1', { op: 'incr', key: 'k', delta: 1n }, { error: 'INVALID_ARGUMENT' }).ok, false);
  const max = (2n ** 63n - 1n).toString();
  assert.equal(step(max, { op: 'incr', key: 'k', delta: 1n }, { error: 'INVALID_ARGUMENT' }), { ok: true, newState: max });
  assert.equal(step(max, { op: 'incr', key: 'k', delta: 1n }, undefined), { ok: true, newState: max });
  assert.is(parseInt64((2n ** 63n).toString()), undefined);
  assert.is(parseInt64('1.5'), undefined);
  assert.is(parseInt64('-12'), -12n);
});

test('checkAndSet sets only when the value equals expected (null = absent) and reports the old value', () => {
  const cas = (expected: string | null): KvInput => ({ op: 'checkAndSet', key: 'k', expected, value: 'new' });
  assert.equal(step('a', cas('a'), { succeeded: true, oldValue: 'a' }), { ok: true, newState: 'new' });
  assert.equal(step('a', cas('b'), { succeeded: false, oldValue: 'a' }), { ok: true, newState: 'a' });
  assert.equal(step(null, cas(null), { succeeded: true }), { ok: true, newState: 'new' });
  assert.is(step('', cas(null), { succeeded: true }).ok, false, 'an empty value exists');
  assert.is(step('a', cas('a'), { succeeded: false }).ok, false);
  assert.is(step('a', cas('a'), { succeeded: true, oldValue: 'b' }).ok, false);
  assert.equal(step('a', cas('a'), undefined), { ok: true, newState: 'new' });
});

test('equal states hash equally and the descriptions name the operation', () => {
  assert.is(kvModel.hash('abc'), kvModel.hash('ab' + 'c'));
  assert.is.not(kvModel.hash(null), kvModel.hash(''));
  assert.is(kvModel.describeOperation({ op: 'get', key: 'k' }, { value: null }), 'get(k) → absent');
  assert.is(kvModel.describeOperation({ op: 'incr', key: 'k', delta: 2n }, { newValue: 3n }), 'incr(k, 2) → 3');
  assert.is(kvModel.describeOperation({ op: 'set', key: 'k', value: 'v' }, undefined), 'set(k, "v")');
  assert.is(kvModel.describeOperation({ op: 'get', key: 'k' }, undefined), 'get(k) → ?');
  assert.is(kvModel.describeState('v'), '"v"');
});

test.run();
