/**
 * Session: one WebSocket to one server (a replica server or a meta server), after the hello
 * handshake, carrying pipelined requests.
 *
 * - Opening: the transport's `connect`, then `hello` (request id 0) with this build's protocol
 *   versions; the server answers with the version both speak, or an error response
 *   (UNSUPPORTED_VERSION). Nothing else is sent before that answer.
 * - Requests: each gets a fresh request id and is answered in any order. Replica requests use
 *   the fixed codecs (`encodeMessage`); meta requests the cluster envelope. A response is matched
 *   to its request by id and must be the response to that request's type (or the error response
 *   0x8000); anything else is a protocol violation that closes the session.
 * - Back-pressure: at most `maxInFlight` requests are out on the wire; later ones wait in a FIFO
 *   queue of at most `maxQueued`, and past that a request fails at once with APP_BUSY — sending
 *   nothing. A request whose call ended (deadline) leaves the window or the queue at once.
 * - Failure: when the connection closes, every request still queued fails as never sent, and
 *   every request on the wire as "may have been applied" (RequestFailure.delivery), which the
 *   retry policy needs to know.
 */
import { IdMap, PetrelError, isErrorCode } from '@petrel/base';
import {
  type ClusterMessageName,
  type Connection,
  type ConnectionLimits,
  CLUSTER_TYPE_IDS,
  ERROR_RESPONSE_TYPE_ID,
  MIN_PROTOCOL_VERSION,
  PROTOCOL_VERSION,
  type PlainValue,
  type RequestBodies,
  type RequestName,
  type ResponseBodies,
  clusterMessageName,
  connect,
  decodeClusterMessage,
  decodeMessage,
  encodeClusterMessage,
  encodeMessage,
  resultOf,
} from '@petrel/protocol';
import type { AbortListener, CallContext } from './call_context.js';
import { CallAborted } from './call_context.js';

/** Whether a failed request may have reached the server and been applied. */
export type Delivery = 'not-sent' | 'maybe-applied';

/** A request that got no answer: the connection failed or was refused before or after sending. */
export class RequestFailure extends PetrelError {
  constructor(
    code: 'NETWORK_FAILURE' | 'APP_BUSY' | 'CLOSED',
    message: string,
    readonly delivery: Delivery,
  ) {
    super(code, message);
  }
}

export interface SessionOptions {
  maxInFlight: number;
  maxQueued: number;
  connectTimeoutMs: number;
  clientName: string;
  limits?: Partial<ConnectionLimits>;
}

/** Who waits for a request's answer: told once, with the response body or the error. */
export interface ResponseWaiter {
  responded(body: unknown): void;
  failed(error: unknown): void;
}

/** A request queued or on the wire. It leaves its session when its call ends (AbortListener). */
class Pending implements AbortListener {
  state: 'queued' | 'sent' | 'done' = 'queued';

  constructor(
    readonly session: Session,
    readonly requestId: number,
    /** The response type id expected (the request's id | 0x8000). */
    readonly responseTypeId: number,
    /** For meta requests: the body is the cluster envelope's ok/error. */
    readonly cluster: boolean,
    readonly message: Buffer,
    readonly waiter: ResponseWaiter,
    readonly context: CallContext,
  ) {}

  callAborted(): void {
    this.session.abandon(this);
  }
}

/** The waiter of the promise-returning calls. */
class PromiseWaiter implements ResponseWaiter {
  constructor(
    readonly responded: (body: unknown) => void,
    readonly failed: (error: unknown) => void,
  ) {}
}

const RESPONSE_BIT = 0x8000;
const HELLO_REQUEST_ID = 0;

export class Session {
  private nextRequestId = 1;
  /** Requests on the wire by id (an IdMap: see there why not a Map). */
  private readonly pending: IdMap<Pending>;
  private queue: Pending[] = [];
  private queueHead = 0;
  private queued = 0;
  private inFlight = 0;
  private closed = false;
  private readonly closeHandlers: (() => void)[] = [];

  private constructor(
    private readonly connection: Connection,
    readonly address: string,
    readonly protocolVersion: number,
    readonly serverName: string,
    private readonly options: SessionOptions,
  ) {
    this.pending = new IdMap(Math.min(65_536, 2 * options.maxInFlight));
    connection.onMessage((message) => this.receive(message));
    connection.onClose((code, reason) => this.handleClose(code, reason));
  }

