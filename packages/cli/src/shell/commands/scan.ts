/**
 * Scans and table-wide operations on the table in use: hash_scan (one hash key), full_scan,
 * count_data, copy_data and clear_data (every partition). The table-wide ones show progress on
 * stderr and stop at Ctrl-C, leaving the shell running.
 */
import { PetrelClient, type Record_, type ScanOptions, type Table } from '@petrel/client';
import type { Command } from '../command.js';
import type { ShellContext } from '../context.js';
import { ShellError } from '../errors.js';
import { type Cell, formatBytes, formatDuration, formatTable } from '../format.js';
import { type OptionSpec, type ParsedArguments, argumentAt, optionBytes, optionChoice, optionInteger, optionSwitch, optionText } from '../options.js';
import { RecordPrinter, ttlOf } from '../records.js';
import { type ValueFilterType, checkPartition, scanTable, valueMatches } from '../scan_runner.js';
import { FILTER_TYPES, RANGE_DETAILS, RANGE_OPTIONS, filterOf, rangeOptionsOf } from './data.js';

const VALUE_FILTER_TYPES = ['anywhere', 'prefix', 'postfix', 'exact'] as const;

const HASH_KEY_FILTER: readonly OptionSpec[] = [
  { short: 'h', long: 'hash_key_filter_type', kind: 'value', valueName: FILTER_TYPES.join('|'), description: 'keep hash keys holding the pattern anywhere, as prefix or as postfix' },
  { short: 'x', long: 'hash_key_filter_pattern', kind: 'value', valueName: 'str', description: 'the hash key filter pattern' },
];
const SORT_KEY_FILTER: readonly OptionSpec[] = [
  { short: 's', long: 'sort_key_filter_type', kind: 'value', valueName: FILTER_TYPES.join('|'), description: 'keep sort keys holding the pattern anywhere, as prefix or as postfix' },
  { short: 'y', long: 'sort_key_filter_pattern', kind: 'value', valueName: 'str', description: 'the sort key filter pattern' },
];
const VALUE_FILTER: readonly OptionSpec[] = [
  { short: 'v', long: 'value_filter_type', kind: 'value', valueName: VALUE_FILTER_TYPES.join('|'), description: 'keep values holding the pattern (applied in the shell)' },
  { short: 'z', long: 'value_filter_pattern', kind: 'value', valueName: 'str', description: 'the value filter pattern' },
];
const PARTITION: OptionSpec = { short: 'p', long: 'partition', kind: 'value', valueName: 'num', description: 'only this partition' };
const BATCH: OptionSpec = { short: 'b', long: 'max_batch_count', kind: 'value', valueName: 'num', description: 'records per scan batch (default 100)' };
const TIMEOUT: OptionSpec = { short: 't', long: 'timeout_ms', kind: 'value', valueName: 'num', description: 'timeout of each batch (default: the shell `timeout`)' };

const INTERRUPT_NOTE = 'Progress goes to stderr; Ctrl-C stops the command (what was done stays done) and the shell goes on.';

function valueFilterOf(args: ParsedArguments): { type: ValueFilterType; pattern: Buffer } | undefined {
  const type = optionChoice(args, 'value_filter_type', VALUE_FILTER_TYPES);
  const pattern = optionBytes(args, 'value_filter_pattern');
  if (type === undefined) {
    if (pattern !== undefined) throw new ShellError('USAGE', '--value_filter_pattern needs --value_filter_type');
    return undefined;
  }
  return { type, pattern: pattern ?? Buffer.alloc(0) };
}

/** The scan options every table-wide command shares: key filters, batch size, timeout. */
function scanOptionsOf(context: ShellContext, args: ParsedArguments, needValues: boolean, withExpireTs: boolean): ScanOptions {
  const options: ScanOptions = {
    batchSize: optionInteger(args, 'max_batch_count', 1, 100_000) ?? 100,
    timeoutMs: optionInteger(args, 'timeout_ms', 1) ?? context.timeoutMs,
    noValue: !needValues,
    returnExpireTs: withExpireTs,
  };
  const hashKeyFilter = filterOf(args, 'hash_key_filter_type', 'hash_key_filter_pattern');
  if (hashKeyFilter !== undefined) options.hashKeyFilter = hashKeyFilter;
  const sortKeyFilter = filterOf(args, 'sort_key_filter_type', 'sort_key_filter_pattern');
  if (sortKeyFilter !== undefined) options.sortKeyFilter = sortKeyFilter;
  return options;
}

