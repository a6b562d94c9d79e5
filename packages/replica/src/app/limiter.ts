/**
 * IterationLimiter: the server-side bounds of one range read. It counts every row the read
 * visits (expired and filtered rows too) against `maxIterations`, the bytes it returns against
 * `maxBytes`, and — every 16 rows — the time since it started against `timeLimitMs`, so a read
 * over a hash key full of expired or filtered rows cannot run unbounded.
 */
import type { Clock } from '@petrel/base';

const TIME_CHECK_EVERY_ROWS = 16;

export class IterationLimiter {
  iterations = 0;
  bytes = 0;
  timeExceeded = false;
  private readonly startedMs: number;

  constructor(
    private readonly maxIterations: number,
    private readonly maxBytes: number,
    private readonly timeLimitMs: number,
    private readonly clock: Clock,
  ) {
    this.startedMs = timeLimitMs > 0 ? clock.nowMs() : 0;
  }

  /** Whether the read may visit another row. */
  valid(): boolean {
    if (this.iterations >= this.maxIterations || this.bytes >= this.maxBytes) return false;
    return this.timeCheck();
  }

  /** False once the time limit has passed (checked every 16 rows). */
  timeCheck(): boolean {
    if (this.timeExceeded) return false;
    if (this.timeLimitMs > 0 && this.iterations > 0 && this.iterations % TIME_CHECK_EVERY_ROWS === 0) {
      if (this.clock.nowMs() - this.startedMs > this.timeLimitMs) {
        this.timeExceeded = true;
        return false;
      }
    }
    return true;
  }

  addRow(): void {
    this.iterations++;
  }

  addBytes(bytes: number): void {
    this.bytes += bytes;
  }
}
