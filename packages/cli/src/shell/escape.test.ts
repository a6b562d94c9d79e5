import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeBytes, quoteBytes } from './escape.js';

test('printable ASCII prints as itself; backslash and double quote are escaped', () => {
  assert.is(escapeBytes(Buffer.from('user:1 name')), 'user:1 name');
  assert.is(escapeBytes(Buffer.from('a\\b"c')), 'a\\\\b\\"c');
  assert.is(quoteBytes(Buffer.from('')), '""');
});

test('control bytes print as \\n \\r \\t or \\xNN', () => {
  assert.is(escapeBytes(Buffer.from([0x0a, 0x0d, 0x09, 0x00, 0x1b, 0x7f])), '\\n\\r\\t\\x00\\x1b\\x7f');
});

test('well-formed UTF-8 text prints as text unless escape_all is on', () => {
  const text = Buffer.from('中文 é 😀', 'utf8');
  assert.is(escapeBytes(text), '中文 é 😀');
  assert.is(escapeBytes(text, true), '\\xe4\\xb8\\xad\\xe6\\x96\\x87 \\xc3\\xa9 \\xf0\\x9f\\x98\\x80');
});

test('binary bytes and broken UTF-8 print as \\xNN', () => {
  assert.is(escapeBytes(Buffer.from([0xff, 0xfe, 0x80])), '\\xff\\xfe\\x80');
  assert.is(escapeBytes(Buffer.from([0xe4, 0xb8])), '\\xe4\\xb8', 'a truncated sequence');
  assert.is(escapeBytes(Buffer.from([0xc0, 0x80])), '\\xc0\\x80', 'an overlong form');
  assert.is(escapeBytes(Buffer.from([0xed, 0xa0, 0x80])), '\\xed\\xa0\\x80', 'a surrogate');
  assert.is(escapeBytes(Buffer.from([0xc2, 0x85])), '\\xc2\\x85', 'a C1 control');
});

test.run();
