/**
 * A system under test as the runner sees it: something that can say whether it can run on this
 * machine, start its servers, hand out an AdapterSpec for the client workers, and stop again.
 */
import type { AdapterSpec } from '../adapter.js';

export interface StartOptions {
  /** A fresh directory for the servers' data; removed by the runner afterwards. */
  dataDir: string;
  /**
   * Where to write a CPU profile (`node --cpu-prof`) of one server process, or null for none.
   * Only systems whose servers run on Node (Petrel) can honour it; the others ignore it.
   */
  profileDir: string | null;
  /** Petrel: partitions of the benchmark table. */
  partitionCount: number;
  log: (line: string) => void;
}

export interface ServerProcess {
  /** e.g. "meta", "replica1", "m0". */
  name: string;
  pid: number;
  /** Its /metrics endpoint (Petrel's servers), read around each phase for the GC pauses. */
  metricsUrl?: string;
}

export interface RunningSystem {
  /** What ran, for the report (version, durability settings, members). */
  description: string;
  adapter: AdapterSpec;
  /** The server processes, whose CPU time the runner reports. */
  servers: ServerProcess[];
  /** The server whose CPU profile is being recorded, and the file it is written to on stop. */
  profiled: { name: string; file: string } | null;
  /** Stops every server (a profiled one gets time to write its profile). */
  stop(): Promise<void>;
}

export interface SystemUnderTest {
  readonly name: string;
  /** Null when the system can run here; otherwise why not (binary or npm client missing). */
  unavailableReason(): Promise<string | null>;
  start(options: StartOptions): Promise<RunningSystem>;
}
