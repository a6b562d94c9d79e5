/** Hand-made histories, linearizable and not, and the checker's explanations, budgets and edges. */
import { isPetrelError } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkEvents, checkHistory } from './checker.js';
import type { HistoryEvent, Operation } from './history.js';
import type { KvInput, KvOutput } from './kv_model.js';
import { kvModel } from './kv_model.js';

type KvOperation = Operation<KvInput, KvOutput>;

/** An operation that returned; `returnTime` Infinity and no output make it a maybe-operation. */
function op(clientId: number, callTime: number, returnTime: number, input: KvInput, output?: KvOutput): KvOperation {
  const operation: KvOperation = { clientId, callTime, returnTime, input };
  if (output !== undefined) operation.output = output;
  return operation;
}
const get = (key = 'x'): KvInput => ({ op: 'get', key });
const set = (value: string, key = 'x'): KvInput => ({ op: 'set', key, value });
const incr = (delta: number, key = 'x'): KvInput => ({ op: 'incr', key, delta: BigInt(delta) });
const cas = (expected: string | null, value: string, key = 'x'): KvInput => ({ op: 'checkAndSet', key, expected, value });

function verdict(history: KvOperation[]): string {
  return checkHistory(kvModel, history).result;
}

test('a sequential history that reads its own writes is linearizable', () => {
  const report = checkHistory(kvModel, [
    op(1, 0, 1, set('a')),
    op(1, 2, 3, get(), { value: 'a' }),
    op(1, 4, 5, { op: 'del', key: 'x' }, {}),
    op(1, 6, 7, get(), { value: null }),
  ]);
  assert.is(report.result, 'ok');
  assert.equal(report.perKey.map((check) => check.key), ['x']);
  assert.is(report.perKey[0]!.linearization.length, 4);
  assert.match(report.report, /ok: 1 key, 4 operations/);
});

test('a read concurrent with a write may see the old or the new value', () => {
  assert.is(verdict([op(1, 0, 10, set('a')), op(2, 1, 2, get(), { value: null }), op(3, 3, 4, get(), { value: 'a' })]), 'ok');
  assert.is(verdict([op(1, 0, 10, set('a')), op(2, 1, 2, get(), { value: 'a' }), op(3, 3, 4, get(), { value: 'a' })]), 'ok');
});

test('a read that sees a new value forbids a later read of the old one', () => {
  assert.is(verdict([op(1, 0, 10, set('a')), op(2, 1, 2, get(), { value: 'a' }), op(3, 3, 4, get(), { value: null })]), 'illegal');
});