function keep(record: Record_, filter: { type: ValueFilterType; pattern: Buffer } | undefined): boolean {
  return filter === undefined || valueMatches(record.value, filter.type, filter.pattern);
}

export const hashScan: Command = {
  name: 'hash_scan',
  group: 'scan',
  summary: 'scan the records of one hash key between two sort keys, in order',
  args: '<hash_key> <start_sort_key> <stop_sort_key>',
  minArgs: 3,
  options: [
    ...RANGE_OPTIONS,
    ...VALUE_FILTER,
    { short: 'o', long: 'output', kind: 'value', valueName: 'file_name', description: 'write the records to this file instead' },
    BATCH,
    { short: 'n', long: 'max_count', kind: 'value', valueName: 'num', description: 'stop after this many records' },
    TIMEOUT,
    { short: 'd', long: 'detailed', kind: 'switch', description: 'also show the TTL left of each record (-1: none)' },
    { short: 'i', long: 'no_value', kind: 'switch', description: 'sort keys only' },
  ],
  details: [...RANGE_DETAILS, 'Ctrl-C stops the scan and the shell goes on.'],
  examples: ['hash_scan user:1 "" ""', 'hash_scan user:1 a z -n 100 -d', 'hash_scan user:1 "" "" -v prefix -z "{"'],
  async run(context, args) {
    const table = await context.currentTable();
    const valueFilter = valueFilterOf(args);
    const noValue = optionSwitch(args, 'no_value');
    if (noValue && valueFilter !== undefined) throw new ShellError('USAGE', '--no_value and a value filter exclude each other');
    const maxCount = optionInteger(args, 'max_count', 1);
    const detailed = optionSwitch(args, 'detailed');
    const range = rangeOptionsOf(args);
    const options: ScanOptions & { startSortKey: Buffer; stopSortKey: Buffer } = {
      startSortKey: argumentAt(args, 1).bytes,
      stopSortKey: argumentAt(args, 2).bytes,
      batchSize: optionInteger(args, 'max_batch_count', 1, 100_000) ?? 100,
      timeoutMs: optionInteger(args, 'timeout_ms', 1) ?? context.timeoutMs,
      noValue,
      returnExpireTs: detailed,
    };
    if (range.startInclusive !== undefined) options.startInclusive = range.startInclusive;
    if (range.stopInclusive !== undefined) options.stopInclusive = range.stopInclusive;
    if (range.sortKeyFilter !== undefined) options.sortKeyFilter = range.sortKeyFilter;
    const file = optionText(args, 'output');
    const printer = new RecordPrinter(context, { value: !noValue, ttl: detailed }, file);
    const iterator = table.scan(argumentAt(args, 0).bytes, options)[Symbol.asyncIterator]();
    let complete = true;
    try {
      for (;;) {
        const step = await context.race(iterator.next());
        if (step.done === true) break;
        const record = step.value;
        if (!keep(record, valueFilter)) continue;
        printer.add({ hashKey: record.hashKey, sortKey: record.sortKey, value: record.value, ttlSeconds: ttlOf(record.expireTs) });
        if (maxCount !== undefined && printer.count >= maxCount) {
          complete = false;
          break;
        }
      }
    } finally {
      printer.flush();
      await iterator.return?.().catch(() => undefined);
    }
    if (printer.count > 0 && file === undefined) context.out('');
    context.out(`${printer.count} key-value pairs got${file === undefined ? '' : `, written to ${file}`}${complete ? '' : ' (stopped at --max_count)'}.`);
  },
};

