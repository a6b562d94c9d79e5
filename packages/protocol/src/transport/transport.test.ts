import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WebSocket } from 'ws';
import { PetrelError } from '@petrel/base';
import { decodeBatch, encodeBatch } from './batch.js';
import type { Connection } from './connection.js';
import { connect, listen, parseAddress } from './endpoint.js';

/** An echo server: every message comes back on the same connection. */
async function echoServer(limits = {}) {
  const accepted: Connection[] = [];
  const listener = await listen({
    host: '127.0.0.1',
    port: 0,
    limits,
    onConnection: (connection) => {
      accepted.push(connection);
      connection.onMessage((message) => connection.send(Buffer.from(message)));
    },
  });
  return { listener, accepted };
}

function closeOf(socket: WebSocket): Promise<number> {
  return new Promise((resolve) => socket.once('close', (code) => resolve(code)));
}

test('a batch round-trips any messages, and bad batches are INVALID_ARGUMENT', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { minLength: 1, maxLength: 20 }), (messages) => {
      const out: Buffer[] = [];
      decodeBatch(encodeBatch(messages), 1000, (m) => out.push(Buffer.from(m)));
      assert.equal(out.map((m) => [...m]), messages.map((m) => [...m]));
    }),
  );
  const bad = [Buffer.alloc(0), Buffer.from([0x80]), Buffer.from([5, 1, 2]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01])];
  for (const frame of bad) assert.throws(() => decodeBatch(frame, 1000, () => undefined), (e: unknown) => e instanceof PetrelError && e.code === 'INVALID_ARGUMENT');
  assert.throws(() => decodeBatch(encodeBatch([Buffer.alloc(20)]), 10, () => undefined), /over the limit/);
});

/** Collects the numbers the echo sends back; `all` resolves once `count` have come. */
function collectEchoes(client: Connection, count: number): { received: number[]; all: Promise<void> } {
  const received: number[] = [];
  const all = new Promise<void>((resolve) =>
    client.onMessage((message) => {
      received.push(message.readUInt32BE(0));
      if (received.length === count) resolve();
    }),
  );
  return { received, all };
}

/** A 100-byte message carrying `i`. */
function numbered(i: number): Buffer {
  const message = Buffer.alloc(100);
  message.writeUInt32BE(i, 0);
  return message;
}

test('messages sent in one turn travel as one frame, in order, both ways', async () => {
  const { listener, accepted } = await echoServer({ maxFrameMessages: 10_000 });
  const client = await connect(listener.address, { limits: { maxFrameMessages: 10_000 } });
  const { received, all } = collectEchoes(client, 1000);
  for (let i = 0; i < 1000; i++) assert.ok(client.send(numbered(i)));
  await all;
  assert.equal(received, Array.from({ length: 1000 }, (_, i) => i));
  assert.is(client.counters.framesSent, 1);
  assert.is(client.counters.messagesSent, 1000);
  assert.is(accepted[0]?.counters.framesReceived, 1);
  assert.ok((accepted[0]?.counters.framesSent ?? 0) <= 2, 'replies made in one turn go back as one frame');
  client.close();
  await listener.close();
});

test('a frame goes out every maxFrameMessages messages, before the turn ends; order is kept', async () => {
  const { listener, accepted } = await echoServer();
  const client = await connect(listener.address);
  const { received, all } = collectEchoes(client, 100);
  for (let i = 0; i < 100; i++) {
    assert.ok(client.send(numbered(i)));
    if (i === 30) assert.is(client.counters.framesSent, 0, 'nothing goes out before the 32nd message');
    if (i === 31) assert.is(client.counters.framesSent, 1, 'the 32nd message sends the first frame at once');
  }
  assert.is(client.counters.framesSent, 3, 'three full frames within the turn');
  await all;
  assert.equal(received, Array.from({ length: 100 }, (_, i) => i));
  assert.is(client.counters.framesSent, 4, 'the last 4 messages at the end of the turn');
  assert.is(accepted[0]?.counters.framesReceived, 4);
  client.close();
  await listener.close();
});

