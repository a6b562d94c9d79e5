/** The table catalog over the local state store: validation codes, soft drop, recall, envs, reload. */
import { MemVfs, PetrelError, initChecksum } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalStateStore } from '../state/local_state_store.js';
import { TableCatalog } from './catalog.js';

async function codeOf(action: () => Promise<unknown>): Promise<string> {
  try {
    await action();
    return 'ok';
  } catch (error) {
    if (error instanceof PetrelError) return error.code;
    throw error;
  }
}

const defaults = { partitionCount: 8, replicaCount: 3, envs: {} };

test('create, validate, drop, recall, envs; all of it survives a reopen', async () => {
  await initChecksum();
  const vfs = new MemVfs();
  let now = 1_000_000;
  let store = await LocalStateStore.open({ vfs, dir: '/meta' });
  let catalog = new TableCatalog(store, () => now);
  const { table } = await catalog.create('temp', { ...defaults, envs: { default_ttl: '60' } });
  assert.is(table.id, 1);
  assert.is(await codeOf(() => catalog.create('temp', defaults)), 'APP_EXIST');
  assert.is((await catalog.create('temp', defaults, true)).created, false);
  assert.is(await codeOf(() => catalog.create('bad name!', defaults)), 'INVALID_APP_NAME');
  assert.is(await codeOf(() => catalog.create('', defaults)), 'INVALID_APP_NAME');
  assert.is(await codeOf(() => catalog.create('t2', { ...defaults, partitionCount: 0 })), 'INVALID_PAR_COUNT');
  assert.is(await codeOf(() => catalog.create('t2', { ...defaults, partitionCount: 1.5 })), 'INVALID_PAR_COUNT');
  assert.is(await codeOf(() => catalog.create('t2', { ...defaults, replicaCount: 0 })), 'INVALID_REP_COUNT');
  assert.is(await codeOf(() => catalog.create('t2', { ...defaults, replicaCount: 8 })), 'INVALID_REP_COUNT');
  await catalog.setEnvs('temp', { 'replica.deny_client_request': 'false' });
  await catalog.delEnvs('temp', ['default_ttl']);
  assert.equal(catalog.require('temp').envs, { 'replica.deny_client_request': 'false' });
  await catalog.drop('temp', 60);
  assert.is(catalog.byName('temp'), undefined);
  assert.equal(catalog.tables().map((t) => t.name), []);
  assert.equal(catalog.tables(true).map((t) => t.status), ['dropped']);
  assert.is(await codeOf(() => catalog.drop('temp')), 'APP_NOT_EXIST');
  // The name is free again; a recall under it is refused while taken.
  const { table: second } = await catalog.create('temp', defaults);
  assert.is(second.id, 2, 'ids are never reused');
  assert.is(await codeOf(() => catalog.recall(1)), 'APP_EXIST');
  const recalled = await catalog.recall(1, 'temp_old');
  assert.is(recalled.name, 'temp_old');
  assert.is(recalled.status, 'available');
  await store.close();
  store = await LocalStateStore.open({ vfs, dir: '/meta' });
  catalog = new TableCatalog(store, () => now);
  assert.equal(catalog.tables().map((t) => [t.id, t.name]), [[1, 'temp_old'], [2, 'temp']]);
  // Past the reserve time a dropped table cannot come back.
  await catalog.drop('temp', 10);
  now += 11;
  assert.is(await codeOf(() => catalog.recall(2)), 'APP_NOT_EXIST');
  assert.equal(catalog.expired().map((t) => t.id), [2]);
  await store.close();
});

test.run();
