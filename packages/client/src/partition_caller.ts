/**
 * PartitionCaller: sends one request to the primary of one partition and retries, within the
 * call's deadline, what is safe to retry (doc/retries.md):
 *
 * | what happened                                        | then                                              |
 * | ---------------------------------------------------- | ------------------------------------------------- |
 * | SERVER_CHANGED (not the primary, stale configuration) | refresh routing (unless a newer ballot is cached), retry |
 * | NOT_ENOUGH_MEMBER (refused before replication)        | back off, refresh routing, retry                  |
 * | no connection could be made, or it closed before sending | refresh routing, back off while the same primary is unreachable, retry |
 * | the connection closed with the request in flight     | reads: as above; writes: TIMEOUT (may have been applied), never re-sent |
 * | no primary in the routing table                      | back off, refresh routing, retry                  |
 * | any other error response                             | the call fails with it                            |
 *
 * Back-off starts at 10 ms and doubles to 500 ms (±20 % jitter); it applies only when the
 * refreshed routing still names the server that failed, so a moved primary is retried at once.
 * The deadline (call_context.ts) ends everything with TIMEOUT, naming the last error met.
 *
 * The first attempt of a call whose routing is cached and whose primary's session is open is sent
 * at once, without the async retry loop (UnaryCall): the path of nearly every request. Only a
 * failure enters the loop, which picks up from that failure.
 */
import { PetrelError } from '@petrel/base';
import type { ErrorInfo, RequestBodies, RequestName, ResponseBodies } from '@petrel/protocol';
import { MAX_TIMEOUT_MS } from './arguments.js';
import { CallAborted, type CallContext, type LiveCalls, TimedCall, withDeadline } from './call_context.js';
import type { ConnectionPool } from './connection_pool.js';
import type { TableRouting } from './routing.js';
import type { PartitionConfig } from './types.js';
import { RequestFailure, type ResponseWaiter } from './session.js';

const BACKOFF_FIRST_MS = 10;
const BACKOFF_MAX_MS = 500;
/** A routing answer younger than this is not asked again after a refusal of the same ballot. */
const ROUTING_MIN_AGE_AFTER_REFUSAL_MS = 10;
/** … nor after a connection failure. */
const ROUTING_MIN_AGE_AFTER_NETWORK_FAILURE_MS = 50;

export type RoutedRequest<N extends RequestName> = RequestBodies[N] extends { request: infer R } ? R : never;
type CallName = Exclude<RequestName, 'hello'>;

/** A failed attempt, from which the retry loop goes on. */
interface Failure {
  readonly error: unknown;
  readonly config: PartitionConfig;
}

function identity<T>(value: T): T {
  return value;
}

export class PartitionCaller {
  constructor(
    readonly routing: TableRouting,
    /** @internal */
    readonly pool: ConnectionPool,
    readonly defaultTimeoutMs: number,
    private readonly live: LiveCalls,
  ) {}

  /**
   * One request as a whole call, under its own deadline; the call's result is `pick` of the
   * response (what it throws, the call rejects with — never retried).
   */
  invoke<N extends CallName, T = ResponseBodies[N]>(
    name: N,
    partitionIndex: number,
    request: RoutedRequest<N>,
    timeoutMs: number,
    retryIfMaybeApplied: boolean,
    pick: (response: ResponseBodies[N]) => T = identity as (response: ResponseBodies[N]) => T,
  ): Promise<T> {
    const call = new UnaryCall<N, T>(this, name, partitionIndex, request, timeoutMs, retryIfMaybeApplied, pick, this.live);
    call.start();
    return call.promise;
  }

  /** Runs a call made of several requests (delRange, batches) under one deadline. */
  run<T>(operation: string, timeoutMs: number, body: (context: CallContext) => Promise<T>): Promise<T> {
    return withDeadline(operation, timeoutMs, body, this.live);
  }

