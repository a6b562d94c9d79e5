/**
 * Table operations through envs, on a meta and three replica servers in this process, driven by
 * @petrel/client: write throttling (a 1-partition table limited to N writes/s accepts about N under
 * a heavier load and rejects the rest with APP_BUSY), replica.deny_client_request, default_ttl, and
 * a manual compaction triggered by manual_compact.once.trigger_time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initChecksum } from '@petrel/base';
import { PetrelClient } from '@petrel/client';
import { MetaServer } from '@petrel/meta';
import { ReplicaServer } from '@petrel/replica';
import { test } from 'uvu';
import { waitUntil } from './load.js';
import * as assert from 'uvu/assert';

let root: string;
let meta: MetaServer;
const replicas: ReplicaServer[] = [];
let client: PetrelClient;
const logs: string[] = [];

test.before(async () => {
  await initChecksum();
  root = mkdtempSync(join(tmpdir(), 'petrel-tableops-'));
  const log = (line: string): void => void logs.push(line);
  meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: join(root, 'meta'), log });
  for (let i = 0; i < 3; i++) replicas.push(await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir: join(root, `r${i}`), log, httpPort: 0 }));
  client = new PetrelClient({ metaServers: [meta.address], timeoutMs: 5000 });
});

test.after(async () => {
  await client.close();
  for (const replica of replicas) await replica.stop();
  await meta.stop();
  rmSync(root, { recursive: true, force: true });
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

test('write throttling: about N writes/s accepted under a heavier load, the rest APP_BUSY', async () => {
  // Low enough that the cluster can always take it, even on a loaded 2-core machine.
  const LIMIT = 100;
  await client.admin.createTable('throttled', { partitionCount: 1, replicaCount: 3, envs: { 'replica.write_throttling': `${LIMIT}*reject*0` } });
  const table = await client.openTable('throttled');
  await settle();
  const seconds = 4;
  let accepted = 0;
  let busy = 0;
  let other = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: 32 }, async (_, lane) => {
      let i = 0;
      while (performance.now() - started < seconds * 1000) {
        const outcome = await codeOf(table.set(`k${lane}`, `s${i++}`, 'v'));
        if (outcome === 'ok') accepted++;
        else if (outcome === 'APP_BUSY') busy++;
        else other++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const rate = accepted / elapsed;
  console.log(`  ${LIMIT} writes/s allowed: ${rate.toFixed(0)}/s accepted, ${(busy / elapsed).toFixed(0)}/s refused with APP_BUSY, ${other} other outcomes`);
  assert.ok(rate > LIMIT * 0.85 && rate < LIMIT * 1.15, `accepted ${rate.toFixed(1)}/s, expected ${LIMIT} ± 15%`);
  assert.ok(busy > accepted, 'the load was heavier than the limit, and the rest was refused');
  assert.is(other, 0);
  // Lifting the limit lifts the refusals.
  await client.admin.delTableEnvs('throttled', ['replica.write_throttling']);
  await settle();
  for (let i = 0; i < 300; i++) await table.set('free', `s${i}`, 'v');
});

test('replica.deny_client_request: reconfig*write refuses writes (the client retries until its timeout), reads go on', async () => {
  await client.admin.createTable('denied', { partitionCount: 2, replicaCount: 3 });
  const table = await client.openTable('denied');
  await table.set('h', 's', 'before');
  await client.admin.setTableEnvs('denied', { 'replica.deny_client_request': 'reconfig*write' });
  await settle();
  assert.is(await codeOf(table.set('h', 's', 'during', { timeoutMs: 600 })), 'TIMEOUT');
  assert.is((await table.get('h', 's'))?.toString(), 'before');
  await client.admin.setTableEnvs('denied', { 'replica.deny_client_request': 'timeout*all' });
  await settle();
  assert.is(await codeOf(table.get('h', 's', { timeoutMs: 400 })), 'TIMEOUT');
  await client.admin.delTableEnvs('denied', ['replica.deny_client_request']);
  await settle();
  await table.set('h', 's', 'after');
  assert.is((await table.get('h', 's'))?.toString(), 'after');
});

test('default_ttl reaches the replicas: writes without a TTL get it', async () => {
  await client.admin.createTable('ttl', { partitionCount: 2, replicaCount: 3, envs: { default_ttl: '3600' } });
  const table = await client.openTable('ttl');
  await settle();
  await table.set('h', 'no-ttl-given', 'v');
  const ttl = await table.ttl('h', 'no-ttl-given');
  assert.ok(ttl !== null && ttl > 3500 && ttl <= 3600, `ttl ${ttl}`);
  await table.set('h', 'explicit', 'v', { ttlSeconds: 10 });
  const explicit = await table.ttl('h', 'explicit');
  assert.ok(explicit !== null && explicit <= 10, `explicit ttl ${explicit}`);
});

test('manual_compact.once.trigger_time: every replica of the table compacts once', async () => {
  await client.admin.createTable('compact', { partitionCount: 1, replicaCount: 3 });
  const table = await client.openTable('compact');
  for (let i = 0; i < 200; i++) await table.set('h', `s${i}`, 'v'.repeat(100));
  const before = logs.filter((line) => line.includes('manual compaction of')).length;
  await client.admin.setTableEnvs('compact', { 'manual_compact.once.trigger_time': String(Math.floor(Date.now() / 1000)) });
  const deadline = Date.now() + 15_000;
  while (logs.filter((line) => line.includes('manual compaction of') && line.includes('done')).length < before + 3) {
    if (Date.now() > deadline) throw new Error(`only ${logs.filter((line) => line.includes('manual compaction of')).length - before} replicas compacted`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  // The same trigger time again does nothing more.
  await client.admin.setTableEnvs('compact', { unrelated: 'x' });
  await settle();
  assert.is(logs.filter((line) => line.includes('manual compaction of') && line.includes('done')).length, before + 3);
  assert.is((await table.get('h', 's199'))?.toString(), 'v'.repeat(100));
});

test('the replica count changes: 3 → 2 drops a secondary per partition, 2 → 3 adds one back, data intact', async () => {
  await client.admin.createTable('resize', { partitionCount: 2, replicaCount: 3 });
  const table = await client.openTable('resize');
  for (let i = 0; i < 50; i++) await table.set(`h${i}`, 's', `v${i}`);
  const members = async () => (await client.admin.tableInfo('resize')).partitions.map((p) => (p.primary === null ? 0 : 1) + p.secondaries.length);
  await client.admin.setReplicaCount('resize', 2);
  await waitUntil('two members per partition', 15_000, async () => (await members()).every((count) => count === 2), 100);
  await client.admin.setReplicaCount('resize', 3);
  await waitUntil('three members per partition again', 30_000, async () => (await members()).every((count) => count === 3), 100);
  for (let i = 0; i < 50; i++) assert.is((await table.get(`h${i}`, 's'))?.toString(), `v${i}`);
  await table.set('after', 's', 'ok');
});

test.run();
