/**
 * Saved histories: a history as a JSON document, so a failing chaos run or simulator seed leaves
 * something a person (or `checkHistory`) can load again. The layout is specified in
 * doc/history_format.md:
 *
 *   {"format":"petrel-linearizability-history","version":1,"model":"kv-register","note":"…",
 *    "operations":[
 *   {"id":0,"clientId":1,"callTime":0,"returnTime":12,"input":{…},"output":{…}},
 *   {"id":1,"clientId":2,"callTime":3,"returnTime":null,"input":{…}}
 *   ]}
 *
 * One operation per line keeps diffs and `grep` useful. `returnTime: null` marks an operation
 * that maybe happened (JSON has no Infinity). Values JSON cannot hold are tagged: a bigint as
 * {"$bigint":"-12"}, bytes as {"$bytes":"<base64>"}; an object whose only key is one of those
 * tags is read back as that value.
 *
 * Histories are saved off the hot path (after a failure), so JSON is fine here.
 */

import type { Vfs } from '@petrel/base';
import { PetrelError, isPetrelError } from '@petrel/base';
import type { Operation } from './history.js';
import { validateHistory } from './history.js';

export const historyFormatName = 'petrel-linearizability-history';
export const historyFormatVersion = 1;

export interface SavedHistory<I, O> {
  /** The model the history is meant for (`Model.name`). */
  model?: string;
  /** Free text: the seed, the command that produced it, what failed. */
  note?: string;
  operations: Operation<I, O>[];
}

function encodeValue(this: unknown, key: string, value: unknown): unknown {
  // `this[key]` is the value before toJSON, so a Buffer is still a Uint8Array here.
  const original = (this as Record<string, unknown>)[key];
  if (typeof original === 'bigint') return { $bigint: original.toString() };
  if (original instanceof Uint8Array) return { $bytes: Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('base64') };
  return value;
}

function decodeValue(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1) {
      const tagged = value as { $bigint?: unknown; $bytes?: unknown };
      if (typeof tagged.$bigint === 'string') return BigInt(tagged.$bigint);
      if (typeof tagged.$bytes === 'string') return Buffer.from(tagged.$bytes, 'base64');
    }
  }
  return value;
}

export function historyToJson<I, O>(operations: readonly Operation<I, O>[], info: { model?: string; note?: string } = {}): string {
  validateHistory(operations);
  const header: Record<string, unknown> = { format: historyFormatName, version: historyFormatVersion };
  if (info.model !== undefined) header.model = info.model;
  if (info.note !== undefined) header.note = info.note;
  const lines = operations.map((operation, index) => {
    const record: Record<string, unknown> = {
      id: operation.id ?? index,
      clientId: operation.clientId,
      callTime: operation.callTime,
      returnTime: operation.returnTime === Infinity ? null : operation.returnTime,
      input: operation.input,
    };
    if (operation.output !== undefined) record.output = operation.output;
    return JSON.stringify(record, encodeValue);
  });
  const opening = JSON.stringify(header).slice(0, -1);
  return `${opening},"operations":[\n${lines.join(',\n')}\n]}\n`;
}

/** Parses a saved history. Throws CORRUPTION when it is not one, UNSUPPORTED_VERSION when it is newer. */
export function historyFromJson<I, O>(text: string): SavedHistory<I, O> {
  let document: unknown;
  try {
    document = JSON.parse(text, decodeValue);
  } catch (error) {
    throw new PetrelError('CORRUPTION', `saved history is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const root = document as { format?: unknown; version?: unknown; model?: unknown; note?: unknown; operations?: unknown };
  if (root === null || typeof root !== 'object' || root.format !== historyFormatName) {
    throw new PetrelError('CORRUPTION', `not a saved history (format is not "${historyFormatName}")`);
  }
  if (typeof root.version !== 'number' || root.version > historyFormatVersion) {
    throw new PetrelError('UNSUPPORTED_VERSION', `saved history version ${String(root.version)}; this checker reads up to ${historyFormatVersion}`);
  }
  if (!Array.isArray(root.operations)) throw new PetrelError('CORRUPTION', 'saved history has no operations array');
  const operations: Operation<I, O>[] = root.operations.map((raw: unknown, index: number) => {
    const record = raw as { id?: unknown; clientId?: unknown; callTime?: unknown; returnTime?: unknown; input?: unknown; output?: unknown };
    const valid = record !== null && typeof record === 'object' &&
      typeof record.id === 'number' &&
      (typeof record.clientId === 'number' || typeof record.clientId === 'string') &&
      typeof record.callTime === 'number' &&
      (typeof record.returnTime === 'number' || record.returnTime === null) &&
      'input' in record;
    if (!valid) throw new PetrelError('CORRUPTION', `saved history: operation at position ${index} is malformed`);
    const operation: Operation<I, O> = {
      id: record.id as number,
      clientId: record.clientId as number | string,
      input: record.input as I,
      callTime: record.callTime as number,
      returnTime: record.returnTime === null ? Infinity : (record.returnTime as number),
    };
    if (record.output !== undefined) operation.output = record.output as O;
    return operation;
  });
  try {
    validateHistory(operations);
  } catch (error) {
    if (isPetrelError(error, 'INVALID_ARGUMENT')) throw new PetrelError('CORRUPTION', `saved history: ${error.message}`, { cause: error });
    throw error;
  }
  const saved: SavedHistory<I, O> = { operations };
  if (typeof root.model === 'string') saved.model = root.model;
  if (typeof root.note === 'string') saved.note = root.note;
  return saved;
}

/** Writes a history to `path` (synced; written under a temporary name, then renamed into place). */
export async function saveHistory<I, O>(
  vfs: Vfs,
  path: string,
  operations: readonly Operation<I, O>[],
  info: { model?: string; note?: string } = {},
): Promise<void> {
  const temporaryPath = `${path}.tmp`;
  await vfs.writeFile(temporaryPath, Buffer.from(historyToJson(operations, info), 'utf8'), { sync: true });
  await vfs.rename(temporaryPath, path);
}

export async function loadHistory<I, O>(vfs: Vfs, path: string): Promise<SavedHistory<I, O>> {
  return historyFromJson<I, O>((await vfs.readFile(path)).toString('utf8'));
}
