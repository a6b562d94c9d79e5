/**
 * Endpoints: a listening server that hands each accepted WebSocket over as a Connection, and a
 * dialer. Addresses are `host:port`; `ws://host:port` is accepted too.
 */
import { PetrelError } from '@petrel/base';
import { WebSocket, WebSocketServer } from 'ws';
import { Connection, type ConnectionLimits, DEFAULT_LIMITS } from './connection.js';

/** `host:port` or a ws:// URL. `forListening` allows port 0 (any free port). */
export function parseAddress(address: string, forListening = false): { host: string; port: number } {
  const stripped = address.replace(/^wss?:\/\//, '').replace(/\/$/, '');
  const colon = stripped.lastIndexOf(':');
  const host = stripped.slice(0, colon);
  const port = Number(stripped.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < (forListening ? 0 : 1) || port > 65535) {
    throw new PetrelError('INVALID_ARGUMENT', `bad server address "${address}": expected host:port`);
  }
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

export interface Listener {
  readonly address: string;
  readonly port: number;
  close(): Promise<void>;
}

export interface ListenOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  onConnection: (connection: Connection) => void;
  limits?: Partial<ConnectionLimits>;
  /** Accept at most this many connections at once (default 10,000); more are refused. */
  maxConnections?: number;
}

export function listen(options: ListenOptions): Promise<Listener> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const maxConnections = options.maxConnections ?? 10_000;
  return new Promise((resolve, reject) => {
    const server = new WebSocketServer({
      host: options.host,
      port: options.port,
      perMessageDeflate: false,
      maxPayload: limits.maxFrameBytes,
      clientTracking: true,
    });
    server.once('error', reject);
    server.on('connection', (socket, request) => {
      if (server.clients.size > maxConnections) {
        socket.close(1013, 'too many connections');
        return;
      }
      const remote = `${request.socket.remoteAddress ?? '?'}:${request.socket.remotePort ?? 0}`;
      options.onConnection(new Connection(socket, remote, limits));
    });
    server.once('listening', () => {
      server.off('error', reject);
      const port = (server.address() as { port: number }).port;
      resolve({
        address: `${options.host}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const client of server.clients) client.terminate();
            server.close(() => done());
          }),
      });
    });
  });
}

export function connect(address: string, options: { limits?: Partial<ConnectionLimits>; timeoutMs?: number } = {}): Promise<Connection> {
  const { host, port } = parseAddress(address);
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  return new Promise((resolve, reject) => {
    const url = `ws://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const socket = new WebSocket(url, { perMessageDeflate: false, maxPayload: limits.maxFrameBytes, handshakeTimeout: options.timeoutMs ?? 5000 });
    const fail = (error: Error) => {
      socket.removeAllListeners();
      socket.on('error', () => undefined);
      socket.terminate();
      reject(new PetrelError('NETWORK_FAILURE', `cannot connect to ${address}: ${error.message}`, { cause: error }));
    };
    socket.once('error', fail);
    socket.once('open', () => {
      socket.off('error', fail);
      resolve(new Connection(socket, `${host}:${port}`, limits));
    });
  });
}
