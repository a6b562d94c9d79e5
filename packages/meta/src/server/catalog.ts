/**
 * The table catalog: tables by id and by name, their envs, soft deletion and recall, in the meta's
 * state store. Every change is one commit, made before the caller is answered.
 *
 * State keys:
 *   /tables/<id>        JSON of a TableRecord
 *   /next_table_id      decimal; ids are never reused (a dropped table keeps its id until purged)
 *
 * Rules (as Pegasus's meta has them): names are 1–128 characters of [0-9a-zA-Z._:]
 * (INVALID_APP_NAME); partition counts 1–4096 (INVALID_PAR_COUNT); replica counts 1–7
 * (INVALID_REP_COUNT); a name is taken while an available table has it (APP_EXIST); dropping
 * keeps the table recallable until `reserveUntil` (default 7 days); recall refuses when the name
 * is taken again.
 */
import { PetrelError } from '@petrel/base';
import type { StateStore } from '../state/state_store.js';

export interface TableRecord {
  id: number;
  name: string;
  partitionCount: number;
  replicaCount: number;
  status: 'available' | 'dropped';
  envs: Record<string, string>;
  /** Unix seconds. */
  createTime: number;
  dropTime?: number;
  reserveUntil?: number;
}

export const TABLE_NAME = /^[0-9a-zA-Z._:]{1,128}$/;
export const MAX_PARTITION_COUNT = 4096;
export const MAX_REPLICA_COUNT = 7;
export const DEFAULT_RESERVE_SECONDS = 7 * 24 * 3600;

const TABLE_PREFIX = '/tables/';
const NEXT_ID_KEY = '/next_table_id';

export interface CreateTableOptions {
  partitionCount: number;
  replicaCount: number;
  envs: Record<string, string>;
}

export class TableCatalog {
  private readonly byId = new Map<number, TableRecord>();

  constructor(
    private readonly store: StateStore,
    private readonly nowSeconds: () => number = () => Math.floor(Date.now() / 1000),
  ) {
    this.reload();
  }

  /** Re-reads every table from the store (after a meta takes over as leader). */
  reload(): void {
    this.byId.clear();
    for (const key of this.store.keys(TABLE_PREFIX)) {
      const bytes = this.store.get(key);
      if (bytes === undefined) continue;
      const record = JSON.parse(bytes.toString('utf8')) as TableRecord;
      this.byId.set(record.id, record);
    }
  }

  tables(includeDropped = false): TableRecord[] {
    return [...this.byId.values()].filter((table) => includeDropped || table.status === 'available').sort((a, b) => a.id - b.id);
  }

  byName(name: string): TableRecord | undefined {
    for (const table of this.byId.values()) if (table.name === name && table.status === 'available') return table;
    return undefined;
  }

  get(id: number): TableRecord | undefined {
    return this.byId.get(id);
  }

  /** The available table of that name, or APP_NOT_EXIST. */
  require(name: string): TableRecord {
    const table = this.byName(name);
    if (table === undefined) throw new PetrelError('APP_NOT_EXIST', `table ${JSON.stringify(name)} does not exist`);
    return table;
  }

  static validate(name: string, options: CreateTableOptions): void {
    if (typeof name !== 'string' || !TABLE_NAME.test(name)) {
      throw new PetrelError('INVALID_APP_NAME', `table name ${JSON.stringify(name)}: use 1–128 characters of 0-9 a-z A-Z . _ :`);
    }
    if (!Number.isInteger(options.partitionCount) || options.partitionCount < 1 || options.partitionCount > MAX_PARTITION_COUNT) {
      throw new PetrelError('INVALID_PAR_COUNT', `partition count ${options.partitionCount}: use 1–${MAX_PARTITION_COUNT}`);
    }
    if (!Number.isInteger(options.replicaCount) || options.replicaCount < 1 || options.replicaCount > MAX_REPLICA_COUNT) {
      throw new PetrelError('INVALID_REP_COUNT', `replica count ${options.replicaCount}: use 1–${MAX_REPLICA_COUNT}`);
    }
    for (const [key, value] of Object.entries(options.envs)) {
      if (typeof value !== 'string' || key.length === 0) throw new PetrelError('INVALID_ARGUMENT', `table env ${JSON.stringify(key)} must be a non-empty name with a string value`);
    }
  }