  /**
   * One request within a call's context, retried as the table above says; `first` is an attempt
   * already made that failed (the loop starts by recovering from it).
   */
  async call<N extends CallName>(
    name: N,
    partitionIndex: number,
    request: RoutedRequest<N>,
    context: CallContext,
    retryIfMaybeApplied: boolean,
    first?: Failure,
  ): Promise<ResponseBodies[N]> {
    const routing = this.routing;
    let backoffMs = BACKOFF_FIRST_MS;
    let failure = first;
    for (;;) {
      if (failure === undefined) {
        context.check();
        const config = routing.isStale ? await routing.config(partitionIndex, context) : routing.cached(partitionIndex);
        const primary = config.primary;
        if (primary === null) {
          context.lastError = new PetrelError('NOT_ENOUGH_MEMBER', `partition ${routing.name}.${partitionIndex} has no primary (ballot ${config.ballot})`);
          await context.sleep(jitter(backoffMs));
          backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
          await this.refreshQuietly(context, ROUTING_MIN_AGE_AFTER_REFUSAL_MS);
          continue;
        }
        try {
          const session = this.pool.openSession(primary) ?? (await this.pool.session(primary, context));
          return await session.call(name, { header: this.header(partitionIndex, context.remainingMs()), request } as RequestBodies[N], context);
        } catch (error) {
          failure = { error, config };
        }
      }
      const { error, config } = failure;
      failure = undefined;
      const primary = config.primary as string;
      if (!(error instanceof PetrelError)) throw error;
      switch (error.code) {
        case 'SERVER_CHANGED':
        case 'NOT_ENOUGH_MEMBER': {
          context.lastError = error;
          if (error.code === 'NOT_ENOUGH_MEMBER') {
            await context.sleep(jitter(backoffMs));
            backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
          }
          await this.refreshQuietly(context, ROUTING_MIN_AGE_AFTER_REFUSAL_MS, partitionIndex, config.ballot);
          const now = routing.cached(partitionIndex);
          if (error.code === 'SERVER_CHANGED' && now.primary === primary && now.ballot === config.ballot) {
            // The meta has not caught up with the change yet.
            await context.sleep(jitter(backoffMs));
            backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
          }
          continue;
        }
        case 'NETWORK_FAILURE': {
          if (!(error instanceof RequestFailure)) throw error;
          context.lastError = error;
          if (error.delivery === 'maybe-applied' && !retryIfMaybeApplied) {
            throw new PetrelError('TIMEOUT', `${name}: ${error.message}; the write may or may not have been applied`, { cause: error });
          }
          await this.refreshQuietly(context, ROUTING_MIN_AGE_AFTER_NETWORK_FAILURE_MS);
          if (routing.cached(partitionIndex).primary === primary) {
            const waitMs = Math.max(jitter(backoffMs), this.pool.retryAtMs(primary) - performance.now());
            backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2);
            await context.sleep(waitMs);
          }
          continue;
        }
        default:
          throw error;
      }
    }
  }

  /** @internal A request's header: the partition and what is left of the call's time. */
  header(partitionIndex: number, remainingMs: number): { tableId: number; partitionIndex: number; timeoutMs: number } {
    return { tableId: this.routing.id, partitionIndex, timeoutMs: headerTimeout(remainingMs) };
  }

  /**
   * Refreshes routing; a failure to reach the meta is remembered as the last error and the call
   * goes on with what it has, but a table that is gone ends the call.
   */
  private async refreshQuietly(context: CallContext, minAgeMs: number, partitionIndex?: number, ballot?: number): Promise<void> {
    try {
      if (partitionIndex !== undefined && ballot !== undefined) await this.routing.refreshAfter(partitionIndex, ballot, context, minAgeMs);
      else await this.routing.refresh(context, minAgeMs);
    } catch (error) {
      if (error instanceof PetrelError && error.code !== 'APP_NOT_EXIST' && error.code !== 'CLOSED') {
        context.lastError = error;
        return;
      }
      throw error;
    }
  }
}

/** A write's result error, as the PetrelError it is. */
export function throwIfError(error: ErrorInfo | null): void {
  if (error !== null) throw new PetrelError(error.code, error.message);
}

function jitter(ms: number): number {
  return ms * (0.8 + 0.4 * Math.random());
}

/** The header's timeout: what is left of the call, at least 1 ms, at most a u32. */
function headerTimeout(remainingMs: number): number {
  return Math.min(MAX_TIMEOUT_MS, Math.max(1, Math.ceil(remainingMs)));
}

/**
 * One request as a whole call: the context, the caller's promise and the waiter of the first
 * attempt in one object. With routing cached and the primary's session open, the request goes out
 * at once; otherwise, or when that attempt fails, the retry loop (`PartitionCaller.call`) takes over.
 */
class UnaryCall<N extends CallName, T> extends TimedCall<T> implements ResponseWaiter {
  private config: PartitionConfig | undefined;

  constructor(
    private readonly caller: PartitionCaller,
    private readonly name: N,
    private readonly partitionIndex: number,
    private readonly request: RoutedRequest<N>,
    timeoutMs: number,
    private readonly retryIfMaybeApplied: boolean,
    private readonly pick: (response: ResponseBodies[N]) => T,
    live: LiveCalls,
  ) {
    super(name, timeoutMs, live);
  }

  start(): void {
    const routing = this.caller.routing;
    if (!routing.isStale) {
      const config = routing.cached(this.partitionIndex);
      const session = config.primary === null ? undefined : this.caller.pool.openSession(config.primary);
      if (session !== undefined) {
        this.config = config;
        try {
          // Sent as the call starts: all of its time is left (no need to read the clock again).
          session.send(this.name, { header: this.caller.header(this.partitionIndex, this.timeoutMs), request: this.request } as RequestBodies[N], this, this);
        } catch (error) {
          this.fail(error);
        }
        return;
      }
    }
    this.retry(undefined);
  }

  responded(body: unknown): void {
    if (this.isSettled) return;
    try {
      this.succeed(this.pick(body as ResponseBodies[N]));
    } catch (error) {
      this.fail(error);
    }
  }

  failed(error: unknown): void {
    if (this.isSettled) return;
    if (error instanceof CallAborted) {
      this.fail(error);
      return;
    }
    this.retry({ error, config: this.config as PartitionConfig });
  }

  private retry(first: Failure | undefined): void {
    this.caller.call(this.name, this.partitionIndex, this.request, this, this.retryIfMaybeApplied, first).then(
      (response) => this.responded(response),
      (error: unknown) => this.fail(error),
    );
  }
}
