/**
 * The mutation format: what a replica's log stores for one decree and what a prepare carries.
 *
 *   mutation = u8 format version (1), uint nowSeconds, uint defaultTtlSeconds, list of write
 *   write    = u16 BE write type id (the client request's id: set 0x0111 … checkAndMutate 0x0117),
 *              then the write's fields (doc/messages.md, "Mutations")
 *
 * Field encodings are those of messages (fields.ts). Decoding fails with CORRUPTION (stored
 * bytes) or INVALID_ARGUMENT (bytes from a peer), as the caller chooses.
 */
import { BufferReader, BufferWriter, type ErrorCode, PetrelError, encodeWithScratch } from '@petrel/base';
import {
  readBool,
  readBytes,
  readCheckType,
  readInt,
  readInt64,
  readList,
  readUint,
  writeBool,
  writeBytes,
  writeCheckType,
  writeInt,
  writeInt64,
  writeList,
  writeUint,
} from './fields.js';
import { REQUEST_TYPE_IDS } from './ids.js';
import type { Mutation, MutationOperation, MutationWrite } from './types.js';

export const MUTATION_FORMAT_VERSION = 1;

const OP_SET = 1;
const OP_DEL = 2;

function writeOperation(writer: BufferWriter, operation: MutationOperation): void {
  if (operation.op === 'set') {
    writer.u8(OP_SET);
    writeBytes(writer, operation.sortKey, 'sortKey');
    writeBytes(writer, operation.value, 'value');
    writeUint(writer, operation.expireTs, 'expireTs');
  } else if (operation.op === 'del') {
    writer.u8(OP_DEL);
    writeBytes(writer, operation.sortKey, 'sortKey');
  } else {
    throw new PetrelError('INVALID_ARGUMENT', `unknown mutate operation ${String((operation as { op?: unknown }).op)}`);
  }
}

function readOperation(reader: BufferReader): MutationOperation {
  const op = reader.u8();
  if (op === OP_SET) return { op: 'set', sortKey: readBytes(reader), value: readBytes(reader), expireTs: readUint(reader) };
  if (op === OP_DEL) return { op: 'del', sortKey: readBytes(reader) };
  return reader.fail(`unknown mutate operation ${op}`);
}

/** Appends one write. */
export function writeMutationWrite(writer: BufferWriter, write: MutationWrite): void {
  switch (write.type) {
    case 'set':
      writer.u16be(REQUEST_TYPE_IDS.set);
      writeBytes(writer, write.hashKey, 'hashKey');
      writeBytes(writer, write.sortKey, 'sortKey');
      writeBytes(writer, write.value, 'value');
      writeUint(writer, write.expireTs, 'expireTs');
      return;
    case 'multiSet':
      writer.u16be(REQUEST_TYPE_IDS.multiSet);
      writeBytes(writer, write.hashKey, 'hashKey');
      writeList(writer, write.entries, 'entries', (entry) => {
        writeBytes(writer, entry.sortKey, 'sortKey');
        writeBytes(writer, entry.value, 'value');
      });
      writeUint(writer, write.expireTs, 'expireTs');
      return;
    case 'del':
      writer.u16be(REQUEST_TYPE_IDS.del);
      writeBytes(writer, write.hashKey, 'hashKey');
      writeBytes(writer, write.sortKey, 'sortKey');
      return;
    case 'multiDel':
      writer.u16be(REQUEST_TYPE_IDS.multiDel);
      writeBytes(writer, write.hashKey, 'hashKey');
      writeList(writer, write.sortKeys, 'sortKeys', (key) => writeBytes(writer, key, 'sortKey'));
      return;
    case 'incr':
      writer.u16be(REQUEST_TYPE_IDS.incr);
      writeBytes(writer, write.hashKey, 'hashKey');
      writeBytes(writer, write.sortKey, 'sortKey');
      writeInt64(writer, write.increment, 'increment');
      writeInt(writer, write.expireTs, 'expireTs');
      return;
    case 'checkAndSet':
      writer.u16be(REQUEST_TYPE_IDS.checkAndSet);
      writeBytes(writer, write.hashKey, 'hashKey');
      writeBytes(writer, write.checkSortKey, 'checkSortKey');
      writeCheckType(writer, write.checkType);
      writeBytes(writer, write.checkOperand, 'checkOperand');
      writeBytes(writer, write.setSortKey, 'setSortKey');
      writeBytes(writer, write.setValue, 'setValue');
      writeUint(writer, write.expireTs, 'expireTs');
      writeBool(writer, write.returnCheckValue, 'returnCheckValue');
      return;
    case 'checkAndMutate':
      writer.u16be(REQUEST_TYPE_IDS.checkAndMutate);
      writeBytes(writer, write.hashKey, 'hashKey');
      writeBytes(writer, write.checkSortKey, 'checkSortKey');
      writeCheckType(writer, write.checkType);
      writeBytes(writer, write.checkOperand, 'checkOperand');
      writeList(writer, write.mutations, 'mutations', (operation) => writeOperation(writer, operation));
      writeBool(writer, write.returnCheckValue, 'returnCheckValue');
      return;
    default:
      throw new PetrelError('INVALID_ARGUMENT', `unknown write type ${String((write as { type?: unknown }).type)}`);
  }
}

