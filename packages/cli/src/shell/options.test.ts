import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ShellError } from './errors.js';
import { type OptionSpec, optionBoolean, optionInteger, optionSwitch, optionText, optionUsage, parseArguments } from './options.js';
import { tokenizeLine } from './tokenizer.js';

const SPECS: OptionSpec[] = [
  { short: 'a', long: 'start_inclusive', kind: 'value', valueName: 'true|false', description: '' },
  { short: 'n', long: 'max_count', kind: 'value', valueName: 'num', description: '' },
  { short: 'i', long: 'no_value', kind: 'switch', description: '' },
  { long: 'target', kind: 'value', description: '', required: false },
];

const parse = (line: string, specs = SPECS) => parseArguments(tokenizeLine(line)[0]!.slice(1), specs);

function failsWith(run: () => unknown, code: string, text: string): void {
  try {
    run();
    assert.unreachable('should fail');
  } catch (error) {
    assert.instance(error, ShellError);
    assert.is((error as ShellError).code, code);
    assert.match((error as Error).message, text);
  }
}

test('short, long and --name=value options mix with positionals in any order', () => {
  const parsed = parse('cmd h -a false s --max_count 10 e -i --target=x=y');
  assert.equal(parsed.positional.map((token) => token.bytes.toString()), ['h', 's', 'e']);
  assert.is(optionBoolean(parsed, 'start_inclusive'), false);
  assert.is(optionInteger(parsed, 'max_count', 1), 10);
  assert.is(optionSwitch(parsed, 'no_value'), true);
  assert.is(optionText(parsed, 'target'), 'x=y');
});

test('-- ends the options, quoted words and negative numbers are positionals', () => {
  const parsed = parse('cmd -- -i "-a" -5');
  assert.equal(parsed.positional.map((token) => token.bytes.toString()), ['-i', '-a', '-5']);
  assert.is(optionSwitch(parsed, 'no_value'), false);
  assert.equal(parse('cmd "-i" -5').positional.map((token) => token.bytes.toString()), ['-i', '-5']);
});

test('unknown options, missing values, switch values and missing required options are USAGE errors', () => {
  failsWith(() => parse('cmd -q'), 'USAGE', 'unknown option -q');
  failsWith(() => parse('cmd --nope 1'), 'USAGE', 'unknown option --nope');
  failsWith(() => parse('cmd -n'), 'USAGE', '-n needs a value');
  failsWith(() => parse('cmd --no_value=1'), 'USAGE', 'takes no value');
  failsWith(() => parse('cmd', [{ short: 'a', long: 'target_app_name', kind: 'value', description: '', required: true }]), 'USAGE', '-a|--target_app_name is required');
});

test('typed reads refuse bad numbers and booleans', () => {
  failsWith(() => optionInteger(parse('cmd -n ten'), 'max_count', 1), 'USAGE', 'must be an integer');
  failsWith(() => optionInteger(parse('cmd -n 0'), 'max_count', 1), 'USAGE', 'at least 1');
  failsWith(() => optionBoolean(parse('cmd -a maybe'), 'start_inclusive'), 'USAGE', 'true or false');
});

test('the usage shows optional options in [] and required ones in <>', () => {
  assert.is(optionUsage(SPECS[0]!), '[-a|--start_inclusive true|false]');
  assert.is(optionUsage(SPECS[2]!), '[-i|--no_value]');
  assert.is(optionUsage({ short: 'a', long: 'target_app_name', kind: 'value', description: '', required: true }), '<-a|--target_app_name str>');
});

test.run();
