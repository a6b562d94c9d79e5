/**
 * Connection: one WebSocket, carrying opaque messages both ways.
 *
 * Outgoing messages are queued and sent as one frame (a batch, see batch.ts) once per event-loop
 * turn — or sooner when the queue reaches `maxFrameBytes` — because per-frame cost dominates small
 * messages (measured here: ~70k frames/s each way through `ws`). Incoming frames are split and each
 * message handed to `onMessage`.
 *
 * A frame also goes out as soon as `maxFrameMessages` messages are queued, without waiting for the
 * turn to end: a turn that answers a frame of 64 requests would otherwise keep all 64 answers until
 * the last is ready, while the peer sits idle, and the two sides would take turns instead of
 * working at once. Cut every few dozen messages, the peer starts on the first answers while this
 * side makes the rest (bench:wire, @petrel/client gets with 64 in flight: 1.5–1.7× the throughput of
 * one frame per turn on this 2-core machine). Each frame costs a socket write and, often, waking
 * the peer, so the cut is no smaller than it needs to be: 32, two frames per 64 in flight
 * (doc/transport.md has the measurements).
 *
 * Bounded: the bytes queued here plus those the socket has not sent yet are limited
 * (`maxQueuedBytes`); `send` refuses a message past the limit (returns false), and the caller
 * answers back-pressure (a server replies APP_BUSY, a client waits or fails the call).
 *
 * Bad input closes the connection with a reason: a text frame (1003), a malformed batch (1007),
 * a frame over the limit (1009, enforced by ws itself).
 */
import { PetrelError, varintLength } from '@petrel/base';
import type { WebSocket } from 'ws';
import { decodeBatch, encodeBatch, encodeBatchInto } from './batch.js';

export interface ConnectionLimits {
  /** The largest frame sent or accepted (default 64 MiB). */
  maxFrameBytes: number;
  /** The largest single message (default 64 MiB). */
  maxMessageBytes: number;
  /** Outgoing bytes buffered (here and in the socket) before `send` refuses (default 256 MiB). */
  maxQueuedBytes: number;
  /** Messages queued that make a frame go out before the turn ends (default 32). */
  maxFrameMessages: number;
}

/**
 * Outgoing frames up to FRAME_BUFFER_BYTES are encoded into buffers reused by every connection of
 * the process. A fresh buffer per frame — an ArrayBuffer outside V8's heap — made a read-heavy
 * server run a major collection several times a second (V8 starts one as such memory grows), with
 * a heap of only ~30 MB to mark. A buffer goes back to the spares when the socket has written
 * it; at most SPARE_FRAME_BUFFERS wait there (4 MiB), the rest are left to the collector.
 */
const FRAME_BUFFER_BYTES = 64 * 1024;
const SPARE_FRAME_BUFFERS = 64;
const spareFrameBuffers: Buffer[] = [];
/** `PETREL_FRAME_BUFFERS=fresh`: a new buffer per frame, as before (bench:server-gc compares). */
const REUSE_FRAME_BUFFERS = process.env.PETREL_FRAME_BUFFERS !== 'fresh';

export const DEFAULT_LIMITS: ConnectionLimits = {
  maxFrameBytes: 64 * 2 ** 20,
  maxMessageBytes: 64 * 2 ** 20,
  maxQueuedBytes: 256 * 2 ** 20,
  maxFrameMessages: 32,
};

export type CloseHandler = (code: number, reason: string) => void;

export class Connection {
  private queue: Uint8Array[] = [];
  private queuedBytes = 0;
  private flushScheduled = false;
  private closed = false;
  private messageHandler: (message: Buffer) => void = () => undefined;
  private readonly closeHandlers: CloseHandler[] = [];
  /** Counters for metrics and tests. */
  readonly counters = { framesSent: 0, messagesSent: 0, framesReceived: 0, messagesReceived: 0, bytesSent: 0, bytesReceived: 0 };

