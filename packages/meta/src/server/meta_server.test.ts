/**
 * The meta server over a real WebSocket on 127.0.0.1 (state on MemVfs): hello, the table requests,
 * routing, restart with the same state, and bad input that closes only the offending connection.
 */
import { MemVfs, PetrelError, initChecksum } from '@petrel/base';
import {
  CLUSTER_TYPE_IDS,
  type Connection,
  PROTOCOL_VERSION,
  MIN_PROTOCOL_VERSION,
  type RoutingResponse,
  type TableInfo,
  connect,
  decodeClusterMessage,
  decodeMessage,
  encodeClusterMessage,
  encodeMessage,
  resultOf,
} from '@petrel/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MetaServer } from './meta_server.js';

/** A minimal client of the meta protocol. */
class RawClient {
  private nextId = 1;
  private readonly waiting = new Map<number, (bytes: Buffer) => void>();
  closed: number | undefined;

  private constructor(readonly connection: Connection) {
    connection.onMessage((bytes) => {
      const requestId = bytes.length >= 3 ? (bytes[2] as number) : 0;
      // Request ids stay below 128 here: one varint byte after the u16 type.
      this.waiting.get(requestId)?.(bytes);
      this.waiting.delete(requestId);
    });
    connection.onClose((code) => (this.closed = code));
  }

  static async open(address: string): Promise<RawClient> {
    const client = new RawClient(await connect(address));
    const reply = await client.raw(encodeMessage({ kind: 'request', name: 'hello', requestId: 0, body: { protocolVersion: PROTOCOL_VERSION, minProtocolVersion: MIN_PROTOCOL_VERSION, peerName: 'test-client' } }), 0);
    const hello = decodeMessage(reply);
    assert.is(hello.kind, 'response');
    return client;
  }

  raw(bytes: Uint8Array, requestId: number): Promise<Buffer> {
    return new Promise((resolve) => {
      this.waiting.set(requestId, resolve);
      this.connection.send(bytes);
    });
  }

  async call(type: keyof typeof CLUSTER_TYPE_IDS, body: unknown): Promise<unknown> {
    const requestId = this.nextId++;
    const reply = await this.raw(encodeClusterMessage(CLUSTER_TYPE_IDS[type], requestId, body), requestId);
    return resultOf(decodeClusterMessage(reply).body);
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof PetrelError) return error.code;
    throw error;
  }
}

test('tables are created, listed, routed, dropped and recalled; the state survives a restart', async () => {
  await initChecksum();
  const vfs = new MemVfs();
  const quiet = () => undefined;
  let meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: '/meta', vfs, log: quiet });
  try {
    let client = await RawClient.open(meta.address);
    const created = (await client.call('createTable', { name: 'temp', partitionCount: 4, replicaCount: 3, envs: { default_ttl: '0' }, successIfExists: false })) as TableInfo;
    assert.equal({ id: created.id, name: created.name, partitionCount: created.partitionCount, status: created.status }, { id: 1, name: 'temp', partitionCount: 4, status: 'available' });
    assert.is(await codeOf(client.call('createTable', { name: 'temp', partitionCount: 4, replicaCount: 3, envs: {}, successIfExists: false })), 'APP_EXIST');
    assert.is(await codeOf(client.call('createTable', { name: 'bad/name', partitionCount: 4, replicaCount: 3, envs: {}, successIfExists: false })), 'INVALID_APP_NAME');
    const routing = (await client.call('queryRouting', { name: 'temp' })) as RoutingResponse;
    assert.is(routing.partitions.length, 4);
    assert.equal(routing.partitions[0], { index: 0, ballot: 0, primary: null, secondaries: [] }, 'no replica server yet: no primary');
    assert.is(await codeOf(client.call('queryRouting', { name: 'absent' })), 'APP_NOT_EXIST');
    await client.call('setTableEnvs', { name: 'temp', envs: { 'replica.deny_client_request': 'false' } });
    const listed = (await client.call('listTables', { includeDropped: false })) as TableInfo[];
    assert.equal(listed.map((t) => [t.name, t.envs]), [['temp', { default_ttl: '0', 'replica.deny_client_request': 'false' }]]);
    client.connection.close();
    await meta.stop();
    meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: '/meta', vfs, log: quiet });
    client = await RawClient.open(meta.address);
    assert.equal(((await client.call('listTables', { includeDropped: false })) as TableInfo[]).map((t) => t.name), ['temp']);
    await client.call('dropTable', { name: 'temp' });
    assert.is(await codeOf(client.call('queryRouting', { name: 'temp' })), 'APP_NOT_EXIST');
    assert.equal(((await client.call('listTables', { includeDropped: true })) as TableInfo[]).map((t) => t.status), ['dropped']);
    const recalled = (await client.call('recallTable', { id: 1 })) as TableInfo;
    assert.is(recalled.status, 'available');
    assert.is(((await client.call('queryRouting', { name: 'temp' })) as RoutingResponse).partitions.length, 4);
    const info = (await client.call('clusterInfo', {})) as Record<string, unknown>;
    assert.is(info.tables, 1);
    assert.is(info.partitions, 4);
    client.connection.close();
  } finally {
    await meta.stop();
  }
});

