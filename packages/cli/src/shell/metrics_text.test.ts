import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { difference, groupBy, histogramQuantile, parseMetricsText, sumOf } from './metrics_text.js';

const TEXT = `# HELP petrel_replica_requests_total Client requests.
# TYPE petrel_replica_requests_total counter
petrel_replica_requests_total{op="get",outcome="ok"} 90
petrel_replica_requests_total{op="get",outcome="TIMEOUT"} 2
petrel_replica_requests_total{op="set",outcome="ok"} 40
petrel_replica_request_seconds_bucket{le="0.001",op="get"} 50
petrel_replica_request_seconds_bucket{le="0.01",op="get"} 99
petrel_replica_request_seconds_bucket{le="+Inf",op="get"} 100
petrel_replica_request_seconds_bucket{le="0.001",op="set"} 0
petrel_replica_request_seconds_bucket{le="0.01",op="set"} 0
petrel_replica_request_seconds_bucket{le="+Inf",op="set"} 100
petrel_lsm_bytes 4096
weird_label{path="a\\"b\\\\c"} 1
not a metric line
`;

test('samples parse with their labels; comments and junk are skipped', () => {
  const samples = parseMetricsText(TEXT);
  assert.is(samples.length, 11);
  assert.equal(samples[0], { name: 'petrel_replica_requests_total', labels: { op: 'get', outcome: 'ok' }, value: 90 });
  assert.equal(samples[10]!.labels, { path: 'a"b\\c' });
});

test('sums over label subsets and groups by a label', () => {
  const samples = parseMetricsText(TEXT);
  assert.is(sumOf(samples, 'petrel_replica_requests_total'), 132);
  assert.is(sumOf(samples, 'petrel_replica_requests_total', { outcome: 'ok' }), 130);
  assert.is(sumOf(samples, 'petrel_replica_requests_total', { op: 'get' }), 92);
  assert.is(sumOf(samples, 'absent'), undefined);
  assert.equal([...groupBy(samples, 'petrel_replica_requests_total', 'op')], [['get', 92], ['set', 40]]);
});

test('the difference of two scrapes counts samples new in the second from zero', () => {
  const before = parseMetricsText('a{x="1"} 5\nb 1\n');
  const after = parseMetricsText('a{x="1"} 8\nb 1\nc 4\n');
  assert.equal(difference(after, before).map((sample) => sample.value), [3, 0, 4]);
});

test('quantiles come from the first bucket holding them, summed over label sets', () => {
  const samples = parseMetricsText(TEXT);
  assert.is(histogramQuantile(samples, 'petrel_replica_request_seconds', 0.5, { op: 'get' }), 0.001);
  assert.is(histogramQuantile(samples, 'petrel_replica_request_seconds', 0.99, { op: 'get' }), 0.01);
  assert.is(histogramQuantile(samples, 'petrel_replica_request_seconds', 1, { op: 'get' }), Infinity);
  assert.is(histogramQuantile(samples, 'petrel_replica_request_seconds', 0.2), 0.001, 'get and set together: 50 of 200 under 1 ms');
  assert.is(histogramQuantile(samples, 'petrel_replica_request_seconds', 0.5, { op: 'none' }), undefined);
});

test.run();
