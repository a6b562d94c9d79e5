/**
 * Petrel through @petrel/client. The YCSB key maps to Petrel's key as key_space.ts describes:
 * hashKey = "user" + the first hex digits of the hash, sortKey = the rest.
 *
 *   read             table.get(hashKey, sortKey)
 *   update, insert   table.set(hashKey, sortKey, value)
 *   scan             table.multiGetRange(hashKey, sortKey, '', { maxCount: count })
 *                    (an empty stop sort key means "to the end of the hash key")
 *   readModifyWrite  get then set, as YCSB does (not atomic)
 *
 * One PetrelClient per worker process: it keeps one pipelined WebSocket per replica server and
 * routes each key to its partition's primary. The table (replica count 3) is created by the
 * system entry (systems/petrel_cluster.ts), not by each worker.
 */
import { PetrelClient, type Table } from '@petrel/client';
import type { AdapterFactory, KvAdapter } from '../adapter.js';
import { readThenUpdate } from '../adapter.js';
import type { KvKey } from '../key_space.js';

export interface PetrelAdapterOptions {
  metaServers: string[];
  table: string;
  timeoutMs: number;
}

export class PetrelAdapter implements KvAdapter {
  private client: PetrelClient | undefined;
  private table: Table | undefined;

  constructor(private readonly options: PetrelAdapterOptions) {}

  async open(): Promise<void> {
    this.client = new PetrelClient({ metaServers: this.options.metaServers, timeoutMs: this.options.timeoutMs, clientName: `ycsb-${process.pid}` });
    this.table = await this.client.openTable(this.options.table);
  }

  async close(): Promise<void> {
    await this.client?.close();
    this.client = undefined;
    this.table = undefined;
  }

  read(key: KvKey): Promise<Buffer | null> {
    return this.opened().get(key.hashKey, key.sortKey);
  }

  update(key: KvKey, value: Buffer): Promise<void> {
    return this.opened().set(key.hashKey, key.sortKey, value);
  }

  insert(key: KvKey, value: Buffer): Promise<void> {
    return this.opened().set(key.hashKey, key.sortKey, value);
  }

  async scan(start: KvKey, count: number): Promise<number> {
    const result = await this.opened().multiGetRange(start.hashKey, start.sortKey, '', { maxCount: count });
    return result.entries.length;
  }

  readModifyWrite(key: KvKey, value: Buffer): Promise<Buffer | null> {
    return readThenUpdate(this, key, value);
  }

  private opened(): Table {
    if (this.table === undefined) throw new Error('the Petrel adapter is not open');
    return this.table;
  }
}

export const createAdapter: AdapterFactory = (options) => new PetrelAdapter(options as unknown as PetrelAdapterOptions);
