/**
 * CallContext: the deadline of one API call, shared by everything the call waits on — a routing
 * query, a connection, a backoff sleep, the server's answer. `withDeadline` settles the caller's
 * promise with TIMEOUT when the deadline passes, whatever is still pending: the deadline is set
 * when the call starts (Deadlines keeps every call's under one timer), so a call never settles
 * later than its timeout plus the event loop's own lateness. At the deadline the context aborts:
 * each waiter it registered drops its entry (a pending request is forgotten, a sleep ends), and
 * the retry loop stops at its next step.
 *
 * This is the path of every request, so it allocates little: a call is one object (TimedCall, the
 * context itself) holding its promise's settle functions and its place among the deadlines
 * (Deadlines: one timer for all calls), and waiters register as objects (AbortListener), not
 * closures.
 */
import { IdMap, PetrelError } from '@petrel/base';

/** Something waiting on a call (a request on the wire, a sleep) that must let go when the call ends. */
export interface AbortListener {
  callAborted(): void;
}

/** Thrown inside a call's own work once its context aborted; the caller has already seen TIMEOUT. */
export class CallAborted extends Error {
  constructor() {
    super('the call ended');
    this.name = 'CallAborted';
  }
}

export class CallContext {
  readonly deadlineMs: number;
  private aborted = false;
  /** The first listener (most calls have one: their request); the others in `listeners`. */
  private listener: AbortListener | undefined;
  private listeners: AbortListener[] | undefined;
  /** The last retryable error the call met, reported with its TIMEOUT. */
  lastError: PetrelError | undefined;

  constructor(
    readonly operation: string,
    readonly timeoutMs: number,
  ) {
    this.deadlineMs = performance.now() + timeoutMs;
  }

  get isAborted(): boolean {
    return this.aborted;
  }

  /** Milliseconds left (0 once the deadline passed). */
  remainingMs(): number {
    const left = this.deadlineMs - performance.now();
    return left > 0 ? left : 0;
  }

  /** Throws CallAborted once the call is over. */
  check(): void {
    if (this.aborted) throw new CallAborted();
  }

  /** Tells `listener` when the call aborts (at once if it has). */
  listen(listener: AbortListener): void {
    if (this.aborted) listener.callAborted();
    else if (this.listener === undefined) this.listener = listener;
    else (this.listeners ??= []).push(listener);
  }

  unlisten(listener: AbortListener): void {
    if (this.listener === listener) {
      this.listener = undefined;
      return;
    }
    const listeners = this.listeners;
    if (listeners === undefined) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  /** Runs `handler` when the call aborts (at once if it has); returns a function that unregisters it. */
  onAbort(handler: () => void): () => void {
    const listener: AbortListener = { callAborted: handler };
    this.listen(listener);
    return () => this.unlisten(listener);
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const first = this.listener;
    const others = this.listeners;
    this.listener = undefined;
    this.listeners = undefined;
    first?.callAborted();
    if (others !== undefined) for (const listener of others) listener.callAborted();
  }

  /** Ends the call now with `error` (the client closing), as the deadline would with TIMEOUT. */
  cancel(_error: PetrelError): void {
    this.abort();
  }

  /** Forgets the listeners of a finished call. */
  finish(): void {
    this.listener = undefined;
    this.listeners = undefined;
  }

  /** Waits `ms` (at most until the deadline); rejects with CallAborted when the call ends first. */
  sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.aborted) {
        reject(new CallAborted());
        return;
      }
      // A sleep that would reach the deadline just waits for it: the call is over by then.
      const timer =
        ms < this.remainingMs()
          ? setTimeout(() => {
              unregister();
              resolve();
            }, Math.max(0, ms))
          : undefined;
      const unregister = this.onAbort(() => {
        if (timer !== undefined) clearTimeout(timer);
        reject(new CallAborted());
      });
    });
  }

  /** `promise`, unless the call ends first (then CallAborted). The promise itself runs on. */
  race<T>(promise: Promise<T>): Promise<T> {
    if (this.aborted) {
      promise.catch(noop);
      return Promise.reject(new CallAborted());
    }
    return new Promise<T>((resolve, reject) => {
      const unregister = this.onAbort(() => reject(new CallAborted()));
      promise.then(
        (value) => {
          unregister();
          resolve(value);
        },
        (error: unknown) => {
          unregister();
          reject(error);
        },
      );
    });
  }

  timeoutError(): PetrelError {
    const last = this.lastError === undefined ? '' : `; last error: ${this.lastError.code}: ${this.lastError.message}`;
    return new PetrelError('TIMEOUT', `${this.operation} did not finish within ${this.timeoutMs} ms${last}`, this.lastError === undefined ? {} : { cause: this.lastError });
  }
}

