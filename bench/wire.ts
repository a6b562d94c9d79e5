/**
 * bench/wire.ts — messages per second over WebSockets on loopback, 100-byte payloads, 64 requests
 * in flight, servers in their own processes:
 *
 *   (a) a bare `ws` echo server and client, one message per frame: the floor;
 *   (c) the Petrel transport echoing the same messages, which coalesces the messages of one
 *       event-loop turn into frames (a frame every 32 messages: packages/protocol/doc/transport.md);
 *   (b) @petrel/client doing `get` of 100-byte values against one replica server: a real cluster
 *       (meta + 2 replica servers as processes; a 1-partition table with 2 replicas, since writes
 *       need 2 members), so that every get goes to the one primary. The target is (b) ≥ 2 × (a).
 *
 * Each exchange runs 1 s (0.5 s with --quick) before it is measured, so that both sides' code is
 * compiled, then `seconds`.
 *
 *   npm run bench:wire [-- --quick]
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PetrelClient } from '@petrel/client';
import { type ChildServer, freePort, startChild, stopChildren } from '@petrel/cli';
import { connect } from '@petrel/protocol';
import { WebSocket } from 'ws';
import { quick, report, round, table } from './lib/report.js';

const PAYLOAD_BYTES = 100;
const IN_FLIGHT = 64;
const seconds = quick ? 2 : 5;
/** Each exchange runs this long before it is measured (JIT warm-up on both sides), then `seconds`. */
const warmupSeconds = quick ? 0.5 : 1;

/** Counts completions from the end of the warm-up on; `finished` resolves when the measured time is over. */
class Meter {
  private readonly warmUntil = performance.now() + warmupSeconds * 1000;
  private startedAt = 0;
  private endedAt = 0;
  count = 0;
  private end: () => void = () => undefined;
  readonly finished = new Promise<void>((resolve) => (this.end = resolve));

  /** `onStart` runs when the warm-up ends and counting begins. */
  constructor(private readonly onStart: () => void = () => undefined) {}

  /** Records one completion; false once the measured time is over. */
  tick(): boolean {
    const now = performance.now();
    if (this.startedAt === 0) {
      if (now < this.warmUntil) return true;
      this.startedAt = now;
      this.onStart();
    }
    if (this.endedAt !== 0) return false;
    this.count++;
    if (now - this.startedAt < seconds * 1000) return true;
    this.endedAt = now;
    this.end();
    return false;
  }

  rate(): number {
    return this.count / ((this.endedAt - this.startedAt) / 1000);
  }
}

async function startServer(mode: 'ws' | 'petrel') {
  const child = fork(join(import.meta.dirname, 'lib', 'echo_server.ts'), [mode], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(JSON.parse(chunk.toString()).port));
    child.once('exit', (code) => reject(new Error(`echo server exited with ${code}`)));
  });
  return { port, stop: () => child.kill('SIGKILL') };
}

/** (a) one message per frame, IN_FLIGHT outstanding. */
async function bareWs(port: number): Promise<number> {
  const socket = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)));
  const payload = Buffer.alloc(PAYLOAD_BYTES, 1);
  const meter = new Meter();
  socket.on('message', () => {
    if (meter.tick()) socket.send(payload, { binary: true, compress: false });
  });
  for (let i = 0; i < IN_FLIGHT; i++) socket.send(payload, { binary: true, compress: false });
  await meter.finished;
  const rate = meter.rate();
  socket.terminate();
  return rate;
}

/** (c) the Petrel transport: the same exchange, replies and requests coalesced per turn. */
async function petrelTransport(port: number): Promise<{ rate: number; messagesPerFrame: number }> {
  const connection = await connect(`127.0.0.1:${port}`);
  const payload = Buffer.alloc(PAYLOAD_BYTES, 1);
  const meter = new Meter();
  connection.onMessage(() => {
    if (meter.tick()) connection.send(payload);
  });
  for (let i = 0; i < IN_FLIGHT; i++) connection.send(payload);
  await meter.finished;
  const rate = meter.rate();
  const { messagesSent, framesSent } = connection.counters;
  connection.terminate();
  return { rate, messagesPerFrame: messagesSent / Math.max(1, framesSent) };
}

