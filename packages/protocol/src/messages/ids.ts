/**
 * Message type ids: a u16 at the start of every message. An id never changes meaning; a message
 * whose layout must change gets a new id (the old one stays decodable until the protocol version
 * that dropped it is no longer supported).
 *
 *   0x0000           never used (a zeroed frame is not a message)
 *   0x0001 – 0x7fff  requests and one-way messages; the response to request R is R | 0x8000
 *     0x0001 – 0x00ff  session: hello (handshake with the protocol version)
 *     0x0100 – 0x01ff  client ↔ replica: reads and writes of CLIENT_API.md
 *     0x0200 – 0x02ff  client ↔ meta (reserved: tables, routing, admin)
 *     0x0300 – 0x03ff  replica ↔ replica (reserved: prepare, group check, learn)
 *     0x0400 – 0x04ff  replica ↔ meta (reserved: beacons, configuration proposals)
 *     0x0500 – 0x05ff  meta ↔ meta (reserved)
 *     0x0600 – 0x7eff  unassigned
 *     0x7f00 – 0x7fff  tests and experiments, never sent by a production build
 *   0x8000           the error response, an answer to any request
 *   0x8001 – 0xffff  responses
 */

import { PetrelError } from '@petrel/base';

/** The version this build speaks; sent in the handshake. */
export const PROTOCOL_VERSION = 1;
/** The oldest version this build still understands. */
export const MIN_PROTOCOL_VERSION = 1;

export const RESPONSE_BIT = 0x8000;

export const MESSAGE_TYPE_RANGES = {
  session: [0x0001, 0x00ff],
  clientReplica: [0x0100, 0x01ff],
  clientMeta: [0x0200, 0x02ff],
  replicaReplica: [0x0300, 0x03ff],
  replicaMeta: [0x0400, 0x04ff],
  metaMeta: [0x0500, 0x05ff],
  testing: [0x7f00, 0x7fff],
} as const satisfies Record<string, readonly [number, number]>;

/** Request (and one-way) message ids by name. Never renumber; only add. */
export const REQUEST_TYPE_IDS = {
  hello: 0x0001,
  // Client ↔ replica reads.
  get: 0x0101,
  exist: 0x0102,
  ttl: 0x0103,
  multiGet: 0x0104,
  sortKeyCount: 0x0105,
  scan: 0x0106,
  batchGet: 0x0107,
  // Client ↔ replica writes (the same ids name the writes inside a mutation).
  set: 0x0111,
  multiSet: 0x0112,
  del: 0x0113,
  multiDel: 0x0114,
  incr: 0x0115,
  checkAndSet: 0x0116,
  checkAndMutate: 0x0117,
} as const;

export type RequestName = keyof typeof REQUEST_TYPE_IDS;

export const ERROR_RESPONSE_TYPE_ID = RESPONSE_BIT;

/** The response id of a request id. */
export function responseTypeId(requestTypeId: number): number {
  return requestTypeId | RESPONSE_BIT;
}

/** Check types on the wire (u8). Never renumber; only add. */
export const CHECK_TYPE_IDS = {
  noCheck: 0,
  notExist: 1,
  notExistOrEmpty: 2,
  exist: 3,
  notEmpty: 4,
  matchAnywhere: 5,
  matchPrefix: 6,
  matchPostfix: 7,
  bytesLess: 8,
  bytesLessOrEqual: 9,
  bytesEqual: 10,
  bytesGreaterOrEqual: 11,
  bytesGreater: 12,
  intLess: 13,
  intLessOrEqual: 14,
  intEqual: 15,
  intGreaterOrEqual: 16,
  intGreater: 17,
} as const;

/** Whether `value` names a check type (the ids' keys are the one list of them). */
export function isCheckType(value: unknown): value is keyof typeof CHECK_TYPE_IDS {
  return typeof value === 'string' && Object.hasOwn(CHECK_TYPE_IDS, value);
}

/** Filter types on the wire (u8). Never renumber; only add. */
export const FILTER_TYPE_IDS = {
  none: 0,
  anywhere: 1,
  prefix: 2,
  postfix: 3,
} as const;

/** Whether `value` names a filter type. */
export function isFilterType(value: unknown): value is keyof typeof FILTER_TYPE_IDS {
  return typeof value === 'string' && Object.hasOwn(FILTER_TYPE_IDS, value);
}

/**
 * The version two peers speak: the highest both support. UNSUPPORTED_VERSION when their ranges
 * do not meet (the answer to such a hello is an error response).
 */
export function negotiateProtocolVersion(peer: { protocolVersion: number; minProtocolVersion: number }): number {
  const version = Math.min(PROTOCOL_VERSION, peer.protocolVersion);
  if (!Number.isInteger(version) || version < MIN_PROTOCOL_VERSION || version < peer.minProtocolVersion) {
    throw new PetrelError(
      'UNSUPPORTED_VERSION',
      `protocol versions do not meet: this side speaks ${MIN_PROTOCOL_VERSION}–${PROTOCOL_VERSION}, the peer ${peer.minProtocolVersion}–${peer.protocolVersion}`,
    );
  }
  return version;
}
