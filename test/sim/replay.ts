/**
 * Replays one simulator seed and prints what happened:
 *
 *   node --import tsx test/sim/replay.ts --seed 42 [--mode safety|liveness] [--bug <plantedBug>]
 *        [--profile <faultMix>] [--options '<json>'] [--trace 200]
 *
 * Prints the result (violation, stats, trace hash) and, with --trace N, the last N events.
 */
import type { PlantedBugs } from '@petrel/pacifica';
import { plantedBugNames } from '@petrel/pacifica';
import { profileNames, type ProfileName } from './fault_profiles.js';
import { runSimulation, type SimulationMode, type SimulationParameters } from './simulation.js';

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index < 0 ? undefined : process.argv[index + 1];
}

const seed = Number(argument('seed'));
if (!Number.isInteger(seed)) {
  console.error('usage: replay.ts --seed N [--mode safety|liveness] [--bug name] [--profile name] [--options json] [--trace N]');
  process.exit(2);
}
const mode = (argument('mode') ?? 'safety') as SimulationMode;
if (mode !== 'safety' && mode !== 'liveness') throw new Error(`unknown mode ${mode}`);
const bug = argument('bug');
const bugs: PlantedBugs = {};
if (bug !== undefined) {
  if (!(plantedBugNames as readonly string[]).includes(bug)) throw new Error(`unknown bug ${bug}; one of ${plantedBugNames.join(', ')}`);
  (bugs as Record<string, boolean>)[bug] = true;
}
const traceTail = Number(argument('trace') ?? 0);
const parameters: SimulationParameters = { seed, mode, bugs, traceTail };
const profile = argument('profile');
if (profile !== undefined) {
  if (!(profileNames as readonly string[]).includes(profile)) throw new Error(`unknown profile ${profile}; one of ${profileNames.join(', ')}`);
  parameters.profile = profile as ProfileName;
}
const options = argument('options');
if (options !== undefined) parameters.options = JSON.parse(options) as NonNullable<SimulationParameters['options']>;
const started = performance.now();
const result = runSimulation(parameters);
const elapsed = performance.now() - started;
for (const line of result.trace) console.log(line);
console.log(JSON.stringify({ seed, mode, bug: bug ?? null, traceHash: result.traceHash, violation: result.violation, stats: result.stats }, null, 2));
console.log(`${(elapsed / 1000).toFixed(2)} s`);
process.exitCode = result.violation === null ? 0 : 1;
