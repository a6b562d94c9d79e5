/**
 * Records as the shell prints them: an aligned table of quoted, escaped keys and values
 * (`hash_key  sort_key  value`, plus `ttl` and `partition` columns when asked). Long scans print
 * through a RecordPrinter, which aligns and writes blocks of rows as they come instead of holding
 * the whole result.
 */
import { writeFileSync, appendFileSync } from 'node:fs';
import type { ShellContext } from './context.js';
import { type Cell, formatTable } from './format.js';

export interface RecordRow {
  hashKey: Uint8Array;
  sortKey: Uint8Array;
  value?: Uint8Array;
  /** Seconds left; -1 when the record does not expire. */
  ttlSeconds?: number;
  partition?: number;
}

export interface RecordColumns {
  value: boolean;
  ttl?: boolean;
  partition?: boolean;
}

export function recordHeaders(columns: RecordColumns): string[] {
  const headers = ['hash_key', 'sort_key'];
  if (columns.value) headers.push('value');
  if (columns.ttl === true) headers.push('ttl');
  if (columns.partition === true) headers.push('partition');
  return headers;
}

export function recordCells(context: ShellContext, row: RecordRow, columns: RecordColumns): Cell[] {
  const cells: Cell[] = [context.quote(row.hashKey), context.quote(row.sortKey)];
  if (columns.value) cells.push(row.value === undefined ? '-' : context.quote(row.value));
  if (columns.ttl === true) cells.push(row.ttlSeconds ?? null);
  if (columns.partition === true) cells.push(row.partition ?? null);
  return cells;
}

export function recordLines(context: ShellContext, rows: readonly RecordRow[], columns: RecordColumns): string[] {
  return formatTable(
    recordHeaders(columns),
    rows.map((row) => recordCells(context, row, columns)),
  );
}

/** Seconds left of an expire timestamp (unix seconds, 0 = never): -1 for never. */
export function ttlOf(expireTs: number | undefined, nowSeconds = Math.floor(Date.now() / 1000)): number {
  if (expireTs === undefined || expireTs === 0) return -1;
  return Math.max(0, expireTs - nowSeconds);
}

/** Prints rows in aligned blocks of up to `blockSize`, to the shell's output or to a file. */
export class RecordPrinter {
  private block: Cell[][] = [];
  private headerWritten = false;
  count = 0;

  constructor(
    private readonly context: ShellContext,
    private readonly columns: RecordColumns,
    private readonly file: string | undefined,
    private readonly blockSize = 1000,
  ) {
    if (file !== undefined) writeFileSync(file, '');
  }

  add(row: RecordRow): void {
    this.block.push(recordCells(this.context, row, this.columns));
    this.count++;
    if (this.block.length >= this.blockSize) this.flush();
  }

  flush(): void {
    if (this.block.length === 0) return;
    const lines = formatTable(recordHeaders(this.columns), this.block);
    const text = (this.headerWritten ? lines.slice(1) : lines).join('\n');
    this.headerWritten = true;
    this.block = [];
    if (this.file === undefined) this.context.out(text);
    else appendFileSync(this.file, `${text}\n`);
  }
}
