/**
 * A history: the operations that clients ran against the system under test, each with the
 * interval in which it was in flight. An operation took effect atomically at some instant inside
 * its interval, or the history is not linearizable.
 *
 * Times are read from any one monotonic clock (the simulator's virtual milliseconds, a real
 * process's `performance.now()`); the checker only compares them. Two operations whose times are
 * equal at an edge (one returns at t, the other is invoked at t) count as concurrent: with a clock
 * of finite resolution we cannot tell which came first, and assuming an order could report a
 * correct system as broken.
 *
 * An operation whose outcome is unknown (it timed out, its connection broke, its process was
 * killed) "maybe happened": its `returnTime` is `Infinity` and it has no output. It may have taken
 * effect at any instant after its invocation, or never.
 */

import { PetrelError } from '@petrel/base';

export type ClientId = number | string;

export interface Operation<I, O> {
  /** Names the operation in reports; the index in the history when absent. */
  id?: number;
  clientId: ClientId;
  input: I;
  /** What the system answered. Absent = unconstrained (always absent for a maybe-operation). */
  output?: O;
  callTime: number;
  /** When the answer arrived; `Infinity` for an operation that maybe happened. */
  returnTime: number;
}

/**
 * The same history as a list of events in the order they happened, as a test harness records
 * them. An `invoke` with no completion, or completed by `unknown`, maybe happened. A `fail`
 * completion says the operation certainly did not take effect (refused before it was sent), so
 * the operation is dropped. When events carry no `time`, their position in the list is the time.
 */
export type HistoryEvent<I, O> =
  | { type: 'invoke'; id: number | string; clientId: ClientId; input: I; time?: number }
  | { type: 'ok'; id: number | string; output?: O; time?: number }
  | { type: 'unknown'; id: number | string; time?: number }
  | { type: 'fail'; id: number | string; time?: number };

export function isMaybe(operation: Operation<unknown, unknown>): boolean {
  return operation.returnTime === Infinity;
}

/** Throws INVALID_ARGUMENT for an operation the checker cannot interpret. */
export function validateHistory(history: readonly Operation<unknown, unknown>[]): void {
  for (let i = 0; i < history.length; i++) {
    const operation = history[i]!;
    const name = `operation ${operation.id ?? i}`;
    if (!Number.isFinite(operation.callTime)) {
      throw new PetrelError('INVALID_ARGUMENT', `${name}: callTime must be a finite number`);
    }
    if (Number.isNaN(operation.returnTime) || operation.returnTime === -Infinity) {
      throw new PetrelError('INVALID_ARGUMENT', `${name}: returnTime must be a number or Infinity`);
    }
    if (operation.returnTime < operation.callTime) {
      throw new PetrelError('INVALID_ARGUMENT', `${name}: returns (${operation.returnTime}) before its call (${operation.callTime})`);
    }
    if (operation.returnTime === Infinity && operation.output !== undefined) {
      // An answer with no time is a harness bug: either it arrived (give its time) or it did not.
      throw new PetrelError('INVALID_ARGUMENT', `${name}: a maybe-operation (returnTime Infinity) cannot have an output`);
    }
  }
}

/** Turns an event list into operations (in invocation order). Throws INVALID_ARGUMENT on a malformed list. */
export function historyFromEvents<I, O>(events: readonly HistoryEvent<I, O>[]): Operation<I, O>[] {
  interface Pending {
    operation: Operation<I, O>;
    done: boolean;
    failed: boolean;
  }
  const byId = new Map<number | string, Pending>();
  const ordered: Pending[] = [];
  let lastTime = -Infinity;
  for (let position = 0; position < events.length; position++) {
    const event = events[position]!;
    const time = event.time ?? position;
    if (!Number.isFinite(time)) throw new PetrelError('INVALID_ARGUMENT', `event ${position}: time must be finite`);
    if (time < lastTime) throw new PetrelError('INVALID_ARGUMENT', `event ${position}: time ${time} goes backwards`);
    lastTime = time;
    if (event.type === 'invoke') {
      if (byId.has(event.id)) throw new PetrelError('INVALID_ARGUMENT', `event ${position}: operation ${String(event.id)} invoked twice`);
      const operation: Operation<I, O> = { id: ordered.length, clientId: event.clientId, input: event.input, callTime: time, returnTime: Infinity };
      const pending = { operation, done: false, failed: false };
      byId.set(event.id, pending);
      ordered.push(pending);
      continue;
    }
    const pending = byId.get(event.id);
    if (pending === undefined) throw new PetrelError('INVALID_ARGUMENT', `event ${position}: completion of unknown operation ${String(event.id)}`);
    if (pending.done) throw new PetrelError('INVALID_ARGUMENT', `event ${position}: operation ${String(event.id)} completed twice`);
    pending.done = true;
    if (event.type === 'ok') {
      pending.operation.returnTime = time;
      if (event.output !== undefined) pending.operation.output = event.output;
    } else if (event.type === 'fail') {
      pending.failed = true;
    }
    // 'unknown' leaves returnTime at Infinity: the operation maybe happened.
  }
  const operations: Operation<I, O>[] = [];
  for (const pending of ordered) {
    if (pending.failed) continue;
    operations.push(pending.operation);
  }
  return operations;
}
