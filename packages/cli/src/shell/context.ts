/**
 * The shell's session state, shared by every command: the client, the table in use (`use`), the
 * per-call timeout (`timeout`), how bytes print (`escape_all`), where output goes, the status
 * endpoints for server_info/server_stat/app_stat, and the interruption of the running command
 * (Ctrl-C aborts `signal`; long commands check it between batches and race their calls with it).
 */
import type { PetrelClient, Table, TableInfo } from '@petrel/client';
import { isPetrelError } from '@petrel/base';
import { escapeBytes, quoteBytes } from './escape.js';
import { ShellError } from './errors.js';
import { formatDuration } from './format.js';

export interface ShellOutput {
  /** One or more lines of results (stdout). */
  out(text: string): void;
  /** Errors and notes (stderr). */
  err(text: string): void;
  /** Progress of long commands (stderr); rewritten in place on a terminal. */
  progress(text: string): void;
  /** Ends the progress line (a newline on a terminal, nothing otherwise). */
  progressDone(): void;
  /** Whether progress is shown in place (a terminal) or as lines (throttled harder). */
  readonly progressInPlace: boolean;
}

export interface ShellSettings {
  metaServers: string[];
  timeoutMs: number;
  /** Status endpoints (host:port of /metrics and /health) given with --http. */
  httpEndpoints: string[];
  /** When set, a server's status port is its port plus this (onebox --http-ports uses 1000). */
  httpPortOffset: number | undefined;
}

export class ShellContext {
  timeoutMs: number;
  escapeAll = false;
  tableName: string | null = null;
  /** Set by `exit`: the runner stops after the current command. */
  exitRequested = false;
  private readonly tables = new Map<string, Table>();
  private tableNamesCache: { names: string[]; atMs: number } = { names: [], atMs: 0 };
  private controller = new AbortController();

  constructor(
    readonly client: PetrelClient,
    readonly settings: ShellSettings,
    readonly output: ShellOutput,
  ) {
    this.timeoutMs = settings.timeoutMs;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** A fresh signal for the next command. */
  beginCommand(): void {
    this.controller = new AbortController();
  }

  /** Ctrl-C: stops the running command. */
  interrupt(): void {
    this.controller.abort();
  }

  /** Throws INTERRUPTED when Ctrl-C was pressed. */
  checkInterrupted(): void {
    if (this.signal.aborted) throw new ShellError('INTERRUPTED', 'interrupted');
  }

  /** Waits for `promise`, or throws INTERRUPTED as soon as Ctrl-C is pressed. */
  async race<T>(promise: Promise<T>): Promise<T> {
    this.checkInterrupted();
    const signal = this.signal;
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new ShellError('INTERRUPTED', 'interrupted'));
      signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([promise, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort!);
      promise.catch(() => undefined);
    }
  }

  /** Per-call options: the session's timeout. */
  get call(): { timeoutMs: number } {
    return { timeoutMs: this.timeoutMs };
  }

  // ---- tables ---------------------------------------------------------------------------------

  async openTable(name: string): Promise<Table> {
    const cached = this.tables.get(name);
    if (cached !== undefined) return cached;
    const table = await this.race(this.client.openTable(name, { timeoutMs: this.timeoutMs }));
    this.tables.set(name, table);
    return table;
  }

  /** The table in use; NO_TABLE when `use` was not run. */
  async currentTable(): Promise<Table> {
    if (this.tableName === null) throw new ShellError('NO_TABLE', 'no table is in use');
    try {
      return await this.openTable(this.tableName);
    } catch (error) {
      if (isPetrelError(error, 'APP_NOT_EXIST')) this.forgetTable(this.tableName);
      throw error;
    }
  }

  /** Drops a cached Table (after drop, recall, or APP_NOT_EXIST) so the next use opens it again. */
  forgetTable(name: string): void {
    this.tables.delete(name);
    this.tableNamesCache.atMs = 0;
  }

  /** A data command failed: forget the table when the cluster says it is gone. */
  noteFailure(error: unknown): void {
    if (isPetrelError(error, 'APP_NOT_EXIST') && this.tableName !== null) this.forgetTable(this.tableName);
  }

  rememberTableNames(tables: readonly TableInfo[]): void {
    this.tableNamesCache = { names: tables.filter((table) => table.status === 'available').map((table) => table.name), atMs: Date.now() };
  }

  /** Table names for completion: cached for 5 s, fetched with a short timeout, [] when unreachable. */
  async tableNames(): Promise<string[]> {
    if (Date.now() - this.tableNamesCache.atMs < 5000) return this.tableNamesCache.names;
    try {
      this.rememberTableNames(await this.client.admin.listTables({ timeoutMs: Math.min(this.timeoutMs, 1000) }));
    } catch {
      this.tableNamesCache.atMs = Date.now();
    }
    return this.tableNamesCache.names;
  }

  // ---- output ---------------------------------------------------------------------------------

  out(text: string): void {
    this.output.out(text);
  }

  lines(lines: readonly string[]): void {
    if (lines.length > 0) this.output.out(lines.join('\n'));
  }

  note(text: string): void {
    this.output.err(text);
  }

  /** Keys and values as the session prints them: quoted and escaped. */
  quote(bytes: Uint8Array): string {
    return quoteBytes(bytes, this.escapeAll);
  }

  escape(bytes: Uint8Array): string {
    return escapeBytes(bytes, this.escapeAll);
  }

  /** A progress reporter for a long command, throttled; `done()` ends its line. */
  progress(name: string): Progress {
    return new Progress(name, this.output);
  }
}

export class Progress {
  private readonly startMs = Date.now();
  /** Quick commands show no progress: the first update waits as long as later ones. */
  private lastMs = this.startMs;
  private shown = false;

  constructor(
    private readonly name: string,
    private readonly output: ShellOutput,
  ) {}

  elapsedMs(): number {
    return Date.now() - this.startMs;
  }

  /** Shows `text` unless the last update was less than 200 ms (terminal) or 1 s (lines) ago. */
  update(text: string, force = false): void {
    const now = Date.now();
    if (!force && now - this.lastMs < (this.output.progressInPlace ? 200 : 1000)) return;
    this.lastMs = now;
    this.shown = true;
    this.output.progress(`${this.name}: ${text} (${formatDuration(now - this.startMs)})`);
  }

  done(): void {
    if (this.shown) this.output.progressDone();
  }
}
