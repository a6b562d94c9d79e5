import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { MetaEffect } from './effects.js';
import type { Message } from './messages.js';
import { MetaCore, applyMetaRecord, emptyMetaState, type MetaDurableState } from './meta_core.js';
import { replicationOptions } from './options.js';
import type { PartitionConfiguration } from './types.js';
import { emptyConfiguration } from './types.js';

const options = replicationOptions();
const servers = ['n1', 'n2', 'n3', 'n4'];

function stateWith(...configs: PartitionConfiguration[]): MetaDurableState {
  let state = emptyMetaState();
  for (const config of configs) state = applyMetaRecord(state, { kind: 'config', config });
  return state;
}

function config(ballot: number, primary: string | null, secondaries: string[], gpid = '1.0'): PartitionConfiguration {
  return { ...emptyConfiguration(gpid, 3), ballot, primary, secondaries };
}

/** Completes every persist the meta asks for, in order; returns the messages it sent. */
function settle(meta: MetaCore, effects: MetaEffect[], now: number): { to: string; message: Message }[] {
  const sent: { to: string; message: Message }[] = [];
  const queue = [...effects];
  while (queue.length > 0) {
    const effect = queue.shift()!;
    if (effect.type === 'send') sent.push({ to: effect.to, message: effect.message });
    else if (effect.type === 'persist') queue.push(...meta.step({ type: 'persisted', now, token: effect.token }));
  }
  return sent;
}

function beaconAll(meta: MetaCore, now: number, nodes = servers): void {
  for (const node of nodes) meta.step({ type: 'message', now, from: node, message: { type: 'beacon', sentAt: now, session: 0 } });
}

test('a change applies only on the exact base ballot, and only after it is persisted', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(config(5, 'n1', ['n2', 'n3'])));
  const stale = meta.step({ type: 'message', now: 10, from: 'n1', message: { type: 'configChange', kind: 'removeSecondary', gpid: '1.0', baseBallot: 4, node: 'n3', proposed: config(5, 'n1', ['n2']) } });
  assert.equal(stale.map((effect) => effect.type), ['send']);
  assert.is((stale[0] as { message: Message }).message.type, 'configChangeReply');
  const effects = meta.step({ type: 'message', now: 10, from: 'n1', message: { type: 'configChange', kind: 'removeSecondary', gpid: '1.0', baseBallot: 5, node: 'n3', proposed: config(6, 'n1', ['n2']) } });
  assert.equal(effects.map((effect) => effect.type), ['persist']);
  assert.is(meta.configuration('1.0')!.ballot, 5, 'not applied before persisted');
  const sent = settle(meta, effects, 11);
  assert.is(meta.configuration('1.0')!.ballot, 6);
  assert.equal(meta.configuration('1.0')!.secondaries, ['n2']);
  assert.ok(sent.some(({ to, message }) => to === 'n1' && message.type === 'configChangeReply' && message.accepted));
  assert.ok(sent.some(({ to, message }) => to === 'n3' && message.type === 'configUpdate'), 'the removed member hears of it');
});

test('a request from anyone but the primary is refused', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(config(5, 'n1', ['n2', 'n3'])));
  const effects = meta.step({ type: 'message', now: 10, from: 'n2', message: { type: 'configChange', kind: 'removeSecondary', gpid: '1.0', baseBallot: 5, node: 'n3', proposed: config(6, 'n2', ['n3']) } });
  assert.equal(effects.map((effect) => effect.type), ['send']);
});

test('an upgrade that cannot be granted is fenced: same members at the next ballot, answered not accepted', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(config(5, 'n1', ['n2'])));
  beaconAll(meta, options.graceMs, ['n1', 'n2', 'n3']);
  settle(meta, meta.step({ type: 'tick', now: options.graceMs + 100 }), options.graceMs + 100); // n4 sent no beacon: dead
  assert.ok(!meta.isAlive('n4') && meta.isAlive('n1'));
  const effects = meta.step({ type: 'message', now: options.graceMs + 110, from: 'n1', message: { type: 'configChange', kind: 'upgradeLearner', gpid: '1.0', baseBallot: 5, node: 'n4', proposed: config(6, 'n1', ['n2', 'n4']) } });
  const sent = settle(meta, effects, options.graceMs + 111);
  assert.is(meta.configuration('1.0')!.ballot, 6);
  assert.equal(meta.configuration('1.0')!.secondaries, ['n2']);
  const reply = sent.find(({ message }) => message.type === 'configChangeReply')!.message;
  assert.ok(reply.type === 'configChangeReply' && !reply.accepted && reply.config.ballot === 6);
});

