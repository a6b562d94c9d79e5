/**
 * The report of a check: its structure (the verdict per key with the evidence) and its text, which
 * is what a person reads when a simulator seed or a chaos run fails. For each failing key the text
 * shows the end of the longest linearizable prefix, the state it leads to, and each operation that
 * could have come next with the reason it does not fit.
 */

import type { Operation } from './history.js';
import type { Model } from './model.js';
import type { CheckResult } from './search.js';

/** An operation that could not come next after the longest linearizable prefix. */
export interface UnplacedOperation<I, O> {
  operation: Operation<I, O>;
  /** The model accepts it from the state after the prefix (it failed only later in the search). */
  possibleHere: boolean;
  reason: string;
}

export interface KeyCheck<I, O> {
  key: string;
  result: CheckResult;
  /** Operations searched: the part's operations minus read-only ones that maybe happened. */
  operationCount: number;
  /** Read-only operations with unknown outcome, dropped because they constrain nothing. */
  droppedCount: number;
  steps: number;
  elapsedMs: number;
  /** 'ok': a linearization. Otherwise the longest linearizable prefix the search found. */
  linearization: Operation<I, O>[];
  /** The model state after `linearization`, described. */
  stateAfter: string;
  /** 'illegal' / 'unknown': the operations that could come next after the prefix, and why each does not fit. */
  unplaced: UnplacedOperation<I, O>[];
  /** 'unknown': which budget ran out. */
  stopReason?: 'steps' | 'timeout';
}

export interface LinearizabilityReport<I, O> {
  /** 'illegal' when any key is illegal, else 'unknown' when any key is unknown, else 'ok'. */
  result: CheckResult;
  model: string;
  operationCount: number;
  steps: number;
  elapsedMs: number;
  /** One entry per key (per part of the model's partition), sorted by key. */
  perKey: KeyCheck<I, O>[];
  /** A human-readable account: a summary line, then the failing keys in detail. */
  report: string;
}

/** How many operations of a long prefix the text shows (the last ones: the failure is at its end). */
const prefixShownCount = 20;

function formatTime(time: number): string {
  return time === Infinity ? '∞' : String(Math.round(time * 1000) / 1000);
}

export function formatOperation<S, I, O>(model: Model<S, I, O>, operation: Operation<I, O>): string {
  const interval = `[${formatTime(operation.callTime)}, ${formatTime(operation.returnTime)}]`;
  const maybe = operation.returnTime === Infinity ? ' (outcome unknown)' : '';
  return `#${operation.id ?? '?'} client ${String(operation.clientId)} ${interval} ${model.describeOperation(operation.input, operation.output)}${maybe}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

export function formatReport<S, I, O>(
  model: Model<S, I, O>,
  summary: Omit<LinearizabilityReport<I, O>, 'report'>,
  maxReportedKeys: number,
): string {
  const illegal = summary.perKey.filter((check) => check.result === 'illegal');
  const unknown = summary.perKey.filter((check) => check.result === 'unknown');
  const totals = `${plural(summary.perKey.length, 'key')}, ${plural(summary.operationCount, 'operation')}, ${plural(summary.steps, 'step')}, ${summary.elapsedMs.toFixed(1)} ms`;
  const lines: string[] = [];
  if (summary.result === 'ok') {
    lines.push(`linearizability (${summary.model}): ok: ${totals}`);
  } else if (summary.result === 'illegal') {
    lines.push(`linearizability (${summary.model}): NOT LINEARIZABLE: ${illegal.length} of ${plural(summary.perKey.length, 'key')} illegal` +
      (unknown.length > 0 ? `, ${unknown.length} undecided` : '') + `; ${totals}`);
  } else {
    lines.push(`linearizability (${summary.model}): unknown: ${unknown.length} of ${plural(summary.perKey.length, 'key')} undecided within the budget; ${totals}`);
  }
  const detailed = [...illegal, ...unknown];
  for (const check of detailed.slice(0, maxReportedKeys)) lines.push(...formatKey(model, check));
  if (detailed.length > maxReportedKeys) lines.push(`(${detailed.length - maxReportedKeys} more keys not shown)`);
  return lines.join('\n');
}

function formatKey<S, I, O>(model: Model<S, I, O>, check: KeyCheck<I, O>): string[] {
  const lines: string[] = [];
  const size = `${plural(check.operationCount, 'operation')}, ${plural(check.steps, 'step')}`;
  if (check.result === 'illegal') {
    lines.push(`key ${JSON.stringify(check.key)}: not linearizable (${size})`);
  } else {
    const budget = check.stopReason === 'timeout' ? 'the time budget ran out' : 'the step budget ran out';
    lines.push(`key ${JSON.stringify(check.key)}: unknown, ${budget} (${size})`);
  }
  const prefix = check.linearization;
  lines.push(`  longest linearizable prefix found: ${prefix.length} of ${plural(check.operationCount, 'operation')}`);
  if (prefix.length > prefixShownCount) lines.push(`    … ${prefix.length - prefixShownCount} earlier operations`);
  for (const operation of prefix.slice(-prefixShownCount)) lines.push(`    ${formatOperation(model, operation)}`);
  lines.push(`  state after the prefix: ${check.stateAfter}`);
  if (check.unplaced.length > 0) {
    lines.push('  operations that could come next, none of which leads to a linearization:');
    for (const unplaced of check.unplaced) lines.push(`    ${formatOperation(model, unplaced.operation)}: ${unplaced.reason}`);
  }
  return lines;
}
