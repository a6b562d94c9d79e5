/**
 * PetrelError: the one error type that crosses a public API. Its `code` is stable: callers branch
 * on it, and a code is never reused for another meaning. The client codes come from
 * CLIENT_API.md; the storage codes (NOT_FOUND, ALREADY_EXISTS, NO_SPACE, CLOSED, ...) are used by
 * the Vfs, the log and the engine.
 */

export const ERROR_CODES = [
  // Client-visible codes (CLIENT_API.md).
  'TIMEOUT',
  'INVALID_ARGUMENT',
  'INVALID_HASH_KEY',
  'INVALID_VALUE',
  'INVALID_SPLIT_COUNT',
  'INVALID_APP_NAME',
  'INVALID_PAR_COUNT',
  'INVALID_REP_COUNT',
  'APP_NOT_EXIST',
  'APP_EXIST',
  'APP_BUSY',
  'NOT_ENOUGH_MEMBER',
  'SERVER_CHANGED',
  'NETWORK_FAILURE',
  'CORRUPTION',
  'IO_ERROR',
  'VALUE_TOO_LARGE',
  'SERVER_INTERNAL_ERROR',
  // Storage codes.
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'NO_SPACE',
  'CLOSED',
  'UNSUPPORTED_VERSION',
  // Meta high availability: this meta server is not (or no longer) the leader.
  'NOT_LEADER',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const knownCodes: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: string): value is ErrorCode {
  return knownCodes.has(value);
}

export interface PetrelErrorDetails {
  /** The file the error is about, for storage errors. */
  path?: string;
  /** Byte offset inside `path`, for corruption. */
  offset?: number;
  /** The underlying error, when this one wraps another. */
  cause?: unknown;
}

export class PetrelError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  readonly offset: number | undefined;

  constructor(code: ErrorCode, message: string, details: PetrelErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'PetrelError';
    this.code = code;
    this.path = details.path;
    this.offset = details.offset;
  }
}

export function isPetrelError(error: unknown, code?: ErrorCode): error is PetrelError {
  return error instanceof PetrelError && (code === undefined || error.code === code);
}