export const fullScan: Command = {
  name: 'full_scan',
  group: 'scan',
  summary: 'scan every record of the table (or of one partition), partition by partition',
  options: [
    ...HASH_KEY_FILTER,
    ...SORT_KEY_FILTER,
    ...VALUE_FILTER,
    { short: 'o', long: 'output', kind: 'value', valueName: 'file_name', description: 'write the records to this file instead' },
    BATCH,
    { short: 'n', long: 'max_count', kind: 'value', valueName: 'num', description: 'stop after this many records' },
    TIMEOUT,
    { short: 'd', long: 'detailed', kind: 'switch', description: 'also show the TTL left (-1: none) and the partition of each record' },
    { short: 'i', long: 'no_value', kind: 'switch', description: 'keys only' },
    PARTITION,
  ],
  details: ['Records come in storage order within a partition, partitions in index order.', INTERRUPT_NOTE],
  examples: ['full_scan', 'full_scan -n 10 -d', 'full_scan -h prefix -x user: -i', 'full_scan -p 3 -o /tmp/partition3.txt'],
  async run(context, args) {
    const table = await context.currentTable();
    const valueFilter = valueFilterOf(args);
    const noValue = optionSwitch(args, 'no_value');
    if (noValue && valueFilter !== undefined) throw new ShellError('USAGE', '--no_value and a value filter exclude each other');
    const maxCount = optionInteger(args, 'max_count', 1);
    const detailed = optionSwitch(args, 'detailed');
    const file = optionText(args, 'output');
    const printer = new RecordPrinter(context, { value: !noValue, ttl: detailed, partition: detailed }, file, file === undefined ? 200 : 1000);
    const progress = context.progress('full_scan');
    const plan = { options: scanOptionsOf(context, args, !noValue, detailed), stop: () => maxCount !== undefined && printer.count >= maxCount, ...optionalPartitions(table, args) };
    let result;
    try {
      result = await scanTable(
        context,
        table,
        plan,
        (record, partition) => {
          if (!keep(record, valueFilter)) return;
          printer.add({ hashKey: record.hashKey, sortKey: record.sortKey, value: record.value, ttlSeconds: ttlOf(record.expireTs), partition });
          if (file !== undefined) progress.update(`${printer.count} records written`);
        },
        (_, state) => progress.update(`${printer.count} records, ${state.partitionsDone}/${state.partitionsTotal} partitions`),
      );
    } finally {
      printer.flush();
      progress.done();
    }
    if (printer.count > 0 && file === undefined) context.out('');
    context.out(`${printer.count} key-value pairs got${file === undefined ? '' : `, written to ${file}`}${result.complete ? '' : ' (stopped at --max_count)'}.`);
  },
};

function optionalPartitions(table: Table, args: ParsedArguments): { partitions?: readonly number[] } {
  const partitions = checkPartition(table, optionInteger(args, 'partition', 0));
  return partitions === undefined ? {} : { partitions };
}

interface PartitionCount {
  rows: number;
  hashKeys: number;
  keyBytes: number;
  valueBytes: number;
  lastHashKey: Buffer | undefined;
}