function noop(): void {}

/**
 * The calls in progress of one client, which `close()` cancels. An IdMap, not a Set: a Set
 * churned at the rate of requests keeps its replaced tables, and every call they held, alive
 * through young-generation collections (see IdMap).
 */
export class LiveCalls {
  private readonly calls = new IdMap<CallContext>(4096);
  private nextId = 1;

  get size(): number {
    return this.calls.size;
  }

  /** Adds `call`; the id to remove it with. */
  add(call: CallContext): number {
    const id = this.nextId++;
    this.calls.set(id, call);
    return id;
  }

  delete(id: number): void {
    this.calls.delete(id);
  }

  /** Ends every call with `error`. */
  cancelAll(error: PetrelError): void {
    for (const call of this.calls.toArray()) call.cancel(error);
    this.calls.clear();
  }
}

/**
 * The deadlines of the calls in progress, in the process: one list per timeout length, in the
 * order the calls started — which is the order of their deadlines, since every call of a list
 * adds the same length to a monotonic clock — and one Node timer, set for the earliest deadline
 * of all. A call joins and leaves its list in O(1) (it is its own list node). Node keeps a list
 * per length too, but a timer per call costs an object of its own and its insertion and removal
 * on every request, which showed in the client's profile; most calls here end long before their
 * deadline.
 */
class DeadlineList {
  head: TimedCall<unknown> | undefined;
  tail: TimedCall<unknown> | undefined;
}

class Deadlines {
  private readonly lists = new Map<number, DeadlineList>();
  /** Calls in the lists. */
  private size = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer is due (Infinity: no timer). */
  private timerAt = Infinity;
  private readonly fire = (): void => this.expire();

  add(call: TimedCall<unknown>): void {
    let list = this.lists.get(call.timeoutMs);
    if (list === undefined) this.lists.set(call.timeoutMs, (list = new DeadlineList()));
    call.deadlineList = list;
    call.deadlinePrevious = list.tail;
    call.deadlineNext = undefined;
    if (list.tail === undefined) list.head = call;
    else list.tail.deadlineNext = call;
    list.tail = call;
    this.size++;
    if (call.deadlineMs < this.timerAt) this.arm(call.deadlineMs);
  }

  remove(call: TimedCall<unknown>): void {
    const list = call.deadlineList;
    if (list === undefined) return;
    const { deadlinePrevious: previous, deadlineNext: next } = call;
    if (previous === undefined) list.head = next;
    else previous.deadlineNext = next;
    if (next === undefined) list.tail = previous;
    else next.deadlinePrevious = previous;
    call.deadlineList = undefined;
    call.deadlinePrevious = undefined;
    call.deadlineNext = undefined;
    // With calls left, the timer stays: when it fires with nothing due, it sets itself for what
    // is left. With none, it goes, so that it keeps no process alive.
    if (--this.size === 0 && this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
    }
  }

  private arm(at: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(this.fire, Math.max(1, at - performance.now()));
  }

