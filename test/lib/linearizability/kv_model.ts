/**
 * The KV register model: one Petrel key (hashKey + sortKey) as the client API defines it
 * (CLIENT_API.md), so a history partitioned by key is checked one register at a time.
 *
 * The state is the stored value as a string, or null when the key is absent. Values are strings
 * so that states compare with `===` and hash cheaply; a harness holding bytes encodes them once
 * (latin1 or hex) before recording. TTLs are not modelled: use values without expiry.
 *
 * - `get` reads the value (null when absent).
 * - `set` stores a value; `del` removes the key.
 * - `incr` treats an absent or empty value as 0, adds `delta`, stores the sum as its decimal string
 *   and returns it. A value that is not a decimal int64 (optional sign), or a sum outside int64,
 *   is refused with INVALID_ARGUMENT and leaves the value unchanged.
 * - `checkAndSet` is compare-and-set on the one key: it succeeds when the current value equals
 *   `expected` (a `bytesEqual` check; `expected: null` means "the key is absent", a `notExist`
 *   check), then stores `value`. It reports whether it succeeded and, if the harness knows it, the
 *   value before the operation.
 *
 * In an output, a field that is absent constrains nothing.
 */

import type { Model, StepResult } from './model.js';
import { partitionBy } from './model.js';

export type KvInput =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; value: string }
  | { op: 'del'; key: string }
  | { op: 'incr'; key: string; delta: bigint | number }
  | { op: 'checkAndSet'; key: string; expected: string | null; value: string };

export interface KvOutput {
  /** get: the value read, null when absent. */
  value?: string | null;
  /** incr: the value after the increment. */
  newValue?: bigint | number;
  /** incr: refused because the stored value is not a decimal int64, or the sum overflows. */
  error?: 'INVALID_ARGUMENT';
  /** checkAndSet: whether the check passed and the value was stored. */
  succeeded?: boolean;
  /** checkAndSet: the value before the operation (null when absent). */
  oldValue?: string | null;
}

/** The register's value, null when the key is absent. */
export type KvState = string | null;

const int64Min = -(2n ** 63n);
const int64Max = 2n ** 63n - 1n;
const decimalPattern = /^[+-]?[0-9]+$/;

/** The int64 a stored value holds for `incr`: absent and empty count as 0; undefined when it does not parse. */
export function parseInt64(value: KvState): bigint | undefined {
  if (value === null || value === '') return 0n;
  if (!decimalPattern.test(value)) return undefined;
  const parsed = BigInt(value);
  return parsed < int64Min || parsed > int64Max ? undefined : parsed;
}

function accept(newState: KvState): StepResult<KvState> {
  return { ok: true, newState };
}

function reject(state: KvState): StepResult<KvState> {
  return { ok: false, newState: state };
}

function stepKv(state: KvState, input: KvInput, output: KvOutput | undefined): StepResult<KvState> {
  switch (input.op) {
    case 'get':
      if (output?.value !== undefined && output.value !== state) return reject(state);
      return accept(state);
    case 'set':
      return accept(input.value);
    case 'del':
      return accept(null);
    case 'incr': {
      const current = parseInt64(state);
      const sum = current === undefined ? undefined : current + BigInt(input.delta);
      if (sum === undefined || sum < int64Min || sum > int64Max) {
        // Refused: the value is unchanged and the only possible answer is the error.
        if (output === undefined) return accept(state);
        return output.error === 'INVALID_ARGUMENT' && output.newValue === undefined ? accept(state) : reject(state);
      }
      if (output !== undefined) {
        if (output.error !== undefined) return reject(state);
        if (output.newValue !== undefined && BigInt(output.newValue) !== sum) return reject(state);
      }
      return accept(sum.toString());
    }
    case 'checkAndSet': {
      const succeeded = state === input.expected;
      if (output !== undefined) {
        if (output.succeeded !== undefined && output.succeeded !== succeeded) return reject(state);
        if (output.oldValue !== undefined && output.oldValue !== state) return reject(state);
      }
      return accept(succeeded ? input.value : state);
    }
  }
}

/** FNV-1a over the UTF-16 code units; null gets its own constant. */
function hashKv(state: KvState): number {
  if (state === null) return 0x5bd1e995;
  let hash = 0x811c9dc5;
  for (let i = 0; i < state.length; i++) {
    hash ^= state.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash | 0;
}

function quote(value: string | null | undefined): string {
  if (value === undefined) return '?';
  return value === null ? 'absent' : JSON.stringify(value);
}

function describeKvOperation(input: KvInput, output: KvOutput | undefined): string {
  const unknown = output === undefined ? ' → ?' : '';
  switch (input.op) {
    case 'get':
      return `get(${input.key})${output === undefined ? unknown : ` → ${quote(output.value)}`}`;
    case 'set':
      return `set(${input.key}, ${quote(input.value)})`;
    case 'del':
      return `del(${input.key})`;
    case 'incr': {
      const call = `incr(${input.key}, ${String(input.delta)})`;
      if (output === undefined) return call + unknown;
      if (output.error !== undefined) return `${call} → ${output.error}`;
      return `${call} → ${output.newValue === undefined ? '?' : String(output.newValue)}`;
    }
    case 'checkAndSet': {
      const call = `checkAndSet(${input.key}, expect ${quote(input.expected)}, set ${quote(input.value)})`;
      if (output === undefined) return call + unknown;
      const verdict = output.succeeded === undefined ? '?' : output.succeeded ? 'succeeded' : 'failed';
      return `${call} → ${verdict}${output.oldValue === undefined ? '' : `, old ${quote(output.oldValue)}`}`;
    }
  }
}

export const kvModel: Model<KvState, KvInput, KvOutput> = {
  name: 'kv-register',
  init: () => null,
  step: stepKv,
  equal: (a, b) => a === b,
  hash: hashKv,
  partition: partitionBy<KvInput, KvOutput>((input) => input.key),
  readOnly: (input) => input.op === 'get',
  describeOperation: describeKvOperation,
  describeState: (state) => quote(state),
};
