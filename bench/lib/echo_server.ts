/**
 * An echo server for bench/wire.ts, run as its own process so that client and server do not share
 * a CPU thread. Mode `ws`: a bare `ws` server echoing each frame as one frame. Mode `petrel`: the
 * Petrel transport, echoing each message (replies coalesce per turn). Prints the port when ready.
 */
import { listen } from '@petrel/protocol';
import { WebSocketServer } from 'ws';

const mode = process.argv[2];
if (mode === 'ws') {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  server.on('connection', (socket) => socket.on('message', (data: Buffer) => socket.send(data, { binary: true, compress: false })));
  server.on('listening', () => console.log(JSON.stringify({ port: (server.address() as { port: number }).port })));
} else if (mode === 'petrel') {
  const listener = await listen({
    host: '127.0.0.1',
    port: 0,
    onConnection: (connection) => connection.onMessage((message) => connection.send(message)),
  });
  console.log(JSON.stringify({ port: listener.port }));
} else {
  console.error('usage: echo_server.ts ws|petrel');
  process.exit(2);
}
process.on('disconnect', () => process.exit(0));
