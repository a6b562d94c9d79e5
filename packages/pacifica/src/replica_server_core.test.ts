import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReplicaServerEffect } from './effects.js';
import { replicationOptions } from './options.js';
import { ReplicaServerCore } from './replica_server_core.js';
import { emptyConfiguration } from './types.js';

const options = replicationOptions();

function server(): ReplicaServerCore {
  const core = new ReplicaServerCore({ node: 'n1', meta: 'meta', options });
  core.start(1000, []);
  return core;
}

function ack(core: ReplicaServerCore, now: number, sentAt: number, session: number): ReplicaServerEffect[] {
  return core.step({ type: 'message', now, from: 'meta', message: { type: 'beaconAck', sentAt, session } });
}

test('the lease runs from the send time of the acknowledged beacon, not from its arrival', () => {
  const core = server();
  ack(core, 1005, 1000, -1); // the first answer names the session
  ack(core, 1900, 1200, -1 + 1); // still an unknown session for this server: adopt it
  assert.is(core.leaseValid(1900), false, 'adopting a session grants nothing');
  ack(core, 2500, 1400, core.leaseSession);
  assert.is(core.leaseExpiry, 1400 + options.leaseMs);
  assert.is(core.leaseValid(1400 + options.leaseMs - 1), true);
  assert.is(core.leaseValid(1400 + options.leaseMs), false);
});

test('an acknowledgement naming another session ends the lease and demotes every replica', () => {
  const core = server();
  ack(core, 1001, 1000, 0);
  ack(core, 1002, 1000, 0);
  const config = { ...emptyConfiguration('1.0', 3), ballot: 1, primary: 'n1' };
  core.step({ type: 'message', now: 1003, from: 'meta', message: { type: 'configUpdate', session: 0, config } });
  assert.is(core.replicas().get('1.0')!.role, 'primary');
  assert.is(core.isServing('1.0', 1004), true);
  const effects = ack(core, 1005, 1004, 1);
  assert.is(core.leaseValid(1005), false);
  assert.is(core.replicas().get('1.0')!.role, 'inactive');
  assert.ok(effects.some((effect) => effect.type === 'send' && effect.message.type === 'configSync'), 're-syncs with the meta');
});

test('a configuration sent in another lease session is dropped', () => {
  const core = server();
  ack(core, 1001, 1000, 3);
  const config = { ...emptyConfiguration('1.0', 3), ballot: 1, primary: 'n1' };
  core.step({ type: 'message', now: 1003, from: 'meta', message: { type: 'configUpdate', session: 2, config } });
  assert.is(core.replicas().size, 0);
  core.step({ type: 'message', now: 1004, from: 'meta', message: { type: 'configUpdate', session: 3, config } });
  assert.is(core.replicas().get('1.0')!.role, 'primary');
});

test('reads and writes are refused the moment the lease has run out, without a tick', () => {
  const core = server();
  ack(core, 1001, 1000, 0);
  ack(core, 1002, 1000, 0);
  const config = { ...emptyConfiguration('1.0', 3), ballot: 1, primary: 'n1', secondaries: ['n2'] };
  core.step({ type: 'message', now: 1003, from: 'meta', message: { type: 'configUpdate', session: 0, config } });
  core.step({ type: 'logSynced', now: 1004, gpid: '1.0', incarnation: core.replicas().get('1.0')!.incarnation, throughIndex: 0 });
  const late = 1000 + options.leaseMs;
  const effects = core.step({ type: 'message', now: late, from: 'c1', message: { type: 'clientRead', gpid: '1.0', requestId: 7, read: new Uint8Array() } });
  assert.equal(effects, [{ type: 'send', to: 'c1', message: { type: 'clientReply', gpid: '1.0', requestId: 7, refusal: 'NOT_PRIMARY' } }]);
  const write = core.step({ type: 'message', now: late, from: 'c1', message: { type: 'clientWrite', gpid: '1.0', requestId: 8, write: new Uint8Array([1]) } });
  assert.equal(write, [{ type: 'send', to: 'c1', message: { type: 'clientReply', gpid: '1.0', requestId: 8, refusal: 'NOT_PRIMARY' } }]);
});

test('the server refuses to start when grace does not outlast lease + margin', () => {
  assert.throws(() => new ReplicaServerCore({ node: 'n1', meta: 'meta', options: { ...options, graceMs: options.leaseMs } }), /graceMs/);
});

test('recovery: a log with a hole after the checkpoint (a restore that never finished) opens; records past the window are dropped', () => {
  const core = new ReplicaServerCore({ node: 'n1', meta: 'meta', options });
  const config = { ...emptyConfiguration('1.0', 3), ballot: 5, primary: 'n2', secondaries: ['n3'] };
  // Data at decree 100; the log holds decrees 500..699 (a learner logged them after a checkpoint at 499 it never got).
  const log = Array.from({ length: 200 }, (_, i) => ({ gpid: '1.0', ballot: 5, decree: 500 + i, lastCommitted: 499 + i, writes: [] }));
  const effects = core.start(1000, [{ gpid: '1.0', persisted: { gpid: '1.0', ballot: 5, config }, checkpointDecree: 100, log }]);
  const replica = core.replicas().get('1.0')!;
  assert.is(replica.role, 'inactive');
  assert.is(replica.committed, 100, 'nothing past the hole is committed');
  assert.is(replica.droppedAtOpen, 200 - options.prepareListLimit);
  assert.not.ok(effects.some((effect) => effect.type === 'apply'), 'nothing is applied over the hole');
});

test('recovery commits up to the persisted commit point of a learner, so it does not drop what it said it learned', () => {
  const core = new ReplicaServerCore({ node: 'n1', meta: 'meta', options });
  const config = { ...emptyConfiguration('1.0', 3), ballot: 5, primary: 'n2', secondaries: ['n3'] };
  // Learned from the primary's cache: decrees 9..11, prepared at ballot 4 when 8 was the commit point.
  const log = [9, 10, 11].map((decree) => ({ gpid: '1.0', ballot: 4, decree, lastCommitted: 8, writes: [] }));
  const effects = core.start(1000, [{ gpid: '1.0', persisted: { gpid: '1.0', ballot: 5, config, committed: 11 }, checkpointDecree: 8, log }]);
  assert.is(core.replicas().get('1.0')!.committed, 11);
  assert.equal(effects.filter((effect) => effect.type === 'apply').map((effect) => (effect.type === 'apply' ? effect.mutation.decree : 0)), [9, 10, 11]);
  const without = new ReplicaServerCore({ node: 'n1', meta: 'meta', options });
  without.start(1000, [{ gpid: '1.0', persisted: { gpid: '1.0', ballot: 5, config }, checkpointDecree: 8, log }]);
  assert.is(without.replicas().get('1.0')!.committed, 8, 'without it the records are uncommitted (and of an older ballot)');
});

test.run();
