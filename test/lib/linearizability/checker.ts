/**
 * The linearizability checker: splits a history by the model's partition (P-compositionality:
 * a history is linearizable exactly when each independent part is), searches each part for a
 * linearization, and explains any part that has none.
 *
 * Budgets make it total: a wall-clock `timeoutMs` over the whole check and a deterministic
 * `maxStepsPerKey` per part. A part that runs out is 'unknown', never a hang. Inside the
 * simulator use only the step budget, so that a seed replays to the same verdict.
 */

import { PetrelError } from '@petrel/base';
import type { HistoryEvent, Operation } from './history.js';
import { historyFromEvents, validateHistory } from './history.js';
import type { Model } from './model.js';
import type { KeyCheck, LinearizabilityReport, UnplacedOperation } from './report.js';
import { formatReport } from './report.js';
import type { CheckResult } from './search.js';
import { searchLinearization } from './search.js';

export type { CheckResult } from './search.js';
export type { KeyCheck, LinearizabilityReport, UnplacedOperation } from './report.js';

export interface CheckOptions {
  /** Wall-clock budget for the whole check; parts not finished in time are 'unknown'. Default 60 000. */
  timeoutMs?: number;
  /**
   * Search steps allowed per part before it is 'unknown'. Default 5 000 000 (a few seconds). Each
   * step may keep one cache entry, so this also bounds memory: an illegal history with many
   * maybe-operations costs time exponential in their number, and without a bound runs the heap out.
   */
  maxStepsPerKey?: number;
  /** The clock for `timeoutMs`, in milliseconds. Default `performance.now`. */
  now?: () => number;
  /** How many failing parts the text report details. Default 5. */
  maxReportedKeys?: number;
}

const defaultTimeoutMs = 60_000;
const defaultMaxStepsPerKey = 5_000_000;
const defaultMaxReportedKeys = 5;

/** Checks a history of operations against a model. Throws INVALID_ARGUMENT for a malformed history. */
export function checkHistory<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  options: CheckOptions = {},
): LinearizabilityReport<I, O> {
  validateHistory(history);
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const maxStepsPerKey = options.maxStepsPerKey ?? defaultMaxStepsPerKey;
  if (!(timeoutMs >= 0) || !(maxStepsPerKey >= 0)) {
    throw new PetrelError('INVALID_ARGUMENT', 'timeoutMs and maxStepsPerKey must be non-negative');
  }
  const now = options.now ?? (() => performance.now());
  const started = now();
  const budget = { maxSteps: maxStepsPerKey, deadline: started + timeoutMs, now };

  // Give every operation its name for reports: its id, or its index in the history.
  const named = history.map((operation, index) => (operation.id === undefined ? { ...operation, id: index } : operation));
  const parts = model.partition === undefined ? new Map([['all', named]]) : model.partition(named);
  const keys = [...parts.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const perKey: KeyCheck<I, O>[] = [];
  let steps = 0;
  for (const key of keys) {
    const part = parts.get(key)!;
    const operations = part.filter((operation) => !(operation.returnTime === Infinity && model.readOnly?.(operation.input) === true));
    const droppedCount = part.length - operations.length;
    const keyStarted = now();
    if (keyStarted > budget.deadline) {
      perKey.push({
        key, result: 'unknown', operationCount: operations.length, droppedCount, steps: 0, elapsedMs: 0,
        linearization: [], stateAfter: model.describeState(model.init()), unplaced: [], stopReason: 'timeout',
      });
      continue;
    }
    const outcome = searchLinearization(model, operations, budget);
    steps += outcome.steps;
    const check: KeyCheck<I, O> = {
      key,
      result: outcome.result,
      operationCount: operations.length,
      droppedCount,
      steps: outcome.steps,
      elapsedMs: now() - keyStarted,
      linearization: outcome.order.map((index) => operations[index]!),
      stateAfter: model.describeState(outcome.stateAfter),
      unplaced: outcome.result === 'ok' ? [] : explainUnplaced(model, operations, outcome.order, outcome.stateAfter, outcome.result),
    };
    if (outcome.stopReason !== undefined) check.stopReason = outcome.stopReason;
    perKey.push(check);
  }

  let result: CheckResult = 'ok';
  for (const check of perKey) {
    if (check.result === 'illegal') result = 'illegal';
    else if (check.result === 'unknown' && result === 'ok') result = 'unknown';
  }
  const elapsedMs = now() - started;
  const summary = { result, model: model.name, operationCount: history.length, steps, elapsedMs, perKey };
  return { ...summary, report: formatReport(model, summary, options.maxReportedKeys ?? defaultMaxReportedKeys) };
}

/** Checks a history recorded as invocation and completion events. */
export function checkEvents<S, I, O>(
  model: Model<S, I, O>,
  events: readonly HistoryEvent<I, O>[],
  options: CheckOptions = {},
): LinearizabilityReport<I, O> {
  return checkHistory(model, historyFromEvents(events), options);
}

/**
 * After the prefix `order`, the next operation must be one invoked before the earliest return
 * among the operations not yet placed. Lists those, with whether the model accepts each here.
 */
function explainUnplaced<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  order: readonly number[],
  stateAfter: S,
  result: CheckResult,
): UnplacedOperation<I, O>[] {
  const placed = new Uint8Array(operations.length);
  for (const index of order) placed[index] = 1;
  let deadline = Infinity;
  for (let i = 0; i < operations.length; i++) {
    if (placed[i] === 0) deadline = Math.min(deadline, operations[i]!.returnTime);
  }
  const candidates: Operation<I, O>[] = [];
  for (let i = 0; i < operations.length; i++) {
    if (placed[i] === 0 && operations[i]!.callTime <= deadline) candidates.push(operations[i]!);
  }
  candidates.sort((a, b) => a.callTime - b.callTime || (a.id ?? 0) - (b.id ?? 0));
  const state = model.describeState(stateAfter);
  return candidates.map((operation) => {
    const possibleHere = model.step(stateAfter, operation.input, operation.output).ok;
    let reason: string;
    if (!possibleHere) reason = `impossible from state ${state}`;
    else if (result === 'illegal') reason = 'possible here, but no order continuing with it places the rest';
    else reason = 'possible here; the search stopped before it finished';
    return { operation, possibleHere, reason };
  });
}
