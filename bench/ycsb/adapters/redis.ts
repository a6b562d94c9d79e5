/**
 * Redis through ioredis. A record is a string key (the whole YCSB key) holding the value. Redis
 * has no ordered scan over string keys, so, like YCSB's own Redis binding, each hash key has a
 * sorted-set index (`idx:<hashKey>`, every member scored 0 so it orders by bytes) of its sort
 * keys: an insert writes the record and its index entry in one MULTI; a scan is one Lua script
 * that takes the next sort keys from the index (ZRANGEBYLEX) and returns their values (MGET),
 * so it costs one round trip like every other operation. Updates do not touch the index.
 *
 * One connection per worker: ioredis pipelines every outstanding command on it, and Redis
 * executes commands on one thread anyway. Auto-pipelining is on, so the commands issued in one
 * event-loop turn go out in one write, as @petrel/client does with its frames.
 */
import type { Redis } from 'ioredis';
import type { AdapterFactory, KvAdapter } from '../adapter.js';
import { readThenUpdate } from '../adapter.js';
import type { KvKey } from '../key_space.js';

const SCAN_SCRIPT = `
local sortKeys = redis.call('ZRANGEBYLEX', KEYS[1], '[' .. ARGV[1], '+', 'LIMIT', 0, tonumber(ARGV[2]))
if #sortKeys == 0 then return {} end
local keys = {}
for i, sortKey in ipairs(sortKeys) do keys[i] = ARGV[3] .. sortKey end
return redis.call('MGET', unpack(keys))
`;

type ScanningRedis = Redis & {
  ycsbScanBuffer(indexKey: string, startSortKey: string, count: number, hashKey: string): Promise<(Buffer | null)[]>;
};

export interface RedisAdapterOptions {
  host: string;
  port: number;
}

export class RedisAdapter implements KvAdapter {
  private client: ScanningRedis | undefined;

  constructor(private readonly options: RedisAdapterOptions) {}

  async open(): Promise<void> {
    const { Redis } = await import('ioredis');
    const client = new Redis({ host: this.options.host, port: this.options.port, lazyConnect: true, maxRetriesPerRequest: 1, enableAutoPipelining: true });
    client.defineCommand('ycsbScan', { numberOfKeys: 1, lua: SCAN_SCRIPT });
    await client.connect();
    this.client = client as ScanningRedis;
  }

  async close(): Promise<void> {
    await this.client?.quit();
    this.client = undefined;
  }

  read(key: KvKey): Promise<Buffer | null> {
    return this.connected().getBuffer(key.key);
  }

  async update(key: KvKey, value: Buffer): Promise<void> {
    await this.connected().set(key.key, value);
  }

  async insert(key: KvKey, value: Buffer): Promise<void> {
    const results = await this.connected().multi().set(key.key, value).zadd(`idx:${key.hashKey}`, 0, key.sortKey).exec();
    for (const [error] of results ?? []) if (error) throw error;
  }

  async scan(start: KvKey, count: number): Promise<number> {
    const values = await this.connected().ycsbScanBuffer(`idx:${start.hashKey}`, start.sortKey, count, start.hashKey);
    return values.length;
  }

  readModifyWrite(key: KvKey, value: Buffer): Promise<Buffer | null> {
    return readThenUpdate(this, key, value);
  }

  private connected(): ScanningRedis {
    if (this.client === undefined) throw new Error('the Redis adapter is not open');
    return this.client;
  }
}

export const createAdapter: AdapterFactory = (options) => new RedisAdapter(options as unknown as RedisAdapterOptions);
