/**
 * TableRouting: the client's cached routing table of one table — for each partition its ballot,
 * primary and secondaries — as the meta last gave it (queryRouting).
 *
 * - Refreshes are single-flight: every call that needs fresh routing waits on the same query,
 *   which runs under its own deadline (the client's default timeout) so that one caller's short
 *   timeout cannot cut it short for the others.
 * - A stale answer never replaces newer knowledge: a partition's entry is replaced only by one
 *   with a ballot at least as high (a lagging or deposed meta can answer with older ballots).
 * - After SERVER_CHANGED from a replica, a call refreshes only if the cache still holds the
 *   ballot it used: when another call already brought a newer configuration, it just retries.
 * - The table is gone (APP_NOT_EXIST) when the meta says so, or names another table id under
 *   this name (dropped and created again), or reports it dropped.
 */
import { PetrelError } from '@petrel/base';
import type { CallContext, LiveCalls } from './call_context.js';
import { withDeadline } from './call_context.js';
import type { MetaClient } from './meta_client.js';
import { type Routing, routingOf } from './meta_results.js';
import type { PartitionConfig, TableInfo } from './types.js';

export class TableRouting {
  private table: TableInfo;
  private partitions: PartitionConfig[];
  private refreshing: Promise<void> | undefined;
  private refreshedAtMs = Number.NEGATIVE_INFINITY;
  private stale = false;
  /** Routing queries made, for tests. */
  refreshCount = 0;

  constructor(
    private readonly meta: MetaClient,
    routing: Routing,
    private readonly refreshTimeoutMs: number,
    private readonly live: LiveCalls,
  ) {
    this.table = routing.table;
    this.partitions = routing.partitions;
  }

  get id(): number {
    return this.table.id;
  }

  get name(): string {
    return this.table.name;
  }

  get partitionCount(): number {
    return this.partitions.length;
  }

  /** The cached configuration of a partition. */
  cached(partitionIndex: number): PartitionConfig {
    return this.partitions[partitionIndex] as PartitionConfig;
  }

  /** Marks the whole cache for a refresh before its next use (after this client dropped the table). */
  invalidate(): void {
    this.stale = true;
  }

  /** Whether the cache must be refreshed before its next use. */
  get isStale(): boolean {
    return this.stale;
  }

  /** The configuration to use now: the cached one, refreshed first if the cache was invalidated. */
  async config(partitionIndex: number, context: CallContext): Promise<PartitionConfig> {
    if (this.stale) await this.refresh(context);
    return this.cached(partitionIndex);
  }

  /**
   * Queries the meta (sharing a query in flight); APP_NOT_EXIST when the table is gone. With
   * `minAgeMs`, an answer received less than that long ago is good enough: many calls failing
   * against one server at once do not each send a query.
   */
  refresh(context: CallContext, minAgeMs = 0): Promise<void> {
    if (this.refreshing === undefined) {
      if (!this.stale && performance.now() - this.refreshedAtMs < minAgeMs) return Promise.resolve();
      this.refreshCount++;
      const query = withDeadline(`routing query of table ${this.table.name}`, this.refreshTimeoutMs, (own) => this.meta.call('queryRouting', { name: this.table.name }, own, true), this.live);
      this.refreshing = query.then(
        (result) => {
          this.refreshing = undefined;
          this.refreshedAtMs = performance.now();
          this.update(routingOf(result));
        },
        (error: unknown) => {
          this.refreshing = undefined;
          throw error;
        },
      );
      this.refreshing.catch(() => undefined);
    }
    return context.race(this.refreshing);
  }

  /**
   * Refreshes after a replica refused `ballot` of a partition, unless a newer one is cached
   * already, or the last answer is younger than `minAgeMs`.
   */
  async refreshAfter(partitionIndex: number, ballot: number, context: CallContext, minAgeMs = 0): Promise<void> {
    if (this.cached(partitionIndex).ballot > ballot) return;
    await this.refresh(context, minAgeMs);
  }

  /** Takes a routing answer (throws APP_NOT_EXIST when it shows the table gone). */
  update(routing: Routing): void {
    const table = routing.table;
    if (table.id !== this.table.id) throw new PetrelError('APP_NOT_EXIST', `table ${this.table.name} (id ${this.table.id}) was dropped; the name now belongs to table id ${table.id}`);
    if (table.status === 'dropped') throw new PetrelError('APP_NOT_EXIST', `table ${this.table.name} (id ${this.table.id}) was dropped`);
    if (routing.partitions.length !== this.partitions.length) {
      throw new PetrelError('SERVER_INTERNAL_ERROR', `table ${this.table.name} has ${routing.partitions.length} partitions now, ${this.partitions.length} before: splits are not supported`);
    }
    this.table = table;
    this.stale = false;
    const next = this.partitions.slice();
    routing.partitions.forEach((partition, index) => {
      if (partition.ballot >= (next[index] as PartitionConfig).ballot) next[index] = partition;
    });
    this.partitions = next;
  }
}
