/** Parsing of the table envs that set policies, and the throttle's one-second window. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDeny, parsePolicy, parseThrottling, Throttle } from './table_policies.js';

test('replica.deny_client_request values', () => {
  assert.is(parseDeny(undefined), undefined);
  assert.is(parseDeny('false'), undefined);
  assert.equal(parseDeny('true'), { action: 'timeout', reads: true, writes: true });
  assert.equal(parseDeny('reconfig*write'), { action: 'reconfig', reads: false, writes: true });
  assert.equal(parseDeny('timeout*read'), { action: 'timeout', reads: true, writes: false });
  assert.throws(() => parseDeny('sometimes'), /timeout\|reconfig/);
});

test('replica.write_throttling rules, sorted by limit; bad values are ignored with a log line', () => {
  assert.equal(parseThrottling('2000*reject*0,1000*delay*100', 'x'), [
    { limit: 1000, action: 'delay', delayMs: 100 },
    { limit: 2000, action: 'reject', delayMs: 0 },
  ]);
  assert.equal(parseThrottling('10K*delay*5', 'x'), [{ limit: 10_000, action: 'delay', delayMs: 5 }]);
  assert.throws(() => parseThrottling('fast', 'replica.write_throttling'), /replica.write_throttling: expected/);
  const logged: string[] = [];
  const policy = parsePolicy({ 'replica.write_throttling': 'nonsense', 'manual_compact.once.trigger_time': '1700000000', default_ttl: '60' }, (line) => logged.push(line));
  assert.equal(policy.writeThrottling, []);
  assert.is(policy.manualCompactTriggerTime, 1_700_000_000);
  assert.is(logged.length, 1);
});

test('the throttle admits up to the limit per second, delays or rejects past it, and recovers as the window slides', () => {
  const throttle = new Throttle();
  const rules = parseThrottling('5*delay*50,8*reject*0', 'x');
  const verdicts: string[] = [];
  for (let i = 0; i < 10; i++) verdicts.push(throttle.decide(rules, 1000 + i, 1).action);
  assert.equal(verdicts, ['accept', 'accept', 'accept', 'accept', 'accept', 'delay', 'delay', 'delay', 'reject', 'reject']);
  // A second later the window is empty again.
  assert.is(throttle.decide(rules, 2010, 1).action, 'accept');
  // By size: one big write alone crosses a byte limit.
  const bySize = new Throttle();
  assert.is(bySize.decide(parseThrottling('100*reject*0', 'x'), 0, 101).action, 'reject');
  assert.is(bySize.decide(parseThrottling('100*reject*0', 'x'), 0, 100).action, 'accept');
});

test.run();
