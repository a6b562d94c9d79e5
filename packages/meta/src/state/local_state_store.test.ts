import { FaultVfs, MemVfs, Prng, initChecksum, propertyParameters } from '@petrel/base';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LocalStateStore } from './local_state_store.js';

const DIR = '/meta';

function asObject(map: ReadonlyMap<string, Buffer>): Record<string, string> {
  return Object.fromEntries([...map].map(([k, v]) => [k, v.toString()]));
}

test.before(async () => {
  await initChecksum();
});

test('commits are atomic and survive a reopen, through snapshots and log trimming', async () => {
  const vfs = new MemVfs();
  const store = await LocalStateStore.open({ vfs, dir: DIR, snapshotEveryCommits: 5 });
  for (let i = 0; i < 23; i++) {
    await store.commit({ put: [[`/t/${i % 7}`, Buffer.from(`v${i}`)], ['/counter', Buffer.from(String(i))]], del: i % 4 === 0 ? [`/t/${(i + 3) % 7}`] : [] });
  }
  const expected = asObject(store.snapshot());
  assert.is(store.get('/counter')?.toString(), '22');
  assert.equal(store.keys('/t/').length, Object.keys(expected).length - 1);
  await store.close();
  assert.ok(await vfs.exists(`${DIR}/snapshot`));
  const reopened = await LocalStateStore.open({ vfs, dir: DIR, snapshotEveryCommits: 5 });
  assert.equal(asObject(reopened.snapshot()), expected);
  await reopened.close();
});

test('a corrupt snapshot is CORRUPTION naming the file', async () => {
  const vfs = new MemVfs();
  const store = await LocalStateStore.open({ vfs, dir: DIR, snapshotEveryCommits: 1 });
  await store.commit({ put: [['/a', Buffer.from('1')]] });
  await store.close();
  const bytes = await vfs.readFile(`${DIR}/snapshot`);
  bytes[bytes.length - 6] = bytes[bytes.length - 6]! ^ 1;
  await vfs.writeFile(`${DIR}/snapshot`, bytes);
  try {
    await LocalStateStore.open({ vfs, dir: DIR });
    assert.unreachable();
  } catch (error) {
    assert.is((error as { code?: string }).code, 'CORRUPTION');
    assert.match(String(error), /snapshot/);
  }
});

test('after any crash the state equals the commits that resolved, plus perhaps some that did not, in order', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 1e9 }), fc.integer({ min: 1, max: 6 }), fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 1, maxLength: 40 }), async (seed, snapshotEveryCommits, crashes) => {
      const mem = new MemVfs({ seed });
      const prng = new Prng(seed);
      let fence = new FaultVfs(mem);
      let store = await LocalStateStore.open({ vfs: fence, dir: DIR, snapshotEveryCommits });
      /** Model: every commit made, in order; `durable` = how many resolved. */
      let history: { key: string; value: string }[] = [];
      let resolved = 0;
      for (const step of crashes) {
        const pending: Promise<void>[] = [];
        for (let i = 0; i <= step; i++) {
          const entry = { key: `/k/${prng.int(5)}`, value: `${history.length}` };
          history.push(entry);
          const position = history.length;
          pending.push(store.commit({ put: [[entry.key, Buffer.from(entry.value)]] }).then(() => void (resolved = Math.max(resolved, position)), () => undefined));
          if (prng.chance(0.3)) await new Promise((r) => setImmediate(r));
        }
        fence.inject({ op: '*', times: Infinity });
        mem.crash();
        await Promise.allSettled(pending);
        fence = new FaultVfs(mem);
        store = await LocalStateStore.open({ vfs: fence, dir: DIR, snapshotEveryCommits });
        const state = asObject(store.snapshot());
        // Find the prefix of the history that explains the state; it must cover every resolved commit.
        let explained = -1;
        for (let length = history.length; length >= resolved; length--) {
          const model: Record<string, string> = {};
          for (const entry of history.slice(0, length)) model[entry.key] = entry.value;
          if (JSON.stringify(Object.entries(model).sort()) === JSON.stringify(Object.entries(state).sort())) {
            explained = length;
            break;
          }
        }
        assert.ok(explained >= resolved, `seed ${seed}: state ${JSON.stringify(state)} is no prefix of ≥ ${resolved} commits`);
        history = history.slice(0, explained);
        resolved = explained;
      }
      await store.close();
    }),
    propertyParameters(100, 1000),
  );
});

test.run();
