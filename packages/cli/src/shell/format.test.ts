import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { displayWidth, formatBytes, formatDuration, formatNumber, formatPairs, formatTable, formatUnixSeconds } from './format.js';

test('tables align columns: numbers right, text left, two blanks apart, no trailing blanks', () => {
  const lines = formatTable(['app_id', 'app_name', 'envs'], [
    [1, 'temp', '-'],
    [12, 'a_longer_name', 'k=v'],
  ]);
  assert.equal(lines, [
    'app_id  app_name       envs',
    '     1  temp           -',
    '    12  a_longer_name  k=v',
  ]);
});

test('null and undefined cells print as -, explicit alignments win', () => {
  assert.equal(formatTable(['a', 'b'], [[null, undefined]], ['right', 'left']), ['a  b', '-  -']);
});

test('wide characters count two columns', () => {
  assert.is(displayWidth('中文'), 4);
  const lines = formatTable(['k', 'v'], [['中', 'x'], ['ab', 'y']]);
  assert.equal(lines, ['k   v', '中  x', 'ab  y']);
});

test('pairs align their colons', () => {
  assert.equal(formatPairs([['app_id', 1], ['partition_count', 8]]), ['app_id          : 1', 'partition_count : 8']);
});

test('bytes, durations, numbers and times read naturally', () => {
  assert.is(formatBytes(0), '0 B');
  assert.is(formatBytes(1536), '1.5 KiB');
  assert.is(formatBytes(5 * 1024 * 1024), '5.0 MiB');
  assert.is(formatDuration(12), '12 ms');
  assert.is(formatDuration(1234), '1.2 s');
  assert.is(formatDuration(75_000), '1 min 15 s');
  assert.is(formatNumber(0), '0');
  assert.is(formatNumber(12.345), '12.3');
  assert.is(formatNumber(0.01234), '0.012');
  assert.is(formatNumber(1234.5), '1235');
  assert.is(formatUnixSeconds(0), '-');
  assert.is(formatUnixSeconds(1_700_000_000), '2023-11-14 22:13:20Z');
});

test.run();
