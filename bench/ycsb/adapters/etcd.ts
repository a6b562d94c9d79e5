/**
 * etcd through the etcd3 client (gRPC). A record is the key itself; a scan is one range request
 * [start key, end of its hash key) with a limit. Reads are etcd's default, linearizable (they go
 * through the leader's read index), and writes are Raft proposals committed on a majority after
 * each member's WAL fsync: etcd's default durability, which is what the bench compares against.
 * The client spreads its requests over every member's endpoint; followers forward to the leader.
 */
import type { Etcd3 } from 'etcd3';
import type { AdapterFactory, KvAdapter } from '../adapter.js';
import { readThenUpdate } from '../adapter.js';
import { type KvKey, prefixEnd } from '../key_space.js';

export interface EtcdAdapterOptions {
  /** Client URLs of the members, e.g. http://127.0.0.1:2379. */
  hosts: string[];
}

export class EtcdAdapter implements KvAdapter {
  private client: Etcd3 | undefined;

  constructor(private readonly options: EtcdAdapterOptions) {}

  async open(): Promise<void> {
    const { Etcd3 } = await import('etcd3');
    this.client = new Etcd3({ hosts: this.options.hosts });
    // The first call connects; doing it here keeps connection set-up out of the measurements.
    await this.client.get('ycsb-connect').buffer();
  }

  async close(): Promise<void> {
    this.client?.close();
    this.client = undefined;
  }

  read(key: KvKey): Promise<Buffer | null> {
    return this.connected().get(key.key).buffer();
  }

  async update(key: KvKey, value: Buffer): Promise<void> {
    await this.connected().put(key.key).value(value).exec();
  }

  async insert(key: KvKey, value: Buffer): Promise<void> {
    await this.connected().put(key.key).value(value).exec();
  }

  async scan(start: KvKey, count: number): Promise<number> {
    const response = await this.connected().getAll().inRange({ start: start.key, end: prefixEnd(start.hashKey) }).limit(count).exec();
    return response.kvs.length;
  }

  readModifyWrite(key: KvKey, value: Buffer): Promise<Buffer | null> {
    return readThenUpdate(this, key, value);
  }

  private connected(): Etcd3 {
    if (this.client === undefined) throw new Error('the etcd adapter is not open');
    return this.client;
  }
}

export const createAdapter: AdapterFactory = (options) => new EtcdAdapter(options as unknown as EtcdAdapterOptions);
