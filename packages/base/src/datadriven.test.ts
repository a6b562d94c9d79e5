/** The data-driven file format: cases, arguments, expected blocks and the comments before them. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDataDriven } from './datadriven.js';

test('parses commands, arguments, input, expected output and the comments before each case', () => {
  const cases = parseDataDriven(
    ['# file header', '', '# about the first', 'build restart=4 fast', 'a', 'b', '----', 'out 1', 'out 2', '', 'seek', '----', 'x', ''].join('\n'),
  );
  assert.is(cases.length, 2);
  const [first, second] = cases;
  assert.is(first!.command, 'build');
  assert.equal([...first!.args], [['restart', '4'], ['fast', '']]);
  assert.equal(first!.input, ['a', 'b']);
  assert.is(first!.expected, 'out 1\nout 2');
  assert.equal(first!.comments, ['# file header', '', '# about the first']);
  assert.is(first!.line, 4);
  assert.equal(second!.comments, []);
  assert.is(second!.expected, 'x');
});

test('a case without its ---- line is an error naming the line', () => {
  assert.throws(() => parseDataDriven('build\na\n'), /line 1: case without ----/);
});

test.run();
