/**
 * Fault mixes for the simulator: the rates of network and disk trouble, and the relative weights
 * of injected faults. `faultProfiles` names the mixes a seed can run under; a run without an
 * explicit one takes `profileForSeed(seed)`.
 */
export interface FaultProfile {
  lossRate: number;
  duplicateRate: number;
  /** Share of messages delayed 50–400 ms. */
  longDelayRate: number;
  /** Share of messages delayed 0.8–3 s (they arrive long after newer ones). */
  veryLongDelayRate: number;
  /** Share of log syncs that take 50–300 ms. */
  slowSyncRate: number;
  /** Mean time between injected faults. */
  faultMeanIntervalMs: number;
  /** Relative weights of the fault kinds. */
  weights: Record<FaultKind, number>;
  /** Most replica servers down at once. */
  maxServersDown: number;
}

export type FaultKind = 'crashServer' | 'powerLoss' | 'crashMeta' | 'partitionPair' | 'partitionOneWay' | 'isolate' | 'primaryMeta' | 'pause' | 'eio' | 'slowDisk';

export const defaultFaultProfile: FaultProfile = {
  lossRate: 0.02,
  duplicateRate: 0.01,
  longDelayRate: 0.03,
  veryLongDelayRate: 0.004,
  slowSyncRate: 0.02,
  faultMeanIntervalMs: 1200,
  weights: { crashServer: 3, powerLoss: 1, crashMeta: 1, partitionPair: 2, partitionOneWay: 2, isolate: 1, primaryMeta: 3, pause: 2, eio: 2, slowDisk: 2 },
  maxServersDown: 2,
};

/**
 * Named fault mixes, each over the default profile. A run without an explicit `profile` takes
 * the mix `profileNames[seed % profileNames.length]`, so a seed alone names a run.
 */
export const faultProfiles = {
  default: {},
  crashes: { weights: { crashServer: 12, slowDisk: 8 } },
  lossy: { lossRate: 0.05, duplicateRate: 0.08, veryLongDelayRate: 0.05, longDelayRate: 0.1, weights: { partitionPair: 8, slowDisk: 8, isolate: 4 } },
  partitions: { weights: { isolate: 12, primaryMeta: 8, partitionPair: 6 } },
  power: { weights: { powerLoss: 6, slowDisk: 6, pause: 6, crashMeta: 4, isolate: 6 } },
  storm: { faultMeanIntervalMs: 400, weights: { eio: 6, partitionOneWay: 6 } },
} satisfies Record<string, Partial<Omit<FaultProfile, 'weights'>> & { weights?: Partial<Record<FaultKind, number>> }>;

export type ProfileName = keyof typeof faultProfiles;
export const profileNames = Object.keys(faultProfiles) as ProfileName[];

export function profileForSeed(seed: number): ProfileName {
  return profileNames[((seed % profileNames.length) + profileNames.length) % profileNames.length]!;
}