test('frames from reused buffers arrive intact while many are still being written', async () => {
  // On one request the server sends 64,000 messages of 1 KiB in a single turn: 2,000 frames of
  // ~33 KiB, far more than the socket takes at once and than the spare buffers kept, so most
  // frames wait in the socket while later ones are encoded. Every message must arrive whole and in
  // order: a buffer reused before the socket wrote it would show up as a wrong number or body.
  const count = 64_000;
  const listener = await listen({
    host: '127.0.0.1',
    port: 0,
    onConnection: (connection) =>
      connection.onMessage(() => {
        for (let i = 0; i < count; i++) {
          const message = Buffer.alloc(1024, i & 0xff);
          message.writeUInt32BE(i, 0);
          assert.ok(connection.send(message));
        }
      }),
  });
  const client = await connect(listener.address);
  const received: number[] = [];
  let corrupt = 0;
  const all = new Promise<void>((resolve) =>
    client.onMessage((message) => {
      const i = message.readUInt32BE(0);
      received.push(i);
      if (message.length !== 1024 || message[1023] !== (i & 0xff)) corrupt++;
      if (received.length === count) resolve();
    }),
  );
  client.send(Buffer.from('go'));
  await all;
  assert.is(corrupt, 0);
  assert.ok(received.every((value, i) => value === i), 'in order, none lost or repeated');
  client.close();
  await listener.close();
});

test('garbage, text, oversize frames each close that connection with a reason; other clients go on', async () => {
  const { listener } = await echoServer({ maxFrameBytes: 4096 });
  const good = await connect(listener.address);
  const url = `ws://${listener.address}`;
  const cases: [string, (socket: WebSocket) => void, number][] = [
    ['text frame', (s) => s.send('hello'), 1003],
    ['truncated batch', (s) => s.send(Buffer.from([50, 1, 2, 3])), 1007],
    ['overlong varint', (s) => s.send(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 1007],
    ['oversize frame', (s) => s.send(Buffer.alloc(10_000)), 1009],
  ];
  for (const [name, attack, expected] of cases) {
    const socket = new WebSocket(url);
    await new Promise((resolve) => socket.once('open', resolve));
    const closed = closeOf(socket);
    attack(socket);
    assert.is(await closed, expected, name);
  }
  const reply = new Promise<string>((resolve) => good.onMessage((m) => resolve(m.toString())));
  good.send(Buffer.from('still here'));
  assert.is(await reply, 'still here');
  good.close();
  await listener.close();
});

test('send refuses, without sending anything, past maxQueuedBytes', async () => {
  const { listener } = await echoServer();
  // One frame per turn, so that the messages stay queued here until the limit is met.
  const client = await connect(listener.address, { limits: { maxQueuedBytes: 10_000, maxFrameMessages: 10_000 } });
  let accepted = 0;
  for (let i = 0; i < 200; i++) if (client.send(Buffer.alloc(100))) accepted++;
  assert.ok(accepted > 50 && accepted < 200, `accepted ${accepted}`);
  assert.ok(client.pendingBytes <= 10_000);
  client.close();
  await listener.close();
});

test('connecting to a closed port is NETWORK_FAILURE; bad addresses are INVALID_ARGUMENT', async () => {
  const { listener } = await echoServer();
  const address = listener.address;
  await listener.close();
  try {
    await connect(address);
    assert.unreachable();
  } catch (error) {
    assert.is((error as PetrelError).code, 'NETWORK_FAILURE');
  }
  assert.equal(parseAddress('ws://127.0.0.1:34601'), { host: '127.0.0.1', port: 34601 });
  assert.equal(parseAddress('[::1]:80'), { host: '::1', port: 80 });
  for (const bad of ['localhost', '127.0.0.1:0', 'h:99999', ':80']) assert.throws(() => parseAddress(bad), /bad server address/);
});

test.run();
