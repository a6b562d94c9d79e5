/**
 * The garbage-collection pauses of a Petrel server over a phase, from its /metrics
 * (`petrel_gc_pause_seconds{kind}`, a histogram of the main thread's pauses): a reading before and
 * one after, and their difference. Every write waits for all its replicas, so a pause on any of
 * the three servers delays the writes that reach it meanwhile; this says how much of a phase's
 * tail such pauses can explain.
 */
import { parseMetricsText, sumOf } from '@petrel/cli';

/** The histogram's cumulative figures at one moment, summed over the kinds (and the major ones). */
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

/** Reads the histogram out of a /metrics text (the shell's parser); null when the server does not export it. */
export function parseGcPauses(text: string): GcReading | null {
  const samples = parseMetricsText(text);
  const pauses = sumOf(samples, 'petrel_gc_pause_seconds_count');
  if (pauses === undefined) return null;
  return {
    pauses,
    pauseSec: sumOf(samples, 'petrel_gc_pause_seconds_sum') ?? 0,
    major: sumOf(samples, 'petrel_gc_pause_seconds_count', { kind: 'major' }) ?? 0,
    over20Ms: pauses - (sumOf(samples, 'petrel_gc_pause_seconds_bucket', { le: '0.02' }) ?? 0),
  };
}

export async function readGcPauses(metricsUrl: string): Promise<GcReading | null> {
  try {
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(2000) });
    return response.ok ? parseGcPauses(await response.text()) : null;
  } catch {
    return null;
  }
}

export function gcPausesBetween(before: GcReading, after: GcReading, wallMs: number): GcPauses {
  return {
    pausePct: Math.round(((after.pauseSec - before.pauseSec) * 1000 * 1000) / wallMs) / 10,
    pauses: after.pauses - before.pauses,
    major: after.major - before.major,
    over20Ms: after.over20Ms - before.over20Ms,
  };
}
