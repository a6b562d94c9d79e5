/**
 * The in-process "system": no server, each worker keeps its own Map (adapters/memory.ts). A run
 * against it measures what the load generator alone can issue per client process, which is how
 * the README shows that the client side is not what bounds the peers' figures. With more than
 * one client, a worker only sees the records it loaded itself, so reads of the others' records
 * count as "not found"; that costs the same as a hit here.
 */
import type { RunningSystem, SystemUnderTest } from './system.js';

export class MemorySystem implements SystemUnderTest {
  readonly name = 'memory';

  async unavailableReason(): Promise<string | null> {
    return null;
  }

  async start(): Promise<RunningSystem> {
    return {
      description: 'in-process Map in each client worker (no server): the load generator alone',
      adapter: { module: new URL('../adapters/memory.ts', import.meta.url).href, options: {} },
      servers: [],
      profiled: null,
      stop: async () => {},
    };
  }
}
