/** The deadline of a call: TIMEOUT at the deadline whatever the body waits on, aborts that reach every waiter, cancel. */
import { PetrelError } from '@petrel/base';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { CallAborted, type CallContext, LiveCalls, withDeadline } from './call_context.js';
import { codeOf, timedAgainstTimer } from './test_support.js';

const never = new Promise<never>(() => undefined);

test('the body settling first wins; its error passes through unchanged', async () => {
  assert.is(await withDeadline('op', 100, async () => 7), 7);
  assert.is(await codeOf(withDeadline('op', 100, async () => Promise.reject(new PetrelError('IO_ERROR', 'disk')))), 'IO_ERROR');
});

test('at the deadline: TIMEOUT naming the operation and the last error; the body sees its waits end', async () => {
  let seen: unknown;
  let context: CallContext | undefined;
  let error: unknown;
  const { code, ms, lateMs } = await timedAgainstTimer(60, () =>
    withDeadline('get of h/s', 60, async (ctx) => {
      context = ctx;
      ctx.lastError = new PetrelError('SERVER_CHANGED', 'moved');
      try {
        await ctx.sleep(10_000);
      } catch (failure) {
        seen = failure;
        throw failure;
      }
    }).catch((failure: unknown) => {
      error = failure;
      throw failure;
    }),
  );
  assert.is(code, 'TIMEOUT');
  assert.match((error as PetrelError).message, /get of h\/s did not finish within 60 ms; last error: SERVER_CHANGED: moved/);
  assert.ok(ms >= 59 && lateMs < 10, `${ms.toFixed(1)} ms, ${lateMs.toFixed(1)} after a plain timer`);
  await new Promise((resolve) => setImmediate(resolve));
  assert.ok(seen instanceof CallAborted, 'the sleep ended with the call');
  assert.ok(context?.isAborted);
  const late = await (context as CallContext).race(Promise.resolve(1)).catch((failure: unknown) => failure);
  assert.ok(late instanceof CallAborted, 'an ended call waits on nothing more');
});

test('race gives the promise unless the call ends first; onAbort handlers run once, unregistered ones not at all', async () => {
  let runs = 0;
  let skipped = 0;
  const result = withDeadline('op', 40, async (ctx) => {
    ctx.onAbort(() => runs++);
    const unregister = ctx.onAbort(() => skipped++);
    unregister();
    assert.is(await ctx.race(Promise.resolve('fast')), 'fast');
    return ctx.race(never);
  });
  assert.is(await codeOf(result), 'TIMEOUT');
  assert.is(runs, 1);
  assert.is(skipped, 0);
});

test('cancel ends a call at once with the given error (what close() does)', async () => {
  const live = new LiveCalls();
  const call = withDeadline('op', 10_000, (ctx) => ctx.sleep(10_000), live);
  assert.is(live.size, 1);
  live.cancelAll(new PetrelError('CLOSED', 'closing'));
  assert.is(await codeOf(call), 'CLOSED');
  assert.is(live.size, 0);
});

test('calls of many timeout lengths, started in any order, each end at their own deadline and no sooner', async () => {
  const started = performance.now();
  const ended: [number, number][] = [];
  const lengths = [45, 15, 30, 15, 60, 5, 30];
  const finishing = withDeadline('quick', 20, async () => 'done');
  await Promise.all(
    lengths.map((timeoutMs) =>
      withDeadline(`op ${timeoutMs}`, timeoutMs, () => never).catch((error: unknown) => {
        assert.is((error as PetrelError).code, 'TIMEOUT');
        ended.push([timeoutMs, performance.now() - started]);
      }),
    ),
  );
  assert.is(await finishing, 'done');
  assert.equal(
    ended.map(([timeoutMs]) => timeoutMs),
    [...lengths].sort((a, b) => a - b),
    'in the order of their deadlines',
  );
  for (const [timeoutMs, ms] of ended) assert.ok(ms >= timeoutMs - 1, `${timeoutMs} ms call ended after ${ms.toFixed(1)} ms`);
});

test('calls whose deadlines all pass while the event loop is blocked still end in the order of their deadlines', async () => {
  const ended: number[] = [];
  const lengths = [45, 15, 30, 15, 60, 5, 30, 25];
  const calls = lengths.map((timeoutMs) =>
    withDeadline(`op ${timeoutMs}`, timeoutMs, () => never).catch((error: unknown) => {
      assert.is((error as PetrelError).code, 'TIMEOUT');
      ended.push(timeoutMs);
    }),
  );
  // Every deadline passes before the loop turns again, so one timer firing finds them all due.
  const until = performance.now() + 80;
  while (performance.now() < until);
  await Promise.all(calls);
  assert.equal(ended, [...lengths].sort((a, b) => a - b));
});

test('once no call is in progress no deadline timer is left to keep the process alive', async () => {
  const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
  const before = timers();
  const calls = Array.from({ length: 5 }, (_, i) => withDeadline('op', 10_000 + i, async () => i));
  assert.ok(timers() > before, 'a timer while calls are in progress');
  assert.equal(await Promise.all(calls), [0, 1, 2, 3, 4]);
  assert.is(timers(), before);
});

test.run();
