import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { propertyParameters } from '@petrel/base';
import { kvModel, type KvInput, type KvState } from '../lib/linearizability/index.js';
import { KvStateMachine, decodeResult, encodeRequest, type KvWrite } from './kv_machine.js';

const key = fc.constantFrom('a', 'b');
const value = fc.oneof(fc.constantFrom('1', '-7', 'x', '', '9223372036854775807'), fc.string({ maxLength: 3 }));
const write: fc.Arbitrary<KvWrite> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value }),
  fc.record({ op: fc.constant('del' as const), key }),
  fc.record({ op: fc.constant('incr' as const), key, delta: fc.integer({ min: -5, max: 5 }) }),
  fc.record({ op: fc.constant('checkAndSet' as const), key, expected: fc.option(value, { nil: null }), value }),
);

test('property: the state machine answers every write and read as the checker’s kv model allows', () => {
  fc.assert(
    fc.property(fc.array(fc.array(write, { minLength: 1, maxLength: 3 }), { maxLength: 20 }), (mutations) => {
      const machine = new KvStateMachine();
      const model = new Map<string, KvState>();
      mutations.forEach((writes, index) => {
        const results = machine.apply(index + 1, writes.map((one) => encodeRequest(one)));
        writes.forEach((one, position) => {
          const result = decodeResult(results[position]!);
          const output =
            one.op === 'incr'
              ? result.error !== undefined
                ? { error: result.error }
                : { newValue: BigInt(result.newValue!) }
              : one.op === 'checkAndSet'
                ? { succeeded: result.succeeded!, oldValue: result.oldValue ?? null }
                : {};
          const step = kvModel.step(model.get(one.key) ?? null, one as KvInput, output);
          assert.ok(step.ok, `model refuses ${JSON.stringify(one)} → ${JSON.stringify(result)}`);
          model.set(one.key, step.newState);
        });
        for (const name of ['a', 'b']) {
          const read = decodeResult(machine.read(encodeRequest({ op: 'get', key: name })));
          assert.is(read.value, model.get(name) ?? null);
        }
      });
    }),
    propertyParameters(300),
  );
});

test('a checkpoint restores the same state and decree; state hashes ignore insertion order', () => {
  const one = new KvStateMachine();
  one.apply(1, [encodeRequest({ op: 'set', key: 'a', value: '1' }), encodeRequest({ op: 'set', key: 'b', value: '2' })]);
  const two = new KvStateMachine();
  two.apply(1, [encodeRequest({ op: 'set', key: 'b', value: '2' }), encodeRequest({ op: 'set', key: 'a', value: '1' })]);
  assert.is(one.stateHash(), two.stateHash());
  const restored = new KvStateMachine();
  restored.restore(one.checkpoint());
  assert.is(restored.lastAppliedDecree(), 1);
  assert.is(restored.stateHash(), one.stateHash());
  assert.throws(() => restored.apply(3, []), /apply 3 after 1/);
});

test.run();
