/**
 * One codec per message body. Each `encode` writes the fields in the order doc/messages.md lists
 * them; each `decode` reads them back and leaves the end-of-message check to the envelope.
 */
import { type BufferReader, type BufferWriter, PetrelError } from '@petrel/base';
import {
  readBool,
  readBytes,
  readCheckType,
  readErrorInfo,
  readFilter,
  readInt,
  readInt64,
  readList,
  readNullableBytes,
  readNullableError,
  readString,
  readUint,
  writeBool,
  writeBytes,
  writeCheckType,
  writeErrorInfo,
  writeFilter,
  writeInt,
  writeInt64,
  writeList,
  writeNullableBytes,
  writeNullableError,
  writeString,
  writeUint,
} from './fields.js';
import type {
  BatchGetRequest,
  BatchGetResponse,
  CheckAndMutateRequest,
  CheckAndSetRequest,
  CheckAndSetResponse,
  DelRequest,
  ErrorInfo,
  ExistResponse,
  GetRequest,
  GetResponse,
  IncrRequest,
  IncrResponse,
  KeyValue,
  MultiDelRequest,
  MultiDelResponse,
  MultiGetRequest,
  MultiGetResponse,
  MultiSetRequest,
  MutateOperation,
  ScanRecord,
  ScanRequest,
  ScanResponse,
  SetRequest,
  SetResponse,
  SortKeyCountRequest,
  SortKeyCountResponse,
  TtlResponse,
} from './types.js';

export interface BodyCodec<T> {
  encode(writer: BufferWriter, body: T): void;
  decode(reader: BufferReader): T;
}

/** The handshake a connection opens with. */
export interface HelloRequest {
  protocolVersion: number;
  minProtocolVersion: number;
  /** Who is connecting (for logs), at most 256 bytes of UTF-8. */
  peerName: string;
}
export interface HelloResponse {
  /** The version both sides will speak. */
  protocolVersion: number;
  peerName: string;
}
/** The answer to a request that failed as a whole (refused, malformed, unknown type, …). */
export interface ErrorResponse {
  /** The type id of the request this answers (0 when it could not be read). */
  requestType: number;
  error: ErrorInfo;
}
/** Where a client request goes, and how long the client waits. */
export interface RequestHeader {
  tableId: number;
  partitionIndex: number;
  timeoutMs: number;
}
/** A client request to a replica: the routing header, then the request. */
export interface Routed<T> {
  header: RequestHeader;
  request: T;
}

const MAX_PEER_NAME_BYTES = 256;

export const helloCodec: BodyCodec<HelloRequest> = {
  encode(writer, body) {
    writeUint(writer, body.protocolVersion, 'protocolVersion');
    writeUint(writer, body.minProtocolVersion, 'minProtocolVersion');
    writeString(writer, body.peerName, 'peerName');
  },
  decode(reader) {
    const protocolVersion = readUint(reader);
    const minProtocolVersion = readUint(reader);
    const peerName = readString(reader);
    if (Buffer.byteLength(peerName) > MAX_PEER_NAME_BYTES) reader.fail(`peer name over ${MAX_PEER_NAME_BYTES} bytes`);
    return { protocolVersion, minProtocolVersion, peerName };
  },
};

export const helloResponseCodec: BodyCodec<HelloResponse> = {
  encode(writer, body) {
    writeUint(writer, body.protocolVersion, 'protocolVersion');
    writeString(writer, body.peerName, 'peerName');
  },
  decode(reader) {
    const protocolVersion = readUint(reader);
    const peerName = readString(reader);
    if (Buffer.byteLength(peerName) > MAX_PEER_NAME_BYTES) reader.fail(`peer name over ${MAX_PEER_NAME_BYTES} bytes`);
    return { protocolVersion, peerName };
  },
};

export const errorResponseCodec: BodyCodec<ErrorResponse> = {
  encode(writer, body) {
    if (!Number.isInteger(body.requestType) || body.requestType < 0 || body.requestType > 0xffff) {
      throw new PetrelError('INVALID_ARGUMENT', `requestType ${body.requestType} is not a u16`);
    }
    writer.u16be(body.requestType);
    writeErrorInfo(writer, body.error);
  },
  decode(reader) {
    return { requestType: reader.u16be(), error: readErrorInfo(reader) };
  },
};

function writeHeader(writer: BufferWriter, header: RequestHeader): void {
  writeUint(writer, header.tableId, 'header.tableId');
  writeUint(writer, header.partitionIndex, 'header.partitionIndex');
  writeUint(writer, header.timeoutMs, 'header.timeoutMs');
}

function readHeader(reader: BufferReader): RequestHeader {
  return { tableId: readUint(reader), partitionIndex: readUint(reader), timeoutMs: readUint(reader) };
}