  constructor(
    private readonly socket: WebSocket,
    readonly remoteAddress: string,
    private readonly limits: ConnectionLimits = DEFAULT_LIMITS,
  ) {
    socket.binaryType = 'nodebuffer';
    socket.on('message', (data: Buffer, isBinary: boolean) => this.receive(data, isBinary));
    socket.on('close', (code: number, reason: Buffer) => this.handleClose(code, reason.toString()));
    socket.on('error', () => {
      // 'close' follows every 'error'; handled there.
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.socket.readyState === this.socket.OPEN;
  }

  /** Outgoing bytes not yet written to the network. */
  get pendingBytes(): number {
    return this.queuedBytes + this.socket.bufferedAmount;
  }

  onMessage(handler: (message: Buffer) => void): void {
    this.messageHandler = handler;
  }

  onClose(handler: CloseHandler): void {
    if (this.closed) queueMicrotask(() => handler(1006, 'already closed'));
    else this.closeHandlers.push(handler);
  }

  /**
   * Queues a message for the next frame. Returns false — and sends nothing — when the connection
   * is closed or its outgoing buffer is full. The message must not change until the turn ends.
   */
  send(message: Uint8Array): boolean {
    if (!this.isOpen) return false;
    const size = varintLength(message.length) + message.length;
    if (message.length > this.limits.maxMessageBytes || this.pendingBytes + size > this.limits.maxQueuedBytes) return false;
    this.queue.push(message);
    this.queuedBytes += size;
    if (this.queuedBytes >= this.limits.maxFrameBytes || this.queue.length >= this.limits.maxFrameMessages) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  /** Sends what is queued now, as frames of at most maxFrameBytes. */
  flush(): void {
    this.flushScheduled = false;
    if (this.queue.length === 0) return;
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    if (!this.isOpen) return;
    let start = 0;
    while (start < queue.length) {
      let bytes = 0;
      let end = start;
      while (end < queue.length) {
        const message = queue[end] as Uint8Array;
        const size = varintLength(message.length) + message.length;
        if (end > start && bytes + size > this.limits.maxFrameBytes) break;
        bytes += size;
        end++;
      }
      const messages = end - start === queue.length ? queue : queue.slice(start, end);
      let frame: Buffer;
      if (bytes <= FRAME_BUFFER_BYTES && REUSE_FRAME_BUFFERS) {
        // A reused buffer, back in the spares once the socket has written it (the callback).
        const buffer = spareFrameBuffers.pop() ?? Buffer.allocUnsafeSlow(FRAME_BUFFER_BYTES);
        frame = encodeBatchInto(buffer, messages, bytes);
        this.socket.send(frame, { binary: true, compress: false }, () => {
          if (spareFrameBuffers.length < SPARE_FRAME_BUFFERS) spareFrameBuffers.push(buffer);
        });
      } else {
        frame = encodeBatch(messages, bytes);
        this.socket.send(frame, { binary: true, compress: false });
      }
      this.counters.framesSent++;
      this.counters.messagesSent += end - start;
      this.counters.bytesSent += frame.length;
      start = end;
    }
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.flush();
    this.socket.close(code, reason);
  }

  /** Closes at once, without a closing handshake. */
  terminate(): void {
    this.socket.terminate();
  }

  private receive(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    if (!isBinary) {
      this.close(1003, 'text frames are not accepted; Petrel speaks binary frames');
      return;
    }
    this.counters.framesReceived++;
    this.counters.bytesReceived += data.length;
    try {
      this.counters.messagesReceived += decodeBatch(data, this.limits.maxMessageBytes, this.messageHandler);
    } catch (error) {
      const reason = error instanceof PetrelError ? error.message : 'malformed frame';
      this.close(1007, reason.slice(0, 120));
    }
  }

  private handleClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.queuedBytes = 0;
    for (const handler of this.closeHandlers.splice(0)) handler(code, reason);
  }
}
