/**
 * The progress bar on stderr: how far the phase is (by operations, or by time for a timed phase)
 * and the live throughput over the last second. On a terminal it redraws one line; otherwise
 * (output piped to a file or CI log) it prints a plain line every few seconds.
 */
import { formatNumber } from '../lib/report.js';

const REDRAW_MS = 100;
const PLAIN_LINE_MS = 5000;
const RATE_WINDOW_MS = 1000;
const BAR_WIDTH = 24;

export class ProgressBar {
  private readonly startedMs = performance.now();
  private readonly samples: [number, number][] = [[this.startedMs, 0]];
  private lastDrawMs = 0;
  private readonly tty = process.stderr.isTTY === true;
  private completed = 0;
  private errors = 0;

  /** @param total operations in the phase, or 0 when it is timed by `durationMs`. */
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly durationMs: number,
    private readonly enabled = true,
  ) {}

  update(completed: number, errors: number): void {
    this.completed = completed;
    this.errors = errors;
    const now = performance.now();
    this.samples.push([now, completed]);
    while (this.samples.length > 2 && this.samples[1]![0] < now - RATE_WINDOW_MS) this.samples.shift();
    if (!this.enabled) return;
    if (now - this.lastDrawMs < (this.tty ? REDRAW_MS : PLAIN_LINE_MS)) return;
    this.lastDrawMs = now;
    this.draw(now);
  }

  /** Operations per second over the last second. */
  currentRate(now = performance.now()): number {
    const [firstMs, firstCompleted] = this.samples[0]!;
    const seconds = (now - firstMs) / 1000;
    return seconds > 0 ? (this.completed - firstCompleted) / seconds : 0;
  }

  finish(): void {
    if (!this.enabled) return;
    const now = performance.now();
    const seconds = (now - this.startedMs) / 1000;
    const line = `${this.label} ${this.renderBar(1)} ${formatNumber(this.completed)} ops in ${seconds.toFixed(1)} s, ${formatNumber(this.completed / Math.max(seconds, 1e-6))} ops/s${this.errors > 0 ? `, ${this.errors} errors` : ''}`;
    process.stderr.write(this.tty ? `\r\x1b[K${line}\n` : `${line}\n`);
  }

  private fraction(now: number): number {
    if (this.total > 0) return Math.min(1, this.completed / this.total);
    return this.durationMs > 0 ? Math.min(1, (now - this.startedMs) / this.durationMs) : 0;
  }

  private renderBar(fraction: number): string {
    const filled = Math.round(fraction * BAR_WIDTH);
    return `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
  }

  private draw(now: number): void {
    const fraction = this.fraction(now);
    const line = `${this.label} ${this.renderBar(fraction)} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${formatNumber(this.completed)} ops  ${formatNumber(this.currentRate(now))} ops/s${this.errors > 0 ? `  ${this.errors} errors` : ''}`;
    process.stderr.write(this.tty ? `\r\x1b[K${line}` : `${line}\n`);
  }
}