export const countData: Command = {
  name: 'count_data',
  group: 'scan',
  summary: 'count the records of the table by scanning it (per partition and in total)',
  options: [
    { short: 'c', long: 'precise', kind: 'switch', description: 'accepted for compatibility: the count is always precise (a full scan)' },
    PARTITION,
    BATCH,
    TIMEOUT,
    ...HASH_KEY_FILTER,
    ...SORT_KEY_FILTER,
    ...VALUE_FILTER,
    { short: 'd', long: 'diff_hash_key', kind: 'switch', description: 'also count distinct hash keys' },
    { short: 'a', long: 'stat_size', kind: 'switch', description: 'also sum key and value bytes (reads the values)' },
    { short: 'n', long: 'top_count', kind: 'value', valueName: 'num', description: 'with -a: list the largest records' },
    { short: 'r', long: 'run_seconds', kind: 'value', valueName: 'num', description: 'stop after this many seconds and show the partial count' },
    { short: 'j', long: 'concurrency', kind: 'value', valueName: 'num', description: 'partitions scanned at once (default 4)' },
  ],
  details: [
    'Pegasus can also estimate the count from RocksDB statistics; Petrel has no such estimate, so',
    'count_data always scans (without values unless -a or a value filter needs them).',
    INTERRUPT_NOTE,
  ],
  examples: ['count_data', 'count_data -d -a', 'count_data -h prefix -x user: -r 30', 'count_data -a -n 5'],
  async run(context, args) {
    const table = await context.currentTable();
    const valueFilter = valueFilterOf(args);
    const statSize = optionSwitch(args, 'stat_size');
    const diffHashKey = optionSwitch(args, 'diff_hash_key');
    const topCount = optionInteger(args, 'top_count', 1, 10_000);
    if (topCount !== undefined && !statSize) throw new ShellError('USAGE', '--top_count needs --stat_size (-a)');
    const runSeconds = optionInteger(args, 'run_seconds', 1);
    const deadlineMs = runSeconds === undefined ? Infinity : Date.now() + runSeconds * 1000;
    const counts = new Map<number, PartitionCount>();
    const top: { size: number; hashKey: Buffer; sortKey: Buffer }[] = [];
    let total = 0;
    const progress = context.progress('count_data');
    let timedOut = false;
    let result;
    try {
      result = await scanTable(
        context,
        table,
        {
          options: scanOptionsOf(context, args, statSize || valueFilter !== undefined, false),
          concurrency: optionInteger(args, 'concurrency', 1, 64) ?? 4,
          stop: () => (timedOut = Date.now() >= deadlineMs),
          ...optionalPartitions(table, args),
        },
        (record, partition) => {
          if (!keep(record, valueFilter)) return;
          let count = counts.get(partition);
          if (count === undefined) counts.set(partition, (count = { rows: 0, hashKeys: 0, keyBytes: 0, valueBytes: 0, lastHashKey: undefined }));
          count.rows++;
          total++;
          if (diffHashKey && (count.lastHashKey === undefined || !count.lastHashKey.equals(record.hashKey))) {
            count.hashKeys++;
            count.lastHashKey = record.hashKey;
          }
          if (statSize) {
            const keyBytes = record.hashKey.length + record.sortKey.length;
            count.keyBytes += keyBytes;
            count.valueBytes += record.value.length;
            if (topCount !== undefined) keepLargest(top, topCount, { size: keyBytes + record.value.length, hashKey: record.hashKey, sortKey: record.sortKey });
          }
          progress.update(`${total} rows counted`);
        },
        (_, state) => progress.update(`${total} rows counted, ${state.partitionsDone}/${state.partitionsTotal} partitions`),
      );
    } finally {
      progress.done();
    }
    const partitions = optionalPartitions(table, args).partitions ?? Array.from({ length: table.partitionCount }, (_, index) => index);
    const headers = ['pidx', 'rows'];
    if (diffHashKey) headers.push('hash_keys');
    if (statSize) headers.push('key_bytes', 'value_bytes', 'total_size');
    const rowOf = (label: Cell, count: Omit<PartitionCount, 'lastHashKey'>): Cell[] => {
      const row: Cell[] = [label, count.rows];
      if (diffHashKey) row.push(count.hashKeys);
      if (statSize) row.push(count.keyBytes, count.valueBytes, formatBytes(count.keyBytes + count.valueBytes));
      return row;
    };
    const empty = { rows: 0, hashKeys: 0, keyBytes: 0, valueBytes: 0 };
    const sum = { ...empty };
    const rows = partitions.map((partition) => {
      const count = counts.get(partition) ?? { ...empty, lastHashKey: undefined };
      sum.rows += count.rows;
      sum.hashKeys += count.hashKeys;
      sum.keyBytes += count.keyBytes;
      sum.valueBytes += count.valueBytes;
      return rowOf(partition, count);
    });
    rows.push(rowOf('total', sum));
    context.lines(formatTable(headers, rows, headers.map(() => 'right')));
    if (top.length > 0) {
      context.out('');
      context.lines(formatTable(['hash_key', 'sort_key', 'size'], top.map((entry) => [context.quote(entry.hashKey), context.quote(entry.sortKey), entry.size])));
    }
    context.out('');
    const partial = result.complete ? '' : timedOut ? ` (partial: stopped after --run_seconds ${runSeconds})` : ' (partial)';
    context.out(`count_data: ${sum.rows} rows in ${partitions.length} partitions of table ${table.name}${partial}, ${formatDuration(progress.elapsedMs())}.`);
  },
};

