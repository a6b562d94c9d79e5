/**
 * A model: the sequential specification of the object under test, as a pure value. The checker
 * asks it one question — "from this state, can this operation return this output, and what state
 * follows?" — and never mutates a state, so states can be shared between search branches and kept
 * in the cache.
 */

import type { Operation } from './history.js';

export interface StepResult<S> {
  /** The output is one the operation can return from the state. */
  ok: boolean;
  /** The state after the operation (meaningful only when `ok`). */
  newState: S;
}

export interface Model<S, I, O> {
  /** Names the model in reports and in saved histories. */
  readonly name: string;
  init(): S;
  /**
   * Applies `input` to `state`. `output` undefined means unconstrained (a maybe-operation): the
   * step must then succeed with whatever effect the operation would have had.
   */
  step(state: S, input: I, output: O | undefined): StepResult<S>;
  /** Equality of states, for the cache. Must agree with `hash`. */
  equal(a: S, b: S): boolean;
  /** A 32-bit hash of a state; equal states must hash equally. */
  hash(state: S): number;
  /**
   * Splits a history into independent sub-histories (P-compositionality: the whole is
   * linearizable exactly when every part is). Keys name the parts in reports. Without it the
   * history is checked as one part, named "all".
   */
  partition?(history: readonly Operation<I, O>[]): Map<string, Operation<I, O>[]>;
  /**
   * True for an operation that never changes the state. A maybe-operation that is read-only
   * constrains nothing and is dropped before the search.
   */
  readOnly?(input: I): boolean;
  /** One line, e.g. `get(k) → "v"`; the report adds the interval and marks maybe-operations. */
  describeOperation(input: I, output: O | undefined): string;
  describeState(state: S): string;
}

/** Builds a `partition` function that groups operations by a key taken from the input. */
export function partitionBy<I, O>(keyOf: (input: I) => string): (history: readonly Operation<I, O>[]) => Map<string, Operation<I, O>[]> {
  return (history) => {
    const parts = new Map<string, Operation<I, O>[]>();
    for (const operation of history) {
      const key = keyOf(operation.input);
      let part = parts.get(key);
      if (part === undefined) parts.set(key, (part = []));
      part.push(operation);
    }
    return parts;
  };
}
