/**
 * The message envelope and the codec of every message.
 *
 *   message = u16 BE type id, varint64 request id, body
 *
 * The request id (chosen by the sender, echoed in the response) lets many requests be in flight
 * on one connection. The body's layout is fixed by the type id (ids.ts, doc/messages.md).
 *
 * Decoding hostile bytes only ever throws a PetrelError with code INVALID_ARGUMENT: every length
 * and count is checked against the bytes that remain before anything is read or allocated, byte
 * fields are views into the input (no copies), every loop is bounded by the input's length, and
 * trailing bytes are an error.
 */
import { BufferReader, BufferWriter, PetrelError, encodeWithScratch, putVarint, varintLength } from '@petrel/base';
import {
  type BodyCodec,
  type ErrorResponse,
  type HelloRequest,
  type HelloResponse,
  type Routed,
  batchGetRequestCodec,
  batchGetResponseCodec,
  checkAndMutateRequestCodec,
  checkAndSetRequestCodec,
  checkAndSetResponseCodec,
  delRequestCodec,
  errorResponseCodec,
  existResponseCodec,
  getRequestCodec,
  getResponseCodec,
  helloCodec,
  helloResponseCodec,
  incrRequestCodec,
  incrResponseCodec,
  multiDelRequestCodec,
  multiDelResponseCodec,
  multiGetRequestCodec,
  multiGetResponseCodec,
  multiSetRequestCodec,
  routed,
  scanRequestCodec,
  scanResponseCodec,
  setRequestCodec,
  setResponseCodec,
  sortKeyCountRequestCodec,
  sortKeyCountResponseCodec,
  ttlResponseCodec,
} from './bodies.js';
import { ERROR_RESPONSE_TYPE_ID, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION, REQUEST_TYPE_IDS, type RequestName, negotiateProtocolVersion, responseTypeId } from './ids.js';
import type {
  BatchGetRequest,
  BatchGetResponse,
  CheckAndMutateRequest,
  CheckAndMutateResponse,
  CheckAndSetRequest,
  CheckAndSetResponse,
  DelRequest,
  DelResponse,
  ExistRequest,
  ExistResponse,
  GetRequest,
  GetResponse,
  IncrRequest,
  IncrResponse,
  MultiDelRequest,
  MultiDelResponse,
  MultiGetRequest,
  MultiGetResponse,
  MultiSetRequest,
  MultiSetResponse,
  ScanRequest,
  ScanResponse,
  SetRequest,
  SetResponse,
  SortKeyCountRequest,
  SortKeyCountResponse,
  TtlRequest,
  TtlResponse,
} from './types.js';

/** The body of every request message, by name. */
export interface RequestBodies {
  hello: HelloRequest;
  get: Routed<GetRequest>;
  exist: Routed<ExistRequest>;
  ttl: Routed<TtlRequest>;
  multiGet: Routed<MultiGetRequest>;
  sortKeyCount: Routed<SortKeyCountRequest>;
  scan: Routed<ScanRequest>;
  batchGet: Routed<BatchGetRequest>;
  set: Routed<SetRequest>;
  multiSet: Routed<MultiSetRequest>;
  del: Routed<DelRequest>;
  multiDel: Routed<MultiDelRequest>;
  incr: Routed<IncrRequest>;
  checkAndSet: Routed<CheckAndSetRequest>;
  checkAndMutate: Routed<CheckAndMutateRequest>;
}

/** The body of the response to each request, by the request's name. */
export interface ResponseBodies {
  hello: HelloResponse;
  get: GetResponse;
  exist: ExistResponse;
  ttl: TtlResponse;
  multiGet: MultiGetResponse;
  sortKeyCount: SortKeyCountResponse;
  scan: ScanResponse;
  batchGet: BatchGetResponse;
  set: SetResponse;
  multiSet: MultiSetResponse;
  del: DelResponse;
  multiDel: MultiDelResponse;
  incr: IncrResponse;
  checkAndSet: CheckAndSetResponse;
  checkAndMutate: CheckAndMutateResponse;
}

// Every request name has a body type and a response type; a missing one fails to compile here.
type AssertSameKeys<A, B> = [Exclude<keyof A, keyof B>, Exclude<keyof B, keyof A>] extends [never, never] ? true : never;
const requestBodiesCoverNames: AssertSameKeys<RequestBodies, typeof REQUEST_TYPE_IDS> = true;
const responseBodiesCoverNames: AssertSameKeys<ResponseBodies, typeof REQUEST_TYPE_IDS> = true;
void requestBodiesCoverNames;
void responseBodiesCoverNames;

export type RequestMessage = { [N in RequestName]: { kind: 'request'; name: N; requestId: number; body: RequestBodies[N] } }[RequestName];
export type ResponseMessage = { [N in RequestName]: { kind: 'response'; name: N; requestId: number; body: ResponseBodies[N] } }[RequestName];
export interface ErrorMessage {
  kind: 'error';
  requestId: number;
  body: ErrorResponse;
}
/** Any message of the protocol. */
export type Message = RequestMessage | ResponseMessage | ErrorMessage;

const requestCodecs: { [N in RequestName]: BodyCodec<RequestBodies[N]> } = {
  hello: helloCodec,
  get: routed(getRequestCodec),
  exist: routed(getRequestCodec),
  ttl: routed(getRequestCodec),
  multiGet: routed(multiGetRequestCodec),
  sortKeyCount: routed(sortKeyCountRequestCodec),
  scan: routed(scanRequestCodec),
  batchGet: routed(batchGetRequestCodec),
  set: routed(setRequestCodec),
  multiSet: routed(multiSetRequestCodec),
  del: routed(delRequestCodec),
  multiDel: routed(multiDelRequestCodec),
  incr: routed(incrRequestCodec),
  checkAndSet: routed(checkAndSetRequestCodec),
  checkAndMutate: routed(checkAndMutateRequestCodec),
};