function keepLargest(top: { size: number; hashKey: Buffer; sortKey: Buffer }[], limit: number, entry: { size: number; hashKey: Buffer; sortKey: Buffer }): void {
  if (top.length >= limit && top[top.length - 1]!.size >= entry.size) return;
  let at = top.findIndex((existing) => existing.size < entry.size);
  if (at < 0) at = top.length;
  top.splice(at, 0, entry);
  if (top.length > limit) top.pop();
}

/** One record on its way to the target table of copy_data. */
type CopyItem = { hashKey: Buffer; sortKey: Buffer; value: Buffer; ttlSeconds?: number };

export const copyData: Command = {
  name: 'copy_data',
  group: 'scan',
  summary: 'copy the records of the table in use into another table (of this or another cluster)',
  options: [
    { short: 'c', long: 'target_cluster_meta', kind: 'value', valueName: 'host:port[,host:port]', description: "the target cluster's meta servers (default: this cluster)" },
    { short: 'a', long: 'target_app_name', kind: 'value', valueName: 'str', description: 'the target table (it must exist)', required: true, tableName: true },
    PARTITION,
    BATCH,
    TIMEOUT,
    ...HASH_KEY_FILTER,
    ...SORT_KEY_FILTER,
    ...VALUE_FILTER,
    { short: 'e', long: 'no_ttl', kind: 'switch', description: 'write the copies without TTL' },
    { short: 'n', long: 'no_overwrite', kind: 'switch', description: 'keep records the target already has (a check_and_set per record; exist + set, not atomic, for an empty hash key)' },
    { short: 'i', long: 'no_value', kind: 'switch', description: 'copy keys only, with empty values' },
    { short: 'j', long: 'concurrency', kind: 'value', valueName: 'num', description: 'partitions copied at once (default 4)' },
  ],
  details: [
    'Pegasus names the target cluster by name from its config file; Petrel takes the target',
    "cluster's meta addresses (-c). Records keep their remaining TTL; expired ones are skipped.",
    'Each scan batch is written with one batch write (not atomic across records).',
    INTERRUPT_NOTE,
  ],
  examples: ['copy_data -a temp_copy', 'copy_data -c 10.0.0.5:34601 -a users -h prefix -x user:', 'copy_data -a temp_copy -n -e'],
  async run(context, args) {
    const source = await context.currentTable();
    const targetName = optionText(args, 'target_app_name')!;
    const targetMeta = optionText(args, 'target_cluster_meta');
    if (targetMeta === undefined && targetName === source.name) throw new ShellError('USAGE', 'the target table is the table in use; copy to another table or cluster');
    const valueFilter = valueFilterOf(args);
    const noValue = optionSwitch(args, 'no_value');
    const noTtl = optionSwitch(args, 'no_ttl');
    const noOverwrite = optionSwitch(args, 'no_overwrite');
    const targetClient = targetMeta === undefined ? undefined : new PetrelClient({ metaServers: targetMeta.split(',').map((address) => address.trim()).filter((address) => address !== ''), timeoutMs: context.timeoutMs });
    const progress = context.progress('copy_data');
    let copied = 0;
    let skipped = 0;
    try {
      const target = targetClient === undefined ? await context.openTable(targetName) : await context.race(targetClient.openTable(targetName));
      const options = scanOptionsOf(context, args, !noValue || valueFilter !== undefined, !noTtl);
      const pending = new Map<number, CopyItem[]>();
      const batchSize = options.batchSize ?? 100;
      const write = async (items: CopyItem[]): Promise<void> => {
        if (items.length === 0) return;
        if (noOverwrite) {
          for (const item of items) {
            const options = { ...context.call, ttlSeconds: item.ttlSeconds ?? 0 };
            let written: boolean;
            if (item.hashKey.length > 0) {
              written = (await context.race(target.checkAndSet(item.hashKey, item.sortKey, 'notExist', Buffer.alloc(0), item.sortKey, item.value, options))).succeeded;
            } else {
              // check_and_set needs a hash key: for an empty one, look first, then write (not atomic).
              written = !(await context.race(target.exist(item.hashKey, item.sortKey, context.call)));
              if (written) await context.race(target.set(item.hashKey, item.sortKey, item.value, options));
            }
            if (written) copied++;
            else skipped++;
          }
        } else {
          await context.race(target.batchSet(items, context.call));
          copied += items.length;
        }
        progress.update(`${copied} rows copied`);
      };
      await scanTable(
        context,
        source,
        { options, concurrency: optionInteger(args, 'concurrency', 1, 64) ?? 4, ...optionalPartitions(source, args) },
        async (record, partition) => {
          if (!keep(record, valueFilter)) return;
          const ttlLeft = ttlOf(record.expireTs);
          if (!noTtl && ttlLeft === 0) return;
          const item: CopyItem = { hashKey: record.hashKey, sortKey: record.sortKey, value: noValue ? Buffer.alloc(0) : record.value };
          if (!noTtl && ttlLeft > 0) item.ttlSeconds = ttlLeft;
          let items = pending.get(partition);
          if (items === undefined) pending.set(partition, (items = []));
          items.push(item);
          if (items.length >= batchSize) {
            pending.set(partition, []);
            await write(items);
          }
        },
        async (partition) => {
          const items = pending.get(partition) ?? [];
          pending.delete(partition);
          await write(items);
        },
      );
    } finally {
      progress.done();
      await targetClient?.close();
    }
    context.out(`copy_data: ${copied} rows copied from ${source.name} to ${targetName}${noOverwrite ? `, ${skipped} kept (present in the target)` : ''}, ${formatDuration(progress.elapsedMs())}.`);
  },
};