test('a stale read after a completed write is illegal, and the report says which read cannot be placed', () => {
  const report = checkHistory(kvModel, [
    op(1, 0, 1, set('1')),
    op(1, 2, 3, set('2')),
    op(2, 4, 5, get(), { value: '1' }),
  ]);
  assert.is(report.result, 'illegal');
  const check = report.perKey[0]!;
  assert.is(check.result, 'illegal');
  assert.is(check.linearization.length, 2, 'the two writes form the longest linearizable prefix');
  assert.is(check.stateAfter, '"2"');
  assert.is(check.unplaced.length, 1);
  assert.is(check.unplaced[0]!.operation.id, 2);
  assert.is(check.unplaced[0]!.possibleHere, false);
  assert.match(report.report, /NOT LINEARIZABLE/);
  assert.match(report.report, /#2 client 2 \[4, 5\] get\(x\) → "1": impossible from state "2"/);
});

test('a lost write (acknowledged, then never seen) is illegal', () => {
  assert.is(verdict([op(1, 0, 1, set('a')), op(2, 2, 3, get(), { value: null })]), 'illegal');
  assert.is(verdict([op(1, 0, 1, incr(1), { newValue: 1n }), op(1, 2, 3, incr(1), { newValue: 2n }), op(2, 4, 5, get(), { value: '1' })]), 'illegal');
});

test('two concurrent writes seen in different orders by two readers are illegal', () => {
  const history = [
    op(1, 0, 100, set('a')),
    op(2, 0, 100, set('b')),
    op(3, 10, 20, get(), { value: 'a' }),
    op(3, 30, 40, get(), { value: 'b' }),
    op(4, 10, 20, get(), { value: 'b' }),
    op(4, 30, 40, get(), { value: 'a' }),
  ];
  assert.is(verdict(history), 'illegal');
  // Both readers agreeing on one order is fine.
  const agreeing = history.map((operation) => operation.clientId === 4 ? { ...operation, output: { value: operation.callTime === 10 ? 'a' : 'b' } } : operation);
  assert.is(verdict(agreeing), 'ok');
});

test('an incr applied twice is illegal; concurrent incrs in either order are not', () => {
  assert.is(verdict([op(1, 0, 1, incr(1), { newValue: 1n }), op(2, 2, 3, get(), { value: '2' })]), 'illegal');
  assert.is(verdict([op(1, 0, 10, incr(1), { newValue: 2n })]), 'illegal');
  assert.is(verdict([op(1, 0, 10, incr(1), { newValue: 2n }), op(2, 0, 10, incr(1), { newValue: 1n }), op(3, 11, 12, get(), { value: '2' })]), 'ok');
  assert.is(verdict([op(1, 0, 10, incr(1), { newValue: 1n }), op(2, 0, 10, incr(1), { newValue: 1n })]), 'illegal');
});

test('a write that timed out may be seen later, however much later', () => {
  assert.is(verdict([op(1, 0, 1, set('a')), op(2, 2, Infinity, set('b')), op(3, 3, 4, get(), { value: 'b' })]), 'ok');
  assert.is(verdict([op(1, 0, 1, set('a')), op(2, 2, Infinity, set('b')), op(3, 3, 4, get(), { value: 'a' })]), 'ok', 'or never');
  assert.is(verdict([op(1, 0, 1, set('a')), op(2, 2, Infinity, set('b')), op(3, 3, 4, get(), { value: 'a' }), op(3, 1000, 1001, get(), { value: 'b' })]), 'ok');
});

test('a write that timed out cannot be seen and then unseen', () => {
  const report = checkHistory(kvModel, [
    op(1, 0, 1, set('a')),
    op(2, 2, Infinity, set('b')),
    op(3, 3, 4, get(), { value: 'b' }),
    op(3, 5, 6, get(), { value: 'a' }),
  ]);
  assert.is(report.result, 'illegal');
  assert.match(report.report, /set\(x, "b"\) \(outcome unknown\)/);
});

test('a timed-out write cannot take effect before its invocation', () => {
  assert.is(verdict([op(1, 0, 1, get(), { value: 'b' }), op(2, 2, Infinity, set('b'))]), 'illegal');
});

test('two compare-and-sets from the same expected value cannot both succeed', () => {
  assert.is(verdict([op(0, 0, 1, set('a')), op(1, 2, 10, cas('a', 'b'), { succeeded: true }), op(2, 2, 10, cas('a', 'c'), { succeeded: true })]), 'illegal');
  assert.is(verdict([op(0, 0, 1, set('a')), op(1, 2, 10, cas('a', 'b'), { succeeded: true, oldValue: 'a' }), op(2, 2, 10, cas('a', 'c'), { succeeded: false, oldValue: 'b' })]), 'ok');
  assert.is(verdict([op(1, 0, 10, cas(null, 'b'), { succeeded: true }), op(2, 11, 12, get(), { value: 'b' })]), 'ok');
});

test('intervals that touch at one instant count as concurrent', () => {
  assert.is(verdict([op(1, 0, 5, set('a')), op(2, 5, 6, get(), { value: null })]), 'ok');
  assert.is(verdict([op(1, 0, 5, set('a')), op(2, 6, 7, get(), { value: null })]), 'illegal');
});

test('keys are checked apart: one bad key makes the history illegal and is named', () => {
  const report = checkHistory(kvModel, [
    op(1, 0, 1, set('a', 'k1')),
    op(1, 2, 3, set('a', 'k2')),
    op(2, 4, 5, get('k1'), { value: 'a' }),
    op(2, 6, 7, get('k2'), { value: 'stale' }),
    op(3, 0, 9, get('k3'), { value: null }),
  ]);
  assert.is(report.result, 'illegal');
  assert.equal(report.perKey.map((check) => [check.key, check.result]), [['k1', 'ok'], ['k2', 'illegal'], ['k3', 'ok']]);
  assert.match(report.report, /key "k2": not linearizable/);
  assert.not.match(report.report, /key "k1"/);
});

test('a read whose outcome is unknown constrains nothing and is dropped', () => {
  const report = checkHistory(kvModel, [op(1, 0, 1, set('a')), op(2, 2, Infinity, get()), op(3, 3, 4, get(), { value: 'a' })]);
  assert.is(report.result, 'ok');
  assert.is(report.perKey[0]!.droppedCount, 1);
  assert.is(report.perKey[0]!.operationCount, 2);
});

test('an event list is read as a history: unknown and missing completions maybe happened, fail never did', () => {
  const events: HistoryEvent<KvInput, KvOutput>[] = [
    { type: 'invoke', id: 'w1', clientId: 1, input: set('a') },
    { type: 'ok', id: 'w1', output: {} },
    { type: 'invoke', id: 'w2', clientId: 2, input: set('b') },
    { type: 'invoke', id: 'w3', clientId: 3, input: set('c') },
    { type: 'invoke', id: 'w4', clientId: 4, input: set('d') },
    { type: 'unknown', id: 'w2' },
    { type: 'fail', id: 'w4' },
    { type: 'invoke', id: 'r1', clientId: 1, input: get() },
    { type: 'ok', id: 'r1', output: { value: 'c' } },
    { type: 'invoke', id: 'r2', clientId: 1, input: get() },
    { type: 'ok', id: 'r2', output: { value: 'b' } },
  ];
  assert.is(checkEvents(kvModel, events).result, 'ok');
  const seesFailed = [...events, { type: 'invoke', id: 'r3', clientId: 1, input: get() }, { type: 'ok', id: 'r3', output: { value: 'd' } }] as HistoryEvent<KvInput, KvOutput>[];
  assert.is(checkEvents(kvModel, seesFailed).result, 'illegal');
});

test('malformed histories and event lists are refused with INVALID_ARGUMENT', () => {
  const refused = (run: () => unknown): boolean => {
    try {
      run();
      return false;
    } catch (error) {
      return isPetrelError(error, 'INVALID_ARGUMENT');
    }
  };
  assert.ok(refused(() => checkHistory(kvModel, [op(1, 5, 4, set('a'))])));
  assert.ok(refused(() => checkHistory(kvModel, [op(1, NaN, 4, set('a'))])));
  assert.ok(refused(() => checkHistory(kvModel, [op(1, 0, Infinity, get(), { value: 'a' })])));
  assert.ok(refused(() => checkEvents(kvModel, [{ type: 'ok', id: 1, output: {} }])));
  assert.ok(refused(() => checkEvents(kvModel, [{ type: 'invoke', id: 1, clientId: 1, input: get() }, { type: 'invoke', id: 1, clientId: 1, input: get() }])));
});

/** Many concurrent writes and reads that see no write: hard for the search, since no write can be ruled out early. */
function hardHistory(writerCount: number): KvOperation[] {
  const history: KvOperation[] = [];
  for (let i = 0; i < writerCount; i++) history.push(op(i, 0, 100, set(`v${i}`)));
  for (let i = 0; i < writerCount; i++) history.push(op(100 + i, 1 + i, 2 + i, get(), { value: `v${(i * 7) % writerCount}` }));
  history.push(op(999, 200, 201, get(), { value: 'never' }));
  return history;
}

test('a search that runs out of steps or time answers unknown instead of hanging', () => {
  const bySteps = checkHistory(kvModel, hardHistory(12), { maxStepsPerKey: 50 });
  assert.is(bySteps.result, 'unknown');
  assert.is(bySteps.perKey[0]!.stopReason, 'steps');
  assert.ok(bySteps.perKey[0]!.steps <= 51);
  assert.match(bySteps.report, /unknown: 1 of 1 key undecided/);
  let fakeNowMs = 0;
  const byTime = checkHistory(kvModel, [...hardHistory(12), op(1, 0, 1, set('a', 'other'))], { timeoutMs: 10, now: () => (fakeNowMs += 1) });
  assert.is(byTime.result, 'unknown');
  assert.equal(byTime.perKey.map((check) => [check.key, check.result, check.stopReason]), [['other', 'ok', undefined], ['x', 'unknown', 'timeout']]);
  // Once the deadline has passed, the keys not yet started are not searched at all.
  const late = checkHistory(kvModel, [op(1, 0, 1, set('a', 'k1')), op(1, 0, 1, set('a', 'k2'))], { timeoutMs: 0, now: () => (fakeNowMs += 1) });
  assert.equal(late.perKey.map((check) => [check.result, check.steps]), [['unknown', 0], ['unknown', 0]]);
  // With no budget the same history is decided.
  assert.is(checkHistory(kvModel, hardHistory(12)).result, 'illegal');
});

test('a long single-key history is searched without recursion (no stack overflow)', () => {
  const history: KvOperation[] = [];
  for (let i = 0; i < 50_000; i++) history.push(op(i % 3, 2 * i, 2 * i + 1, incr(1), { newValue: BigInt(i + 1) }));
  const report = checkHistory(kvModel, history);
  assert.is(report.result, 'ok');
  assert.is(report.perKey[0]!.linearization.length, 50_000);
  history.push(op(9, 200_000, 200_001, get(), { value: '49999' }));
  const broken = checkHistory(kvModel, history);
  assert.is(broken.result, 'illegal');
  assert.is(broken.perKey[0]!.linearization.length, 50_000);
  assert.match(broken.report, /… 49980 earlier operations/);
});

test('without a partition the whole history is one part named "all"', () => {
  const { partition: _partition, ...unpartitioned } = kvModel;
  const report = checkHistory(unpartitioned, [op(1, 0, 1, set('a', 'k1')), op(2, 2, 3, get('k1'), { value: 'a' })]);
  assert.is(report.result, 'ok');
  assert.equal(report.perKey.map((check) => check.key), ['all']);
});

test.run();
