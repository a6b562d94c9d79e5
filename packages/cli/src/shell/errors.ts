/**
 * How the shell reports a failure: the error's code, its message, and what to do about it. Errors
 * from the cluster are PetrelErrors (their code comes from CLIENT_API.md); errors of the shell
 * itself (a bad command line, no table in use, an interrupted command) are ShellErrors with codes
 * of their own.
 */
import { isPetrelError } from '@petrel/base';

export type ShellErrorCode = 'USAGE' | 'SYNTAX' | 'UNKNOWN_COMMAND' | 'NO_TABLE' | 'INTERRUPTED' | 'NOT_AVAILABLE' | 'REFUSED' | 'HTTP_ERROR';

export class ShellError extends Error {
  constructor(
    readonly code: ShellErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'ShellError';
  }
}

/** What an operator can do about each code. */
export const HINTS: Readonly<Record<string, string>> = {
  APP_NOT_EXIST: 'no such table; `ls` lists tables (`ls -a` with dropped ones, which `recall <id>` brings back)',
  APP_EXIST: 'the table exists already; `ls` lists tables, `drop <name>` removes one',
  APP_BUSY: 'the table or server refused the load (throttling, or a full client queue); retry later or slower, `get_app_envs` shows throttling envs',
  TIMEOUT: 'the cluster did not answer in time; `timeout <ms>` raises the per-call timeout, `nodes` shows which replica servers are alive',
  NETWORK_FAILURE: 'a server could not be reached; check --meta and that the servers run (`cluster_info`, `nodes`)',
  NOT_ENOUGH_MEMBER: 'a partition has too few live replicas; `app <name> -d` shows the partitions, `nodes` the dead servers',
  INVALID_ARGUMENT: 'an argument was refused; `help <command>` shows the usage',
  INVALID_HASH_KEY: 'this operation needs a non-empty hash key shorter than 65535 bytes',
  INVALID_VALUE: 'give at least one sort key (and a value for each)',
  INVALID_SPLIT_COUNT: 'the split count must be a positive integer',
  INVALID_APP_NAME: 'table names are 1 to 256 characters of [0-9a-zA-Z._:]',
  INVALID_PAR_COUNT: 'the partition count (-p) must be a positive integer',
  INVALID_REP_COUNT: 'the replica count (-r) must be a positive integer, at most the number of live replica servers (`nodes`)',
  VALUE_TOO_LARGE: 'one write must stay under 1 MiB; split the value or the multi_set',
  SERVER_CHANGED: 'the partition moved while the call ran; run the command again',
  SERVER_INTERNAL_ERROR: "a server failed to handle the request; see that server's log",
  CORRUPTION: "a server found corrupt data; see that server's log",
  IO_ERROR: "a server's disk failed; see that server's log",
  NOT_LEADER: 'the meta server asked is not the leader; give every meta address to --meta',
  CLOSED: 'the shell is closing',
  USAGE: '`help <command>` shows the usage',
  SYNTAX: 'quote words with blanks or `;` in "double" or \'single\' quotes; \\xNN writes one byte',
  UNKNOWN_COMMAND: '`help` lists the commands',
  NO_TABLE: '`use <table>` picks the table; `ls` lists tables',
  INTERRUPTED: 'the command was stopped by Ctrl-C; what it did until then stays done',
  NOT_AVAILABLE: '`help <command>` says what this command can show',
  REFUSED: '`help <command>` shows the flags',
  HTTP_ERROR: 'check the status endpoint (--http / -l host:port) and that the server runs with --http-port',
};

export interface ErrorReport {
  code: string;
  message: string;
  hint: string | undefined;
}

export function reportOf(error: unknown): ErrorReport {
  if (error instanceof ShellError) return { code: error.code, message: error.message, hint: error.hint ?? HINTS[error.code] };
  if (isPetrelError(error)) return { code: error.code, message: error.message, hint: HINTS[error.code] };
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'ERROR';
  return { code, message: error instanceof Error ? error.message : String(error), hint: HINTS[code] };
}

/** `ERROR: CODE: message` and, on the next line, the hint. */
export function formatError(error: unknown): string {
  const report = reportOf(error);
  return report.hint === undefined ? `ERROR: ${report.code}: ${report.message}` : `ERROR: ${report.code}: ${report.message}\n  hint: ${report.hint}`;
}