export const clearData: Command = {
  name: 'clear_data',
  group: 'scan',
  summary: 'delete every record of the table in use (or those the filters keep); needs -f',
  options: [
    { short: 'f', long: 'force', kind: 'switch', description: 'really delete (without it the command refuses)' },
    PARTITION,
    BATCH,
    TIMEOUT,
    ...HASH_KEY_FILTER,
    ...SORT_KEY_FILTER,
    ...VALUE_FILTER,
    { short: 'j', long: 'concurrency', kind: 'value', valueName: 'num', description: 'partitions cleared at once (default 4)' },
  ],
  details: ['Scans the keys and deletes them a batch at a time; the table itself stays (`drop` removes it).', INTERRUPT_NOTE],
  examples: ['clear_data -f', 'clear_data -f -h prefix -x tmp:'],
  async run(context, args) {
    const table = await context.currentTable();
    if (!optionSwitch(args, 'force')) throw new ShellError('REFUSED', `clear_data deletes every matching record of table ${table.name}`, 'add -f (--force) to do it; `count_data` with the same filters shows how many records match');
    const valueFilter = valueFilterOf(args);
    const options = scanOptionsOf(context, args, valueFilter !== undefined, false);
    const batchSize = options.batchSize ?? 100;
    const pending = new Map<number, [Buffer, Buffer][]>();
    const progress = context.progress('clear_data');
    let deleted = 0;
    const remove = async (keys: [Buffer, Buffer][]): Promise<void> => {
      if (keys.length === 0) return;
      await context.race(table.batchDel(keys, context.call));
      deleted += keys.length;
      progress.update(`${deleted} rows deleted`);
    };
    try {
      await scanTable(
        context,
        table,
        { options, concurrency: optionInteger(args, 'concurrency', 1, 64) ?? 4, ...optionalPartitions(table, args) },
        async (record, partition) => {
          if (!keep(record, valueFilter)) return;
          let keys = pending.get(partition);
          if (keys === undefined) pending.set(partition, (keys = []));
          keys.push([record.hashKey, record.sortKey]);
          if (keys.length >= batchSize) {
            pending.set(partition, []);
            await remove(keys);
          }
        },
        async (partition) => {
          const keys = pending.get(partition) ?? [];
          pending.delete(partition);
          await remove(keys);
        },
      );
    } finally {
      progress.done();
    }
    context.out(`clear_data: ${deleted} rows deleted from table ${table.name}, ${formatDuration(progress.elapsedMs())}.`);
  },
};
