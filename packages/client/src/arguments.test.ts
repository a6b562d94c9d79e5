/**
 * Bad arguments are refused by the client itself, before anything is sent: each case names the
 * code of CLIENT_API.md it must get, and the fake cluster must have seen no request at all.
 */
import { MAX_HASH_KEY_BYTES } from '@petrel/protocol';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PetrelClient } from './client.js';
import { codeOf, withRig } from './test_support.js';
import type { CheckType, Filter, Table } from './types.js';

// Values of the wrong type, as JavaScript callers might pass them.
const wrong = <T>(value: unknown): T => value as T;

function cases(table: Table): [string, string, () => unknown][] {
  const longKey = Buffer.alloc(MAX_HASH_KEY_BYTES + 1);
  const big = Buffer.alloc(1 << 20);
  return [
    // Bytes of the wrong type.
    ['INVALID_ARGUMENT', 'a number as hash key', () => table.get(wrong(42), 's')],
    ['INVALID_ARGUMENT', 'null sort key', () => table.set('h', wrong(null), 'v')],
    ['INVALID_ARGUMENT', 'an object as value', () => table.set('h', 's', wrong({}))],
    ['INVALID_ARGUMENT', 'an array as sort key', () => table.del('h', wrong(['s']))],
    ['INVALID_ARGUMENT', 'undefined check operand', () => table.checkAndSet('h', 'k', 'noCheck', wrong(undefined), 'k', 'v')],
    // Options.
    ['INVALID_ARGUMENT', 'timeoutMs 0', () => table.get('h', 's', { timeoutMs: 0 })],
    ['INVALID_ARGUMENT', 'timeoutMs negative', () => table.get('h', 's', { timeoutMs: -5 })],
    ['INVALID_ARGUMENT', 'timeoutMs NaN', () => table.set('h', 's', 'v', { timeoutMs: Number.NaN })],
    ['INVALID_ARGUMENT', 'timeoutMs Infinity', () => table.multiGet('h', [], { timeoutMs: Number.POSITIVE_INFINITY })],
    ['INVALID_ARGUMENT', 'timeoutMs a string', () => table.exist('h', 's', { timeoutMs: wrong('100') })],
    ['INVALID_ARGUMENT', 'options not an object', () => table.get('h', 's', wrong(5))],
    ['INVALID_ARGUMENT', 'a negative TTL', () => table.set('h', 's', 'v', { ttlSeconds: -1 })],
    ['INVALID_ARGUMENT', 'a fractional TTL', () => table.multiSet('h', { a: 'b' }, { ttlSeconds: 0.5 })],
    ['INVALID_ARGUMENT', 'a TTL past 2106', () => table.set('h', 's', 'v', { ttlSeconds: 2 ** 33 })],
    ['INVALID_ARGUMENT', 'incr TTL below -1', () => table.incr('h', 's', 1, { ttlSeconds: -2 })],
    ['INVALID_ARGUMENT', 'a fractional increment', () => table.incr('h', 's', 0.5)],
    ['INVALID_ARGUMENT', 'an increment past int64', () => table.incr('h', 's', -(1n << 63n) - 1n)],
    ['INVALID_ARGUMENT', 'an increment as a string', () => table.incr('h', 's', wrong('1'))],
    ['INVALID_ARGUMENT', 'maxCount fractional', () => table.multiGet('h', [], { maxCount: 1.5 })],
    ['INVALID_ARGUMENT', 'maxBytes a string', () => table.multiGetRange('h', 'a', 'b', { maxBytes: wrong('10') })],
    ['INVALID_ARGUMENT', 'reverse not a boolean', () => table.multiGetRange('h', 'a', 'b', { reverse: wrong(1) })],
    ['INVALID_ARGUMENT', 'noValue not a boolean', () => table.multiGet('h', [], { noValue: wrong('yes') })],
    ['INVALID_ARGUMENT', 'an unknown filter type', () => table.multiGetRange('h', 'a', 'b', { sortKeyFilter: wrong<Filter>({ type: 'regex', pattern: 'a' }) })],
    ['INVALID_ARGUMENT', 'a filter without pattern', () => table.delRange('h', 'a', 'b', { sortKeyFilter: wrong<Filter>({ type: 'prefix' }) })],
    ['INVALID_ARGUMENT', 'sortKeys not an array', () => table.multiGet('h', wrong('abc'))],
    ['INVALID_ARGUMENT', 'a bad sort key in the list', () => table.multiDel('h', [wrong(1)])],
    ['INVALID_ARGUMENT', 'multiSet entries not pairs', () => table.multiSet('h', wrong([['a']]))],
    ['INVALID_ARGUMENT', 'multiSet entries a string', () => table.multiSet('h', wrong('ab'))],
    ['INVALID_ARGUMENT', 'multiSet entries with a bad value', () => table.multiSet('h', wrong({ a: 5 }))],
    ['INVALID_ARGUMENT', 'an unknown check type', () => table.checkAndSet('h', 'k', wrong<CheckType>('valueIsPrime'), '', 'k', 'v')],
    ['INVALID_ARGUMENT', 'checkAndMutate without mutations', () => table.checkAndMutate('h', 'k', 'noCheck', '', [])],
    ['INVALID_ARGUMENT', 'checkAndMutate with an unknown operation', () => table.checkAndMutate('h', 'k', 'noCheck', '', [wrong({ op: 'put', sortKey: 'a' })])],
    ['INVALID_ARGUMENT', 'checkAndMutate mutations not an array', () => table.checkAndMutate('h', 'k', 'noCheck', '', wrong('set'))],
    ['INVALID_ARGUMENT', 'returnCheckValue not a boolean', () => table.checkAndSet('h', 'k', 'noCheck', '', 'k', 'v', { returnCheckValue: wrong(1) })],
    ['INVALID_ARGUMENT', 'batchGet keys not pairs', () => table.batchGet([wrong(['h'])])],
    ['INVALID_ARGUMENT', 'batchGet keys not an array', () => table.batchGet(wrong('h'))],
    ['INVALID_ARGUMENT', 'batchSet item without value', () => table.batchSet([wrong({ hashKey: 'h', sortKey: 's' })])],
    ['INVALID_ARGUMENT', 'batchSet item with a negative TTL', () => table.batchSet([{ hashKey: 'h', sortKey: 's', value: 'v', ttlSeconds: -3 }])],
    ['INVALID_ARGUMENT', 'a scan batchSize fractional', () => table.scan('h', { batchSize: 2.5 })],
    ['INVALID_ARGUMENT', 'a scan with a bad hash-key filter', () => table.unorderedScanners(2, { hashKeyFilter: wrong<Filter>({ type: 'glob', pattern: '*' }) })],
    // Hash keys.
    ['INVALID_HASH_KEY', 'a 65535-byte hash key (get)', () => table.get(longKey, 's')],
    ['INVALID_HASH_KEY', 'a 65535-byte hash key (batchDel)', () => table.batchDel([[longKey, 's']])],
    ['INVALID_HASH_KEY', 'a 65535-byte hash key (scan)', () => table.scan(longKey)],
    ['INVALID_HASH_KEY', 'an empty hash key (multiGetSortKeys)', () => table.multiGetSortKeys('')],
    ['INVALID_HASH_KEY', 'an empty hash key (compareExchange)', () => table.compareExchange('', 's', 'a', 'b')],
    ['INVALID_HASH_KEY', 'an empty hash key (scan)', () => table.scan('')],
    // Values.
    ['INVALID_VALUE', 'multiSet without entries', () => table.multiSet('h', new Map())],
    ['INVALID_VALUE', 'multiDel without sort keys', () => table.multiDel('h', [])],
    ['VALUE_TOO_LARGE', 'a 1 MiB value', () => table.set('h', 's', big)],
    ['VALUE_TOO_LARGE', 'a 1 MiB value in batchSet', () => table.batchSet([{ hashKey: 'h', sortKey: 's', value: big }])],
    ['VALUE_TOO_LARGE', 'a multiSet over 1 MiB in all', () => table.multiSet('h', [['a', big.subarray(0, 600_000)], ['b', big.subarray(0, 600_000)]])],
    ['VALUE_TOO_LARGE', 'a checkAndSet over 1 MiB', () => table.checkAndSet('h', 'k', 'noCheck', big.subarray(0, 600_000), 'k', big.subarray(0, 600_000))],
    ['VALUE_TOO_LARGE', 'a checkAndMutate over 1 MiB', () => table.checkAndMutate('h', 'k', 'noCheck', '', [{ op: 'set', sortKey: 'a', value: big }])],
    ['VALUE_TOO_LARGE', 'a multiDel over 1 MiB of sort keys', () => table.multiDel('h', [big])],
    ['VALUE_TOO_LARGE', 'compareExchange with a 1 MiB desired value', () => table.compareExchange('h', 's', 'a', big)],
    // Split counts.
    ['INVALID_SPLIT_COUNT', 'unorderedScanners(0)', () => table.unorderedScanners(0)],
    ['INVALID_SPLIT_COUNT', 'unorderedScanners(1.5)', () => table.unorderedScanners(1.5)],
  ];
}