test('a server is dead after grace from its last beacon; its session is bumped and its primaries move to the secondary with the fewest primaries', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(config(3, 'n1', ['n2', 'n3'], '1.0'), config(3, 'n2', ['n3', 'n4'], '1.1')));
  beaconAll(meta, 100);
  beaconAll(meta, 2000, ['n2', 'n3', 'n4']);
  assert.equal(settle(meta, meta.step({ type: 'tick', now: 100 + options.graceMs }), 0), []);
  assert.ok(meta.isAlive('n1'), 'not dead at exactly grace');
  const effects = meta.step({ type: 'tick', now: 101 + options.graceMs });
  assert.ok(!meta.isAlive('n1'));
  assert.is(meta.sessionOf('n1'), 1);
  assert.equal(effects.filter((effect) => effect.type === 'persist').map((effect) => effect.type === 'persist' && effect.record.kind), ['session', 'config'], 'the session bump is persisted before the change it causes');
  settle(meta, effects, 102 + options.graceMs);
  // n2 already leads 1.1; n3 leads nothing.
  assert.equal(meta.configuration('1.0'), { ...config(4, 'n3', ['n2'], '1.0') });
  const ack = meta.step({ type: 'message', now: 200 + options.graceMs, from: 'n1', message: { type: 'beacon', sentAt: 7, session: 0 } });
  assert.equal(ack, [{ type: 'send', to: 'n1', message: { type: 'beaconAck', sentAt: 7, session: 1 } }]);
});

test('after a restart every server is freshly alive for a full grace period', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 50_000, stateWith(config(3, 'n1', ['n2', 'n3'])));
  meta.step({ type: 'tick', now: 50_000 + options.graceMs });
  assert.ok(servers.every((node) => meta.isAlive(node)));
  meta.step({ type: 'tick', now: 50_001 + options.graceMs });
  assert.ok(servers.every((node) => !meta.isAlive(node)));
});

test('with every member gone the configuration empties, and only one of the last members may lead again', () => {
  // Half the servers are gone: without the automatic freeze (tested below), the meta reconfigures.
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options: { ...options, minAlivePercentForCure: 1 } }, 0, stateWith(config(3, 'n1', ['n2'])));
  beaconAll(meta, 0, ['n3', 'n4']);
  beaconAll(meta, options.graceMs, ['n3', 'n4']);
  settle(meta, meta.step({ type: 'tick', now: options.graceMs + 1 }), options.graceMs + 1);
  assert.equal(meta.configuration('1.0'), { ...config(4, null, []), lastDrops: ['n1', 'n2'] });
  settle(meta, meta.step({ type: 'tick', now: options.graceMs + 2 }), options.graceMs + 2);
  assert.is(meta.configuration('1.0')!.primary, null, 'n3 and n4 are alive but never held the data');
  beaconAll(meta, options.graceMs + 10, ['n2']);
  settle(meta, meta.step({ type: 'tick', now: options.graceMs + 20 }), options.graceMs + 20);
  assert.equal(meta.configuration('1.0'), config(5, 'n2', []));
});

test('a member reporting another role at the configuration’s ballot is lost; a report of an older ballot is not', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(config(5, 'n1', ['n2', 'n3'])));
  beaconAll(meta, 0);
  meta.step({ type: 'message', now: 1, from: 'n1', message: { type: 'configSync', replicas: [{ gpid: '1.0', ballot: 4, role: 'error', committed: 3 }] } });
  assert.equal(settle(meta, meta.step({ type: 'tick', now: 2 }), 2).filter(({ message }) => message.type === 'configUpdate'), []);
  meta.step({ type: 'message', now: 3, from: 'n1', message: { type: 'configSync', replicas: [{ gpid: '1.0', ballot: 5, role: 'inactive', committed: 3 }] } });
  settle(meta, meta.step({ type: 'tick', now: 4 }), 4);
  assert.is(meta.configuration('1.0')!.primary === 'n2' || meta.configuration('1.0')!.primary === 'n3', true);
  assert.is(meta.configuration('1.0')!.ballot, 6);
});

test('below the replica count the primary is asked to add a learner, a server still holding the partition first', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(config(5, 'n1', ['n2'])));
  beaconAll(meta, 0);
  meta.step({ type: 'message', now: 1, from: 'n4', message: { type: 'configSync', replicas: [{ gpid: '1.0', ballot: 2, role: 'inactive', committed: 9 }] } });
  const sent = settle(meta, meta.step({ type: 'tick', now: 2 }), 2);
  assert.equal(sent, [{ to: 'n1', message: { type: 'addLearner', session: 0, gpid: '1.0', ballot: 5, node: 'n4' } }]);
});

