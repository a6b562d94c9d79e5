/** Prometheus text output, and the status endpoint over real HTTP on 127.0.0.1. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetricsRegistry, registerEventLoopDelay, registerGcPauses, startStatusServer } from './metrics.js';

test('counters, gauges and histograms print in the Prometheus text format', () => {
  const registry = new MetricsRegistry();
  const requests = registry.counter('petrel_requests_total', 'Requests served.');
  requests.inc({ op: 'get' });
  requests.inc({ op: 'get' }, 2);
  requests.inc({ op: 'set' });
  registry.gauge('petrel_partitions', 'Partitions by role.', () => [
    [{ role: 'primary' }, 3],
    [{ role: 'secondary' }, 5],
  ]);
  registry.gauge('petrel_up', 'Always 1.', () => 1);
  const latency = registry.histogram('petrel_latency_seconds', 'Latency.', [0.001, 0.01]);
  const get = latency.child({ op: 'get' });
  get.observe(0.0005);
  get.observe(0.005);
  get.observe(0.5);
  assert.is(requests.get({ op: 'get' }), 3);
  assert.is(
    registry.text(),
    [
      '# HELP petrel_requests_total Requests served.',
      '# TYPE petrel_requests_total counter',
      'petrel_requests_total{op="get"} 3',
      'petrel_requests_total{op="set"} 1',
      '# HELP petrel_partitions Partitions by role.',
      '# TYPE petrel_partitions gauge',
      'petrel_partitions{role="primary"} 3',
      'petrel_partitions{role="secondary"} 5',
      '# HELP petrel_up Always 1.',
      '# TYPE petrel_up gauge',
      'petrel_up 1',
      '# HELP petrel_latency_seconds Latency.',
      '# TYPE petrel_latency_seconds histogram',
      'petrel_latency_seconds_bucket{op="get",le="0.001"} 1',
      'petrel_latency_seconds_bucket{op="get",le="0.01"} 2',
      'petrel_latency_seconds_bucket{op="get",le="+Inf"} 3',
      'petrel_latency_seconds_sum{op="get"} 0.5055',
      'petrel_latency_seconds_count{op="get"} 3',
      '',
    ].join('\n'),
  );
});

test('bad names, label names, decreasing counters and duplicate metrics are refused', () => {
  const registry = new MetricsRegistry();
  assert.throws(() => registry.counter('bad-name', 'x'), /bad metric name/);
  const counter = registry.counter('ok_total', 'x');
  assert.throws(() => counter.inc({ 'bad-label': 'v' }), /bad metric label name/);
  assert.throws(() => counter.inc(undefined, -1), /cannot go down/);
  assert.throws(() => registry.counter('ok_total', 'again'), /registered twice/);
  assert.throws(() => registry.histogram('h', 'x', [1, 1]), /buckets must increase/);
});

test('label values are escaped', () => {
  const registry = new MetricsRegistry();
  registry.counter('c_total', 'x').inc({ table: 'a"b\\c\nd' });
  assert.match(registry.text(), /c_total\{table="a\\"b\\\\c\\nd"\} 1/);
});

test('the status server answers /metrics, /health (200 or 503) and 404 on 127.0.0.1', async () => {
  const registry = new MetricsRegistry();
  registry.gauge('petrel_up', 'Always 1.', () => 1);
  let healthy = true;
  const server = await startStatusServer({ port: 0, registry, health: () => ({ healthy, partitions: 8 }) });
  try {
    const base = `http://127.0.0.1:${server.port}`;
    const metrics = await fetch(`${base}/metrics`);
    assert.is(metrics.status, 200);
    assert.match(metrics.headers.get('content-type') ?? '', /text\/plain; version=0.0.4/);
    assert.match(await metrics.text(), /petrel_up 1/);
    const health = await fetch(`${base}/health`);
    assert.is(health.status, 200);
    assert.equal(await health.json(), { healthy: true, partitions: 8 });
    healthy = false;
    assert.is((await fetch(`${base}/health`)).status, 503);
    assert.is((await fetch(`${base}/nothing`)).status, 404);
    assert.is((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await server.close();
  }
});

/** Polls the event-loop delay gauge every `stepMs` until `quantile` appears (its first window ended); its value in seconds. */
async function firstDelayReading(registry: MetricsRegistry, quantile: string, stepMs: number, limitMs: number): Promise<number> {
  const pattern = new RegExp(`petrel_event_loop_delay_seconds\\{quantile="${quantile}"\\} ([0-9.e-]+)`);
  for (let waited = 0; waited < limitMs; waited += stepMs) {
    await new Promise((resolve) => setTimeout(resolve, stepMs));
    const found = pattern.exec(registry.text());
    if (found !== null) return Number(found[1]);
  }
  throw new Error(`no quantile ${quantile} after ${limitMs} ms:\n${registry.text()}`);
}

test('the event-loop delay gauge reports the last window: a 60 ms block shows as its maximum', async () => {
  const registry = new MetricsRegistry();
  const stop = registerEventLoopDelay(registry, 150);
  try {
    assert.not.match(registry.text(), /petrel_event_loop_delay_seconds\{/, 'nothing before the first window ends');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const blockUntil = performance.now() + 60;
    while (performance.now() < blockUntil) {
      // a synchronous stretch the loop cannot run timers through
    }
    // The first window (150 ms from the start) holds the block; read it as soon as it is out.
    const max = await firstDelayReading(registry, '1', 5, 2000);
    // 60 ms blocked, less the 10 ms the timer would have waited anyway.
    assert.ok(max >= 0.045 && max < 1, `maximum ${max} s`);
    assert.match(registry.text(), /petrel_event_loop_delay_seconds\{quantile="0.99"\}/);
  } finally {
    stop();
  }
});

test('an idle event loop reads a delay near 0, not the 10 ms sampling interval', async () => {
  const registry = new MetricsRegistry();
  const stop = registerEventLoopDelay(registry, 300);
  try {
    const median = await firstDelayReading(registry, '0.5', 20, 3000);
    assert.ok(median >= 0 && median < 0.005, `median ${median} s`);
  } finally {
    stop();
  }
});

test('the GC pause histogram counts the collections that allocation causes, by kind', async () => {
  const registry = new MetricsRegistry();
  const stop = registerGcPauses(registry);
  try {
    const count = (kind: string): number => Number(new RegExp(`petrel_gc_pause_seconds_count\\{kind="${kind}"\\} (\\d+)`).exec(registry.text())?.[1] ?? 0);
    assert.is(count('minor'), 0, 'nothing observed before any collection');
    // ~200 MB of short-lived objects: far more than the young generation holds, so it is
    // collected many times over. Entries arrive after the pause, on a later turn.
    let kept = 0;
    for (let i = 0; i < 2_000_000; i++) kept += [i, { i }, `${i}`].length;
    assert.is(kept, 6_000_000);
    for (let waited = 0; count('minor') === 0 && waited < 2000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.ok(count('minor') > 0, registry.text());
    const sum = Number(/petrel_gc_pause_seconds_sum\{kind="minor"\} ([0-9.e-]+)/.exec(registry.text())?.[1]);
    assert.ok(sum > 0 && sum < 10, `minor pauses sum to ${sum} s`);
    assert.match(registry.text(), /petrel_gc_pause_seconds_bucket\{kind="major",le="\+Inf"\} \d+/);
  } finally {
    stop();
  }
});

test.run();
