/**
 * PrepareTiming: a primary's prepare round trips and a secondary's arrival-to-ack times, from the
 * messages a server sends and receives, on a hand-driven clock.
 */
import { MetricsRegistry } from '@petrel/base';
import type { Message, Mutation, PartitionConfiguration } from '@petrel/pacifica';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PrepareTiming } from './prepare_timing.js';

function prepare(gpid: string, decree: number): Message {
  const mutation: Mutation = { gpid, ballot: 3, decree, lastCommitted: decree - 1, writes: [] };
  const config = { gpid, ballot: 3, primary: 'a', secondaries: ['b', 'c'] } as unknown as PartitionConfiguration;
  return { type: 'prepare', config, mutation };
}

function ack(gpid: string, decree: number, error?: 'log-failure'): Message {
  return error === undefined ? { type: 'prepareAck', gpid, ballot: 3, decree } : { type: 'prepareAck', gpid, ballot: 3, decree, error };
}

/** count and sum of the histogram's series `side`. */
function series(registry: MetricsRegistry, side: string): { count: number; sum: number } {
  const text = registry.text();
  const count = Number(new RegExp(`petrel_replica_prepare_seconds_count\\{side="${side}"\\} (\\S+)`).exec(text)?.[1] ?? 0);
  const sum = Number(new RegExp(`petrel_replica_prepare_seconds_sum\\{side="${side}"\\} (\\S+)`).exec(text)?.[1] ?? 0);
  return { count, sum };
}

test('a primary times each secondary from its prepare to its ack; a secondary from arrival to its ack', () => {
  let now = 1000;
  const registry = new MetricsRegistry();
  const timing = new PrepareTiming(registry.histogram('petrel_replica_prepare_seconds', 'prepares'), () => now);
  // As a primary of 1.0: decree 5 to b and c.
  timing.sending('b', prepare('1.0', 5));
  timing.sending('c', prepare('1.0', 5));
  now += 4;
  timing.receiving('b', ack('1.0', 5));
  now += 6;
  timing.receiving('c', ack('1.0', 5));
  // An ack nobody waits for (a duplicate, or from a server never sent to) is ignored.
  timing.receiving('c', ack('1.0', 5));
  timing.receiving('d', ack('1.0', 5));
  assert.equal(series(registry, 'primary'), { count: 2, sum: 0.014 });
  // As a secondary of 2.1: the prepare arrives, the ack leaves 7 ms later.
  timing.receiving('a', prepare('2.1', 9));
  now += 7;
  timing.sending('a', ack('2.1', 9));
  assert.equal(series(registry, 'secondary'), { count: 1, sum: 0.007 });
  assert.equal(timing.outstanding, { sent: 0, received: 0 });
});

test('a refused prepare is not timed; a resent one counts from its first sending', () => {
  let now = 0;
  const registry = new MetricsRegistry();
  const timing = new PrepareTiming(registry.histogram('petrel_replica_prepare_seconds', 'prepares'), () => now);
  timing.sending('b', prepare('1.0', 1));
  now = 50;
  timing.receiving('b', ack('1.0', 1, 'log-failure'));
  timing.sending('b', prepare('1.0', 2));
  now = 60;
  timing.sending('b', prepare('1.0', 2));
  now = 65;
  timing.receiving('b', ack('1.0', 2));
  assert.equal(series(registry, 'primary'), { count: 1, sum: 0.015 });
});

test('prepares that never get an ack are forgotten past the limit, oldest first', () => {
  let now = 0;
  const registry = new MetricsRegistry();
  const timing = new PrepareTiming(registry.histogram('petrel_replica_prepare_seconds', 'prepares'), () => now, 100);
  for (let decree = 1; decree <= 250; decree++) timing.sending('dead', prepare('1.0', decree));
  assert.is(timing.outstanding.sent, 100);
  now = 1;
  timing.receiving('dead', ack('1.0', 1)); // forgotten
  timing.receiving('dead', ack('1.0', 250));
  assert.equal(series(registry, 'primary'), { count: 1, sum: 0.001 });
});

test.run();
