/**
 * The negative controls: each planted bug (a test-only switch in @petrel/pacifica), the fault mix
 * and options it is run under, and the seed budget within which the simulator must catch it.
 * `findCatch` runs seeds 1, 2, ... until a violation; `measureCatchRate` counts catches over a
 * range (for the table in README.md: `node --import tsx test/sim/control_rates.ts 300`).
 */
import type { PlantedBugName, ReplicationOptions } from '@petrel/pacifica';
import type { ProfileName } from './fault_profiles.js';
import { replayCommand, runSimulation, type SimulationParameters } from './simulation.js';

export interface NegativeControl {
  bug: PlantedBugName;
  /** What the bug breaks, in a phrase. */
  breaks: string;
  profile: ProfileName;
  options?: Partial<ReplicationOptions>;
  /** Seeds (1..budget) within which it must be caught. */
  budget: number;
}

export const negativeControls: readonly NegativeControl[] = [
  { bug: 'commitOnMajority', breaks: 'commit needs every member', profile: 'default', budget: 100 },
  { bug: 'ackBeforeDurable', breaks: 'a secondary acknowledges only what is durable', profile: 'power', budget: 300 },
  { bug: 'noBallotCheckOnPrepare', breaks: 'lower-ballot prepares are refused', profile: 'partitions', budget: 300 },
  { bug: 'leaseNotShorterThanGrace', breaks: 'grace > lease + margin', profile: 'default', budget: 100 },
  { bug: 'readsBeforeReconciliation', breaks: 'no reads until reconciliation ends', profile: 'default', budget: 100 },
  { bug: 'metaAcceptsBallotPlusTwo', breaks: 'compare-and-set on ballot b → b + 1', profile: 'partitions', budget: 300 },
  {
    bug: 'ignoreLearnerSignature',
    breaks: 'a learner is promoted only on its own session’s completion',
    profile: 'lossy',
    // Learners retry more often and the meta re-proposes sooner: more sessions restart while old
    // completions are still in flight.
    options: { learnRetryMs: 100, addLearnerTimeoutMs: 1000 },
    budget: 400,
  },
  { bug: 'serveWhileHandingOver', breaks: 'a primary handing its lead over stops serving before it asks', profile: 'default', budget: 300 },
];

export function controlParameters(control: NegativeControl, seed: number): SimulationParameters {
  const parameters: SimulationParameters = { seed, mode: 'safety', bugs: { [control.bug]: true }, profile: control.profile };
  if (control.options !== undefined) parameters.options = control.options;
  return parameters;
}

export interface Catch {
  seed: number;
  invariant: string;
  message: string;
  replay: string;
}

/** The first seed in 1..budget whose run violates an invariant, or null. */
export function findCatch(control: NegativeControl): Catch | null {
  for (let seed = 1; seed <= control.budget; seed++) {
    const parameters = controlParameters(control, seed);
    const result = runSimulation(parameters);
    if (result.violation !== null) return { seed, invariant: result.violation.invariant, message: result.violation.message, replay: replayCommand(parameters) };
  }
  return null;
}

/** How many of seeds 1..seeds catch the bug, by the invariant that caught it. */
export function measureCatchRate(control: NegativeControl, seeds: number): { caught: number; byInvariant: Record<string, number>; first: number | null } {
  const byInvariant: Record<string, number> = {};
  let caught = 0;
  let first: number | null = null;
  for (let seed = 1; seed <= seeds; seed++) {
    const result = runSimulation(controlParameters(control, seed));
    if (result.violation === null) continue;
    caught++;
    first ??= seed;
    byInvariant[result.violation.invariant] = (byInvariant[result.violation.invariant] ?? 0) + 1;
  }
  return { caught, byInvariant, first };
}
