/**
 * The cluster's messages outside the client ↔ replica path: client ↔ meta (tables, routing,
 * nodes), replica ↔ replica and replica ↔ meta (the PacificA cores' messages). They share the
 * envelope of every Petrel message,
 *
 *   u16 BE type id · varint64 request id · body
 *
 * and their bodies are plain data in the value codec (value_codec.ts). A response's type id is the
 * request's | 0x8000; its body is `{ ok: <result> }` or `{ error: { code, message, leader? } }`
 * (`leader`: with NOT_LEADER, the meta to ask instead). One-way messages (the PacificA cores')
 * have request id 0 and no response.
 *
 * Type ids (doc/messages.md) — never renumbered, only added:
 */
import { BufferReader, type ErrorCode, PetrelError, isErrorCode, putVarint, varintLength } from '@petrel/base';
import { decodeValue, encodeValue, type PlainValue } from './value_codec.js';

export const CLUSTER_TYPE_IDS = {
  // client ↔ meta
  createTable: 0x0201,
  dropTable: 0x0202,
  recallTable: 0x0203,
  listTables: 0x0204,
  tableInfo: 0x0205,
  queryRouting: 0x0206,
  setTableEnvs: 0x0207,
  delTableEnvs: 0x0208,
  listNodes: 0x0209,
  clusterInfo: 0x020a,
  setMetaLevel: 0x020b,
  getMetaLevel: 0x020c,
  setReplicaCount: 0x020d,
  // replica ↔ replica: one PacificA message (prepare, group check, learn …)
  replicaMessage: 0x0301,
  // replica ↔ meta: one PacificA message (beacon, config sync, config change …)
  metaMessage: 0x0401,
  // meta → replica server, one-way, with every config sync reply and on every table change:
  // every table's id, status and envs ({ tables: TableState[] })
  tables: 0x0402,
  // learning by checkpoint: a chunk of a file, on request
  fetchFileChunk: 0x0302,
} as const;

export type ClusterMessageName = keyof typeof CLUSTER_TYPE_IDS;

const NAME_OF_ID = new Map<number, ClusterMessageName>(Object.entries(CLUSTER_TYPE_IDS).map(([name, id]) => [id, name as ClusterMessageName]));

export const CLUSTER_RESPONSE_BIT = 0x8000;

export function isClusterTypeId(typeId: number): boolean {
  return NAME_OF_ID.has(typeId & ~CLUSTER_RESPONSE_BIT);
}

// ---- client ↔ meta bodies -----------------------------------------------------------------------

export interface TableInfo {
  id: number;
  name: string;
  partitionCount: number;
  replicaCount: number;
  status: 'available' | 'dropped' | 'creating';
  envs: Record<string, string>;
  /** Seconds since the epoch: when it was dropped, and until when it can be recalled. */
  dropTime?: number;
  reserveUntil?: number;
}

/** What a replica server needs of each table: whether it is dropped, and its envs. */
export interface TableState {
  id: number;
  status: 'available' | 'dropped';
  envs: Record<string, string>;
}

export interface PartitionRouting {
  index: number;
  ballot: number;
  primary: string | null;
  secondaries: string[];
}

export interface CreateTableRequest {
  name: string;
  partitionCount: number;
  replicaCount: number;
  envs: Record<string, string>;
  successIfExists: boolean;
}
export interface DropTableRequest {
  name: string;
  reserveSeconds?: number;
}
export interface RecallTableRequest {
  id: number;
  newName?: string;
}
export interface ListTablesRequest {
  includeDropped: boolean;
}
export interface TableNameRequest {
  name: string;
}
export interface SetTableEnvsRequest {
  name: string;
  envs: Record<string, string>;
}
export interface DelTableEnvsRequest {
  name: string;
  keys: string[];
}
export interface RoutingResponse {
  table: TableInfo;
  partitions: PartitionRouting[];
}
export interface NodeInfo {
  address: string;
  alive: boolean;
  primaries: number;
  secondaries: number;
}

export interface ClusterError {
  code: ErrorCode;
  message: string;
  leader?: string;
}

// ---- the envelope ----------------------------------------------------------------------------------

export interface ClusterEnvelope {
  typeId: number;
  requestId: number;
  body: PlainValue;
}

export function encodeClusterMessage(typeId: number, requestId: number, body: unknown): Buffer {
  // The body is encoded behind room for the envelope, which then goes in front: no second copy.
  const header = 2 + varintLength(requestId);
  const message = encodeValue(body, header);
  message.writeUInt16BE(typeId, 0);
  putVarint(message, 2, requestId);
  return message;
}

/** Decodes the envelope and body; hostile bytes give only CORRUPTION or INVALID_ARGUMENT. */
export function decodeClusterMessage(bytes: Uint8Array): ClusterEnvelope {
  const reader = new BufferReader(bytes, 'CORRUPTION', 'cluster message');
  const typeId = reader.u16be();
  const requestId = reader.varint64();
  if (!isClusterTypeId(typeId)) throw new PetrelError('INVALID_ARGUMENT', `unknown cluster message type 0x${typeId.toString(16)}`);
  return { typeId, requestId, body: decodeValue(bytes, reader.offset, bytes.length) };
}

export function clusterMessageName(typeId: number): ClusterMessageName | undefined {
  return NAME_OF_ID.get(typeId & ~CLUSTER_RESPONSE_BIT);
}

export function okResponse(typeId: number, requestId: number, result: unknown): Buffer {
  return encodeClusterMessage(typeId | CLUSTER_RESPONSE_BIT, requestId, { ok: result ?? null });
}

export function errorResponse(typeId: number, requestId: number, error: unknown, leader?: string): Buffer {
  const petrel = error instanceof PetrelError ? error : new PetrelError('SERVER_INTERNAL_ERROR', String(error));
  const body: ClusterError = { code: petrel.code, message: petrel.message };
  if (leader !== undefined) body.leader = leader;
  return encodeClusterMessage(typeId | CLUSTER_RESPONSE_BIT, requestId, { error: body });
}

/** The result of a response body, or the PetrelError it carries (`leader` on it for NOT_LEADER). */
export function resultOf(body: PlainValue): PlainValue {
  if (typeof body === 'object' && body !== null && !Array.isArray(body) && !(body instanceof Uint8Array)) {
    const record = body as Record<string, PlainValue | undefined>;
    if ('ok' in record) return record.ok ?? null;
    const error = record.error;
    if (typeof error === 'object' && error !== null && !Array.isArray(error) && !(error instanceof Uint8Array)) {
      const fields = error as Record<string, PlainValue | undefined>;
      const code = typeof fields.code === 'string' && isErrorCode(fields.code) ? fields.code : 'SERVER_INTERNAL_ERROR';
      const failure = new PetrelError(code, typeof fields.message === 'string' ? fields.message : 'remote error');
      if (typeof fields.leader === 'string') (failure as PetrelError & { leader?: string }).leader = fields.leader;
      throw failure;
    }
  }
  throw new PetrelError('CORRUPTION', 'cluster response: neither ok nor error');
}
