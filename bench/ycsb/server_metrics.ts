/**
 * What a Petrel server's /metrics say about a phase: a reading before it and one after, and their
 * difference.
 *
 * - The garbage-collection pauses of its main thread (`petrel_gc_pause_seconds{kind}`). Every
 *   write waits for all its replicas, so a pause on any of the three servers delays the writes
 *   that reach it meanwhile; this says how much of a phase's tail such pauses can explain.
 * - Where a write's time goes on a replica server: its logs' fsyncs, the sets it served as a
 *   primary, the prepares' round trips and the secondaries' part of them, the LSM's write stalls,
 *   and its event loop's delay (ServerLatencies).
 */
import { difference, histogramQuantile, type MetricSample, parseMetricsText, sumOf } from '@petrel/cli';

/** The histogram's figures in parsed /metrics samples (one reading, or a phase's change), summed over the kinds. */
export interface GcReading {
  pauses: number;
  pauseSec: number;
  major: number;
  /** Pauses longer than 20 ms (the bucket bound 0.02 s). */
  over20Ms: number;
}

export interface GcPauses {
  /** Time the main thread spent in collections, in % of the phase. */
  pausePct: number;
  pauses: number;
  /** Mark-compact collections (their final, stop-the-world part). */
  major: number;
  over20Ms: number;
}

/** Reads the histogram out of parsed /metrics samples; null when the server does not export it. */
export function parseGcPauses(samples: readonly MetricSample[]): GcReading | null {
  const pauses = sumOf(samples, 'petrel_gc_pause_seconds_count');
  if (pauses === undefined) return null;
  return {
    pauses,
    pauseSec: sumOf(samples, 'petrel_gc_pause_seconds_sum') ?? 0,
    major: sumOf(samples, 'petrel_gc_pause_seconds_count', { kind: 'major' }) ?? 0,
    over20Ms: pauses - (sumOf(samples, 'petrel_gc_pause_seconds_bucket', { le: '0.02' }) ?? 0),
  };
}

/** A server's /metrics text, or null when it cannot be read. */
export async function readMetricsText(metricsUrl: string): Promise<string | null> {
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) });
    return response.ok ? await response.text() : null;
  } catch {
    return null;
  }
}

/** The pauses over a phase of `wallMs` (from the readings' change); null when the server does not export them. */
export function gcPausesOver(readings: PhaseReadings, wallMs: number): GcPauses | null {
  const change = parseGcPauses(readings.change);
  if (change === null) return null;
  const { pauseSec, ...counts } = change;
  return { pausePct: Math.round((pauseSec * 1000 * 1000) / wallMs) / 10, ...counts };
}

/** What a latency histogram says about a phase: how many it counted, its p99's bucket bound, the share over a bound. */
export interface HistogramSummary {
  count: number;
  /** The upper bound (ms) of the bucket that holds the 99th percentile; null when empty or past the last bound. */
  p99AtMostMs: number | null;
  /** Share (%) of the observations above `overMs`, which must be one of the histogram's bounds. */
  overPct: number;
}

/** A server's /metrics read before and after a phase, each parsed once: the one after, and their difference. */
export interface PhaseReadings {
  after: readonly MetricSample[];
  /** after − before, sample by sample (what the counters and histograms did in the phase). */
  change: readonly MetricSample[];
}

export function phaseReadings(beforeText: string, afterText: string): PhaseReadings {
  const after = parseMetricsText(afterText);
  return { after, change: difference(after, parseMetricsText(beforeText)) };
}

/**
 * Histogram `name` (seconds, summed over the series matching `where`) over a phase; null when the
 * server does not export it.
 */
export function latencyBetween(readings: PhaseReadings, name: string, overMs: number, where?: Readonly<Record<string, string>>): HistogramSummary | null {
  const { change } = readings;
  const count = sumOf(change, `${name}_count`, where);
  if (count === undefined) return null;
  const p99 = histogramQuantile(change, name, 0.99, where);
  const atMost = sumOf(change, `${name}_bucket`, { ...where, le: String(overMs / 1000) }) ?? 0;
  return {
    count,
    p99AtMostMs: p99 === undefined || p99 === Infinity ? null : Math.round(p99 * 1e6) / 1000,
    overPct: count === 0 ? 0 : Math.round(((count - atMost) * 1000) / count) / 10,
  };
}

