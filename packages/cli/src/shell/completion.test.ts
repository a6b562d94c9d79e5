import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { COMMANDS } from './command_table.js';
import { complete } from './completion.js';

const TABLES = ['temp', 'users', 'users_backup'];
const done = (line: string): string[] => complete(line, COMMANDS, TABLES)[0];

test('the first word completes to command names', () => {
  assert.equal(done('cl'), ['clear_data', 'cluster_info']);
  assert.equal(done('multi_get_'), ['multi_get_range', 'multi_get_sortkeys']);
  assert.equal(done('ls; use t; multi_d'), ['multi_del', 'multi_del_range']);
  assert.is(done('').length, COMMANDS.size);
});

test('table arguments complete to table names', () => {
  assert.equal(done('use us'), ['users', 'users_backup']);
  assert.equal(done('app -d t'), ['temp'], 'options before the table argument are skipped');
  assert.equal(done('drop '), TABLES);
  assert.equal(done('copy_data -a u'), ['users', 'users_backup'], 'an option whose value is a table');
  assert.equal(done('app_stat --app_name te'), ['temp']);
});

test('other arguments do not complete; options complete to long names', () => {
  assert.equal(done('get us'), []);
  assert.equal(done('recall te'), []);
  assert.equal(done('app temp x'), []);
  assert.equal(done('multi_get_range h a b --st'), ['--start_inclusive', '--stop_inclusive']);
  assert.equal(done('nosuch '), []);
});

test('help completes command names', () => {
  assert.equal(done('help multi_get_s'), ['multi_get_sortkeys']);
});

test.run();