  /** Creates a table; with `successIfExists`, an existing table of that name is returned instead. */
  async create(name: string, options: CreateTableOptions, successIfExists = false): Promise<{ table: TableRecord; created: boolean }> {
    TableCatalog.validate(name, options);
    const existing = this.byName(name);
    if (existing !== undefined) {
      if (successIfExists) return { table: existing, created: false };
      throw new PetrelError('APP_EXIST', `table ${JSON.stringify(name)} already exists (id ${existing.id})`);
    }
    const id = Number(this.store.get(NEXT_ID_KEY)?.toString('utf8') ?? '1');
    const table: TableRecord = {
      id,
      name,
      partitionCount: options.partitionCount,
      replicaCount: options.replicaCount,
      status: 'available',
      envs: { ...options.envs },
      createTime: this.nowSeconds(),
    };
    await this.store.commit({ put: [[`${TABLE_PREFIX}${id}`, encode(table)], [NEXT_ID_KEY, Buffer.from(String(id + 1))]] });
    this.byId.set(id, table);
    return { table, created: true };
  }

  async drop(name: string, reserveSeconds = DEFAULT_RESERVE_SECONDS): Promise<TableRecord> {
    if (!Number.isFinite(reserveSeconds) || reserveSeconds < 0) throw new PetrelError('INVALID_ARGUMENT', `reserve seconds ${reserveSeconds} must be ≥ 0`);
    const table = this.require(name);
    const now = this.nowSeconds();
    const dropped: TableRecord = { ...table, status: 'dropped', dropTime: now, reserveUntil: now + Math.floor(reserveSeconds) };
    await this.store.commit({ put: [[`${TABLE_PREFIX}${table.id}`, encode(dropped)]] });
    this.byId.set(table.id, dropped);
    return dropped;
  }

  async recall(id: number, newName?: string): Promise<TableRecord> {
    const table = this.byId.get(id);
    if (table === undefined || table.status !== 'dropped') throw new PetrelError('APP_NOT_EXIST', `no dropped table with id ${id}`);
    if (table.reserveUntil !== undefined && table.reserveUntil < this.nowSeconds()) {
      throw new PetrelError('APP_NOT_EXIST', `table ${id} (${table.name}) was dropped and its reserve time has passed`);
    }
    const name = newName ?? table.name;
    if (!TABLE_NAME.test(name)) throw new PetrelError('INVALID_APP_NAME', `table name ${JSON.stringify(name)}: use 1–128 characters of 0-9 a-z A-Z . _ :`);
    if (this.byName(name) !== undefined) throw new PetrelError('APP_EXIST', `table name ${JSON.stringify(name)} is taken; recall with a new name`);
    const { dropTime: _dropTime, reserveUntil: _reserveUntil, ...rest } = table;
    const recalled: TableRecord = { ...rest, name, status: 'available' };
    await this.store.commit({ put: [[`${TABLE_PREFIX}${id}`, encode(recalled)]] });
    this.byId.set(id, recalled);
    return recalled;
  }

  async setEnvs(name: string, envs: Record<string, string>): Promise<TableRecord> {
    const table = this.require(name);
    for (const [key, value] of Object.entries(envs)) {
      if (typeof value !== 'string' || key.length === 0) throw new PetrelError('INVALID_ARGUMENT', `table env ${JSON.stringify(key)} must be a non-empty name with a string value`);
    }
    const updated: TableRecord = { ...table, envs: { ...table.envs, ...envs } };
    await this.store.commit({ put: [[`${TABLE_PREFIX}${table.id}`, encode(updated)]] });
    this.byId.set(table.id, updated);
    return updated;
  }

  async delEnvs(name: string, keys: readonly string[]): Promise<TableRecord> {
    const table = this.require(name);
    const envs = { ...table.envs };
    for (const key of keys) delete envs[key];
    const updated: TableRecord = { ...table, envs };
    await this.store.commit({ put: [[`${TABLE_PREFIX}${table.id}`, encode(updated)]] });
    this.byId.set(table.id, updated);
    return updated;
  }

  async setReplicaCount(name: string, replicaCount: number): Promise<TableRecord> {
    const table = this.require(name);
    if (!Number.isInteger(replicaCount) || replicaCount < 1 || replicaCount > MAX_REPLICA_COUNT) {
      throw new PetrelError('INVALID_REP_COUNT', `replica count ${replicaCount}: use 1–${MAX_REPLICA_COUNT}`);
    }
    const updated: TableRecord = { ...table, replicaCount };
    await this.store.commit({ put: [[`${TABLE_PREFIX}${table.id}`, encode(updated)]] });
    this.byId.set(table.id, updated);
    return updated;
  }

  /** Dropped tables whose reserve time has passed: their data may go. */
  expired(): TableRecord[] {
    const now = this.nowSeconds();
    return [...this.byId.values()].filter((table) => table.status === 'dropped' && (table.reserveUntil ?? 0) < now);
  }
}

function encode(table: TableRecord): Buffer {
  return Buffer.from(JSON.stringify(table));
}
