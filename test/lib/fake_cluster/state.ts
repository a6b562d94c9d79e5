/**
 * The fake cluster's state: its tables, their partitions, and who is primary of each — kept in
 * memory and shared by the fake meta and replica servers (which all run in the test's process).
 *
 * There is no replication: each partition is one storage app (the real `StorageApp` over the
 * in-memory engine) that moves with the primary. The routing the meta gives out is the
 * partition's *announced* configuration, which may lag the real one on purpose
 * (`announceDelayMs` of movePrimary), to play a meta that has not caught up yet.
 */
import { type Clock, PetrelError } from '@petrel/base';
import type { PartitionRouting, TableInfo } from '@petrel/protocol';
import { MemoryEngine, StorageApp, type StorageAppOptions } from '@petrel/replica';

export interface FakePartition {
  index: number;
  ballot: number;
  /** Index of the replica server that serves it, or null (no primary). */
  primary: number | null;
  secondaries: number[];
  app: StorageApp;
  /** What queryRouting answers (lags `ballot`/`primary` while an announcement is delayed). */
  announced: { ballot: number; primary: number | null; secondaries: number[] };
}

export interface FakeTable {
  info: TableInfo;
  partitions: FakePartition[];
}

export class ClusterState {
  readonly tables = new Map<number, FakeTable>();
  private nextTableId = 1;

  constructor(
    readonly replicaAddresses: readonly string[],
    private readonly clock: Clock | undefined,
    private readonly appOptions: Omit<StorageAppOptions, 'clock' | 'envs'>,
  ) {}

  /** The available table of this name. */
  byName(name: string): FakeTable | undefined {
    for (const table of this.tables.values()) if (table.info.name === name && table.info.status !== 'dropped') return table;
    return undefined;
  }

  /** The available table of this name, or APP_NOT_EXIST. */
  require(name: string): FakeTable {
    const table = this.byName(name);
    if (table === undefined) throw new PetrelError('APP_NOT_EXIST', `table ${name} does not exist`);
    return table;
  }

  create(name: string, partitionCount: number, replicaCount: number, envs: Record<string, string>, healthy: boolean): FakeTable {
    const servers = this.replicaAddresses.length;
    const id = this.nextTableId++;
    const partitions: FakePartition[] = [];
    for (let index = 0; index < partitionCount; index++) {
      const clock = this.clock;
      const app = new StorageApp(new MemoryEngine(clock === undefined ? {} : { clock }), { ...this.appOptions, ...(clock === undefined ? {} : { clock }), envs });
      const primary = healthy ? (id + index) % servers : null;
      const secondaries = healthy ? Array.from({ length: replicaCount - 1 }, (_, k) => (id + index + k + 1) % servers) : [];
      partitions.push({ index, ballot: 1, primary, secondaries, app, announced: { ballot: 1, primary, secondaries } });
    }
    const table: FakeTable = { info: { id, name, partitionCount, replicaCount, status: 'available', envs: { ...envs } }, partitions };
    this.tables.set(id, table);
    return table;
  }

  /** Gives every partition without a primary one (what the meta does once replicas are up). */
  makeHealthy(table: FakeTable): void {
    const servers = this.replicaAddresses.length;
    for (const partition of table.partitions) {
      if (partition.primary !== null) continue;
      partition.ballot++;
      partition.primary = (table.info.id + partition.index) % servers;
      partition.secondaries = Array.from({ length: table.info.replicaCount - 1 }, (_, k) => (table.info.id + partition.index + k + 1) % servers);
      partition.announced = { ballot: partition.ballot, primary: partition.primary, secondaries: partition.secondaries };
    }
  }

  setEnvs(table: FakeTable, envs: Record<string, string>): void {
    table.info.envs = envs;
    for (const partition of table.partitions) partition.app.setEnvs(envs);
  }

  routingOf(table: FakeTable): { table: TableInfo; partitions: PartitionRouting[] } {
    return {
      table: { ...table.info, envs: { ...table.info.envs } },
      partitions: table.partitions.map((partition) => ({
        index: partition.index,
        ballot: partition.announced.ballot,
        primary: partition.announced.primary === null ? null : (this.replicaAddresses[partition.announced.primary] as string),
        secondaries: partition.announced.secondaries.map((server) => this.replicaAddresses[server] as string),
      })),
    };
  }

  /** Primaries and secondaries per replica server, as listNodes reports them. */
  roleCounts(server: number): { primaries: number; secondaries: number } {
    let primaries = 0;
    let secondaries = 0;
    for (const table of this.tables.values()) {
      if (table.info.status === 'dropped') continue;
      for (const partition of table.partitions) {
        if (partition.primary === server) primaries++;
        if (partition.secondaries.includes(server)) secondaries++;
      }
    }
    return { primaries, secondaries };
  }

  async close(): Promise<void> {
    for (const table of this.tables.values()) for (const partition of table.partitions) await partition.app.close();
    this.tables.clear();
  }
}