  /** Connects and shakes hands; NETWORK_FAILURE, or the server's error (UNSUPPORTED_VERSION …). */
  static async open(address: string, options: SessionOptions): Promise<Session> {
    const connection = await connect(address, { timeoutMs: options.connectTimeoutMs, ...(options.limits === undefined ? {} : { limits: options.limits }) });
    return new Promise<Session>((resolve, reject) => {
      let settled = false;
      const fail = (error: PetrelError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        connection.terminate();
        reject(error);
      };
      const timer = setTimeout(() => fail(new PetrelError('NETWORK_FAILURE', `${address} did not answer the hello within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      connection.onClose((code, reason) => fail(new PetrelError('NETWORK_FAILURE', `${address} closed the connection during the hello (${code} ${reason})`)));
      connection.onMessage((bytes) => {
        if (settled) return;
        let version: number;
        let serverName: string;
        try {
          const message = decodeMessage(bytes);
          if (message.kind === 'error' && message.requestId === HELLO_REQUEST_ID) {
            throw new PetrelError(message.body.error.code, `${address} refused the hello: ${message.body.error.message}`);
          }
          if (message.kind !== 'response' || message.name !== 'hello' || message.requestId !== HELLO_REQUEST_ID) {
            throw new PetrelError('NETWORK_FAILURE', `${address} answered the hello with something else`);
          }
          version = message.body.protocolVersion;
          serverName = message.body.peerName;
          if (version < MIN_PROTOCOL_VERSION || version > PROTOCOL_VERSION) {
            throw new PetrelError('UNSUPPORTED_VERSION', `${address} chose protocol version ${version}; this client speaks ${MIN_PROTOCOL_VERSION}–${PROTOCOL_VERSION}`);
          }
        } catch (error) {
          fail(error instanceof PetrelError ? error : new PetrelError('NETWORK_FAILURE', `bad hello answer from ${address}: ${String(error)}`));
          return;
        }
        settled = true;
        clearTimeout(timer);
        resolve(new Session(connection, address, version, serverName, options));
      });
      const hello = encodeMessage({
        kind: 'request',
        name: 'hello',
        requestId: HELLO_REQUEST_ID,
        body: { protocolVersion: PROTOCOL_VERSION, minProtocolVersion: MIN_PROTOCOL_VERSION, peerName: options.clientName },
      });
      if (!connection.send(hello)) fail(new PetrelError('NETWORK_FAILURE', `cannot send the hello to ${address}`));
    });
  }

  get isOpen(): boolean {
    return !this.closed && this.connection.isOpen;
  }

  /** Requests on the wire and waiting, for tests and metrics. */
  get load(): { inFlight: number; queued: number } {
    return { inFlight: this.inFlight, queued: this.queued };
  }

  get counters(): Connection['counters'] {
    return this.connection.counters;
  }

  onClose(handler: () => void): void {
    if (this.closed) queueMicrotask(handler);
    else this.closeHandlers.push(handler);
  }

  /** Sends a client ↔ replica request and resolves with its response body (rejects with the server's error). */
  call<N extends RequestName>(name: N, body: RequestBodies[N], context: CallContext): Promise<ResponseBodies[N]> {
    return new Promise((resolve, reject) => this.send(name, body, new PromiseWaiter(resolve as (body: unknown) => void, reject), context));
  }

  /**
   * Sends a client ↔ replica request; `waiter` hears the response body or the error (the server's,
   * or the connection's as a RequestFailure). Encoding validates every field: a value the wire
   * cannot carry throws INVALID_ARGUMENT here, before anything is sent.
   */
  send<N extends RequestName>(name: N, body: RequestBodies[N], waiter: ResponseWaiter, context: CallContext): void {
    const requestId = this.nextRequestId++;
    const message = encodeMessage({ kind: 'request', name, requestId, body } as Parameters<typeof encodeMessage>[0]);
    const typeId = message.readUInt16BE(0);
    this.enqueue(requestId, typeId | RESPONSE_BIT, false, message, waiter, context);
  }

  /** Sends a client ↔ meta request and resolves with the result of its `{ ok }` (rejects with its `{ error }`). */
  callMeta(name: ClusterMessageName, body: unknown, context: CallContext): Promise<PlainValue> {
    return new Promise((resolve, reject) => {
      const requestId = this.nextRequestId++;
      const typeId = CLUSTER_TYPE_IDS[name];
      const message = encodeClusterMessage(typeId, requestId, body);
      this.enqueue(requestId, typeId | RESPONSE_BIT, true, message, new PromiseWaiter(resolve as (body: unknown) => void, reject), context);
    });
  }

  close(): void {
    this.connection.close(1000, 'client closed');
    this.handleClose(1000, 'client closed');
  }

  private enqueue(requestId: number, responseTypeId: number, cluster: boolean, message: Buffer, waiter: ResponseWaiter, context: CallContext): void {
    if (this.closed) return waiter.failed(new RequestFailure('NETWORK_FAILURE', `the connection to ${this.address} is closed`, 'not-sent'));
    if (context.isAborted) return waiter.failed(new CallAborted());
    const entry = new Pending(this, requestId, responseTypeId, cluster, message, waiter, context);
    if (this.inFlight < this.options.maxInFlight) {
      if (!this.transmit(entry)) return;
    } else if (this.queued < this.options.maxQueued) {
      this.queue.push(entry);
      this.queued++;
    } else {
      waiter.failed(
        new RequestFailure(
          'APP_BUSY',
          `${this.inFlight} requests in flight and ${this.queued} queued on the connection to ${this.address}: the client's limit (maxQueuedPerConnection ${this.options.maxQueued})`,
          'not-sent',
        ),
      );
      return;
    }
    context.listen(entry);
  }

  /** Puts a request on the wire; false (and the entry failed) when the connection refuses it. */
  private transmit(entry: Pending): boolean {
    if (!this.connection.send(entry.message)) {
      entry.state = 'done';
      const full = this.connection.isOpen;
      entry.waiter.failed(
        full
          ? new RequestFailure('APP_BUSY', `the outgoing buffer of the connection to ${this.address} is full`, 'not-sent')
          : new RequestFailure('NETWORK_FAILURE', `the connection to ${this.address} is closed`, 'not-sent'),
      );
      return false;
    }
    entry.state = 'sent';
    this.pending.set(entry.requestId, entry);
    this.inFlight++;
    return true;
  }

  /** @internal The call that made `entry` ended: forget it, so its slot serves another request. */
  abandon(entry: Pending): void {
    if (entry.state === 'sent') {
      this.pending.delete(entry.requestId);
      this.inFlight--;
      entry.state = 'done';
      entry.waiter.failed(new CallAborted());
      this.pump();
    } else if (entry.state === 'queued') {
      entry.state = 'done';
      this.queued--;
      entry.waiter.failed(new CallAborted());
    }
  }

  /** Moves queued requests onto the wire while the window has room. */
  private pump(): void {
    while (this.inFlight < this.options.maxInFlight && this.queueHead < this.queue.length) {
      const entry = this.queue[this.queueHead++] as Pending;
      if (entry.state !== 'queued') continue;
      this.queued--;
      if (!this.transmit(entry)) entry.context.unlisten(entry);
    }
    if (this.queueHead === this.queue.length) {
      this.queue = [];
      this.queueHead = 0;
    } else if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }

  private receive(bytes: Buffer): void {
    if (this.closed) return;
    if (bytes.length < 3) {
      this.violation(`a message of ${bytes.length} bytes`);
      return;
    }
    const typeId = bytes.readUInt16BE(0);
    const isCluster = typeId !== ERROR_RESPONSE_TYPE_ID && (typeId & RESPONSE_BIT) !== 0 && clusterMessageName(typeId) !== undefined;
    let requestId: number;
    let value: unknown;
    let error: PetrelError | undefined;
    try {
      if (isCluster) {
        const envelope = decodeClusterMessage(bytes);
        requestId = envelope.requestId;
        try {
          value = resultOf(envelope.body);
        } catch (failure) {
          error = failure instanceof PetrelError ? failure : new PetrelError('CORRUPTION', String(failure));
        }
      } else {
        const message = decodeMessage(bytes);
        requestId = message.requestId;
        if (message.kind === 'request') throw new PetrelError('INVALID_ARGUMENT', `a request (${message.name}) from a server`);
        if (message.kind === 'error') {
          const code = isErrorCode(message.body.error.code) ? message.body.error.code : 'SERVER_INTERNAL_ERROR';
          error = new PetrelError(code, `${this.address}: ${message.body.error.message}`);
        } else value = message.body;
      }
    } catch (failure) {
      this.violation(failure instanceof Error ? failure.message : String(failure));
      return;
    }
    const entry = this.pending.get(requestId);
    // An answer to a request whose call already ended is dropped.
    if (entry === undefined) return;
    if (typeId !== entry.responseTypeId && typeId !== ERROR_RESPONSE_TYPE_ID) {
      this.violation(`response type 0x${typeId.toString(16)} to a request expecting 0x${entry.responseTypeId.toString(16)}`);
      return;
    }
    this.pending.delete(requestId);
    this.inFlight--;
    entry.state = 'done';
    entry.context.unlisten(entry);
    if (error === undefined) entry.waiter.responded(value);
    else entry.waiter.failed(error);
    this.pump();
  }

  /** The server broke the protocol: close, failing everything in flight. */
  private violation(what: string): void {
    this.connection.close(1002, `protocol violation: ${what}`.slice(0, 120));
    this.handleClose(1002, `protocol violation: ${what}`);
  }

  private handleClose(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    const why = `the connection to ${this.address} closed (${code}${reason === '' ? '' : ` ${reason}`})`;
    const sent = this.pending.toArray().sort((a, b) => a.requestId - b.requestId);
    this.pending.clear();
    this.inFlight = 0;
    const waiting = this.queue.slice(this.queueHead);
    this.queue = [];
    this.queueHead = 0;
    this.queued = 0;
    for (const entry of sent) {
      entry.state = 'done';
      entry.context.unlisten(entry);
      entry.waiter.failed(new RequestFailure('NETWORK_FAILURE', `${why} with the request in flight`, 'maybe-applied'));
    }
    for (const entry of waiting) {
      if (entry.state !== 'queued') continue;
      entry.state = 'done';
      entry.context.unlisten(entry);
      entry.waiter.failed(new RequestFailure('NETWORK_FAILURE', `${why} before the request was sent`, 'not-sent'));
    }
    for (const handler of this.closeHandlers.splice(0)) handler();
  }
}
