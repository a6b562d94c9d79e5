import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BufferReader, BufferWriter, encodeWithScratch, varintLength } from './coding.js';
import { PetrelError } from './errors.js';

test('every field written by BufferWriter reads back identically, in order', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('u8' as const), value: fc.integer({ min: 0, max: 255 }) }),
          fc.record({ kind: fc.constant('u16be' as const), value: fc.integer({ min: 0, max: 0xffff }) }),
          fc.record({ kind: fc.constant('u32be' as const), value: fc.nat({ max: 0xffffffff }) }),
          fc.record({ kind: fc.constant('u32le' as const), value: fc.nat({ max: 0xffffffff }) }),
          fc.record({ kind: fc.constant('u64be' as const), value: fc.maxSafeNat() }),
          fc.record({ kind: fc.constant('u64le' as const), value: fc.maxSafeNat() }),
          fc.record({ kind: fc.constant('varint32' as const), value: fc.nat({ max: 0xffffffff }) }),
          fc.record({ kind: fc.constant('varint64' as const), value: fc.maxSafeNat() }),
          fc.record({ kind: fc.constant('bytes' as const), value: fc.uint8Array({ maxLength: 300 }) }),
          fc.record({ kind: fc.constant('string' as const), value: fc.string() }),
          fc.record({ kind: fc.constant('u64beBig' as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
        ),
      ),
      (fields) => {
        const writer = new BufferWriter(1);
        for (const field of fields) {
          if (field.kind === 'bytes') writer.lengthPrefixed(field.value);
          else if (field.kind === 'string') writer.string(field.value);
          else if (field.kind === 'u64beBig') writer.u64beBig(field.value);
          else writer[field.kind](field.value);
        }
        const reader = new BufferReader(writer.toBuffer());
        for (const field of fields) {
          if (field.kind === 'bytes') assert.equal(new Uint8Array(reader.lengthPrefixed()), field.value);
          else if (field.kind === 'string') assert.is(reader.string(), field.value);
          else if (field.kind === 'u64beBig') assert.is(reader.u64beBig(), field.value);
          else assert.is(reader[field.kind](), field.value);
        }
        reader.expectEnd();
      },
    ),
    { numRuns: 300 },
  );
});

test('varintLength agrees with the bytes the writer produces', () => {
  for (const value of [0, 1, 127, 128, 16383, 16384, 2 ** 32 - 1, 2 ** 35, Number.MAX_SAFE_INTEGER]) {
    const writer = new BufferWriter();
    writer.varint64(value);
    assert.is(writer.length, varintLength(value), `varint of ${value}`);
  }
});

test('a truncated field throws the reader\'s error code with the offset, never a RangeError', () => {
  const writer = new BufferWriter();
  writer.u32be(7).lengthPrefixed(Buffer.from('hello'));
  const bytes = writer.toBuffer();
  for (let cut = 0; cut < bytes.length; cut++) {
    const reader = new BufferReader(bytes.subarray(0, cut), 'INVALID_ARGUMENT', 'frame');
    try {
      reader.u32be();
      reader.lengthPrefixed();
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.instance(error, PetrelError);
      assert.is((error as PetrelError).code, 'INVALID_ARGUMENT');
      assert.match((error as PetrelError).message, /^frame: truncated/);
    }
  }
});

test('random bytes decode to values or PetrelErrors only', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
      const reader = new BufferReader(bytes);
      try {
        while (!reader.atEnd()) {
          reader.varint32();
          reader.varint64();
          reader.lengthPrefixed();
          reader.u64be();
        }
      } catch (error) {
        if (!(error instanceof PetrelError) || error.code !== 'CORRUPTION') throw error;
      }
    }),
    { numRuns: 500 },
  );
});

test('an overlong varint32 is rejected', () => {
  const reader = new BufferReader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x1f]));
  assert.throws(() => reader.varint32(), /overflows 32 bits/);
  const long = new BufferReader(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80]));
  assert.throws(() => long.varint32(), /overflows|truncated|longer/);
});

test('u64 above 2^53 is rejected as a number but readable as a bigint', () => {
  const writer = new BufferWriter();
  writer.u64beBig(1n << 60n);
  assert.throws(() => new BufferReader(writer.toBuffer()).u64be(), /above 2\^53/);
  assert.is(new BufferReader(writer.toBuffer()).u64beBig(), 1n << 60n);
});

test('take hands over the written bytes; the writer starts over without touching them', () => {
  const writer = new BufferWriter(16);
  writer.u32be(0xdeadbeef).string('petrel');
  const taken = writer.take();
  assert.is(taken.toString('hex'), 'deadbeef06' + Buffer.from('petrel').toString('hex'));
  assert.is(writer.length, 0);
  writer.u32be(1).u32be(2);
  assert.is(taken.toString('hex'), 'deadbeef06' + Buffer.from('petrel').toString('hex'));
  assert.is(writer.take().toString('hex'), '0000000100000002');
});

test('encodeWithScratch: exactly the bytes written, never shared between results, nested calls and failures included', () => {
  const writeBytes = (writer: BufferWriter, bytes: Uint8Array): void => {
    writer.lengthPrefixed(bytes);
  };
  const expected = (bytes: Uint8Array): string => new BufferWriter(16).lengthPrefixed(bytes).take().toString('hex');
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 20 }), (inputs) => {
      const results = inputs.map((bytes) => encodeWithScratch(writeBytes, bytes));
      // Each result holds its own bytes: later encodings (into the same scratch) changed none.
      results.forEach((result, i) => assert.is(result.toString('hex'), expected(inputs[i]!)));
    }),
  );
  // A call from inside another's write gets a writer of its own and does not disturb the outer one.
  const outer = encodeWithScratch((writer, bytes: Uint8Array) => {
    writer.u8(1);
    const inner = encodeWithScratch(writeBytes, Buffer.from('inner'));
    writer.bytes(inner);
    writer.lengthPrefixed(bytes);
  }, Buffer.from('outer'));
  assert.is(outer.toString('hex'), '01' + expected(Buffer.from('inner')) + expected(Buffer.from('outer')));
  // A write that throws leaves the scratch usable; so does one larger than the kept size.
  assert.throws(() => encodeWithScratch((writer) => {
    writer.u8(7);
    throw new Error('bad field');
  }, null), /bad field/);
  const big = Buffer.alloc(3 * 1024 * 1024, 9);
  assert.is(encodeWithScratch(writeBytes, big).length, varintLength(big.length) + big.length);
  assert.is(encodeWithScratch(writeBytes, Buffer.from('after')).toString('hex'), expected(Buffer.from('after')));
});

test.run();
