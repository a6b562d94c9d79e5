/**
 * Bad input over the wire, against a meta server and three replica servers in this process: raw
 * WebSocket clients send garbage, truncated frames, text frames, unknown message types, oversize
 * frames, requests for absent tables and partitions, and requests before hello. Each gets an
 * error reply or a closed connection; a well-behaved client keeps being served throughout.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initChecksum } from '@petrel/base';
import { MetaServer } from '@petrel/meta';
import { decodeMessage, encodeBatch, encodeMessage, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, type RoutingResponse } from '@petrel/protocol';
import { ReplicaServer } from '@petrel/replica';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { RawCluster } from '@petrel/cli';

interface Outcome {
  closed: number | undefined;
  replies: Buffer[];
}

/** Opens a raw socket, sends `frames`, and reports what came back within `waitMs`. */
async function rawExchange(address: string, frames: (Buffer | string)[], waitMs = 300): Promise<Outcome> {
  const socket = new WebSocket(`ws://${address}`, { perMessageDeflate: false });
  const outcome: Outcome = { closed: undefined, replies: [] };
  socket.on('message', (data: Buffer) => outcome.replies.push(data));
  socket.on('close', (code) => (outcome.closed = code));
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  for (const frame of frames) socket.send(frame, { binary: typeof frame !== 'string' });
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  socket.terminate();
  return outcome;
}

const hello = encodeMessage({ kind: 'request', name: 'hello', requestId: 1, body: { protocolVersion: PROTOCOL_VERSION, minProtocolVersion: MIN_PROTOCOL_VERSION, peerName: 'bad-input' } });

/** The messages inside the frames that came back. */
function messagesOf(outcome: Outcome): ReturnType<typeof decodeMessage>[] {
  const out: ReturnType<typeof decodeMessage>[] = [];
  for (const frame of outcome.replies) {
    let at = 0;
    while (at < frame.length) {
      let length = 0;
      let shift = 0;
      for (;;) {
        const byte = frame[at++]!;
        length |= (byte & 0x7f) << shift;
        if (byte < 0x80) break;
        shift += 7;
      }
      out.push(decodeMessage(frame.subarray(at, at + length)));
      at += length;
    }
  }
  return out;
}

