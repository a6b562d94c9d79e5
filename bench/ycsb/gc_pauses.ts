/**
 * The garbage-collection pauses of a Petrel server over a phase, from its /metrics
 * (`petrel_gc_pause_seconds{kind}`, a histogram of the main thread's pauses): a reading before and
 * one after, and their difference. Every write waits for all its replicas, so a pause on any of
 * the three servers delays the writes that reach it meanwhile; this says how much of a phase's
 * tail such pauses can explain.
 */

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

const SAMPLE = /^petrel_gc_pause_seconds_(bucket|sum|count)\{([^}]*)\} (\S+)$/;

/** Reads the histogram out of a /metrics text; null when the server does not export it. */
export function parseGcPauses(text: string): GcReading | null {
  const reading: GcReading = { pauses: 0, pauseSec: 0, major: 0, over20Ms: 0 };
  let seen = false;
  for (const line of text.split('\n')) {
    const match = SAMPLE.exec(line);
    if (match === null) continue;
    seen = true;
    const [, part, labels, raw] = match as unknown as [string, string, string, string];
    const value = Number(raw);
    if (part === 'sum') reading.pauseSec += value;
    else if (part === 'count') {
      reading.pauses += value;
      reading.over20Ms += value; // minus those within 0.02 s, below
      if (labels.includes('kind="major"')) reading.major += value;
    } else if (labels.includes('le="0.02"')) reading.over20Ms -= value;
  }
  return seen ? reading : null;
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
