import { propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { escapeBytes } from './escape.js';
import { ShellError } from './errors.js';
import { currentWord, tokenizeLine } from './tokenizer.js';

const words = (line: string): string[][] => tokenizeLine(line).map((statement) => statement.map((token) => token.bytes.toString('latin1')));

test('blanks separate words and semicolons separate statements; empty statements are dropped', () => {
  assert.equal(words('  get  h   s '), [['get', 'h', 's']]);
  assert.equal(words('use t; get h s;;  ls ;'), [['use', 't'], ['get', 'h', 's'], ['ls']]);
  assert.equal(words(''), []);
  assert.equal(words('   ;  ; '), []);
});

test('double quotes keep blanks and semicolons and read escapes', () => {
  assert.equal(words('set h "a b;c" "x\\ty\\n"'), [['set', 'h', 'a b;c', 'x\ty\n']]);
  assert.equal(words('set h "\\x00\\xFF\\\\\\"" v'), [['set', 'h', '\x00\xff\\"', 'v']]);
  assert.equal(words('get "" ""'), [['get', '', '']]);
});

test("single quotes are literal, escapes included", () => {
  assert.equal(words("set h 'a\\x00 \"b\"' v"), [['set', 'h', 'a\\x00 "b"', 'v']]);
});

test('bare words read escapes too, and quoted parts join bare parts into one word', () => {
  assert.equal(words('set a\\ b \\x41"B C"\'d\' v'), [['set', 'a b', 'AB Cd', 'v']]);
  assert.equal(words('get h a\\;b'), [['get', 'h', 'a;b']]);
  assert.equal(words('get h c:\\path'), [['get', 'h', 'c:\\path']], 'an unknown escape keeps its backslash');
});

test('a word that was quoted is marked, so it is never an option', () => {
  const [statement] = tokenizeLine('full_scan -d "-i" x');
  assert.equal(statement!.map((token) => token.quoted), [false, false, true, false]);
});

test('non-ASCII text is read as UTF-8 bytes', () => {
  const [statement] = tokenizeLine('set 中 "😀" v');
  assert.equal(statement![1]!.bytes, Buffer.from('中', 'utf8'));
  assert.equal(statement![2]!.bytes, Buffer.from('😀', 'utf8'));
});

test('# starts a comment at the start of a word only', () => {
  assert.equal(words('ls # list the tables'), [['ls']]);
  assert.equal(words('# a whole comment line'), []);
  assert.equal(words('get h a#b'), [['get', 'h', 'a#b']]);
});

test('unterminated quotes and bad \\x escapes are SYNTAX errors', () => {
  for (const line of ['get "h s', "get 'h s", 'get h \\x4', 'get h "\\xZZ"']) {
    try {
      tokenizeLine(line);
      assert.unreachable(`${line} should fail`);
    } catch (error) {
      assert.instance(error, ShellError);
      assert.is((error as ShellError).code, 'SYNTAX', line);
    }
  }
});

test('property: any bytes, printed quoted and escaped, read back as the same bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (bytes, escapeAll) => {
      const [statement] = tokenizeLine(`set "${escapeBytes(bytes, escapeAll)}"`);
      assert.equal(statement![1]!.bytes, Buffer.from(bytes));
    }),
    propertyParameters(500, 10_000),
  );
});

test('property: any text, printed quoted and escaped, reads back as its UTF-8 bytes', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 32 }), (text) => {
      const bytes = Buffer.from(text, 'utf8');
      const [statement] = tokenizeLine(`get "${escapeBytes(bytes)}" x`);
      assert.equal(statement![1]!.bytes, bytes);
    }),
    propertyParameters(300, 5000),
  );
});

test('currentWord finds the word being typed and the words before it, after the last ;', () => {
  assert.equal(currentWord('ls; use te'), { word: 'te', index: 1, words: ['use'] });
  assert.equal(currentWord('get '), { word: '', index: 1, words: ['get'] });
  assert.equal(currentWord('cl'), { word: 'cl', index: 0, words: [] });
});

test.run();