test('garbage, truncation, unknown types, oversize frames and absent partitions: errors or a closed socket, and service goes on', async () => {
  await initChecksum();
  const root = mkdtempSync(join(tmpdir(), 'petrel-bad-'));
  const quiet = (): void => undefined;
  const meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: join(root, 'meta'), log: quiet, httpPort: 0 });
  const replicas: ReplicaServer[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir: join(root, `r${i}`), log: quiet, httpPort: 0 }));
  const client = await RawCluster.open([meta.address]);
  try {
    await client.meta('createTable', { name: 'good', partitionCount: 2, replicaCount: 3, envs: {}, successIfExists: false });
    const routing = await client.waitHealthy('good', 30_000);
    await client.set('good', 'before', 's', 'v');
    const primary = routing.partitions[0]!.primary!;
    const header = (tableId: number, partitionIndex: number) => ({ tableId, partitionIndex, timeoutMs: 1000 });
    const getOf = (requestId: number, tableId: number, partitionIndex: number) =>
      encodeMessage({ kind: 'request', name: 'get', requestId, body: { header: header(tableId, partitionIndex), request: { hashKey: Buffer.from('h'), sortKey: Buffer.from('s') } } });

    for (const address of [meta.address, primary]) {
      // Random bytes as a frame: not a batch → the connection is closed (1007).
      const garbage = await rawExchange(address, [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3])]);
      assert.ok(garbage.closed !== undefined, `${address}: garbage closes the connection`);
      // A text frame.
      const text = await rawExchange(address, ['hello?']);
      assert.ok(text.closed !== undefined, `${address}: a text frame closes the connection`);
      // A batch whose item is cut short.
      const truncated = await rawExchange(address, [Buffer.concat([Buffer.from([50]), Buffer.from('short')])]);
      assert.ok(truncated.closed !== undefined, `${address}: a truncated item closes the connection`);
      // Over the frame limit (64 MiB): refused by the WebSocket layer.
      const oversize = await rawExchange(address, [Buffer.alloc(65 * 2 ** 20)], 1500);
      assert.ok(oversize.closed !== undefined, `${address}: an oversize frame closes the connection`);
    }

    // Unknown message type inside a valid batch: an error reply naming it, the connection stays.
    const unknown = await rawExchange(primary, [encodeBatch([hello]), encodeBatch([Buffer.from([0x7e, 0x01, 0x05, 0x00])])]);
    const unknownReplies = messagesOf(unknown);
    assert.ok(unknownReplies.some((m) => m.kind === 'error'), 'an unknown type gets an error reply');
    assert.is(unknown.closed, undefined);

    // Absent tables and partitions: SERVER_CHANGED (the client refreshes its routing).
    const absent = await rawExchange(primary, [encodeBatch([hello]), encodeBatch([getOf(2, 999, 0), getOf(3, routing.table.id, 77)])]);
    const absentReplies = messagesOf(absent).filter((m) => m.kind === 'error');
    assert.is(absentReplies.length, 2);
    for (const reply of absentReplies) if (reply.kind === 'error') assert.is(reply.body.error.code, 'SERVER_CHANGED');

    // A malformed body behind a known type: INVALID_ARGUMENT, connection kept.
    const malformed = await rawExchange(primary, [encodeBatch([hello]), encodeBatch([Buffer.from([0x01, 0x01, 0x09, 0xff, 0xff])])]);
    const malformedReplies = messagesOf(malformed).filter((m) => m.kind === 'error');
    assert.is(malformedReplies.length, 1);
    if (malformedReplies[0]!.kind === 'error') assert.is(malformedReplies[0]!.body.error.code, 'INVALID_ARGUMENT');

    // The well-behaved client was served all along.
    await client.set('good', 'after', 's', 'v2');
    assert.is(await client.get('good', 'before', 's'), 'v');
    assert.is(await client.get('good', 'after', 's'), 'v2');
    const stillRouted = (await client.meta('queryRouting', { name: 'good' })) as RoutingResponse;
    assert.is(stillRouted.partitions.length, 2);

    // The status endpoints saw it all.
    const server = replicas.find((replica) => replica.address === primary)!;
    const metrics = await (await fetch(`http://127.0.0.1:${server.httpPort}/metrics`)).text();
    let all = '';
    for (const replica of replicas) all += await (await fetch(`http://127.0.0.1:${replica.httpPort}/metrics`)).text();
    assert.match(all, /petrel_replica_requests_total\{op="set",outcome="ok"\} \d+/);
    assert.match(all, /petrel_replica_request_seconds_count\{op="set"\} \d+/);
    assert.match(metrics, /petrel_replica_requests_total\{op="get",outcome="SERVER_CHANGED"\} 2/);
    assert.match(metrics, /petrel_replica_partitions\{role="primary"\} \d+/);
    assert.match(metrics, /petrel_lsm_bytes \d+/);
    assert.match(all, /petrel_log_syncs [1-9]\d*/);
    assert.match(all, /petrel_log_sync_seconds_count [1-9]\d*/);
    // Replica count 3: the sets were prepared on two secondaries each.
    assert.match(all, /petrel_replica_prepare_seconds_count\{side="primary"\} [1-9]\d*/);
    assert.match(all, /petrel_replica_prepare_seconds_count\{side="secondary"\} [1-9]\d*/);
    assert.match(all, /petrel_log_bytes_written [1-9]\d*/);
    assert.match(metrics, /petrel_gc_pause_seconds_count\{kind="major"\} \d+/);
    const health = (await (await fetch(`http://127.0.0.1:${server.httpPort}/health`)).json()) as { healthy: boolean; lease: boolean };
    assert.ok(health.healthy && health.lease);
    const metaHealth = (await (await fetch(`http://127.0.0.1:${meta.httpPort}/health`)).json()) as { healthy: boolean; healthyPartitions: number };
    assert.is(metaHealth.healthyPartitions, 2);
    assert.match(await (await fetch(`http://127.0.0.1:${meta.httpPort}/metrics`)).text(), /petrel_meta_requests_total\{outcome="ok",type="createTable"\} 1/);
  } finally {
    client.close();
    for (const replica of replicas) await replica.stop();
    await meta.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
