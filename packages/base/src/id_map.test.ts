/** IdMap against a Map as the model, with ids that collide in the slot array. */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { IdMap } from './id_map.js';
import { propertyParameters } from './testing.js';

type Op = { kind: 'set'; id: number; value: number } | { kind: 'delete'; id: number } | { kind: 'get'; id: number } | { kind: 'clear' };

// Few distinct ids, so that they meet again in the slots and the overflow; a few huge ones.
const id = fc.oneof({ arbitrary: fc.nat(12), weight: 6 }, { arbitrary: fc.nat(2 ** 40), weight: 1 }, fc.constantFrom(0, 7, 8, 15, 16, 2 ** 32 + 3, Number.MAX_SAFE_INTEGER));
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('set' as const), id, value: fc.integer() }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), id }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('get' as const), id }), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('clear' as const) }), weight: 1 },
);

test('IdMap behaves as a Map, whatever the ids and their collisions', () => {
  fc.assert(
    fc.property(fc.constantFrom(1, 2, 8), fc.array(op, { maxLength: 200, size: 'max' }), (slots, ops) => {
      const map = new IdMap<number>(slots);
      const model = new Map<number, number>();
      for (const o of ops) {
        if (o.kind === 'set') {
          map.set(o.id, o.value);
          model.set(o.id, o.value);
        } else if (o.kind === 'delete') assert.is(map.delete(o.id), model.delete(o.id));
        else if (o.kind === 'get') assert.is(map.get(o.id), model.get(o.id));
        else {
          map.clear();
          model.clear();
        }
        assert.is(map.size, model.size);
      }
      assert.equal([...map.toArray()].sort((a, b) => a - b), [...model.values()].sort((a, b) => a - b));
    }),
    propertyParameters(300),
  );
});

test('sequential ids retired out of order stay in the slots; a long-lived id goes to the overflow and back', () => {
  const map = new IdMap<string>(4);
  map.set(1, 'slow');
  for (let i = 2; i < 100; i++) {
    map.set(i, `fast${i}`);
    assert.is(map.get(i), `fast${i}`);
    assert.ok(map.delete(i));
  }
  assert.is(map.size, 1);
  assert.is(map.get(1), 'slow');
  map.set(5, 'collides with 1');
  assert.is(map.get(5), 'collides with 1');
  assert.ok(map.delete(1));
  assert.is(map.get(1), undefined);
  assert.is(map.get(5), 'collides with 1');
  assert.is(map.size, 1);
});

test.run();