test('too few live servers freeze the meta; levels steady and freezed stop the balancer and the cure', () => {
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(config(3, 'n1', ['n2', 'n3'])));
  assert.is(meta.effectiveLevel, 'lively');
  // Only n1 keeps beaconing: 1 of 4 alive is under 65% — frozen, the dead members stay.
  let now = 0;
  for (; now <= options.graceMs + 2 * options.tickIntervalMs; now += options.tickIntervalMs) {
    meta.step({ type: 'message', now, from: 'n1', message: { type: 'beacon', sentAt: now, session: 0 } });
    meta.step({ type: 'tick', now });
  }
  assert.is(meta.effectiveLevel, 'freezed');
  assert.equal(meta.configuration('1.0')!.secondaries, ['n2', 'n3'], 'no cure while frozen');
  meta.setLevel('blind');
  assert.is(meta.effectiveLevel, 'blind');
  const effects = meta.step({ type: 'message', now, from: 'n1', message: { type: 'configChange', kind: 'removeSecondary', gpid: '1.0', baseBallot: 3, node: 'n2', proposed: { ...meta.configuration('1.0')!, ballot: 4, secondaries: ['n3'] } } });
  assert.ok(effects.some((effect) => effect.type === 'send' && effect.message.type === 'configChangeReply' && !effect.message.accepted), 'blind: no configuration change');
});

/** Ticks the meta (every server beaconing) until nothing changes for a while; returns the configurations. */
function runBalancer(meta: MetaCore, nodes: string[], untilMs: number): PartitionConfiguration[] {
  let seen = new Map([...meta.configurations()].map(([gpid, c]) => [gpid, c]));
  let lastChangeAt = 0;
  for (let now = 0; now <= untilMs; now += options.tickIntervalMs) {
    // A primary handed over while alive stays a member of the next ballot (safety of the switch).
    for (const [gpid, c] of meta.configurations()) {
      const before = seen.get(gpid)!;
      if (c.ballot === before.ballot) continue;
      lastChangeAt = now;
      if (before.primary !== null && c.primary !== before.primary) assert.ok(c.secondaries.includes(before.primary), `${gpid}: ${before.primary} left at ballot ${c.ballot} while still primary`);
    }
    seen = new Map(meta.configurations());
    beaconAll(meta, now, nodes);
    for (const { to, message } of settle(meta, meta.step({ type: 'tick', now }), now)) {
      // The primary adds the learner the meta asks for, and it catches up at once.
      // The primary hands its lead over as asked (its mutations drained at once).
      if (message.type === 'handOver') {
        const current = meta.configuration(message.gpid)!;
        const proposed = { ...current, ballot: current.ballot + 1, primary: message.node, secondaries: current.secondaries.map((n) => (n === message.node ? to : n)) };
        settle(meta, meta.step({ type: 'message', now, from: to, message: { type: 'configChange', kind: 'handOver', gpid: message.gpid, baseBallot: current.ballot, node: message.node, proposed } }), now);
      }
      if (message.type === 'addLearner') {
        const current = meta.configuration(message.gpid)!;
        const proposed = { ...current, ballot: current.ballot + 1, secondaries: [...current.secondaries, message.node] };
        settle(meta, meta.step({ type: 'message', now, from: to, message: { type: 'configChange', kind: 'upgradeLearner', gpid: message.gpid, baseBallot: current.ballot, node: message.node, proposed } }), now);
      }
    }
  }
  assert.ok(untilMs - lastChangeAt > 5 * options.balanceIntervalMs, `still moving at ${lastChangeAt} ms`);
  return [...meta.configurations().values()];
}

function spread(configs: PartitionConfiguration[], nodes: string[]): { primaries: number[]; replicas: number[] } {
  return {
    primaries: nodes.map((node) => configs.filter((c) => c.primary === node).length),
    replicas: nodes.map((node) => configs.filter((c) => c.primary === node || c.secondaries.includes(node)).length),
  };
}

test('the balancer spreads primaries by switching them to secondaries, then replicas onto a new server — even from a server that leads everything it holds', () => {
  const gpids = Array.from({ length: 8 }, (_, i) => `1.${i}`);
  const meta = new MetaCore({ node: 'meta', replicaServers: servers, options }, 0, stateWith(...gpids.map((gpid) => config(2, 'n1', ['n2', 'n3'], gpid))));
  const configs = runBalancer(meta, servers, 200 * options.balanceIntervalMs);
  const { primaries, replicas } = spread(configs, servers);
  assert.ok(Math.max(...replicas) - Math.min(...replicas) <= 1, `replicas ${replicas}`);
  assert.ok(Math.max(...primaries) - Math.min(...primaries) <= 1, `primaries ${primaries}`);
  for (const c of configs) assert.is(new Set([c.primary, ...c.secondaries]).size, 3, `${c.gpid} whole`);
});

test('a balanced cluster is left alone', () => {
  const layout: [string, string[]][] = [['n1', ['n2', 'n3']], ['n2', ['n3', 'n1']], ['n3', ['n1', 'n2']]];
  const meta = new MetaCore({ node: 'meta', replicaServers: servers.slice(0, 3), options }, 0, stateWith(...layout.map(([p, s], i) => config(4, p, s, `1.${i}`))));
  const configs = runBalancer(meta, servers.slice(0, 3), 20 * options.balanceIntervalMs);
  assert.equal(configs.map((c) => c.ballot), [4, 4, 4]);
});

test.run();