console.log(`bench:wire — ${PAYLOAD_BYTES}-byte messages, ${IN_FLIGHT} in flight, ${seconds}s per run, servers in child processes`);
const wsServer = await startServer('ws');
const wsEchoPerSec = await bareWs(wsServer.port);
wsServer.stop();
const petrelServer = await startServer('petrel');
const petrel = await petrelTransport(petrelServer.port);
petrelServer.stop();
/** (b) @petrel/client gets against one replica server (the primary of a 1-partition table). */
async function clientGets(): Promise<{ rate: number; messagesPerFrame: number }> {
  const root = mkdtempSync(join(tmpdir(), 'petrel-bench-wire-'));
  const children: ChildServer[] = [];
  const quiet = (): void => undefined;
  try {
    const meta = `127.0.0.1:${await freePort()}`;
    children.push(startChild('meta', ['meta', '--listen', meta, '--data-dir', join(root, 'meta')], quiet));
    await children[0]!.ready;
    for (let i = 0; i < 2; i++) {
      children.push(startChild(`replica${i}`, ['replica', '--listen', `127.0.0.1:${await freePort()}`, '--meta', meta, '--data-dir', join(root, `r${i}`)], quiet));
    }
    await Promise.all(children.map((child) => child.ready));
    const client = new PetrelClient({ metaServers: [meta], timeoutMs: 10_000 });
    try {
      await client.admin.createTable('wire', { partitionCount: 1, replicaCount: 2 });
      const wire = await client.openTable('wire');
      const value = Buffer.alloc(PAYLOAD_BYTES, 7);
      const keys = 1000;
      for (let i = 0; i < keys; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => wire.set(`h${i + j}`, 's', value)));
      const framesReceived = (): number => client.sessions().reduce((sum, session) => sum + session.counters.framesReceived, 0);
      let framesBefore = 0;
      const meter = new Meter(() => (framesBefore = framesReceived()));
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, async (_, lane) => {
          let i = lane;
          for (;;) {
            await wire.get(`h${i % keys}`, 's');
            i += IN_FLIGHT;
            if (!meter.tick()) break;
          }
        }),
      );
      const rate = meter.rate();
      const frames = framesReceived() - framesBefore;
      return { rate, messagesPerFrame: frames > 0 ? meter.count / frames : Number.NaN };
    } finally {
      await client.close();
    }
  } finally {
    await stopChildren(children);
    rmSync(root, { recursive: true, force: true });
  }
}

const gets = await clientGets();
console.log(
  table(
    ['exchange', 'round trips/s', 'vs bare ws', 'messages/frame'],
    [
      ['(a) bare ws echo, one message per frame', wsEchoPerSec, 1, 1],
      ['(c) Petrel transport echo', petrel.rate, petrel.rate / wsEchoPerSec, petrel.messagesPerFrame],
      ['(b) @petrel/client get, one replica server', gets.rate, gets.rate / wsEchoPerSec, gets.messagesPerFrame],
    ],
  ),
);
report('wire', {
  payloadBytes: PAYLOAD_BYTES,
  inFlight: IN_FLIGHT,
  secondsPerRun: seconds,
  wsEchoPerSec: round(wsEchoPerSec, 1),
  transportEchoPerSec: round(petrel.rate, 1),
  transportRatio: round(petrel.rate / wsEchoPerSec),
  transportMessagesPerFrame: round(petrel.messagesPerFrame, 1),
  clientGetPerSec: round(gets.rate, 1),
  ratio: round(gets.rate / wsEchoPerSec),
  clientMessagesPerFrame: round(gets.messagesPerFrame, 1),
});
process.exit(0);
