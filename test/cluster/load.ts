/**
 * Helpers of the cluster tests: a write load that remembers what was acknowledged, the routing of
 * a table, and waiting for a condition with a deadline.
 */
import type { RawCluster } from '@petrel/cli';
import type { RoutingResponse } from '@petrel/protocol';
import * as assert from 'uvu/assert';

/** Writers that keep writing their own keys and remember the last value acknowledged for each. */
export class WriteLoad {
  readonly acked = new Map<string, string>();
  /** Acknowledged writes so far. */
  writes = 0;
  errors = 0;
  private running = true;
  private readonly done: Promise<void>[] = [];

  constructor(
    private readonly cluster: RawCluster,
    private readonly table: string,
    writers: number,
  ) {
    for (let w = 0; w < writers; w++) this.done.push(this.writer(w));
  }

  private async writer(w: number): Promise<void> {
    let n = 0;
    while (this.running) {
      const key = `w${w}-k${n % 50}`;
      const value = `v${n}`;
      try {
        await this.cluster.set(this.table, key, 's', value);
        this.acked.set(key, value);
        this.writes++;
      } catch {
        // Not acknowledged: may or may not be there. A later acknowledged write decides.
        this.errors++;
      }
      n++;
    }
  }

  async stop(): Promise<number> {
    this.running = false;
    await Promise.all(this.done);
    return this.acked.size;
  }

  /** Every acknowledged write is there, with its last acknowledged value (or a later one from an unacknowledged write). */
  async verify(): Promise<void> {
    for (const [key, value] of this.acked) {
      const read = await this.cluster.get(this.table, key, 's');
      assert.ok(read !== null, `acknowledged key ${key} is lost`);
      assert.ok(Number(read.slice(1)) >= Number(value.slice(1)), `${key}: read ${read}, but ${value} was acknowledged`);
    }
  }
}

export async function routing(cluster: RawCluster, table: string): Promise<RoutingResponse> {
  return (await cluster.meta('queryRouting', { name: table })) as RoutingResponse;
}

/** Polls `check` every `intervalMs` until it holds; the time it took. `what` names the condition in the timeout error. */
export async function waitUntil(what: string | (() => string), timeoutMs: number, check: () => boolean | Promise<boolean>, intervalMs = 200): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting until ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  return Date.now() - started;
}
