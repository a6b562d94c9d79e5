/**
 * bench/wire.ts — messages per second over WebSockets on loopback, 100-byte payloads, 64 requests
 * in flight, servers in their own processes:
 *
 *   (a) a bare `ws` echo server and client, one message per frame: the floor;
 *   (c) the Petrel transport echoing the same messages, which coalesces the messages of one
 *       event-loop turn into one frame;
 *   (b) @petrel/client doing `get` of 100-byte values against one replica server — NOT YET BUILT:
 *       it needs the replica server and the client SDK (issue 7). The bench says so and reports
 *       only (a) and (c) until then.
 *
 *   npm run bench:wire [-- --quick]
 */
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { connect } from '@petrel/protocol';
import { WebSocket } from 'ws';
import { quick, report, round, table } from './lib/report.js';

const PAYLOAD_BYTES = 100;
const IN_FLIGHT = 64;
const seconds = quick ? 2 : 5;

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
  let completed = 0;
  let running = true;
  socket.on('message', () => {
    completed++;
    if (running) socket.send(payload, { binary: true, compress: false });
  });
  const started = performance.now();
  for (let i = 0; i < IN_FLIGHT; i++) socket.send(payload, { binary: true, compress: false });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const rate = completed / ((performance.now() - started) / 1000);
  socket.terminate();
  return rate;
}

/** (c) the Petrel transport: the same exchange, replies and requests coalesced per turn. */
async function petrelTransport(port: number): Promise<{ rate: number; messagesPerFrame: number }> {
  const connection = await connect(`127.0.0.1:${port}`);
  const payload = Buffer.alloc(PAYLOAD_BYTES, 1);
  let completed = 0;
  let running = true;
  connection.onMessage(() => {
    completed++;
    if (running) connection.send(payload);
  });
  const started = performance.now();
  for (let i = 0; i < IN_FLIGHT; i++) connection.send(payload);
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  running = false;
  const rate = completed / ((performance.now() - started) / 1000);
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
console.log(
  table(
    ['exchange', 'round trips/s', 'vs bare ws', 'messages/frame'],
    [
      ['(a) bare ws echo, one message per frame', wsEchoPerSec, 1, 1],
      ['(c) Petrel transport echo', petrel.rate, petrel.rate / wsEchoPerSec, petrel.messagesPerFrame],
      ['(b) @petrel/client get, one replica server', 'not built yet (issue 7)', '-', '-'],
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
  clientGetPerSec: null,
  ratio: null,
  note: 'clientGetPerSec and ratio need the replica server and client SDK (issue 7)',
});
process.exit(0);