const responseCodecs: { [N in RequestName]: BodyCodec<ResponseBodies[N]> } = {
  hello: helloResponseCodec,
  get: getResponseCodec,
  exist: existResponseCodec,
  ttl: ttlResponseCodec,
  multiGet: multiGetResponseCodec,
  sortKeyCount: sortKeyCountResponseCodec,
  scan: scanResponseCodec,
  batchGet: batchGetResponseCodec,
  set: setResponseCodec,
  multiSet: setResponseCodec,
  del: setResponseCodec,
  multiDel: multiDelResponseCodec,
  incr: incrResponseCodec,
  checkAndSet: checkAndSetResponseCodec,
  checkAndMutate: checkAndSetResponseCodec,
};

const requestNameById = new Map<number, RequestName>();
for (const [name, id] of Object.entries(REQUEST_TYPE_IDS)) requestNameById.set(id, name as RequestName);

/** The name of a request type id, or undefined. */
export function requestNameOf(typeId: number): RequestName | undefined {
  return requestNameById.get(typeId);
}

/** The type id a message is sent with. */
export function typeIdOf(message: Message): number {
  if (message.kind === 'error') return ERROR_RESPONSE_TYPE_ID;
  const id = REQUEST_TYPE_IDS[message.name];
  return message.kind === 'request' ? id : responseTypeId(id);
}

function checkRequestId(requestId: number): void {
  if (!Number.isSafeInteger(requestId) || requestId < 0) throw new PetrelError('INVALID_ARGUMENT', `request id ${requestId} is not a safe non-negative integer`);
}

/** Appends one message to `writer`. INVALID_ARGUMENT for a field its type cannot carry. */
export function writeMessage(writer: BufferWriter, message: Message): void {
  checkRequestId(message.requestId);
  writer.u16be(typeIdOf(message));
  writer.varint64(message.requestId);
  if (message.kind === 'error') errorResponseCodec.encode(writer, message.body);
  else if (message.kind === 'request') (requestCodecs[message.name] as BodyCodec<unknown>).encode(writer, message.body);
  else (responseCodecs[message.name] as BodyCodec<unknown>).encode(writer, message.body);
}

/** The bytes of one message. */
export function encodeMessage(message: Message): Buffer {
  return encodeWithScratch(writeMessage, message);
}

/**
 * The message in `data` (exactly one, no trailing bytes). Byte fields are views into `data`.
 * INVALID_ARGUMENT for anything malformed.
 */
export function decodeMessage(data: Uint8Array): Message {
  const reader = new BufferReader(data, 'INVALID_ARGUMENT', 'message');
  const typeId = reader.u16be();
  const requestId = reader.varint64();
  let message: Message;
  if (typeId === ERROR_RESPONSE_TYPE_ID) {
    message = { kind: 'error', requestId, body: errorResponseCodec.decode(reader) };
  } else {
    const isResponse = (typeId & 0x8000) !== 0;
    const name = requestNameById.get(typeId & 0x7fff);
    if (name === undefined) return reader.fail(`unknown message type 0x${typeId.toString(16).padStart(4, '0')}`);
    const body = isResponse ? responseCodecs[name].decode(reader) : requestCodecs[name].decode(reader);
    message = { kind: isResponse ? 'response' : 'request', name, requestId, body } as Message;
  }
  reader.expectEnd();
  return message;
}

/** A peer's opening `hello`: this build's protocol versions and the peer's name. */
export function encodeHello(peerName: string, requestId = 0): Buffer {
  return encodeMessage({ kind: 'request', name: 'hello', requestId, body: { protocolVersion: PROTOCOL_VERSION, minProtocolVersion: MIN_PROTOCOL_VERSION, peerName } });
}

/** The answer to a `hello`: the version both sides will speak (UNSUPPORTED_VERSION if none), and our name. */
export function encodeHelloResponse(hello: HelloRequest, requestId: number, peerName: string): Buffer {
  return encodeMessage({ kind: 'response', name: 'hello', requestId, body: { protocolVersion: negotiateProtocolVersion(hello), peerName } });
}

/**
 * The same message addressed to another request id: the envelope is rewritten, the body copied
 * as it is (a response encoded before its request id was known — a write's result, built when the
 * mutation is applied — goes out without being decoded and encoded again).
 */
export function withRequestId(message: Uint8Array, requestId: number): Buffer {
  checkRequestId(requestId);
  const head = peekEnvelope(message);
  if (head === undefined) throw new PetrelError('INVALID_ARGUMENT', 'a message too short for its envelope');
  const bodyStart = 2 + varintLength(head.requestId);
  const out = Buffer.allocUnsafe(2 + varintLength(requestId) + message.length - bodyStart);
  out[0] = message[0] as number;
  out[1] = message[1] as number;
  const at = putVarint(out, 2, requestId);
  out.set(message.subarray(bodyStart), at);
  return out;
}

/**
 * Reads just the type id and request id of a message, for answering one whose body could not be
 * decoded. Undefined when even those are unreadable.
 */
export function peekEnvelope(data: Uint8Array): { typeId: number; requestId: number } | undefined {
  try {
    const reader = new BufferReader(data, 'INVALID_ARGUMENT', 'message');
    return { typeId: reader.u16be(), requestId: reader.varint64() };
  } catch {
    return undefined;
  }
}
