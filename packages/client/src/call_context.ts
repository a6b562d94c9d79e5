/**
 * CallContext: the deadline of one API call, shared by everything the call waits on — a routing
 * query, a connection, a backoff sleep, the server's answer. `withDeadline` settles the caller's
 * promise with TIMEOUT when the deadline passes, whatever is still pending: one timer per call,
 * set when the call starts, so a call never settles later than its timeout plus the event loop's
 * own lateness. At the deadline the context aborts: each waiter it registered drops its entry
 * (a pending request is forgotten, a sleep ends), and the retry loop stops at its next step.
 */
import { PetrelError } from '@petrel/base';

type AbortHandler = () => void;

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
  private handlers: AbortHandler[] | undefined;
  /** The last retryable error the call met, reported with its TIMEOUT. */
  lastError: PetrelError | undefined;
  /** Set by withDeadline: ends the call at once with `error`. */
  private canceller: ((error: PetrelError) => void) | undefined;

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

  /** Runs `handler` when the call aborts (at once if it has); returns a function that unregisters it. */
  onAbort(handler: AbortHandler): () => void {
    if (this.aborted) {
      handler();
      return noop;
    }
    (this.handlers ??= []).push(handler);
    return () => {
      const handlers = this.handlers;
      if (handlers === undefined) return;
      const at = handlers.indexOf(handler);
      if (at >= 0) handlers.splice(at, 1);
    };
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const handlers = this.handlers;
    this.handlers = undefined;
    if (handlers !== undefined) for (const handler of handlers) handler();
  }

  /** Ends the call now with `error` (the client closing), as the deadline would with TIMEOUT. */
  cancel(error: PetrelError): void {
    if (this.canceller !== undefined) this.canceller(error);
    else this.abort();
  }

  /** @internal */
  setCanceller(canceller: (error: PetrelError) => void): void {
    this.canceller = canceller;
  }

  /** Forgets the abort handlers of a finished call. */
  finish(): void {
    this.handlers = undefined;
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
 * Runs `body` under a deadline of `timeoutMs`: the result settles with the body's outcome or,
 * at the deadline, with TIMEOUT (the context aborts and the body's later outcome is ignored).
 */
export function withDeadline<T>(
  operation: string,
  timeoutMs: number,
  body: (context: CallContext) => Promise<T>,
  live?: Set<CallContext>,
): Promise<T> {
  const context = new CallContext(operation, timeoutMs);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const end = (error: PetrelError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      live?.delete(context);
      reject(error);
      context.abort();
    };
    // Node's timers count from the event loop's cached time, so one set late in a busy turn can
    // fire early: check the clock and wait out the rest if so.
    const fire = (): void => {
      const leftMs = context.deadlineMs - performance.now();
      if (leftMs >= 1) timer = setTimeout(fire, leftMs);
      else end(context.timeoutError());
    };
    let timer = setTimeout(fire, timeoutMs);
    context.setCanceller(end);
    live?.add(context);
    body(context).then(
      (value) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        live?.delete(context);
        context.finish();
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        live?.delete(context);
        context.finish();
        // A body that ended because its context aborted ends as the deadline says.
        reject(error instanceof CallAborted ? context.timeoutError() : error);
      },
    );
  });
}
