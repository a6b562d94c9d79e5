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

test('short ASCII strings come back right however many share a length (decoded strings are reused by a hash of their bytes)', () => {
  // 4,000 distinct 6-character strings over 512 slots: many collide in a slot at the same length.
  const strings = Array.from({ length: 4000 }, (_, i) => `k${String(i).padStart(5, '0')}`);
  assert.equal(decodeValue(encodeValue(strings)), strings);
  assert.equal(decodeValue(encodeValue([...strings].reverse())), [...strings].reverse());
  // Names of Object.prototype's members are ordinary fields, and ASCII next to UTF-8 stays apart.
  const fields = { constructor: 'é', toString: 'x', hasOwnProperty: 1, valueOf: 'e\u0301', e: 'é' };
  assert.equal(decodeValue(encodeValue(fields)), fields);
});

test('a field given twice is refused, also when its first value was undefined', () => {
  const twice = (first: number[]) => Buffer.from([9, 2, 1, 0x61, ...first, 1, 0x61, 0]);
  assert.is(decodeOutcome(twice([0])), 'CORRUPTION', 'null, then null');
  assert.is(decodeOutcome(twice([3])), 'CORRUPTION', 'undefined, then null');
  assert.equal(decodeValue(Buffer.from([9, 2, 1, 0x61, 3, 1, 0x62, 0])), { b: null });
});

test('encoding leaves the headroom asked for, and an encoding inside a getter does not disturb the outer one', () => {
  const encoded = encodeValue({ a: [1, 'two'] }, 5);
  assert.equal([...encoded.subarray(0, 5)], [0, 0, 0, 0, 0]);
  assert.equal(decodeValue(encoded, 5), { a: [1, 'two'] });
  const inner: Buffer[] = [];
  const outer = {
    before: 'x'.repeat(300),
    get nested() {
      inner.push(encodeValue({ deep: 'y'.repeat(5000) }));
      return 7;
    },
    after: 'z',
  };
  assert.equal(decodeValue(encodeValue(outer)), { before: 'x'.repeat(300), nested: 7, after: 'z' });
  assert.equal(decodeValue(inner[0] as Buffer), { deep: 'y'.repeat(5000) });
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
  assert.throws(() => encodeValue({ ok: [1, { when: new Date(0) }] }), /cannot encode Date at \$\.ok\[1\]\.when/);
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