/** The codec of a routed request, from the codec of the request alone. */
export function routed<T>(codec: BodyCodec<T>): BodyCodec<Routed<T>> {
  return {
    encode(writer, body) {
      writeHeader(writer, body.header);
      codec.encode(writer, body.request);
    },
    decode(reader) {
      const header = readHeader(reader);
      return { header, request: codec.decode(reader) };
    },
  };
}

function writeKeyValue(writer: BufferWriter, entry: KeyValue): void {
  writeBytes(writer, entry.sortKey, 'sortKey');
  writeBytes(writer, entry.value, 'value');
}

function readKeyValue(reader: BufferReader): KeyValue {
  return { sortKey: readBytes(reader), value: readBytes(reader) };
}

// ---- Reads ----

export const getRequestCodec: BodyCodec<GetRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeBytes(writer, body.sortKey, 'sortKey');
  },
  decode(reader) {
    return { hashKey: readBytes(reader), sortKey: readBytes(reader) };
  },
};

export const getResponseCodec: BodyCodec<GetResponse> = {
  encode(writer, body) {
    writeNullableBytes(writer, body.value, 'value');
  },
  decode(reader) {
    return { value: readNullableBytes(reader, 'value') };
  },
};

export const existResponseCodec: BodyCodec<ExistResponse> = {
  encode(writer, body) {
    writeBool(writer, body.exists, 'exists');
  },
  decode(reader) {
    return { exists: readBool(reader, 'exists') };
  },
};

export const ttlResponseCodec: BodyCodec<TtlResponse> = {
  encode(writer, body) {
    if (body.ttlSeconds === null) writer.u8(0);
    else {
      writer.u8(1);
      writeInt(writer, body.ttlSeconds, 'ttlSeconds');
    }
  },
  decode(reader) {
    return { ttlSeconds: readBool(reader, 'ttl present') ? readInt(reader, 'ttlSeconds') : null };
  },
};

export const sortKeyCountRequestCodec: BodyCodec<SortKeyCountRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
  },
  decode(reader) {
    return { hashKey: readBytes(reader) };
  },
};

export const sortKeyCountResponseCodec: BodyCodec<SortKeyCountResponse> = {
  encode(writer, body) {
    writeInt(writer, body.count, 'count');
  },
  decode(reader) {
    return { count: readInt(reader, 'count') };
  },
};

export const multiGetRequestCodec: BodyCodec<MultiGetRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeList(writer, body.sortKeys, 'sortKeys', (key) => writeBytes(writer, key, 'sortKeys[]'));
    writeBytes(writer, body.startSortKey, 'startSortKey');
    writeBytes(writer, body.stopSortKey, 'stopSortKey');
    writeBool(writer, body.startInclusive, 'startInclusive');
    writeBool(writer, body.stopInclusive, 'stopInclusive');
    writeFilter(writer, body.sortKeyFilter, 'sortKeyFilter');
    writeInt(writer, body.maxCount, 'maxCount');
    writeInt(writer, body.maxBytes, 'maxBytes');
    writeBool(writer, body.noValue, 'noValue');
    writeBool(writer, body.reverse, 'reverse');
  },
  decode(reader) {
    const hashKey = readBytes(reader);
    const sortKeys = readList(reader, 1, 'sortKeys', () => readBytes(reader));
    return {
      hashKey,
      sortKeys,
      startSortKey: readBytes(reader),
      stopSortKey: readBytes(reader),
      startInclusive: readBool(reader, 'startInclusive'),
      stopInclusive: readBool(reader, 'stopInclusive'),
      sortKeyFilter: readFilter(reader),
      maxCount: readInt(reader, 'maxCount'),
      maxBytes: readInt(reader, 'maxBytes'),
      noValue: readBool(reader, 'noValue'),
      reverse: readBool(reader, 'reverse'),
    };
  },
};

export const multiGetResponseCodec: BodyCodec<MultiGetResponse> = {
  encode(writer, body) {
    writeBool(writer, body.complete, 'complete');
    writeList(writer, body.entries, 'entries', (entry) => writeKeyValue(writer, entry));
  },
  decode(reader) {
    const complete = readBool(reader, 'complete');
    return { complete, entries: readList(reader, 2, 'entries', () => readKeyValue(reader)) };
  },
};