/** Reads one write. */
export function readMutationWrite(reader: BufferReader): MutationWrite {
  const typeId = reader.u16be();
  switch (typeId) {
    case REQUEST_TYPE_IDS.set:
      return { type: 'set', hashKey: readBytes(reader), sortKey: readBytes(reader), value: readBytes(reader), expireTs: readUint(reader) };
    case REQUEST_TYPE_IDS.multiSet: {
      const hashKey = readBytes(reader);
      const entries = readList(reader, 2, 'entries', () => ({ sortKey: readBytes(reader), value: readBytes(reader) }));
      return { type: 'multiSet', hashKey, entries, expireTs: readUint(reader) };
    }
    case REQUEST_TYPE_IDS.del:
      return { type: 'del', hashKey: readBytes(reader), sortKey: readBytes(reader) };
    case REQUEST_TYPE_IDS.multiDel: {
      const hashKey = readBytes(reader);
      return { type: 'multiDel', hashKey, sortKeys: readList(reader, 1, 'sortKeys', () => readBytes(reader)) };
    }
    case REQUEST_TYPE_IDS.incr:
      return { type: 'incr', hashKey: readBytes(reader), sortKey: readBytes(reader), increment: readInt64(reader), expireTs: readInt(reader, 'expireTs') };
    case REQUEST_TYPE_IDS.checkAndSet:
      return {
        type: 'checkAndSet',
        hashKey: readBytes(reader),
        checkSortKey: readBytes(reader),
        checkType: readCheckType(reader),
        checkOperand: readBytes(reader),
        setSortKey: readBytes(reader),
        setValue: readBytes(reader),
        expireTs: readUint(reader),
        returnCheckValue: readBool(reader, 'returnCheckValue'),
      };
    case REQUEST_TYPE_IDS.checkAndMutate: {
      const hashKey = readBytes(reader);
      const checkSortKey = readBytes(reader);
      const checkType = readCheckType(reader);
      const checkOperand = readBytes(reader);
      const mutations = readList(reader, 2, 'mutations', () => readOperation(reader));
      return { type: 'checkAndMutate', hashKey, checkSortKey, checkType, checkOperand, mutations, returnCheckValue: readBool(reader, 'returnCheckValue') };
    }
    default:
      return reader.fail(`unknown write type 0x${typeId.toString(16).padStart(4, '0')}`);
  }
}

/** Appends a mutation to `writer`. */
export function writeMutation(writer: BufferWriter, mutation: Mutation): void {
  writer.u8(MUTATION_FORMAT_VERSION);
  writeUint(writer, mutation.nowSeconds, 'nowSeconds');
  writeUint(writer, mutation.defaultTtlSeconds, 'defaultTtlSeconds');
  writeList(writer, mutation.writes, 'writes', (write) => writeMutationWrite(writer, write));
}

/** The bytes of a mutation. */
export function encodeMutation(mutation: Mutation): Buffer {
  return encodeWithScratch(writeMutation, mutation);
}

/** The mutation in `data`; byte fields are views into it. */
export function decodeMutation(data: Uint8Array, errorCode: ErrorCode = 'CORRUPTION', what = 'mutation'): Mutation {
  const reader = new BufferReader(data, errorCode, what);
  const version = reader.u8();
  if (version !== MUTATION_FORMAT_VERSION) reader.fail(`unknown mutation format version ${version}`);
  const nowSeconds = readUint(reader);
  const defaultTtlSeconds = readUint(reader);
  const writes = readList(reader, 2, 'writes', () => readMutationWrite(reader));
  reader.expectEnd();
  return { nowSeconds, defaultTtlSeconds, writes };
}
