/**
 * The highest throughput a system sustains with its p99 latency under a bound (`--slo-p99 MS`):
 * after a workload's full-speed run, the bench runs it again at fixed rates chosen here, each for
 * the phase's duration, and reports the highest rate that met the bound.
 *
 * A probe *meets* the bound when its p99 counted from when each request was due (so a client that
 * fell behind counts against it) is at most the bound, no operation failed, and the clients
 * completed at least `keptUpFraction` of the target (a system that cannot keep up has not met it,
 * whatever the latency of what it did complete).
 *
 * The search, a pure function of the probes so far: with no rate met yet, halve the lowest failed
 * rate (from the peak down) until one is met or the rate falls under `floorFraction` of the peak;
 * then bisect, on a log scale, between the highest rate met and the lowest rate above it that
 * failed (the peak itself when none did), until the two are within `closeEnough` of each other or
 * `maxProbes` probes ran. The run at a fraction of the peak, when there is one, is the first probe.
 * Latency is noisy, so a probe can fail above a rate that met and the search still reports the
 * highest rate met; every probe is kept in the results so that a reader can see the curve.
 */

export interface SloProbe {
  targetOpsPerSec: number;
  opsPerSec: number;
  /** From due. */
  p99Ms: number;
  /** From sent (null when not measured). */
  p99MsFromSend: number | null;
  errors: number;
  met: boolean;
}

export interface SloSearchOptions {
  /** The bound on p99 latency, ms. */
  p99Ms: number;
  maxProbes: number;
  /** Stop once the lowest failed rate ÷ the highest met rate is at most this. */
  closeEnough: number;
  /** Give up below this fraction of the peak. */
  floorFraction: number;
  /** Completed ÷ target at least this, or the probe did not keep up. */
  keptUpFraction: number;
}

export const DEFAULT_SLO_SEARCH: Omit<SloSearchOptions, 'p99Ms'> = { maxProbes: 6, closeEnough: 1.2, floorFraction: 1 / 64, keptUpFraction: 0.95 };

export interface SloOutcome {
  p99BoundMs: number;
  peakOpsPerSec: number;
  /** The highest probe that met the bound (its measured throughput), or null if none did. */
  opsPerSec: number | null;
  targetOpsPerSec: number | null;
  /** `opsPerSec` ÷ the peak. */
  fractionOfPeak: number | null;
  /** The p99 (from due) of that probe. */
  p99Ms: number | null;
  /** Every probe, in the order run. */
  probes: SloProbe[];
}

export function probeOf(measured: { targetOpsPerSec: number; opsPerSec: number; p99Ms: number; p99MsFromSend: number | null; errors: number }, options: SloSearchOptions): SloProbe {
  const keptUp = measured.opsPerSec >= measured.targetOpsPerSec * options.keptUpFraction;
  return { ...measured, met: measured.errors === 0 && keptUp && measured.p99Ms <= options.p99Ms };
}

/** The rate to probe next, or null when the search is done. */
export function nextSloRate(peakOpsPerSec: number, probes: readonly SloProbe[], options: SloSearchOptions): number | null {
  if (!(peakOpsPerSec > 0) || probes.length >= options.maxProbes) return null;
  const met = probes.filter((probe) => probe.met).map((probe) => probe.targetOpsPerSec);
  const highestMet = met.length === 0 ? 0 : Math.max(...met);
  const failedAbove = probes.filter((probe) => !probe.met && probe.targetOpsPerSec > highestMet).map((probe) => probe.targetOpsPerSec);
  const lowestFailed = failedAbove.length === 0 ? peakOpsPerSec : Math.min(...failedAbove);
  if (highestMet === 0) {
    const next = lowestFailed / 2;
    return next < peakOpsPerSec * options.floorFraction ? null : next;
  }
  if (lowestFailed / highestMet <= options.closeEnough) return null;
  return Math.sqrt(highestMet * lowestFailed);
}

export function sloOutcome(peakOpsPerSec: number, probes: readonly SloProbe[], p99BoundMs: number): SloOutcome {
  let best: SloProbe | null = null;
  for (const probe of probes) if (probe.met && (best === null || probe.targetOpsPerSec > best.targetOpsPerSec)) best = probe;
  return {
    p99BoundMs,
    peakOpsPerSec,
    opsPerSec: best?.opsPerSec ?? null,
    targetOpsPerSec: best?.targetOpsPerSec ?? null,
    fractionOfPeak: best === null || !(peakOpsPerSec > 0) ? null : Math.round((best.opsPerSec / peakOpsPerSec) * 1000) / 1000,
    p99Ms: best?.p99Ms ?? null,
    probes: [...probes],
  };
}

/** The probes as `target:p99✓` (met) or `target:p99✗`, in the order run, numbers through `format`. */
export function describeProbes(probes: readonly SloProbe[], format: (value: number) => string): string {
  return probes.map((probe) => `${format(probe.targetOpsPerSec)}:${format(probe.p99Ms)}${probe.met ? '✓' : '✗'}`).join(' ');
}

/**
 * The outcome's rate through `format`, or why there is none: no probe met the bound down to the
 * lowest one tried, or there was no peak to probe from. One wording for the log, the table and the HTML.
 */
export function describeSloRate(outcome: SloOutcome, format: (value: number) => string): string {
  if (outcome.opsPerSec !== null) return format(outcome.opsPerSec);
  if (outcome.probes.length === 0) return 'no probe (no peak)';
  return `none down to ${format(Math.min(...outcome.probes.map((probe) => probe.targetOpsPerSec)))}`;
}