test('meta levels: set, reported with the effective level, persisted; stopped refuses table changes', async () => {
  const vfs = new MemVfs();
  const quiet = () => undefined;
  let meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: '/meta', vfs, log: quiet });
  try {
    let client = await RawClient.open(meta.address);
    assert.equal(await client.call('getMetaLevel', {}), { level: 'lively', effective: 'lively' });
    assert.is(await codeOf(client.call('setMetaLevel', { level: 'sleepy' })), 'INVALID_ARGUMENT');
    assert.equal(await client.call('setMetaLevel', { level: 'stopped' }), { level: 'stopped', effective: 'stopped' });
    assert.is(await codeOf(client.call('createTable', { name: 't', partitionCount: 1, replicaCount: 3, envs: {}, successIfExists: false })), 'APP_BUSY');
    assert.equal(await client.call('listTables', { includeDropped: false }), [], 'queries still answered');
    client.connection.close();
    await meta.stop();
    meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: '/meta', vfs, log: quiet });
    client = await RawClient.open(meta.address);
    assert.equal(await client.call('getMetaLevel', {}), { level: 'stopped', effective: 'stopped' }, 'the level survives a restart');
    await client.call('setMetaLevel', { level: 'steady' });
    await client.call('createTable', { name: 't', partitionCount: 2, replicaCount: 3, envs: {}, successIfExists: false });
    assert.is(await codeOf(client.call('setReplicaCount', { name: 't', replicaCount: 9 })), 'INVALID_REP_COUNT');
    assert.is(((await client.call('setReplicaCount', { name: 't', replicaCount: 2 })) as TableInfo).replicaCount, 2);
    client.connection.close();
  } finally {
    await meta.stop();
  }
});

test('garbage closes that connection only; wrong body types get INVALID_ARGUMENT; the server keeps serving', async () => {
  const meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: '/meta', vfs: new MemVfs(), log: () => undefined });
  try {
    const good = await RawClient.open(meta.address);
    const bad = await RawClient.open(meta.address);
    bad.connection.send(Buffer.from([0x02, 0x01, 0x05, 0xff, 0xff, 0xff]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(bad.closed !== undefined, 'the peer that sent garbage is closed');
    assert.is(await codeOf(good.call('createTable', { name: 42, partitionCount: 'x' })), 'INVALID_ARGUMENT');
    assert.is(await codeOf(good.call('createTable', { name: 't', partitionCount: 0, replicaCount: 3, envs: {} })), 'INVALID_PAR_COUNT');
    assert.is(await codeOf(good.call('recallTable', { id: 'one' })), 'INVALID_ARGUMENT');
    assert.equal(await good.call('listTables', { includeDropped: false }), []);
    good.connection.close();
  } finally {
    await meta.stop();
  }
});

test.run();
