/**
 * Helpers shared by the property tests of every package: how many runs to make (more under
 * `npm run test:long`), and how to replay a failure. fast-check prints the seed and path of a
 * failing run; setting PETREL_FC_SEED (and PETREL_FC_PATH) replays exactly that run:
 *
 *   PETREL_FC_SEED=-1234 PETREL_FC_PATH="3:1" node --import tsx packages/wal/src/wal_model.test.ts
 */

export const isLongRun = process.env.PETREL_TEST_LONG === '1';

export interface PropertyParameters {
  numRuns: number;
  seed?: number;
  path?: string;
  endOnFailure?: boolean;
}

/** fast-check parameters: `runs` normally, `longRuns` under test:long, or the replay from the env. */
export function propertyParameters(runs: number, longRuns = runs * 10): PropertyParameters {
  const parameters: PropertyParameters = { numRuns: isLongRun ? longRuns : runs };
  const seed = process.env.PETREL_FC_SEED;
  if (seed !== undefined && seed !== '') {
    parameters.seed = Number(seed);
    const path = process.env.PETREL_FC_PATH;
    if (path !== undefined && path !== '') parameters.path = path;
    parameters.endOnFailure = true;
  }
  return parameters;
}