  /** Ends every call whose deadline has come, then waits for the next deadline. */
  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    // Node's timers count from the event loop's cached time, so one set late in a busy turn can
    // fire early: a call less than a millisecond from its deadline ends now, the others wait on.
    // When the loop was late, several lists may have calls due: they end in the order of their
    // deadlines, the earliest head of all first, not list by list.
    const now = performance.now();
    for (;;) {
      let earliest: TimedCall<unknown> | undefined;
      for (const list of this.lists.values()) {
        const head = list.head;
        if (head !== undefined && head.deadlineMs - now < 1 && (earliest === undefined || head.deadlineMs < earliest.deadlineMs)) earliest = head;
      }
      if (earliest === undefined) break;
      this.remove(earliest);
      earliest.deadlineReached();
    }
    let next = Infinity;
    for (const [timeoutMs, list] of this.lists) {
      const head = list.head;
      if (head === undefined) this.lists.delete(timeoutMs);
      else if (head.deadlineMs < next) next = head.deadlineMs;
    }
    if (next !== Infinity && next < this.timerAt) this.arm(next);
  }
}

const deadlines = new Deadlines();

/**
 * A call with its deadline: the context, the promise the caller holds, and its place among the
 * deadlines that end it with TIMEOUT. `succeed` and `fail` settle it (the first settling wins); at
 * the deadline, or on `cancel`, it rejects and aborts, so whatever the call waits on lets go.
 */
export class TimedCall<T> extends CallContext {
  readonly promise: Promise<T>;
  private resolveCall!: (value: T) => void;
  private rejectCall!: (error: unknown) => void;
  private settled = false;
  private readonly liveId: number;
  /** @internal Its place in Deadlines. */
  deadlineList: DeadlineList | undefined;
  /** @internal */
  deadlinePrevious: TimedCall<unknown> | undefined;
  /** @internal */
  deadlineNext: TimedCall<unknown> | undefined;

  constructor(
    operation: string,
    timeoutMs: number,
    private readonly live: LiveCalls | undefined,
  ) {
    super(operation, timeoutMs);
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolveCall = resolve;
      this.rejectCall = reject;
    });
    deadlines.add(this as TimedCall<unknown>);
    this.liveId = live === undefined ? 0 : live.add(this);
  }

  get isSettled(): boolean {
    return this.settled;
  }

  succeed(value: T): void {
    if (!this.close()) return;
    this.finish();
    this.resolveCall(value);
  }

  /** Ends the call with `error`; a body that ended because its context aborted ends as the deadline says. */
  fail(error: unknown): void {
    if (!this.close()) return;
    this.finish();
    this.rejectCall(error instanceof CallAborted ? this.timeoutError() : error);
  }

  override cancel(error: PetrelError): void {
    this.end(error);
  }

  /** @internal Deadlines says the time is up. */
  deadlineReached(): void {
    this.end(this.timeoutError());
  }

  private end(error: PetrelError): void {
    if (!this.close()) return;
    this.rejectCall(error);
    this.abort();
  }

  private close(): boolean {
    if (this.settled) return false;
    this.settled = true;
    deadlines.remove(this as TimedCall<unknown>);
    this.live?.delete(this.liveId);
    return true;
  }
}

/**
 * Runs `body` under a deadline of `timeoutMs`: the result settles with the body's outcome or,
 * at the deadline, with TIMEOUT (the context aborts and the body's later outcome is ignored).
 */
export function withDeadline<T>(
  operation: string,
  timeoutMs: number,
  body: (context: CallContext) => Promise<T>,
  live?: LiveCalls,
): Promise<T> {
  const call = new TimedCall<T>(operation, timeoutMs, live);
  let outcome: Promise<T>;
  try {
    outcome = body(call);
  } catch (error) {
    call.fail(error);
    return call.promise;
  }
  outcome.then(
    (value) => call.succeed(value),
    (error: unknown) => call.fail(error),
  );
  return call.promise;
}
