/** The cluster value codec: round trips of random plain data; hostile bytes give only CORRUPTION. */
import { PetrelError, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decodeValue, encodeValue, type PlainValue } from './value_codec.js';

const leaf: fc.Arbitrary<PlainValue> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.maxSafeInteger(),
  fc.integer(),
  fc.double({ noNaN: true }).filter((x) => !Object.is(x, -0)),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes) as Uint8Array),
);
const plain: fc.Arbitrary<PlainValue> = fc.letrec<{ value: PlainValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leaf,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string({ maxLength: 8 }).filter((key) => key !== '__proto__'), tie('value'), { maxKeys: 5 }).map((object) => ({ ...object })),
  ),
})).value;

test('every plain value round-trips', () => {
  fc.assert(
    fc.property(plain, (value) => {
      assert.equal(decodeValue(encodeValue(value)), value);
    }),
    propertyParameters(1000, 20000),
  );
});

test('undefined fields are dropped; -0, NaN and infinities survive as doubles', () => {
  assert.equal(decodeValue(encodeValue({ a: 1, b: undefined })), { a: 1 });
  const [negativeZero, nan, infinity] = decodeValue(encodeValue([-0, Number.NaN, -Infinity])) as number[];
  assert.ok(Object.is(negativeZero, -0));
  assert.ok(Number.isNaN(nan));
  assert.is(infinity, -Infinity);
});

test('what is not plain data is refused with INVALID_ARGUMENT naming where', () => {
  for (const bad of [{ a: new Map() }, [1n], { f: () => 1 }, { d: new Date(0) }]) {
    try {
      encodeValue(bad);
      assert.unreachable();
    } catch (error) {
      assert.is((error as PetrelError).code, 'INVALID_ARGUMENT');
    }
  }
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  assert.throws(() => encodeValue(cycle), /nested deeper/);
});

function decodeOutcome(bytes: Uint8Array): string {
  try {
    decodeValue(bytes);
    return 'ok';
  } catch (error) {
    if (!(error instanceof PetrelError)) throw error;
    return error.code;
  }
}

test('random and mutated bytes decode or fail with CORRUPTION, nothing else', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      assert.ok(['ok', 'CORRUPTION'].includes(decodeOutcome(bytes)));
    }),
    propertyParameters(3000, 50000),
  );
  fc.assert(
    fc.property(plain, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 }), fc.nat(), (value, flips, cut) => {
      const bytes = Buffer.from(encodeValue(value));
      for (const [at, byte] of flips) bytes[at % bytes.length] = byte;
      assert.ok(['ok', 'CORRUPTION'].includes(decodeOutcome(bytes)));
      assert.ok(['ok', 'CORRUPTION'].includes(decodeOutcome(bytes.subarray(0, cut % (bytes.length + 1)))));
    }),
    propertyParameters(2000, 50000),
  );
});

test('a huge count in a tiny frame fails at once instead of allocating', () => {
  // An array claiming 2^40 elements, in 8 bytes.
  const bytes = Buffer.from([8, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
  assert.is(decodeOutcome(bytes), 'CORRUPTION');
  const deep = Buffer.alloc(200, 8);
  for (let i = 1; i < deep.length; i += 2) deep[i] = 1;
  assert.match(String((() => { try { decodeValue(deep); } catch (error) { return error; } })()), /nested deeper/);
  assert.is(decodeOutcome(Buffer.from([9, 1, 9, ...Buffer.from('__proto__'), 0])), 'CORRUPTION');
});

test.run();
