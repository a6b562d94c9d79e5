import { BufferWriter, isPetrelError, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { type Message, decodeMessage, encodeMessage, peekEnvelope, typeIdOf, withRequestId } from './codec.js';
import { CHECK_TYPE_IDS, ERROR_RESPONSE_TYPE_ID, MESSAGE_TYPE_RANGES, PROTOCOL_VERSION, REQUEST_TYPE_IDS, negotiateProtocolVersion } from './ids.js';
import { decodeMutation, encodeMutation } from './mutation_codec.js';
import { allMessageTypes, messageArbOf, mutationArb } from './test_arbitraries.js';

const b = (text: string) => Buffer.from(text);
const header = { tableId: 3, partitionIndex: 5, timeoutMs: 1000 };

function throwsCode(fn: () => unknown, code: string, pattern?: RegExp): void {
  try {
    fn();
  } catch (error) {
    assert.ok(isPetrelError(error), `not a PetrelError: ${String(error)}`);
    assert.is(error.code, code, error.message);
    if (pattern !== undefined) assert.match(error.message, pattern);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

for (const { kind, name } of allMessageTypes) {
  test(`${kind} ${name}: encode then decode gives the same message`, () => {
    fc.assert(
      fc.property(messageArbOf(kind, name), (message) => {
        const bytes = encodeMessage(message);
        assert.equal(decodeMessage(bytes), message);
        assert.is(bytes.readUInt16BE(0), typeIdOf(message));
      }),
      propertyParameters(100),
    );
  });
}

test('error responses round-trip', () => {
  const message: Message = { kind: 'error', requestId: 77, body: { requestType: REQUEST_TYPE_IDS.get, error: { code: 'SERVER_CHANGED', message: 'not the primary' } } };
  const bytes = encodeMessage(message);
  assert.is(bytes.readUInt16BE(0), ERROR_RESPONSE_TYPE_ID);
  assert.equal(decodeMessage(bytes), message);
});

test('mutations round-trip', () => {
  fc.assert(
    fc.property(mutationArb, (mutation) => {
      assert.equal(decodeMutation(encodeMutation(mutation)), mutation);
    }),
    propertyParameters(300),
  );
});

test('the envelope is u16 type, varint request id, body; a get request is laid out field by field', () => {
  const bytes = encodeMessage({ kind: 'request', name: 'get', requestId: 300, body: { header, request: { hashKey: b('h'), sortKey: b('sk') } } });
  assert.equal([...bytes], [0x01, 0x01, 0xac, 0x02, 3, 5, 0xe8, 0x07, 1, 0x68, 2, 0x73, 0x6b]);
  assert.equal(peekEnvelope(bytes), { typeId: 0x0101, requestId: 300 });
  assert.is(peekEnvelope(Buffer.from([1])), undefined);
});

test('type ids are unique, inside their ranges, and responses set the high bit', () => {
  const ids = Object.values(REQUEST_TYPE_IDS);
  assert.is(new Set(ids).size, ids.length);
  for (const id of ids) {
    assert.ok(id > 0 && id < 0x8000);
    const inRange = Object.values(MESSAGE_TYPE_RANGES).some(([low, high]) => id >= low && id <= high);
    assert.ok(inRange, `0x${id.toString(16)} outside every range`);
  }
  const response = encodeMessage({ kind: 'response', name: 'get', requestId: 1, body: { value: null } });
  assert.is(response.readUInt16BE(0), 0x8101);
  assert.is(PROTOCOL_VERSION, 1);
  assert.is(new Set(Object.values(CHECK_TYPE_IDS)).size, Object.keys(CHECK_TYPE_IDS).length);
});

test('decoding rejects unknown types, trailing bytes, bad booleans and unknown enum values with INVALID_ARGUMENT', () => {
  throwsCode(() => decodeMessage(Buffer.from([0x7e, 0x00, 0x01])), 'INVALID_ARGUMENT', /unknown message type 0x7e00/);
  throwsCode(() => decodeMessage(Buffer.from([0x00, 0x00, 0x01])), 'INVALID_ARGUMENT', /unknown message type/);
  const good = encodeMessage({ kind: 'response', name: 'exist', requestId: 1, body: { exists: true } });
  throwsCode(() => decodeMessage(Buffer.concat([good, Buffer.from([0])])), 'INVALID_ARGUMENT', /trailing/);
  const badBool = Buffer.from(good);
  badBool[badBool.length - 1] = 2;
  throwsCode(() => decodeMessage(badBool), 'INVALID_ARGUMENT', /boolean/);
  const cas = encodeMessage({
    kind: 'request',
    name: 'checkAndSet',
    requestId: 1,
    body: {
      header,
      request: { hashKey: b('h'), checkSortKey: b('c'), checkType: 'exist', checkOperand: b(''), setSortKey: b('s'), setValue: b('v'), ttlSeconds: 0, returnCheckValue: false },
    },
  });
  // The check type byte follows the envelope (3 bytes), the header (1 + 1 + 2) and two 1-byte keys.
  const checkTypeOffset = 3 + 4 + 2 + 2;
  assert.is(cas[checkTypeOffset], CHECK_TYPE_IDS.exist);
  const unknownCheck = Buffer.from(cas);
  unknownCheck[checkTypeOffset] = 99;
  throwsCode(() => decodeMessage(unknownCheck), 'INVALID_ARGUMENT', /unknown check type 99/);
});

test('a count larger than the bytes left fails at once, before allocating', () => {
  const writer = new BufferWriter();
  writer.u16be(REQUEST_TYPE_IDS.batchGet).varint64(1);
  writer.varint32(1).varint32(2).varint32(3);
  writer.varint32(0xffffffff);
  const started = performance.now();
  throwsCode(() => decodeMessage(writer.toBuffer()), 'INVALID_ARGUMENT', /cannot fit/);
  assert.ok(performance.now() - started < 50);
});

test('encoding refuses values a field cannot carry, with INVALID_ARGUMENT', () => {
  const set = (ttlSeconds: number): Message => ({ kind: 'request', name: 'set', requestId: 1, body: { header, request: { hashKey: b('h'), sortKey: b('s'), value: b('v'), ttlSeconds } } });
  throwsCode(() => encodeMessage(set(1.5)), 'INVALID_ARGUMENT', /ttlSeconds/);
  throwsCode(() => encodeMessage(set(2 ** 60)), 'INVALID_ARGUMENT', /ttlSeconds/);
  throwsCode(() => encodeMessage({ ...set(0), requestId: -1 }), 'INVALID_ARGUMENT', /request id/);
  throwsCode(
    () =>
      encodeMessage({
        kind: 'request',
        name: 'checkAndMutate',
        requestId: 1,
        body: { header, request: { hashKey: b('h'), checkSortKey: b('c'), checkType: 'bogus' as never, checkOperand: b(''), mutations: [], returnCheckValue: false } },
      }),
    'INVALID_ARGUMENT',
    /unknown check type bogus/,
  );
  throwsCode(
    () => encodeMessage({ kind: 'request', name: 'incr', requestId: 1, body: { header, request: { hashKey: b('h'), sortKey: b('s'), increment: 1n << 63n, ttlSeconds: 0 } } }),
    'INVALID_ARGUMENT',
    /int64/,
  );
});

test('an unknown error code from a peer reads as SERVER_INTERNAL_ERROR naming it', () => {
  const writer = new BufferWriter();
  writer.u16be(ERROR_RESPONSE_TYPE_ID).varint64(9).u16be(0x0101).string('NOT_A_CODE').string('boom');
  const message = decodeMessage(writer.toBuffer());
  assert.is(message.kind, 'error');
  if (message.kind !== 'error') return;
  assert.is(message.body.error.code, 'SERVER_INTERNAL_ERROR');
  assert.match(message.body.error.message, /NOT_A_CODE/);
});

test('stored mutations that are malformed are CORRUPTION; from a peer, INVALID_ARGUMENT', () => {
  const bytes = encodeMutation({ nowSeconds: 10, defaultTtlSeconds: 0, writes: [{ type: 'del', hashKey: b('h'), sortKey: b('s') }] });
  throwsCode(() => decodeMutation(bytes.subarray(0, bytes.length - 1)), 'CORRUPTION');
  throwsCode(() => decodeMutation(bytes.subarray(0, bytes.length - 1), 'INVALID_ARGUMENT'), 'INVALID_ARGUMENT');
  const versioned = Buffer.from(bytes);
  versioned[0] = 2;
  throwsCode(() => decodeMutation(versioned), 'CORRUPTION', /format version 2/);
});

test('the handshake settles on the highest version both sides speak, or UNSUPPORTED_VERSION', () => {
  assert.is(negotiateProtocolVersion({ protocolVersion: 1, minProtocolVersion: 1 }), 1);
  assert.is(negotiateProtocolVersion({ protocolVersion: 7, minProtocolVersion: 1 }), PROTOCOL_VERSION);
  throwsCode(() => negotiateProtocolVersion({ protocolVersion: 9, minProtocolVersion: 5 }), 'UNSUPPORTED_VERSION');
  throwsCode(() => negotiateProtocolVersion({ protocolVersion: 0, minProtocolVersion: 0 }), 'UNSUPPORTED_VERSION');
});

test('withRequestId re-addresses an encoded message without touching its body', () => {
  const original = encodeMessage({ kind: 'response', name: 'incr', requestId: 0, body: { error: null, newValue: 42n } } as never);
  for (const requestId of [0, 1, 127, 128, 300_000, 2 ** 40]) {
    const moved = decodeMessage(withRequestId(original, requestId));
    assert.is(moved.requestId, requestId);
    assert.equal({ ...moved, requestId: 0 }, decodeMessage(original));
  }
  assert.throws(() => withRequestId(Buffer.from([1]), 5), /too short/);
});

test.run();
