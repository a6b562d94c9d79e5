/**
 * Fuzzing the decoders with random and mutated bytes. For every input, decoding either returns a
 * message or throws a PetrelError (INVALID_ARGUMENT for wire messages; CORRUPTION or
 * INVALID_ARGUMENT, as asked, for mutations) — never another error — and what it returns is
 * bounded by the input: every byte field is a view into the input (nothing copied), and the
 * number of decoded values is at most proportional to the input's length.
 */
import { isPetrelError, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeMessage, encodeMessage } from './codec.js';
import { ERROR_RESPONSE_TYPE_ID, REQUEST_TYPE_IDS, RESPONSE_BIT } from './ids.js';
import { decodeMutation, encodeMutation } from './mutation_codec.js';
import { messageArb, mutationArb } from './test_arbitraries.js';

/** Counts the values in a decoded structure and checks that every Buffer is a view into `input`. */
function measure(value: unknown, input: Buffer): number {
  if (Buffer.isBuffer(value)) {
    assert.ok(value.buffer === input.buffer, 'a decoded byte field was copied instead of viewed');
    assert.ok(value.byteOffset >= input.byteOffset && value.byteOffset + value.length <= input.byteOffset + input.length);
    return 1;
  }
  if (Array.isArray(value)) return 1 + value.reduce((sum: number, item) => sum + measure(item, input), 0);
  if (typeof value === 'object' && value !== null) return 1 + Object.values(value).reduce((sum: number, item) => sum + measure(item, input), 0);
  // Strings are decoded from the input, plus at most a short explanation (an unknown error code).
  if (typeof value === 'string') assert.ok(Buffer.byteLength(value) <= input.length + 128);
  return 1;
}

function decodeOrReject(input: Buffer, allowed: readonly string[], decode: (input: Buffer) => unknown): 'ok' | 'rejected' {
  let decoded: unknown;
  try {
    decoded = decode(input);
  } catch (error) {
    if (!isPetrelError(error)) throw new Error(`a non-PetrelError escaped the decoder: ${String(error)}`, { cause: error });
    assert.ok(allowed.includes(error.code), `unexpected code ${error.code}: ${error.message}`);
    return 'rejected';
  }
  const values = measure(decoded, input);
  assert.ok(values <= 2 * input.length + 16, `${values} values decoded from ${input.length} bytes`);
  return 'ok';
}

type Edit =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'truncate'; at: number };

const editArb: fc.Arbitrary<Edit> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.constantFrom(0, 1, 2, 0x7f, 0x80, 0xfe, 0xff) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

function applyEdits(original: Buffer, edits: Edit[]): Buffer {
  let bytes = Buffer.from(original);
  for (const edit of edits) {
    if (bytes.length === 0) break;
    const at = edit.at % bytes.length;
    if (edit.kind === 'flip') bytes[at] = (bytes[at] as number) ^ (1 << edit.bit);
    else if (edit.kind === 'set') bytes[at] = edit.byte;
    else if (edit.kind === 'insert') bytes = Buffer.concat([bytes.subarray(0, at), edit.bytes, bytes.subarray(at)]);
    else if (edit.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + edit.length)]);
    else bytes = bytes.subarray(0, at);
  }
  // A fresh buffer of its own, so that the view check compares with exactly this input.
  return Buffer.from(bytes);
}

const knownTypeIds = [ERROR_RESPONSE_TYPE_ID, ...Object.values(REQUEST_TYPE_IDS).flatMap((id) => [id, id | RESPONSE_BIT])];

test('random bytes: decodeMessage returns a bounded message or throws INVALID_ARGUMENT', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
      decodeOrReject(Buffer.from(data), ['INVALID_ARGUMENT'], decodeMessage);
    }),
    propertyParameters(10_000),
  );
});

test('random bodies behind every known type id: only INVALID_ARGUMENT, bounded results', () => {
  let decoded = 0;
  fc.assert(
    fc.property(fc.constantFrom(...knownTypeIds), fc.uint8Array({ maxLength: 120 }), (typeId, body) => {
      const input = Buffer.concat([Buffer.from([typeId >> 8, typeId & 0xff, 1]), body]);
      if (decodeOrReject(input, ['INVALID_ARGUMENT'], decodeMessage) === 'ok') decoded++;
    }),
    propertyParameters(15_000),
  );
  assert.ok(decoded > 0, 'some random bodies should decode');
});

test('mutated valid messages: only INVALID_ARGUMENT, bounded results', () => {
  fc.assert(
    fc.property(messageArb, fc.array(editArb, { minLength: 1, maxLength: 4 }), (message, edits) => {
      decodeOrReject(applyEdits(encodeMessage(message), edits), ['INVALID_ARGUMENT'], decodeMessage);
    }),
    propertyParameters(12_000),
  );
});

test('every truncation of a valid message is rejected', () => {
  fc.assert(
    fc.property(messageArb, (message) => {
      const bytes = encodeMessage(message);
      for (let length = 0; length < bytes.length; length++) {
        assert.is(decodeOrReject(Buffer.from(bytes.subarray(0, length)), ['INVALID_ARGUMENT'], decodeMessage), 'rejected', `prefix of ${length}`);
      }
    }),
    propertyParameters(300),
  );
});

test('random and mutated mutations: CORRUPTION (or INVALID_ARGUMENT when asked), bounded results', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 150 }), (data) => {
      decodeOrReject(Buffer.from([1, ...data]), ['CORRUPTION'], (input) => decodeMutation(input));
    }),
    propertyParameters(6000),
  );
  fc.assert(
    fc.property(mutationArb, fc.array(editArb, { minLength: 1, maxLength: 4 }), fc.boolean(), (mutation, edits, fromPeer) => {
      const code = fromPeer ? 'INVALID_ARGUMENT' : 'CORRUPTION';
      decodeOrReject(applyEdits(encodeMutation(mutation), edits), [code], (input) => decodeMutation(input, code));
    }),
    propertyParameters(10_000),
  );
});

test.run();
