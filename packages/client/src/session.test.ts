/**
 * Sessions and the pool: one WebSocket per server carrying pipelined requests in few frames,
 * a bounded in-flight window with a bounded queue (APP_BUSY past it, nothing sent), the hello
 * handshake, servers that break the protocol, and close().
 */
import { PetrelError } from '@petrel/base';
import { type Listener, decodeMessage, encodeMessage, listen } from '@petrel/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PetrelClient } from './client.js';
import { codeOf, hashKeyIn, sleep, text, timed, withRig } from './test_support.js';

test('requests to a server share one connection and travel many to a frame', () =>
  withRig(async ({ cluster, table, client }) => {
    const keys = Array.from({ length: 2000 }, (_, i) => `user${i}`);
    await Promise.all(keys.map((key) => table.set(key, 's', key)));
    const values = await Promise.all(keys.map((key) => table.get(key, 's')));
    assert.equal(values.map(text), keys);
    for (const address of cluster.replicaAddresses) assert.is(cluster.acceptedConnections(address), 1, address);
    let frames = 0;
    let messages = 0;
    for (const session of client.sessions()) {
      frames += session.counters.framesSent;
      messages += session.counters.messagesSent;
    }
    assert.ok(messages >= 4000);
    // Frames are cut every 32 messages (the transport's maxFrameMessages); most are full.
    assert.ok(frames * 10 < messages, `${messages} messages in ${frames} frames`);
  }));

test('the in-flight window and the queue are bounded; past both a call fails with APP_BUSY without sending', () =>
  withRig(
    async ({ cluster, table, client }) => {
      const key = hashKeyIn(2, 8);
      await table.set(key, 's', 'v');
      cluster.clearLog();
      cluster.inject({ kind: 'delay', type: 'get', ms: 500 });
      const calls = Array.from({ length: 20 }, () => codeOf(table.get(key, 's')));
      await sleep(30);
      const replica = client.sessions().find((session) => session.address === cluster.primaryOf('t', 2));
      assert.equal(replica?.load, { inFlight: 4, queued: 10 });
      assert.is(cluster.requests({ type: 'get' }).length, 4, 'only the window went out');
      const codes = await Promise.all(calls);
      assert.is(codes.filter((code) => code === 'APP_BUSY').length, 6);
      assert.is(codes.filter((code) => code === 'no error').length, 14);
      assert.is(cluster.requests({ type: 'get' }).length, 14);
      const arrivals = cluster.requests({ type: 'get' }).map((facts) => facts.atMs as number);
      const first = arrivals[0] as number;
      assert.ok(arrivals.filter((at) => at - first < 450).length <= 4, 'never more than 4 at once on the server');
    },
    { client: { maxInFlightPerConnection: 4, maxQueuedPerConnection: 10 } },
  ));

test('a queued request whose call timed out leaves the queue and is never sent', () =>
  withRig(
    async ({ cluster, table, client }) => {
      const key = hashKeyIn(1, 8);
      await table.set(key, 's', 'v');
      cluster.clearLog();
      cluster.inject({ kind: 'delay', type: 'get', ms: 200, count: 1 });
      const slow = table.get(key, 's', { timeoutMs: 1000 });
      const queued = await Promise.all(Array.from({ length: 5 }, () => timed(() => table.get(key, 's', { timeoutMs: 50 }))));
      for (const { code } of queued) assert.is(code, 'TIMEOUT');
      const replica = client.sessions().find((session) => session.address === cluster.primaryOf('t', 1));
      assert.equal(replica?.load, { inFlight: 1, queued: 0 });
      assert.is(text(await slow), 'v');
      await sleep(20);
      assert.is(cluster.requests({ type: 'get' }).length, 1);
    },
    { client: { maxInFlightPerConnection: 1 } },
  ));

/** A server that answers the hello as `hello` says, then every request with `answer`. */
async function oddServer(hello: (requestId: number) => Buffer, answer: (message: Buffer) => Buffer | undefined): Promise<Listener> {
  return listen({
    host: '127.0.0.1',
    port: 0,
    onConnection: (connection) => {
      let greeted = false;
      connection.onMessage((bytes) => {
        if (!greeted) {
          greeted = true;
          connection.send(hello(decodeMessage(bytes).requestId));
          return;
        }
        const reply = answer(bytes);
        if (reply !== undefined) connection.send(reply);
      });
    },
  });
}

test('a server that refuses the hello: its error (UNSUPPORTED_VERSION) reaches the caller', async () => {
  const server = await oddServer(
    (requestId) => encodeMessage({ kind: 'error', requestId, body: { requestType: 1, error: { code: 'UNSUPPORTED_VERSION', message: 'speaks 7 only' } } }),
    () => undefined,
  );
  const client = new PetrelClient({ metaServers: [server.address] });
  try {
    const error = await client.openTable('t').catch((failure: unknown) => failure);
    assert.is((error as PetrelError).code, 'UNSUPPORTED_VERSION');
    assert.match((error as PetrelError).message, /speaks 7 only/);
  } finally {
    await client.close();
    await server.close();
  }
});

test('a server that answers with garbage breaks its session; the call is retried and ends at its timeout', async () => {
  let connections = 0;
  const server = await oddServer(
    (requestId) => {
      connections++;
      return encodeMessage({ kind: 'response', name: 'hello', requestId, body: { protocolVersion: 1, peerName: 'odd' } });
    },
    () => Buffer.from([0x7f, 0x7f, 0x01, 0x02]),
  );
  const client = new PetrelClient({ metaServers: [server.address] });
  try {
    const started = performance.now();
    const error = await client.admin.listTables({ timeoutMs: 300 }).catch((failure: unknown) => failure);
    assert.is((error as PetrelError).code, 'TIMEOUT');
    assert.match(String(error), /protocol violation/);
    assert.ok(performance.now() - started < 330);
    assert.ok(connections >= 2 && connections < 30, `${connections} connections: reconnected, with back-off`);
  } finally {
    await client.close();
    await server.close();
  }
});

test('close() ends the calls in progress with CLOSED at once, and later calls too', () =>
  withRig(async ({ cluster, table, client }) => {
    cluster.inject({ kind: 'delay', type: 'get', ms: 2000 });
    const pending = timed(() => table.get('h', 's'));
    await sleep(30);
    await client.close();
    const { code, ms } = await pending;
    assert.is(code, 'CLOSED');
    assert.ok(ms < 1000, `${ms.toFixed(1)} ms: ended by close, not by its 5 s timeout`);
    assert.is(await codeOf(table.get('h', 's')), 'CLOSED');
    assert.is(await codeOf(client.admin.listTables()), 'CLOSED');
    assert.equal(client.sessions(), []);
  }));

test.run();
