/**
 * Runs a range of simulator seeds in one mode and sums up: how many ran, what they covered, and
 * every failing seed with the one-line command that replays it.
 */
import { replayCommand, runSimulation, type SimulationMode, type SimulationParameters } from './simulation.js';

export interface SeedFailure {
  seed: number;
  invariant: string;
  message: string;
  replay: string;
}

export interface SeedSummary {
  mode: SimulationMode;
  seeds: number;
  failures: SeedFailure[];
  events: number;
  operations: { ok: number; maybe: number; fail: number };
  committedDecrees: number;
  learned: { cache: number; log: number; checkpoint: number };
  handOvers: number;
  restoreFailures: number;
  reopenedPastHole: number;
  linearizabilityUnknown: number;
  maxRecoveredAfterMs: number;
  maxOperationsPerKey: number;
  maxMaybePerKey: number;
  seconds: number;
}

export function runSeeds(mode: SimulationMode, firstSeed: number, count: number, extra: Partial<SimulationParameters> = {}): SeedSummary {
  const started = performance.now();
  const summary: SeedSummary = {
    mode,
    seeds: 0,
    failures: [],
    events: 0,
    operations: { ok: 0, maybe: 0, fail: 0 },
    committedDecrees: 0,
    learned: { cache: 0, log: 0, checkpoint: 0 },
    handOvers: 0,
    restoreFailures: 0,
    reopenedPastHole: 0,
    linearizabilityUnknown: 0,
    maxRecoveredAfterMs: 0,
    maxOperationsPerKey: 0,
    maxMaybePerKey: 0,
    seconds: 0,
  };
  for (let seed = firstSeed; seed < firstSeed + count; seed++) {
    const parameters: SimulationParameters = { ...extra, seed, mode };
    const result = runSimulation(parameters);
    const stats = result.stats;
    summary.seeds++;
    summary.events += stats.events;
    summary.operations.ok += stats.operations.ok;
    summary.operations.maybe += stats.operations.maybe;
    summary.operations.fail += stats.operations.fail;
    summary.committedDecrees += stats.committedDecrees;
    summary.learned.cache += stats.learned.cache;
    summary.learned.log += stats.learned.log;
    summary.learned.checkpoint += stats.learned.checkpoint;
    summary.handOvers += stats.handOvers;
    summary.restoreFailures += stats.restoreFailures;
    summary.reopenedPastHole += stats.reopenedPastHole;
    if (stats.linearizability === 'unknown') summary.linearizabilityUnknown++;
    summary.maxRecoveredAfterMs = Math.max(summary.maxRecoveredAfterMs, stats.recoveredAfterMs ?? 0);
    summary.maxOperationsPerKey = Math.max(summary.maxOperationsPerKey, stats.history.maxOperationsPerKey);
    summary.maxMaybePerKey = Math.max(summary.maxMaybePerKey, stats.history.maxMaybePerKey);
    if (result.violation !== null) {
      const failure = { seed, invariant: result.violation.invariant, message: result.violation.message, replay: replayCommand(parameters) };
      summary.failures.push(failure);
      console.log(`FAILED seed ${seed} (${mode}, ${stats.profile}): ${failure.invariant}\n  replay: ${failure.replay}\n  ${failure.message.split('\n').slice(0, 6).join('\n  ')}`);
    }
  }
  summary.seconds = (performance.now() - started) / 1000;
  return summary;
}

export function describeSummary(summary: SeedSummary): string {
  const o = summary.operations;
  return (
    `${summary.mode}: ${summary.seeds} seeds in ${summary.seconds.toFixed(1)} s, ${summary.events} events, ` +
    `operations ok/maybe/fail ${o.ok}/${o.maybe}/${o.fail}, ${summary.committedDecrees} decrees committed, ` +
    `learned from cache/log/checkpoint ${summary.learned.cache}/${summary.learned.log}/${summary.learned.checkpoint}, primaries handed over ${summary.handOvers}, ` +
    `restores failed ${summary.restoreFailures} (reopened past a log hole ${summary.reopenedPastHole}), ` +
    `longest key history ${summary.maxOperationsPerKey} (most maybe-writes on a key ${summary.maxMaybePerKey}), ` +
    `linearizability unknown ${summary.linearizabilityUnknown}` +
    (summary.mode === 'liveness' ? `, slowest recovery ${summary.maxRecoveredAfterMs.toFixed(0)} ms after the heal` : '') +
    `, failures ${summary.failures.length}`
  );
}