test('every bad argument gets its code and nothing reaches a server', () =>
  withRig(async ({ cluster, table }) => {
    cluster.clearLog();
    for (const [code, what, call] of cases(table)) assert.is(await codeOf(call), code, what);
    assert.equal(cluster.log, [], 'no request was sent');
  }));

test('unorderedScanners and scan check their arguments synchronously (they throw)', () =>
  withRig(async ({ table }) => {
    assert.throws(() => table.unorderedScanners(0), /maxSplitCount/);
    assert.throws(() => table.scan(''), /hash key/);
    assert.throws(() => table.scan('h', { sortKeyFilter: wrong<Filter>({ type: 'x', pattern: '' }) }), /sortKeyFilter/);
  }));

test('the client constructor and openTable check their arguments', async () => {
  assert.is(await codeOf(() => new PetrelClient({ metaServers: [] })), 'INVALID_ARGUMENT');
  assert.is(await codeOf(() => new PetrelClient(wrong({}))), 'INVALID_ARGUMENT');
  assert.is(await codeOf(() => new PetrelClient({ metaServers: ['localhost'] })), 'INVALID_ARGUMENT');
  assert.is(await codeOf(() => new PetrelClient({ metaServers: ['127.0.0.1:0'] })), 'INVALID_ARGUMENT');
  assert.is(await codeOf(() => new PetrelClient({ metaServers: [wrong(34601)] })), 'INVALID_ARGUMENT');
  assert.is(await codeOf(() => new PetrelClient({ metaServers: ['127.0.0.1:1'], timeoutMs: -1 })), 'INVALID_ARGUMENT');
  assert.is(await codeOf(() => new PetrelClient({ metaServers: ['127.0.0.1:1'], maxInFlightPerConnection: 0 })), 'INVALID_ARGUMENT');
  const client = new PetrelClient({ metaServers: ['ws://127.0.0.1:1', '[::1]:2'] });
  assert.is(await codeOf(client.openTable('no spaces allowed')), 'INVALID_APP_NAME');
  assert.is(await codeOf(client.openTable(wrong(7))), 'INVALID_APP_NAME');
  assert.is(await codeOf(client.admin.dropTable('t', { reserveSeconds: -1 })), 'INVALID_ARGUMENT');
  assert.is(await codeOf(client.admin.recallTable(wrong('1'))), 'INVALID_ARGUMENT');
  assert.is(await codeOf(client.admin.delTableEnvs('t', wrong('k'))), 'INVALID_ARGUMENT');
  await client.close();
  assert.is(await codeOf(client.openTable('t')), 'CLOSED');
});

test.run();
