/**
 * MetaClient: requests to the meta server that leads, found among `metaServers` by the client
 * itself.
 *
 * The client remembers the meta it last reached (the first listed at start). A meta that is not
 * the leader answers NOT_LEADER, naming the leader when it knows it: the client goes there next
 * (even if that address was not listed), else to the next listed meta. A meta it cannot reach is
 * skipped the same way; after a whole round of failures it backs off (50 ms doubling to 1 s)
 * before the next round, all within the call's deadline.
 *
 * Retries never repeat a change twice: a request whose connection failed after it was sent is
 * retried only when it only reads (`idempotent`); a change (create, drop, recall, envs) then ends
 * with TIMEOUT, because it may or may not have been applied.
 */
import { PetrelError } from '@petrel/base';
import type { ClusterMessageName, PlainValue } from '@petrel/protocol';
import { canonicalAddress } from './address.js';
import type { CallContext } from './call_context.js';
import type { ConnectionPool } from './connection_pool.js';
import { RequestFailure } from './session.js';

const ROUND_BACKOFF_BASE_MS = 50;
const ROUND_BACKOFF_MAX_MS = 1000;

export class MetaClient {
  private readonly servers: string[];
  private leader: string;

  constructor(
    private readonly pool: ConnectionPool,
    metaServers: readonly string[],
  ) {
    this.servers = metaServers.map(canonicalAddress);
    this.leader = this.servers[0] as string;
  }

  /** The meta the client will ask first. */
  get currentLeader(): string {
    return this.leader;
  }

  private next(after: string): string {
    const at = this.servers.indexOf(after);
    return this.servers[(at + 1) % this.servers.length] as string;
  }

  /** Sends one request to the leader and returns its result (throws the meta's error). */
  async call(name: ClusterMessageName, body: unknown, context: CallContext, idempotent: boolean): Promise<PlainValue> {
    let failuresInRound = 0;
    let rounds = 0;
    let hops = 0;
    for (;;) {
      context.check();
      const address = this.leader;
      try {
        const session = this.pool.openSession(address) ?? (await this.pool.session(address, context));
        return await session.callMeta(name, body, context);
      } catch (error) {
        if (!(error instanceof PetrelError)) throw error;
        if (error.code === 'NOT_LEADER') {
          context.lastError = error;
          const leader = (error as PetrelError & { leader?: string }).leader;
          let target: string | undefined;
          try {
            target = leader === undefined ? undefined : canonicalAddress(leader);
          } catch {
            target = undefined;
          }
          this.leader = target !== undefined && target !== address ? target : this.next(address);
          // Metas that point at each other while an election settles: pause once per round.
          if (++hops % Math.max(2, this.servers.length) === 0) await this.roundPause(context, ++rounds);
          continue;
        }
        if (error instanceof RequestFailure && error.code === 'NETWORK_FAILURE') {
          context.lastError = error;
          if (error.delivery === 'maybe-applied' && !idempotent) {
            throw new PetrelError('TIMEOUT', `${name}: ${error.message}; the change may or may not have been applied`, { cause: error });
          }
          if (this.leader === address) this.leader = this.next(address);
          if (++failuresInRound >= this.servers.length) {
            failuresInRound = 0;
            await this.roundPause(context, ++rounds);
          }
          continue;
        }
        throw error;
      }
    }
  }

  private roundPause(context: CallContext, round: number): Promise<void> {
    const ms = Math.min(ROUND_BACKOFF_MAX_MS, ROUND_BACKOFF_BASE_MS * 2 ** (round - 1));
    return context.sleep(ms * (0.8 + 0.4 * Math.random()));
  }
}
