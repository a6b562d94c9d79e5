/**
 * Operations beyond data: the meta's function level, a table's manual compaction and its replica
 * count (issue 8's table operations; see docs/operations.md).
 */
import type { Command } from '../command.js';
import type { ShellContext } from '../context.js';
import { ShellError } from '../errors.js';
import { formatPairs } from '../format.js';
import { argumentAt, parseInteger } from '../options.js';
import { tokenText } from '../tokenizer.js';

const LEVELS = ['stopped', 'blind', 'freezed', 'steady', 'lively'];

async function currentTableName(context: ShellContext): Promise<string> {
  return (await context.currentTable()).name;
}

export const getMetaLevel: Command = {
  name: 'get_meta_level',
  group: 'cluster',
  summary: "show the meta server's function level, and the level in force",
  details: ['The level in force is freezed while fewer than 65% of the known replica servers are alive, whatever the level set.'],
  examples: ['get_meta_level'],
  async run(context) {
    const { level, effective } = await context.race(context.client.admin.getMetaLevel(context.call));
    context.lines(formatPairs([['meta_level', level], ['in_force', effective]]));
  },
};

export const setMetaLevel: Command = {
  name: 'set_meta_level',
  group: 'cluster',
  summary: "set the meta server's function level: stopped, blind, freezed, steady or lively",
  args: '<stopped|blind|freezed|steady|lively>',
  minArgs: 1,
  details: [
    'lively: cures partitions and balances replicas (the default); steady: cures, no balancing;',
    'freezed: no cure, no balancing (primaries may still drop failed secondaries); blind: no',
    'configuration change at all; stopped: as blind, and table changes are refused.',
  ],
  examples: ['set_meta_level steady', 'set_meta_level lively'],
  async run(context, args) {
    const level = tokenText(argumentAt(args, 0));
    if (!LEVELS.includes(level)) throw new ShellError('USAGE', `the level is one of ${LEVELS.join(', ')}`);
    const result = await context.race(context.client.admin.setMetaLevel(level, context.call));
    context.out(`meta level set to ${result.level} (in force: ${result.effective})`);
  },
};

export const manualCompact: Command = {
  name: 'manual_compact',
  group: 'table',
  summary: 'compact all the data of the table in use, once, on every replica',
  details: ['Sets the env manual_compact.once.trigger_time to now; each replica compacts once when it sees a trigger time it has not acted on.'],
  examples: ['manual_compact'],
  async run(context) {
    const name = await currentTableName(context);
    const now = String(Math.floor(Date.now() / 1000));
    await context.race(context.client.admin.setTableEnvs(name, { 'manual_compact.once.trigger_time': now }, context.call));
    context.out(`manual compaction of table ${name} triggered (trigger time ${now}); the replicas compact in the background`);
  },
};

export const setReplicaCount: Command = {
  name: 'set_replica_count',
  group: 'table',
  summary: 'change the replica count of the table in use',
  args: '<count>',
  minArgs: 1,
  details: ['Each partition gains a learner or loses a secondary, one configuration change at a time; `app -d` shows the progress.'],
  examples: ['set_replica_count 2', 'set_replica_count 3'],
  async run(context, args) {
    const count = parseInteger(tokenText(argumentAt(args, 0)), 'count', 1, 7);
    const name = await currentTableName(context);
    await context.race(context.client.admin.setReplicaCount(name, count, context.call));
    context.out(`table ${name} now wants ${count} replicas per partition`);
  },
};
