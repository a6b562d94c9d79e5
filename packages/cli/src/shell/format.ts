/**
 * Aligned text output: tables (a header row, then rows; numbers right-aligned, text left-aligned,
 * two blanks between columns) and key/value blocks (`key : value`, the colons aligned). Widths
 * are terminal columns: one per character, two for wide (CJK, fullwidth, emoji) characters.
 */

export type Cell = string | number | bigint | boolean | null | undefined;
export type Alignment = 'left' | 'right';

function cellText(cell: Cell): string {
  if (cell === null || cell === undefined) return '-';
  return String(cell);
}

/** Wide (two-column) characters: CJK, Hangul, fullwidth forms and most emoji. */
function isWide(codePoint: number): boolean {
  return (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf && codePoint !== 0x303f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe4f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1faff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  );
}

/** Terminal columns of the text: wide characters count two. */
export function displayWidth(text: string): number {
  let count = 0;
  for (const char of text) count += isWide(char.codePointAt(0)!) ? 2 : 1;
  return count;
}

const width = displayWidth;

function pad(text: string, size: number, alignment: Alignment): string {
  const fill = ' '.repeat(Math.max(0, size - width(text)));
  return alignment === 'right' ? fill + text : text + fill;
}

/**
 * Lines of an aligned table. A column is right-aligned when every cell of it is a number (or a
 * bigint), unless `alignments` says otherwise. Trailing blanks are trimmed.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[], alignments?: readonly Alignment[]): string[] {
  const columns = headers.length;
  const texts = rows.map((row) => Array.from({ length: columns }, (_, index) => cellText(row[index])));
  const widths = headers.map((header, index) => Math.max(width(header), ...texts.map((row) => width(row[index]!))));
  const align = headers.map((_, index): Alignment => {
    const given = alignments?.[index];
    if (given !== undefined) return given;
    const numeric = rows.length > 0 && rows.every((row) => typeof row[index] === 'number' || typeof row[index] === 'bigint');
    return numeric ? 'right' : 'left';
  });
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, index) => pad(cell, widths[index]!, align[index]!))
      .join('  ')
      .trimEnd();
  return [line(headers), ...texts.map(line)];
}

/** `key : value` lines with the colons aligned. */
export function formatPairs(pairs: readonly (readonly [string, Cell])[]): string[] {
  const keyWidth = Math.max(0, ...pairs.map(([key]) => width(key)));
  return pairs.map(([key, value]) => `${pad(key, keyWidth, 'left')} : ${cellText(value)}`.trimEnd());
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '-';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** 1234 ms → "1.2 s", 75 000 ms → "1 min 15 s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  return hours > 0 ? `${hours} h ${minutes} min` : `${minutes} min ${rest} s`;
}

/** Rates and ratios with a sensible number of digits: 0 → "0", 12.345 → "12.3", 0.0123 → "0.012". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (value === 0 || Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 1) return value.toFixed(1);
  return value.toPrecision(2);
}

/** Unix seconds → "2024-05-01 12:00:00Z" (UTC, to the second). */
export function formatUnixSeconds(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds <= 0) return '-';
  return new Date(seconds * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}
