/**
 * Assertions that stay on in production. An assertion states an invariant of our own code; when
 * one fails the process is in a state we did not design for, so it throws AssertionError (not a
 * PetrelError: callers must not branch on it). Bad input from outside is never an assertion: it is
 * validated and answered with a PetrelError.
 */

export class AssertionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AssertionError';
  }
}

export function assert(condition: unknown, message = 'assertion failed'): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Marks code that cannot be reached; the argument makes switch statements exhaustive. */
export function unreachable(value?: never, message = 'unreachable code reached'): never {
  throw new AssertionError(value === undefined ? message : `${message}: ${String(value)}`);
}