export const scanRequestCodec: BodyCodec<ScanRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.startKey, 'startKey');
    writeBytes(writer, body.stopKey, 'stopKey');
    writeBool(writer, body.startInclusive, 'startInclusive');
    writeBool(writer, body.stopInclusive, 'stopInclusive');
    writeFilter(writer, body.hashKeyFilter, 'hashKeyFilter');
    writeFilter(writer, body.sortKeyFilter, 'sortKeyFilter');
    writeInt(writer, body.batchSize, 'batchSize');
    writeBool(writer, body.noValue, 'noValue');
    writeBool(writer, body.returnExpireTs, 'returnExpireTs');
    writeBool(writer, body.onlyCount, 'onlyCount');
  },
  decode(reader) {
    return {
      startKey: readBytes(reader),
      stopKey: readBytes(reader),
      startInclusive: readBool(reader, 'startInclusive'),
      stopInclusive: readBool(reader, 'stopInclusive'),
      hashKeyFilter: readFilter(reader),
      sortKeyFilter: readFilter(reader),
      batchSize: readInt(reader, 'batchSize'),
      noValue: readBool(reader, 'noValue'),
      returnExpireTs: readBool(reader, 'returnExpireTs'),
      onlyCount: readBool(reader, 'onlyCount'),
    };
  },
};

function writeScanRecord(writer: BufferWriter, record: ScanRecord): void {
  const hasExpireTs = record.expireTs !== undefined;
  writer.u8(hasExpireTs ? 1 : 0);
  writeBytes(writer, record.hashKey, 'hashKey');
  writeBytes(writer, record.sortKey, 'sortKey');
  writeBytes(writer, record.value, 'value');
  if (record.expireTs !== undefined) writeUint(writer, record.expireTs, 'expireTs');
}

function readScanRecord(reader: BufferReader): ScanRecord {
  const hasExpireTs = readBool(reader, 'record flags');
  const record: ScanRecord = { hashKey: readBytes(reader), sortKey: readBytes(reader), value: readBytes(reader) };
  if (hasExpireTs) record.expireTs = readUint(reader);
  return record;
}

export const scanResponseCodec: BodyCodec<ScanResponse> = {
  encode(writer, body) {
    writeList(writer, body.records, 'records', (record) => writeScanRecord(writer, record));
    writeUint(writer, body.count, 'count');
    writeNullableBytes(writer, body.resumeKey, 'resumeKey');
  },
  decode(reader) {
    const records = readList(reader, 4, 'records', () => readScanRecord(reader));
    return { records, count: readUint(reader), resumeKey: readNullableBytes(reader, 'resumeKey') };
  },
};

export const batchGetRequestCodec: BodyCodec<BatchGetRequest> = {
  encode(writer, body) {
    writeList(writer, body.keys, 'keys', (key) => {
      writeBytes(writer, key.hashKey, 'keys[].hashKey');
      writeBytes(writer, key.sortKey, 'keys[].sortKey');
    });
  },
  decode(reader) {
    return { keys: readList(reader, 2, 'keys', () => ({ hashKey: readBytes(reader), sortKey: readBytes(reader) })) };
  },
};

export const batchGetResponseCodec: BodyCodec<BatchGetResponse> = {
  encode(writer, body) {
    writeList(writer, body.values, 'values', (value) => writeNullableBytes(writer, value, 'values[]'));
  },
  decode(reader) {
    return { values: readList(reader, 1, 'values', () => readNullableBytes(reader, 'values[]')) };
  },
};

// ---- Writes ----

export const setRequestCodec: BodyCodec<SetRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeBytes(writer, body.sortKey, 'sortKey');
    writeBytes(writer, body.value, 'value');
    writeInt(writer, body.ttlSeconds, 'ttlSeconds');
  },
  decode(reader) {
    return { hashKey: readBytes(reader), sortKey: readBytes(reader), value: readBytes(reader), ttlSeconds: readInt(reader, 'ttlSeconds') };
  },
};

export const multiSetRequestCodec: BodyCodec<MultiSetRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeList(writer, body.entries, 'entries', (entry) => writeKeyValue(writer, entry));
    writeInt(writer, body.ttlSeconds, 'ttlSeconds');
  },
  decode(reader) {
    const hashKey = readBytes(reader);
    const entries = readList(reader, 2, 'entries', () => readKeyValue(reader));
    return { hashKey, entries, ttlSeconds: readInt(reader, 'ttlSeconds') };
  },
};

export const delRequestCodec: BodyCodec<DelRequest> = getRequestCodec;

export const multiDelRequestCodec: BodyCodec<MultiDelRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeList(writer, body.sortKeys, 'sortKeys', (key) => writeBytes(writer, key, 'sortKeys[]'));
  },
  decode(reader) {
    const hashKey = readBytes(reader);
    return { hashKey, sortKeys: readList(reader, 1, 'sortKeys', () => readBytes(reader)) };
  },
};

export const incrRequestCodec: BodyCodec<IncrRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeBytes(writer, body.sortKey, 'sortKey');
    writeInt64(writer, body.increment, 'increment');
    writeInt(writer, body.ttlSeconds, 'ttlSeconds');
  },
  decode(reader) {
    return { hashKey: readBytes(reader), sortKey: readBytes(reader), increment: readInt64(reader), ttlSeconds: readInt(reader, 'ttlSeconds') };
  },
};

