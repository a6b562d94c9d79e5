/**
 * Metrics in the Prometheus text format (version 0.0.4), and the small HTTP endpoint every server
 * exposes: `GET /metrics` (the registry's text) and `GET /health` (a JSON document, 200 when
 * healthy, 503 when not).
 *
 * Three kinds: counters (only go up), gauges (read from a callback when scraped, so the value is
 * never stale and costs nothing between scrapes), and histograms (cumulative buckets, sum and
 * count; observing is a short loop over the bucket bounds, no allocation). Every metric may have
 * labels; a child per label set is made on first use and kept.
 */
import { createServer, type Server } from 'node:http';
import { constants as perfConstants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { PetrelError } from './errors.js';

export type Labels = Readonly<Record<string, string>>;

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function labelKey(labels: Labels | undefined): string {
  if (labels === undefined) return '';
  const names = Object.keys(labels).sort();
  for (const name of names) if (!LABEL_NAME.test(name)) throw new PetrelError('INVALID_ARGUMENT', `bad metric label name ${JSON.stringify(name)}`);
  return names.map((name) => `${name}="${escapeLabelValue(labels[name] as string)}"`).join(',');
}

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function withLabels(name: string, key: string, extra?: string): string {
  const all = [key, extra].filter((part) => part !== undefined && part !== '').join(',');
  return all === '' ? name : `${name}{${all}}`;
}

abstract class Metric {
  constructor(
    readonly name: string,
    readonly help: string,
  ) {
    if (!NAME.test(name)) throw new PetrelError('INVALID_ARGUMENT', `bad metric name ${JSON.stringify(name)}`);
  }
  abstract readonly type: 'counter' | 'gauge' | 'histogram';
  abstract lines(): string[];
}

export class Counter extends Metric {
  readonly type = 'counter';
  private readonly values = new Map<string, number>();

  inc(labels?: Labels, by = 1): void {
    if (!(by >= 0)) throw new PetrelError('INVALID_ARGUMENT', `counter ${this.name} cannot go down (by ${by})`);
    const key = labelKey(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(labels?: Labels): number {
    return this.values.get(labelKey(labels)) ?? 0;
  }

  /** The child for a label set, to count without building its key each time (hot paths). */
  child(labels?: Labels): { inc(by?: number): void } {
    const key = labelKey(labels);
    if (!this.values.has(key)) this.values.set(key, 0);
    const values = this.values;
    return {
      inc(by = 1): void {
        values.set(key, (values.get(key) as number) + by);
      },
    };
  }

  lines(): string[] {
    return [...this.values].map(([key, value]) => `${withLabels(this.name, key)} ${formatNumber(value)}`);
  }
}

/** A gauge read when scraped: the callback returns one value, or one per label set. */
export class Gauge extends Metric {
  readonly type = 'gauge';

  constructor(
    name: string,
    help: string,
    private readonly read: () => number | ReadonlyArray<readonly [Labels, number]>,
  ) {
    super(name, help);
  }

  lines(): string[] {
    const value = this.read();
    if (typeof value === 'number') return [`${this.name} ${formatNumber(value)}`];
    return value.map(([labels, v]) => `${withLabels(this.name, labelKey(labels))} ${formatNumber(v)}`);
  }
}

/** Latency buckets in seconds, 100 µs to 10 s. */
export const LATENCY_BUCKETS_SECONDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface HistogramChild {
  counts: Float64Array;
  sum: number;
  count: number;
}

export class Histogram extends Metric {
  readonly type = 'histogram';
  private readonly children = new Map<string, HistogramChild>();

  constructor(
    name: string,
    help: string,
    readonly buckets: readonly number[] = LATENCY_BUCKETS_SECONDS,
  ) {
    super(name, help);
    for (let i = 1; i < buckets.length; i++) {
      if (!((buckets[i] as number) > (buckets[i - 1] as number))) throw new PetrelError('INVALID_ARGUMENT', `histogram ${name}: buckets must increase`);
    }
  }

  /** The child for a label set; keep it to observe without looking it up each time. */
  child(labels?: Labels): { observe(value: number): void } {
    const key = labelKey(labels);
    let child = this.children.get(key);
    if (child === undefined) {
      child = { counts: new Float64Array(this.buckets.length), sum: 0, count: 0 };
      this.children.set(key, child);
    }
    const target = child;
    const buckets = this.buckets;
    return {
      observe(value: number): void {
        for (let i = 0; i < buckets.length; i++) {
          if (value <= (buckets[i] as number)) {
            target.counts[i] = (target.counts[i] as number) + 1;
            break;
          }
        }
        target.sum += value;
        target.count++;
      },
    };
  }

  observe(value: number, labels?: Labels): void {
    this.child(labels).observe(value);
  }

  lines(): string[] {
    const out: string[] = [];
    for (const [key, child] of this.children) {
      let cumulative = 0;
      this.buckets.forEach((bound, i) => {
        cumulative += child.counts[i] as number;
        out.push(`${withLabels(`${this.name}_bucket`, key, `le="${formatNumber(bound)}"`)} ${cumulative}`);
      });
      out.push(`${withLabels(`${this.name}_bucket`, key, 'le="+Inf"')} ${child.count}`);
      out.push(`${withLabels(`${this.name}_sum`, key)} ${formatNumber(child.sum)}`);
      out.push(`${withLabels(`${this.name}_count`, key)} ${child.count}`);
    }
    return out;
  }
}

/**
 * The event loop's delay (how late a timer of the loop fires: the longest synchronous stretch a
 * request may wait behind), as `petrel_event_loop_delay_seconds{quantile="0.5"|"0.99"|"1"}` over
 * the last complete window of `windowMs` (10 s), measured with perf_hooks.monitorEventLoopDelay
 * at 10 ms resolution. Returns a function that stops the measurement.
 */
export function registerEventLoopDelay(registry: MetricsRegistry, windowMs = 10_000): () => void {
  const resolutionMs = 10;
  const histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  histogram.enable();
  // The histogram holds the time between two runs of its 10 ms timer, so an idle loop reads
  // ~10 ms: the delay is what is left after the interval itself.
  const late = (nanoseconds: number): number => Math.max(0, nanoseconds / 1e6 - resolutionMs) / 1000;
  let last: ReadonlyArray<readonly [Labels, number]> = [];
  const timer = setInterval(() => {
    last =
      histogram.count === 0
        ? []
        : [
            [{ quantile: '0.5' }, late(histogram.percentile(50))],
            [{ quantile: '0.99' }, late(histogram.percentile(99))],
            [{ quantile: '1' }, late(histogram.max)],
          ];
    histogram.reset();
  }, windowMs);
  timer.unref();
  registry.gauge('petrel_event_loop_delay_seconds', `How late the event loop ran its timers, over the last ${windowMs / 1000} s (quantiles; 1 is the maximum).`, () => last);
  return () => {
    clearInterval(timer);
    histogram.disable();
  };
}

/** Pause buckets in seconds, 0.5 ms to 1 s: collections are short, and the tail is what matters. */
export const GC_PAUSE_BUCKETS_SECONDS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 1];

const GC_KINDS: ReadonlyMap<number, string> = new Map([
  [perfConstants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

/**
 * The main thread's garbage-collection pauses, as the histogram
 * `petrel_gc_pause_seconds{kind="minor"|"major"|"incremental"|"weakcb"}`: each is a stretch in
 * which the event loop ran nothing else, so a request may wait behind it (a server in a cluster
 * delays every write it takes part in). Measured with a PerformanceObserver on `gc` entries,
 * which Node reports after the pause (one entry per collection: a few a second under load).
 * Returns a function that stops the measurement.
 */
export function registerGcPauses(registry: MetricsRegistry): () => void {
  const histogram = registry.histogram('petrel_gc_pause_seconds', "The main thread's garbage-collection pauses, by kind (minor: young generation; major: mark-compact).", GC_PAUSE_BUCKETS_SECONDS);
  const byKind = new Map([...GC_KINDS].map(([code, kind]) => [code, histogram.child({ kind })]));
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } | null }).detail?.kind;
      if (kind !== undefined) byKind.get(kind)?.observe(entry.duration / 1000);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private add<M extends Metric>(metric: M): M {
    if (this.metrics.has(metric.name)) throw new PetrelError('ALREADY_EXISTS', `metric ${metric.name} is registered twice`);
    this.metrics.set(metric.name, metric);
    return metric;
  }

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  gauge(name: string, help: string, read: () => number | ReadonlyArray<readonly [Labels, number]>): Gauge {
    return this.add(new Gauge(name, help, read));
  }

  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  /** The exposition text: HELP and TYPE lines, then the samples, for every metric. */
  text(): string {
    const out: string[] = [];
    for (const metric of this.metrics.values()) {
      out.push(`# HELP ${metric.name} ${metric.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${metric.name} ${metric.type}`);
      out.push(...metric.lines());
    }
    return out.join('\n') + '\n';
  }
}

export interface StatusServerOptions {
  host?: string;
  port: number;
  registry: MetricsRegistry;
  /** The health document; `healthy: false` answers 503. */
  health: () => { healthy: boolean; [key: string]: unknown };
}

/**
 * Serves GET /metrics and GET /health; resolves once listening. Port 0 picks a free port. Every
 * server's metrics include the event loop's delay (registerEventLoopDelay) and the garbage
 * collector's pauses (registerGcPauses), measured while the status server runs.
 */
export async function startStatusServer(options: StatusServerOptions): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    try {
      if (request.method !== 'GET') {
        response.writeHead(405, { allow: 'GET' }).end('only GET\n');
      } else if (path === '/metrics') {
        response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(options.registry.text());
      } else if (path === '/health') {
        const health = options.health();
        response.writeHead(health.healthy ? 200 : 503, { 'content-type': 'application/json' }).end(JSON.stringify(health) + '\n');
      } else {
        response.writeHead(404).end('not found: try /metrics or /health\n');
      }
    } catch (error) {
      response.writeHead(500).end(`${String(error)}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const stopEventLoopDelay = registerEventLoopDelay(options.registry);
  const stopGcPauses = registerGcPauses(options.registry);
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    close: () =>
      new Promise<void>((resolve) => {
        stopEventLoopDelay();
        stopGcPauses();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
