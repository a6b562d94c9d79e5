/**
 * The search for a linearization of one partition of a history: the Wing & Gong backtracking
 * search with Lowe's cache of visited configurations, the way Porcupine runs it.
 *
 * The history becomes a doubly linked list of call and return entries in time order. Walking
 * from the head, a call entry whose operation the model accepts from the current state is
 * "lifted": its call and return entries leave the list, the operation is pushed on a stack with
 * the state before it, and the walk restarts at the head. Reaching a return entry means the
 * operation it belongs to should already have taken effect but could not be placed: the last
 * lifted operation is popped and put back (dancing links: the removed entries remember their
 * neighbours), and the walk goes on with the entry after it. The stack is an explicit array,
 * so depth is bounded by memory, not by the JavaScript call stack.
 *
 * Lowe's pruning: the rest of the search from a configuration depends only on which operations
 * are linearized and on the model state, so each (linearized-set bitset, state) pair is tried
 * once. The bitset's hash is kept incrementally (XOR of a random word per operation).
 *
 * Operations that maybe happened return at Infinity: they can be placed anywhere after their
 * call, and the search succeeds as soon as every completed operation is placed — those left
 * over never took effect (or did so after everything else, which nobody observed).
 */

import { assert } from '@petrel/base';
import type { Operation } from './history.js';
import type { Model } from './model.js';

export type CheckResult = 'ok' | 'illegal' | 'unknown';

export interface SearchBudget {
  /** Steps (entries visited) before giving up with 'unknown'. */
  maxSteps: number;
  /** Give up with 'unknown' once `now()` passes this. */
  deadline: number;
  now: () => number;
}

export interface SearchOutcome<S> {
  result: CheckResult;
  steps: number;
  /** 'ok': a linearization (indexes into the operations); otherwise the longest linearizable prefix found. */
  order: number[];
  /** The model state after `order`. */
  stateAfter: S;
  /** Set when `result` is 'unknown'. */
  stopReason?: 'steps' | 'timeout';
}

interface CacheEntry<S> {
  bits: Uint32Array;
  state: S;
}

/** How often (in steps) the wall clock is read. */
const clockCheckIntervalSteps = 1024;

/** A well-mixed 32-bit word per operation index, for the incremental bitset hash. */
function operationHash(index: number): number {
  let x = (index + 0x9e3779b9) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) | 0;
}

function bitsEqual(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function searchLinearization<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  budget: SearchBudget,
): SearchOutcome<S> {
  const count = operations.length;
  const initial = model.init();
  let completedLeft = 0;
  for (const operation of operations) if (operation.returnTime !== Infinity) completedLeft++;
  if (completedLeft === 0) return { result: 'ok', steps: 0, order: [], stateAfter: initial };

  // Entry 2i is the call of operation i, entry 2i+1 its return; entry 2n is the list's head.
  const head = 2 * count;
  const sorted = new Int32Array(2 * count);
  for (let i = 0; i < sorted.length; i++) sorted[i] = i;
  const timeOf = (entry: number): number => {
    const operation = operations[entry >> 1]!;
    return (entry & 1) === 0 ? operation.callTime : operation.returnTime;
  };
  // Calls sort before returns at equal times: touching intervals count as concurrent.
  sorted.sort((a, b) => timeOf(a) - timeOf(b) || (a & 1) - (b & 1) || a - b);
  const next = new Int32Array(2 * count + 1);
  const prev = new Int32Array(2 * count + 1);
  let last = head;
  for (const entry of sorted) {
    next[last] = entry;
    prev[entry] = last;
    last = entry;
  }
  next[last] = head;
  prev[head] = last;

  const unlink = (entry: number): void => {
    next[prev[entry]!] = next[entry]!;
    prev[next[entry]!] = prev[entry]!;
  };
  const relink = (entry: number): void => {
    next[prev[entry]!] = entry;
    prev[next[entry]!] = entry;
  };

  const bits = new Uint32Array((count + 31) >>> 5);
  let bitsHash = 0;
  const cache = new Map<number, CacheEntry<S>[]>();
  const stackOperations = new Int32Array(count);
  const stackStates: S[] = new Array<S>(count);
  let depth = 0;
  let state = initial;

  let bestDepth = 0;
  const bestOrder = new Int32Array(count);
  let bestState = initial;

  let steps = 0;
  let entry = next[head]!;
  for (;;) {
    steps++;
    if (steps > budget.maxSteps) return stop('steps');
    if (steps % clockCheckIntervalSteps === 0 && budget.now() > budget.deadline) return stop('timeout');
    assert(entry !== head, 'linearizability search walked off the end of the entry list');
    const index = entry >> 1;
    if ((entry & 1) === 0) {
      const operation = operations[index]!;
      const result = model.step(state, operation.input, operation.output);
      if (result.ok) {
        const word = index >>> 5;
        const mask = 1 << (index & 31);
        bits[word] = bits[word]! | mask;
        const candidateHash = bitsHash ^ operationHash(index);
        const key = (candidateHash ^ Math.imul(model.hash(result.newState), 0x9e3779b1)) | 0;
        let bucket = cache.get(key);
        let seen = false;
        if (bucket !== undefined) {
          for (const cached of bucket) {
            if (bitsEqual(cached.bits, bits) && model.equal(cached.state, result.newState)) {
              seen = true;
              break;
            }
          }
        } else {
          cache.set(key, (bucket = []));
        }
        if (!seen) {
          bucket.push({ bits: bits.slice(), state: result.newState });
          bitsHash = candidateHash;
          stackOperations[depth] = index;
          stackStates[depth] = state;
          depth++;
          state = result.newState;
          unlink(entry);
          unlink(entry + 1);
          if (operation.returnTime !== Infinity) completedLeft--;
          if (depth > bestDepth) {
            bestDepth = depth;
            bestOrder.set(stackOperations.subarray(0, depth));
            bestState = state;
          }
          if (completedLeft === 0) {
            return { result: 'ok', steps, order: Array.from(stackOperations.subarray(0, depth)), stateAfter: state };
          }
          entry = next[head]!;
          continue;
        }
        bits[word] = bits[word]! & ~mask;
      }
      entry = next[entry]!;
      continue;
    }
    // A return entry: its operation had to take effect by now and could not. Undo the last step.
    if (depth === 0) {
      return { result: 'illegal', steps, order: Array.from(bestOrder.subarray(0, bestDepth)), stateAfter: bestState };
    }
    depth--;
    const undone = stackOperations[depth]!;
    state = stackStates[depth]!;
    bits[undone >>> 5] = bits[undone >>> 5]! & ~(1 << (undone & 31));
    bitsHash ^= operationHash(undone);
    relink(2 * undone + 1);
    relink(2 * undone);
    if (operations[undone]!.returnTime !== Infinity) completedLeft++;
    entry = next[2 * undone]!;
  }

  function stop(reason: 'steps' | 'timeout'): SearchOutcome<S> {
    return { result: 'unknown', steps, order: Array.from(bestOrder.subarray(0, bestDepth)), stateAfter: bestState, stopReason: reason };
  }
}
