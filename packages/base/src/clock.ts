/**
 * Clock: the only way Petrel code reads time, so that tests and the simulator can drive it.
 * `nowMs()` is monotonic (never goes back; use it for leases and timeouts); `wallMs()` is the wall
 * clock (use it only for user-facing times such as TTL expiry, which are unix seconds).
 */

export interface Clock {
  /** Monotonic milliseconds since an arbitrary origin. */
  nowMs(): number;
  /** Wall-clock milliseconds since the unix epoch. */
  wallMs(): number;
}

export class SystemClock implements Clock {
  nowMs(): number {
    return performance.now();
  }

  wallMs(): number {
    return Date.now();
  }
}

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  private monotonicMs: number;
  private wallOffsetMs: number;

  constructor(options: { nowMs?: number; wallMs?: number } = {}) {
    this.monotonicMs = options.nowMs ?? 0;
    this.wallOffsetMs = (options.wallMs ?? 1_700_000_000_000) - this.monotonicMs;
  }

  nowMs(): number {
    return this.monotonicMs;
  }

  wallMs(): number {
    return this.monotonicMs + this.wallOffsetMs;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`a clock cannot go back (advance by ${ms})`);
    this.monotonicMs += ms;
  }

  /** Moves the wall clock alone, as an operator or NTP would; monotonic time is unaffected. */
  setWallMs(wallMs: number): void {
    this.wallOffsetMs = wallMs - this.monotonicMs;
  }
}

export const systemClock: Clock = new SystemClock();
