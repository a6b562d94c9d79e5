/**
 * The results of meta requests, checked field by field: the value codec is self-describing, so
 * a result of the wrong shape is caught here (CORRUPTION, naming the field) rather than deep in
 * the caller. Shapes: doc/meta_requests.md.
 */
import { PetrelError } from '@petrel/base';
import type { PlainValue } from '@petrel/protocol';
import type { NodeInfo, PartitionConfig, TableInfo } from './types.js';

type Fields = Record<string, PlainValue | undefined>;

function bad(what: string): never {
  throw new PetrelError('CORRUPTION', `meta result: ${what}`);
}

function record(value: PlainValue | undefined, what: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) bad(`${what} is not an object`);
  return value as Fields;
}

function list(value: PlainValue | undefined, what: string): readonly PlainValue[] {
  if (!Array.isArray(value)) bad(`${what} is not a list`);
  return value as readonly PlainValue[];
}

function integer(value: PlainValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) bad(`${what} is not an integer`);
  return value;
}

function text(value: PlainValue | undefined, what: string): string {
  if (typeof value !== 'string') bad(`${what} is not a string`);
  return value;
}

function strings(value: PlainValue | undefined, what: string): Record<string, string> {
  if (value === undefined || value === null) return {};
  const fields = record(value, what);
  const out: Record<string, string> = {};
  for (const [key, entry] of Object.entries(fields)) if (entry !== undefined) out[key] = text(entry, `${what}.${key}`);
  return out;
}

export function tableInfoOf(value: PlainValue | undefined, what = 'table'): TableInfo {
  const fields = record(value, what);
  const info: TableInfo = {
    id: integer(fields.id, `${what}.id`),
    name: text(fields.name, `${what}.name`),
    partitionCount: integer(fields.partitionCount, `${what}.partitionCount`),
    replicaCount: integer(fields.replicaCount, `${what}.replicaCount`),
    status: text(fields.status, `${what}.status`),
    envs: strings(fields.envs, `${what}.envs`),
  };
  if (fields.dropTime !== undefined && fields.dropTime !== null) info.dropTime = integer(fields.dropTime, `${what}.dropTime`);
  if (fields.reserveUntil !== undefined && fields.reserveUntil !== null) info.reserveUntil = integer(fields.reserveUntil, `${what}.reserveUntil`);
  return info;
}

export function tableListOf(value: PlainValue | undefined): TableInfo[] {
  return list(value, 'tables').map((entry, index) => tableInfoOf(entry, `tables[${index}]`));
}

export function partitionOf(value: PlainValue | undefined, what: string): PartitionConfig {
  const fields = record(value, what);
  const primary = fields.primary;
  if (primary !== null && primary !== undefined && typeof primary !== 'string') bad(`${what}.primary is not an address`);
  return {
    index: integer(fields.index, `${what}.index`),
    ballot: integer(fields.ballot, `${what}.ballot`),
    primary: primary === undefined || primary === '' ? null : primary,
    secondaries: list(fields.secondaries ?? [], `${what}.secondaries`).map((entry, index) => text(entry, `${what}.secondaries[${index}]`)),
  };
}

export interface Routing {
  table: TableInfo;
  partitions: PartitionConfig[];
}

/**
 * `{ table, partitions }` (the answer to queryRouting and tableInfo). A tableInfo answer that
 * spreads the table's fields next to `partitions` is read as well.
 */
export function routingOf(value: PlainValue | undefined): Routing {
  const fields = record(value, 'routing');
  const table = tableInfoOf(fields.table ?? fields, 'routing.table');
  const partitions = list(fields.partitions, 'routing.partitions').map((entry, index) => partitionOf(entry, `routing.partitions[${index}]`));
  if (partitions.length !== table.partitionCount) bad(`${partitions.length} partitions listed for a table of ${table.partitionCount}`);
  partitions.sort((x, y) => x.index - y.index);
  partitions.forEach((partition, index) => {
    if (partition.index !== index) bad(`partition indexes are not 0..${table.partitionCount - 1}`);
  });
  return { table, partitions };
}

export function nodeListOf(value: PlainValue | undefined): NodeInfo[] {
  return list(value, 'nodes').map((entry, index) => {
    const fields = record(entry, `nodes[${index}]`);
    if (typeof fields.alive !== 'boolean') bad(`nodes[${index}].alive is not a boolean`);
    return {
      address: text(fields.address, `nodes[${index}].address`),
      alive: fields.alive,
      primaries: integer(fields.primaries, `nodes[${index}].primaries`),
      secondaries: integer(fields.secondaries, `nodes[${index}].secondaries`),
    };
  });
}

/** Plain data as the API returns it (byte strings become Buffers). */
export function plainRecordOf(value: PlainValue | undefined): Record<string, unknown> {
  return record(value, 'cluster info') as Record<string, unknown>;
}
