/**
 * The ZooKeeper state store against a real ZooKeeper (Debian's package, started on a free port):
 * commits and reloads, election and takeover, fencing of a deposed leader, atomic commits.
 * Skipped, with a message saying how to install it, when ZooKeeper is not installed.
 */
import { PetrelError } from '@petrel/base';
import * as zookeeper from 'node-zookeeper-client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findZookeeper, ZOOKEEPER_MISSING, ZookeeperServer } from './testing/zookeeper_server.js';
import { ZookeeperStateStore } from './zookeeper_state_store.js';

const available = findZookeeper() !== undefined;
if (!available) console.log(ZOOKEEPER_MISSING);
const it = available ? test : test.skip;

let server: ZookeeperServer | undefined;
let chrootCounter = 0;
/** A fresh chroot per test, so tests do not see each other's state. */
function connectString(): string {
  return `${server!.address}/petrel-test-${process.pid}-${++chrootCounter}`;
}

test.before(async () => {
  if (available) server = await ZookeeperServer.start();
});

test.after(async () => {
  await server?.stop();
});

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof PetrelError) return error.code;
    throw error;
  }
}

it('a leader commits puts and deletes atomically; a later leader loads exactly that state', async () => {
  const connect = connectString();
  const a = await ZookeeperStateStore.open({ connect, id: 'meta-a:34601', connectTimeoutMs: 30_000 });
  await a.campaign();
  assert.ok(a.isLeader);
  await a.commit({ put: [['/tables/1', Buffer.from('one')], ['/tables/2', Buffer.from('two')], ['/a/b/../c', Buffer.from('odd key')]] });
  await a.commit({ put: [['/tables/1', Buffer.from('uno')]], del: ['/tables/2', '/never-existed'] });
  assert.equal(a.keys('/tables/'), ['/tables/1']);
  assert.is(a.get('/tables/1')?.toString(), 'uno');
  // Over ZooKeeper's znode limit: refused, and nothing of the commit applied.
  assert.is(await codeOf(a.commit({ put: [['/x', Buffer.from('x')], ['/big', Buffer.alloc(1_100_000)]] })), 'INVALID_ARGUMENT');
  assert.is(a.get('/x'), undefined);
  await a.close();
  const b = await ZookeeperStateStore.open({ connect, id: 'meta-b:34602', connectTimeoutMs: 30_000 });
  await b.campaign();
  assert.equal(Object.fromEntries([...b.snapshot()].map(([key, value]) => [key, value.toString()])), { '/tables/1': 'uno', '/a/b/../c': 'odd key' });
  await b.close();
});

it('a follower waits, knows the leader, and takes over when the leader leaves', async () => {
  const connect = connectString();
  const a = await ZookeeperStateStore.open({ connect, id: 'meta-a:1', connectTimeoutMs: 30_000 });
  const b = await ZookeeperStateStore.open({ connect, id: 'meta-b:2', connectTimeoutMs: 30_000 });
  await a.campaign();
  let bLeads = false;
  const bCampaign = b.campaign().then(() => (bLeads = true));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.is(bLeads, false, 'only one leader');
  assert.is(await b.leaderId(), 'meta-a:1');
  assert.is(await codeOf(b.commit({ put: [['/k', Buffer.from('from b')]] })), 'NOT_LEADER');
  await a.commit({ put: [['/k', Buffer.from('from a')]] });
  const started = Date.now();
  await a.close();
  await bCampaign;
  assert.ok(Date.now() - started < 5000, 'takeover is prompt after a clean leave');
  assert.is(await b.leaderId(), 'meta-b:2');
  assert.is(b.get('/k')?.toString(), 'from a');
  await b.commit({ put: [['/k', Buffer.from('from b')]] });
  assert.is(b.get('/k')?.toString(), 'from b');
  await b.close();
});

it('a deposed leader cannot commit: the epoch check fences it, and it says so', async () => {
  const connect = connectString();
  const a = await ZookeeperStateStore.open({ connect, id: 'meta-a:1', connectTimeoutMs: 30_000 });
  await a.campaign();
  await a.commit({ put: [['/k', Buffer.from('1')]] });
  const reasons: string[] = [];
  a.on('deposed', (reason: string) => reasons.push(reason));
  // A successor's first act, done behind a's back: a new epoch.
  const raw = zookeeper.createClient(connect);
  await new Promise<void>((resolve) => {
    raw.once('connected', () => resolve());
    raw.connect();
  });
  await new Promise<void>((resolve, reject) => raw.setData('/epoch', Buffer.from('usurper'), -1, (error) => (error ? reject(error) : resolve())));
  assert.is(await codeOf(a.commit({ put: [['/k', Buffer.from('2')]] })), 'NOT_LEADER');
  assert.is(a.isLeader, false);
  assert.equal(reasons, ['another meta server took over']);
  const stored = await new Promise<Buffer>((resolve, reject) => raw.getData(`/state/k${encodeURIComponent('/k')}`, (error, data) => (error ? reject(error) : resolve(data))));
  assert.is(stored.toString(), '1', 'the fenced commit changed nothing');
  raw.close();
  await a.close();
});

it('open() fails with NETWORK_FAILURE when ZooKeeper cannot be reached', async () => {
  const started = Date.now();
  assert.is(await codeOf(ZookeeperStateStore.open({ connect: '127.0.0.1:1', id: 'x', connectTimeoutMs: 1000 })), 'NETWORK_FAILURE');
  assert.ok(Date.now() - started < 5000);
});

test.run();
