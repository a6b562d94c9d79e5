/**
 * The bench reads Petrel servers' GC pauses, latency histograms and gauges out of /metrics text as
 * @petrel/base writes it: a registry with the metrics, observed by hand, parsed and differenced.
 *
 *   node --import tsx bench/ycsb/server_metrics.test.ts
 */
import { GC_PAUSE_BUCKETS_SECONDS, LATENCY_BUCKETS_SECONDS, MetricsRegistry } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseMetricsText } from '@petrel/cli';
import { eventLoopDelay, gcPausesOver, latencyBetween, parseGcPauses, phaseReadings, SERVER_LATENCY_BOUND_MS, serverLatencies } from './server_metrics.js';

test('pauses, their time, the major ones and those over 20 ms, between two readings (the phase\'s change)', () => {
  const registry = new MetricsRegistry();
  registry.counter('petrel_other_total', 'something else').inc();
  const histogram = registry.histogram('petrel_gc_pause_seconds', 'pauses', GC_PAUSE_BUCKETS_SECONDS);
  const minor = histogram.child({ kind: 'minor' });
  const major = histogram.child({ kind: 'major' });
  minor.observe(0.002);
  const beforeText = registry.text();
  const before = parseGcPauses(parseMetricsText(beforeText));
  assert.equal(before, { pauses: 1, pauseSec: 0.002, major: 0, over20Ms: 0 });
  minor.observe(0.004);
  minor.observe(0.03); // over 20 ms
  major.observe(0.015);
  major.observe(0.02); // exactly the bound: not over
  major.observe(0.12); // over
  const between = gcPausesOver(phaseReadings(beforeText, registry.text()), 1000)!;
  assert.is(between.pauses, 5);
  assert.is(between.major, 3);
  assert.is(between.over20Ms, 2);
  // 4 + 30 + 15 + 20 + 120 ms of 1,000 ms.
  assert.is(between.pausePct, 18.9);
});

test('a server without the histogram reads as null', () => {
  const registry = new MetricsRegistry();
  registry.counter('petrel_other_total', 'something else').inc();
  assert.is(parseGcPauses(parseMetricsText(registry.text())), null);
  assert.is(parseGcPauses(parseMetricsText('')), null);
});

test('a latency histogram over a phase: its count, the p99 bucket bound and the share over 25 ms, for one label', () => {
  assert.ok(LATENCY_BUCKETS_SECONDS.includes(SERVER_LATENCY_BOUND_MS / 1000), 'the bound is one of the buckets');
  const registry = new MetricsRegistry();
  const histogram = registry.histogram('petrel_replica_prepare_seconds', 'prepares');
  const primary = histogram.child({ side: 'primary' });
  const secondary = histogram.child({ side: 'secondary' });
  for (let i = 0; i < 50; i++) primary.observe(0.03); // before the phase: not counted
  const before = registry.text();
  for (let i = 0; i < 196; i++) primary.observe(0.003); // bucket ≤ 5 ms
  primary.observe(0.025); // exactly the bound: not over
  primary.observe(0.04); // ≤ 50 ms
  primary.observe(0.2); // ≤ 250 ms
  primary.observe(0.3); // ≤ 500 ms
  for (let i = 0; i < 10; i++) secondary.observe(0.9);
  const after = registry.text();
  const summary = latencyBetween(phaseReadings(before, after), 'petrel_replica_prepare_seconds', SERVER_LATENCY_BOUND_MS, { side: 'primary' });
  // 200 observations: the 99th percentile (rank 198) is the 2nd slowest but one, in ≤ 50 ms.
  assert.equal(summary, { count: 200, p99AtMostMs: 50, overPct: 1.5 });
  const both = latencyBetween(phaseReadings(before, after), 'petrel_replica_prepare_seconds', SERVER_LATENCY_BOUND_MS);
  assert.is(both!.count, 210);
  assert.is(both!.p99AtMostMs, 1000);
  assert.is(latencyBetween(phaseReadings(before, after), 'petrel_log_sync_seconds', SERVER_LATENCY_BOUND_MS), null);
  // Nothing observed in the phase: a count of 0, no percentile.
  assert.equal(latencyBetween(phaseReadings(after, after), 'petrel_replica_prepare_seconds', SERVER_LATENCY_BOUND_MS, { side: 'primary' }), { count: 0, p99AtMostMs: null, overPct: 0 });
});

test("a replica server's LSM write-stall time over a phase: the gauge's change", () => {
  let stalled = 120;
  const registry = new MetricsRegistry();
  registry.histogram('petrel_log_sync_seconds', 'syncs').observe(0.001);
  const withoutStalls = registry.text();
  registry.gauge('petrel_lsm_write_stall_ms', 'stalls', () => stalled);
  const before = registry.text();
  stalled = 170.5;
  assert.is(serverLatencies(phaseReadings(before, registry.text()))!.lsmStallMs, 50.5);
  assert.is(serverLatencies(phaseReadings(withoutStalls, withoutStalls))!.lsmStallMs, null);
  // Neither a log nor a primary's sets: not a replica server.
  assert.is(serverLatencies(phaseReadings('', new MetricsRegistry().text())), null);
});

test('the event-loop delay gauge, p99 and max in ms', () => {
  const registry = new MetricsRegistry();
  assert.is(eventLoopDelay(parseMetricsText(registry.text())), null);
  registry.gauge('petrel_event_loop_delay_seconds', 'delay', () => [
    [{ quantile: '0.5' }, 0.0101],
    [{ quantile: '0.99' }, 0.01234],
    [{ quantile: '1' }, 0.0456],
  ]);
  assert.equal(eventLoopDelay(parseMetricsText(registry.text())), { p99: 12.3, max: 45.6 });
});

test.run();