/** The bound (ms) the per-server latencies are cut at: a bucket bound of the servers' histograms, near the 20 ms target. */
export const SERVER_LATENCY_BOUND_MS = 25;

/**
 * Where a write's time goes on one replica server over a phase: its mutation logs' group fsyncs
 * (every replica here), the `set`s it served as a primary, from the request's arrival to the
 * reply (its own log, the secondaries' prepares, the commit), and the prepares' round trips.
 */
export interface ServerLatencies {
  logSyncs: HistogramSummary | null;
  sets: HistogramSummary | null;
  /** Prepares this server sent as a primary, from sending to the secondary's ack. */
  preparesSent: HistogramSummary | null;
  /** Prepares this server took as a secondary, from arrival to its ack. */
  preparesTaken: HistogramSummary | null;
  /** Time writes waited in the LSMs' write stalls here (all replicas, summed), ms; null when not exported. */
  lsmStallMs: number | null;
  /**
   * How late the server's event loop ran its timers over the last 10 s of the phase (its gauge
   * `petrel_event_loop_delay_seconds`, read right after the phase), p99 and max in ms.
   */
  eventLoopDelayMs: { p99: number; max: number } | null;
}

/** Where a write's time went on a replica server in the phase; null for a server without these metrics (not a replica server). */
export function serverLatencies(readings: PhaseReadings): ServerLatencies | null {
  const logSyncs = latencyBetween(readings, 'petrel_log_sync_seconds', SERVER_LATENCY_BOUND_MS);
  const sets = latencyBetween(readings, 'petrel_replica_request_seconds', SERVER_LATENCY_BOUND_MS, { op: 'set' });
  if (logSyncs === null && sets === null) return null;
  return {
    logSyncs,
    sets,
    preparesSent: latencyBetween(readings, 'petrel_replica_prepare_seconds', SERVER_LATENCY_BOUND_MS, { side: 'primary' }),
    preparesTaken: latencyBetween(readings, 'petrel_replica_prepare_seconds', SERVER_LATENCY_BOUND_MS, { side: 'secondary' }),
    lsmStallMs: sumOf(readings.change, 'petrel_lsm_write_stall_ms') ?? null,
    eventLoopDelayMs: eventLoopDelay(readings.after),
  };
}

/** The event-loop delay gauge's p99 and max (ms) in a parsed /metrics reading; null when absent. */
export function eventLoopDelay(samples: readonly MetricSample[]): { p99: number; max: number } | null {
  const p99 = sumOf(samples, 'petrel_event_loop_delay_seconds', { quantile: '0.99' });
  const max = sumOf(samples, 'petrel_event_loop_delay_seconds', { quantile: '1' });
  return p99 === undefined || max === undefined ? null : { p99: Math.round(p99 * 10_000) / 10, max: Math.round(max * 10_000) / 10 };
}

/** One summary as a short phrase (rate over the phase, the p99's bucket bound, the share over the bound). */
export function describeLatency(summary: HistogramSummary | null, seconds: number): string {
  if (summary === null || summary.count === 0) return '–';
  return `${Math.round(summary.count / seconds).toLocaleString('en-US')}/s, p99 ≤${summary.p99AtMostMs ?? '∞'}, ${summary.overPct}% >${SERVER_LATENCY_BOUND_MS}`;
}

/** The four latency figures of a server, with the labels the reports give them, in their order. */
export const SERVER_LATENCY_FIGURES: readonly (readonly [label: string, key: 'logSyncs' | 'sets' | 'preparesSent' | 'preparesTaken'])[] = [
  ['log fsyncs', 'logSyncs'],
  ['sets as primary', 'sets'],
  ['prepares sent', 'preparesSent'],
  ['prepares taken', 'preparesTaken'],
];

/** The four figures of a server as (label, phrase) pairs. */
export function describeServerLatencies(latencies: ServerLatencies, seconds: number): [string, string][] {
  return SERVER_LATENCY_FIGURES.map(([label, key]) => [label, describeLatency(latencies[key], seconds)]);
}
