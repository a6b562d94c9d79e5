import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isPetrelError } from '@petrel/base';
import { defaultReplicationOptions, replicationOptions } from './options.js';

test('the defaults satisfy grace > lease + margin', () => {
  const options = replicationOptions();
  assert.ok(options.graceMs > options.leaseMs + options.leaseMarginMs);
});

test('a grace not above lease + margin is refused with INVALID_ARGUMENT', () => {
  try {
    replicationOptions({ leaseMs: 3000, graceMs: 3000 });
    assert.unreachable('accepted lease = grace');
  } catch (error) {
    assert.ok(isPetrelError(error, 'INVALID_ARGUMENT'));
    assert.match((error as Error).message, /graceMs \(3000\) must exceed leaseMs \(3000\) \+ leaseMarginMs/);
  }
});

test('the planted bug leaseNotShorterThanGrace skips only that check', () => {
  const options = replicationOptions({ leaseMs: 4000, graceMs: 3000 }, { leaseNotShorterThanGrace: true });
  assert.is(options.leaseMs, 4000);
  assert.throws(() => replicationOptions({ maxUncommitted: 200 }, { leaseNotShorterThanGrace: true }), /maxUncommitted/);
});

test('non-positive or non-integer limits are refused', () => {
  assert.throws(() => replicationOptions({ prepareListLimit: 0 }), /prepareListLimit/);
  assert.throws(() => replicationOptions({ maxUncommitted: 2.5 }), /maxUncommitted/);
  assert.throws(() => replicationOptions({ tickIntervalMs: Number.NaN }), /tickIntervalMs/);
  assert.is(defaultReplicationOptions.prepareListLimit, 110);
});

test.run();