export const checkAndSetRequestCodec: BodyCodec<CheckAndSetRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeBytes(writer, body.checkSortKey, 'checkSortKey');
    writeCheckType(writer, body.checkType);
    writeBytes(writer, body.checkOperand, 'checkOperand');
    writeBytes(writer, body.setSortKey, 'setSortKey');
    writeBytes(writer, body.setValue, 'setValue');
    writeInt(writer, body.ttlSeconds, 'ttlSeconds');
    writeBool(writer, body.returnCheckValue, 'returnCheckValue');
  },
  decode(reader) {
    return {
      hashKey: readBytes(reader),
      checkSortKey: readBytes(reader),
      checkType: readCheckType(reader),
      checkOperand: readBytes(reader),
      setSortKey: readBytes(reader),
      setValue: readBytes(reader),
      ttlSeconds: readInt(reader, 'ttlSeconds'),
      returnCheckValue: readBool(reader, 'returnCheckValue'),
    };
  },
};

const OP_SET = 1;
const OP_DEL = 2;

function writeMutateOperation(writer: BufferWriter, operation: MutateOperation): void {
  if (operation.op === 'set') {
    writer.u8(OP_SET);
    writeBytes(writer, operation.sortKey, 'mutations[].sortKey');
    writeBytes(writer, operation.value, 'mutations[].value');
    writeInt(writer, operation.ttlSeconds, 'mutations[].ttlSeconds');
  } else if (operation.op === 'del') {
    writer.u8(OP_DEL);
    writeBytes(writer, operation.sortKey, 'mutations[].sortKey');
  } else {
    throw new PetrelError('INVALID_ARGUMENT', `unknown mutate operation ${String((operation as { op?: unknown }).op)}`);
  }
}

function readMutateOperation(reader: BufferReader): MutateOperation {
  const op = reader.u8();
  if (op === OP_SET) return { op: 'set', sortKey: readBytes(reader), value: readBytes(reader), ttlSeconds: readInt(reader, 'ttlSeconds') };
  if (op === OP_DEL) return { op: 'del', sortKey: readBytes(reader) };
  return reader.fail(`unknown mutate operation ${op}`);
}

export const checkAndMutateRequestCodec: BodyCodec<CheckAndMutateRequest> = {
  encode(writer, body) {
    writeBytes(writer, body.hashKey, 'hashKey');
    writeBytes(writer, body.checkSortKey, 'checkSortKey');
    writeCheckType(writer, body.checkType);
    writeBytes(writer, body.checkOperand, 'checkOperand');
    writeList(writer, body.mutations, 'mutations', (operation) => writeMutateOperation(writer, operation));
    writeBool(writer, body.returnCheckValue, 'returnCheckValue');
  },
  decode(reader) {
    const hashKey = readBytes(reader);
    const checkSortKey = readBytes(reader);
    const checkType = readCheckType(reader);
    const checkOperand = readBytes(reader);
    const mutations = readList(reader, 2, 'mutations', () => readMutateOperation(reader));
    return { hashKey, checkSortKey, checkType, checkOperand, mutations, returnCheckValue: readBool(reader, 'returnCheckValue') };
  },
};

export const setResponseCodec: BodyCodec<SetResponse> = {
  encode(writer, body) {
    writeNullableError(writer, body.error);
  },
  decode(reader) {
    return { error: readNullableError(reader) };
  },
};

export const multiDelResponseCodec: BodyCodec<MultiDelResponse> = {
  encode(writer, body) {
    writeNullableError(writer, body.error);
    writeUint(writer, body.count, 'count');
  },
  decode(reader) {
    return { error: readNullableError(reader), count: readUint(reader) };
  },
};

export const incrResponseCodec: BodyCodec<IncrResponse> = {
  encode(writer, body) {
    writeNullableError(writer, body.error);
    writeInt64(writer, body.newValue, 'newValue');
  },
  decode(reader) {
    return { error: readNullableError(reader), newValue: readInt64(reader) };
  },
};

export const checkAndSetResponseCodec: BodyCodec<CheckAndSetResponse> = {
  encode(writer, body) {
    writeNullableError(writer, body.error);
    writeBool(writer, body.succeeded, 'succeeded');
    writeBool(writer, body.checkValueReturned, 'checkValueReturned');
    writeBool(writer, body.checkValueExists, 'checkValueExists');
    writeNullableBytes(writer, body.checkValue, 'checkValue');
  },
  decode(reader) {
    return {
      error: readNullableError(reader),
      succeeded: readBool(reader, 'succeeded'),
      checkValueReturned: readBool(reader, 'checkValueReturned'),
      checkValueExists: readBool(reader, 'checkValueExists'),
      checkValue: readNullableBytes(reader, 'checkValue'),
    };
  },
};
