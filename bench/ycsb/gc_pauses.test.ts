/**
 * The bench reads Petrel servers' GC pauses out of /metrics text as @petrel/base writes it: a
 * registry with the histogram, observed by hand, parsed and differenced.
 *
 *   node --import tsx bench/ycsb/gc_pauses.test.ts
 */
import { GC_PAUSE_BUCKETS_SECONDS, MetricsRegistry } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { gcPausesBetween, parseGcPauses } from './gc_pauses.js';

test('pauses, their time, the major ones and those over 20 ms, between two readings', () => {
  const registry = new MetricsRegistry();
  registry.counter('petrel_other_total', 'something else').inc();
  const histogram = registry.histogram('petrel_gc_pause_seconds', 'pauses', GC_PAUSE_BUCKETS_SECONDS);
  const minor = histogram.child({ kind: 'minor' });
  const major = histogram.child({ kind: 'major' });
  minor.observe(0.002);
  const before = parseGcPauses(registry.text());
  assert.equal(before, { pauses: 1, pauseSec: 0.002, major: 0, over20Ms: 0 });
  minor.observe(0.004);
  minor.observe(0.03); // over 20 ms
  major.observe(0.015);
  major.observe(0.02); // exactly the bound: not over
  major.observe(0.12); // over
  const after = parseGcPauses(registry.text())!;
  const between = gcPausesBetween(before!, after, 1000);
  assert.is(between.pauses, 5);
  assert.is(between.major, 3);
  assert.is(between.over20Ms, 2);
  // 4 + 30 + 15 + 20 + 120 ms of 1,000 ms.
  assert.is(between.pausePct, 18.9);
});

test('a server without the histogram reads as null', () => {
  const registry = new MetricsRegistry();
  registry.counter('petrel_other_total', 'something else').inc();
  assert.is(parseGcPauses(registry.text()), null);
  assert.is(parseGcPauses(''), null);
});

test.run();
