/**
 * ConnectionPool: at most one session per server address, opened on first use and shared by
 * every call to that server (requests are pipelined on it).
 *
 * A session that closes leaves the pool; the next call reconnects. Reconnecting backs off: after
 * a failed attempt, the address is not dialled again before `retryAtMs` (50 ms doubling per
 * consecutive failure up to 2 s, with ±20 % jitter); a call that asks meanwhile fails at once
 * with NETWORK_FAILURE (not sent), and its retry loop decides whether to wait or go elsewhere.
 * Concurrent calls share one attempt.
 */
import { PetrelError } from '@petrel/base';
import type { CallContext } from './call_context.js';
import { RequestFailure, Session, type SessionOptions } from './session.js';

const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 2000;

interface PoolEntry {
  session: Session | undefined;
  connecting: Promise<Session> | undefined;
  failures: number;
  retryAtMs: number;
  lastError: PetrelError | undefined;
}

export class ConnectionPool {
  private readonly entries = new Map<string, PoolEntry>();
  private closed = false;

  constructor(private readonly options: SessionOptions) {}

  /** The open session to `address`, if there is one (the fast path of every call). */
  openSession(address: string): Session | undefined {
    const session = this.entries.get(address)?.session;
    return session !== undefined && session.isOpen ? session : undefined;
  }

  /** When a failed address may be dialled again (0: now). */
  retryAtMs(address: string): number {
    return this.entries.get(address)?.retryAtMs ?? 0;
  }

  /** A session to `address`: the open one, the one being opened, or a new one. */
  async session(address: string, context: CallContext): Promise<Session> {
    if (this.closed) throw new RequestFailure('CLOSED', 'the client is closed', 'not-sent');
    let entry = this.entries.get(address);
    if (entry === undefined) {
      entry = { session: undefined, connecting: undefined, failures: 0, retryAtMs: 0, lastError: undefined };
      this.entries.set(address, entry);
    }
    if (entry.session !== undefined && entry.session.isOpen) return entry.session;
    if (entry.connecting === undefined) {
      const now = performance.now();
      if (now < entry.retryAtMs) {
        const last = entry.lastError === undefined ? '' : `: ${entry.lastError.message}`;
        throw new RequestFailure('NETWORK_FAILURE', `${address} is unreachable; next attempt in ${Math.ceil(entry.retryAtMs - now)} ms${last}`, 'not-sent');
      }
      entry.connecting = this.dial(address, entry);
    }
    return context.race(entry.connecting);
  }

  private async dial(address: string, entry: PoolEntry): Promise<Session> {
    try {
      const session = await Session.open(address, this.options);
      entry.connecting = undefined;
      if (this.closed) {
        session.close();
        throw new RequestFailure('CLOSED', 'the client is closed', 'not-sent');
      }
      entry.session = session;
      entry.failures = 0;
      entry.retryAtMs = 0;
      entry.lastError = undefined;
      session.onClose(() => {
        if (entry.session === session) entry.session = undefined;
      });
      return session;
    } catch (error) {
      entry.connecting = undefined;
      if (error instanceof RequestFailure) throw error;
      entry.failures++;
      const backoff = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (entry.failures - 1));
      entry.retryAtMs = performance.now() + backoff * (0.8 + 0.4 * Math.random());
      const failure = error instanceof PetrelError ? error : new PetrelError('NETWORK_FAILURE', String(error));
      entry.lastError = failure;
      // A server that answered the hello with an error (UNSUPPORTED_VERSION …) is reported as such.
      if (failure.code !== 'NETWORK_FAILURE') throw failure;
      throw new RequestFailure('NETWORK_FAILURE', failure.message, 'not-sent');
    }
  }

  /** Every open session, for tests and metrics. */
  sessions(): Session[] {
    const sessions: Session[] = [];
    for (const entry of this.entries.values()) if (entry.session !== undefined && entry.session.isOpen) sessions.push(entry.session);
    return sessions;
  }

  close(): void {
    this.closed = true;
    for (const entry of this.entries.values()) entry.session?.close();
    this.entries.clear();
  }
}
