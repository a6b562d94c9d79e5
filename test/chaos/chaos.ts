/**
 * The chaos test: a real cluster (one meta, four replica servers, as processes) under clients
 * doing get/set/del/incr/checkAndSet on a few hundred keys, while a nemesis kills (SIGKILL) and
 * restarts replica servers and the meta, and pauses replica servers (SIGSTOP … SIGCONT) longer
 * than their lease, and fills a replica server's disk for a few seconds (each replica server gets a
 * small tmpfs of its own as its data directory — needs root; without it that fault is left out and
 * the run says so). Every invocation and completion is recorded — a timeout as "maybe happened" —
 * and at the end, after healing, every key is read once more and the whole history is checked
 * for linearizability per key (test/lib/linearizability). Any acknowledged write that got lost
 * makes a later read unexplainable, so the check covers durability too.
 *
 * A failure saves the history and the server logs under test/chaos/out/<timestamp>/.
 *
 *   npm run test:chaos -- --minutes 30        (the soak)
 *   test/chaos/chaos.test.ts                  (a short run in npm test)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Prng, isPetrelError } from '@petrel/base';
import { PetrelClient } from '@petrel/client';
import { checkHistory, historyToJson, kvModel, type KvInput, type KvOutput, type Operation } from '../lib/linearizability/index.js';
import { ProcessCluster, type ServerSlot } from '../cluster/process_cluster.js';

export interface ChaosOptions {
  durationMs: number;
  seed: number;
  keys: number;
  clients: number;
  /** Fill replica servers' disks as one of the faults (default true; needs root to mount small disks). */
  diskFull?: boolean;
  log?: (line: string) => void;
}

export interface ChaosReport {
  ok: boolean;
  operations: number;
  acknowledged: number;
  maybe: number;
  refused: number;
  faults: Record<string, number>;
  recoveries: number;
  linearizability: string;
  outDir?: string;
  summary: string;
}

type KvOperation = Operation<KvInput, KvOutput>;

/** Errors that guarantee the request had no effect (the client refused or the server refused before replicating). */
const DEFINITELY_NOT_APPLIED = new Set(['APP_BUSY', 'NOT_ENOUGH_MEMBER', 'INVALID_ARGUMENT', 'CLOSED']);

export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const prng = new Prng(options.seed);
  const started = Date.now();
  const now = (): number => Date.now() - started;
  const wantDiskFull = options.diskFull ?? true;
  const cluster = await ProcessCluster.start(4, wantDiskFull ? { diskMiB: 256 } : {});
  const diskFull = wantDiskFull && cluster.smallDisks;
  if (wantDiskFull && !diskFull) log('  chaos: cannot mount small disks (not root?): the disk-full fault is left out');
  const client = new PetrelClient({ metaServers: [cluster.meta.address], timeoutMs: 4000 });
  const history: KvOperation[] = [];
  const faults: Record<string, number> = {};
  let recoveries = 0;
  let refused = 0;
  let running = true;
  try {
    await client.admin.createTable('chaos', { partitionCount: 4, replicaCount: 3, timeoutMs: 30_000 });
    const table = await client.openTable('chaos');
    const keyName = (i: number): string => `k${i}`;

    const record = async (clientId: number, input: KvInput, action: () => Promise<KvOutput>): Promise<void> => {
      const operation: KvOperation = { clientId, callTime: now(), returnTime: Infinity, input };
      try {
        operation.output = await action();
        operation.returnTime = now();
        history.push(operation);
      } catch (error) {
        const code = isPetrelError(error) ? error.code : 'UNKNOWN';
        if (code === 'INVALID_ARGUMENT' && input.op === 'incr') {
          // An answer, not a refusal: the stored value is not an integer (the model checks that).
          operation.output = { error: 'INVALID_ARGUMENT' };
          operation.returnTime = now();
          history.push(operation);
        } else if (DEFINITELY_NOT_APPLIED.has(code)) {
          refused++;
        } else {
          // A timeout or a lost connection: it may or may not have happened.
          history.push(operation);
        }
      }
    };

    const worker = async (clientId: number): Promise<void> => {
      const random = new Prng(options.seed * 1000 + clientId);
      let counter = 0;
      while (running) {
        // A turn of the event loop between operations: calls that fail at once must not starve
        // the nemesis's timers.
        await new Promise((resolve) => setImmediate(resolve));
        const key = keyName(random.int(options.keys));
        const roll = random.next();
        const value = `c${clientId}-${counter++}`;
        if (roll < 0.4) {
          await record(clientId, { op: 'get', key }, async () => ({ value: textOf(await table.get(key, 's')) }));
        } else if (roll < 0.65) {
          await record(clientId, { op: 'set', key, value }, async () => (await table.set(key, 's', value), {}));
        } else if (roll < 0.75) {
          await record(clientId, { op: 'del', key }, async () => (await table.del(key, 's'), {}));
        } else if (roll < 0.88) {
          const delta = random.range(-3, 5);
          await record(clientId, { op: 'incr', key, delta }, async () => ({ newValue: await table.incr(key, 's', delta) }));
        } else {
          // Compare-and-set against absent (notExist) or a value this client may have seen.
          const expected = random.chance(0.5) ? null : `c${random.int(options.clients)}-${random.int(Math.max(1, counter))}`;
          await record(clientId, { op: 'checkAndSet', key, expected, value }, async () => {
            const result = expected === null
              ? await table.checkAndSet(key, 's', 'notExist', '', 's', value, { returnCheckValue: true })
              : await table.checkAndSet(key, 's', 'bytesEqual', expected, 's', value, { returnCheckValue: true });
            const output: KvOutput = { succeeded: result.succeeded };
            if (result.checkValueReturned) output.oldValue = result.checkValueExists ? textOf(result.checkValue) : null;
            return output;
          });
        }
      }
    };

    const nemesis = async (): Promise<void> => {
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      await pause(2000);
      while (running) {
        // A step that fails (a server that cannot start again) is a finding: counted, logged, and
        // it fails the run; the nemesis goes on.
        const step = nemesisStep().catch((error: unknown) => {
          log(`  ${(now() / 1000).toFixed(1)}s nemesis: a step failed: ${String(error)}`);
          faults.failedSteps = (faults.failedSteps ?? 0) + 1;
        });
        // A step that hangs (a server that never comes back) is reported, not waited for forever.
        const timedOut = await Promise.race([step.then(() => false), pause(60_000).then(() => true)]);
        if (timedOut) {
          log(`  ${(now() / 1000).toFixed(1)}s nemesis: a step took over 60 s; going on`);
          faults.stuckSteps = (faults.stuckSteps ?? 0) + 1;
        }
        await pause(1500 + prng.int(2500));
      }
    };

    const nemesisStep = async (): Promise<void> => {
      const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
      {
        const roll = prng.next();
        if (roll < 0.45) {
          const slot = prng.pick(cluster.replicas);
          faults.killReplica = (faults.killReplica ?? 0) + 1;
          log(`  ${(now() / 1000).toFixed(1)}s nemesis: kill -9 ${slot.name}`);
          await cluster.kill(slot);
          await pause(1000 + prng.int(3000));
          await restart(cluster, slot);
          recoveries++;
        } else if (roll < 0.6) {
          faults.killMeta = (faults.killMeta ?? 0) + 1;
          log(`  ${(now() / 1000).toFixed(1)}s nemesis: kill -9 meta`);
          await cluster.kill(cluster.meta);
          await pause(500 + prng.int(2000));
          await restart(cluster, cluster.meta);
          recoveries++;
        } else if (roll < 0.75) {
          const slot = prng.pick(cluster.replicas);
          const pid = slot.child?.process.pid;
          if (pid !== undefined) {
            faults.pauseReplica = (faults.pauseReplica ?? 0) + 1;
            const ms = 2500 + prng.int(2500);
            log(`  ${(now() / 1000).toFixed(1)}s nemesis: SIGSTOP ${slot.name} for ${ms} ms (past the 2 s lease)`);
            process.kill(pid, 'SIGSTOP');
            await pause(ms);
            process.kill(pid, 'SIGCONT');
            recoveries++;
          }
        } else if (roll < 0.87 && diskFull) {
          const slot = prng.pick(cluster.replicas);
          const ms = 2000 + prng.int(4000);
          const filled = await cluster.fillDisk(slot);
          if (filled.code !== 'ENOSPC') throw new Error(`filling ${slot.name}'s disk stopped with ${filled.code}, not ENOSPC`);
          faults.fillDisk = (faults.fillDisk ?? 0) + 1;
          log(`  ${(now() / 1000).toFixed(1)}s nemesis: filled ${slot.name}'s disk (${(filled.bytes / 2 ** 20).toFixed(0)} MiB) for ${ms} ms`);
          await pause(ms);
          await cluster.freeDisk(slot);
          recoveries++;
        } else {
          log(`  ${(now() / 1000).toFixed(1)}s nemesis: a quiet moment (${history.length} operations so far)`);
          await pause(1000);
        }
      }
    };

    const nemesisDone = nemesis();
    const workers = Array.from({ length: options.clients }, (_, i) => worker(i + 1));
    await new Promise((resolve) => setTimeout(resolve, options.durationMs));
    running = false;
    await nemesisDone;
    await Promise.all(workers);
    log(`  ${(now() / 1000).toFixed(1)}s load and faults stopped; healing`);
    // Heal: every server up, every partition whole; then read every key once more.
    for (const slot of [cluster.meta, ...cluster.replicas]) {
      const child = slot.child;
      if (child === undefined || child.process.exitCode !== null || child.process.signalCode !== null) await restart(cluster, slot);
    }
    const healDeadline = Date.now() + 60_000;
    for (;;) {
      const info = await client.admin.tableInfo('chaos').catch(() => undefined);
      if (info !== undefined && info.partitions.every((p) => p.primary !== null && p.secondaries.length === 2)) break;
      if (Date.now() > healDeadline) throw new Error('the cluster did not heal within 60 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    log(`  ${(now() / 1000).toFixed(1)}s healed; reading every key`);
    for (let i = 0; i < options.keys; i++) {
      const key = keyName(i);
      await record(0, { op: 'get', key }, async () => ({ value: textOf(await table.get(key, 's', { timeoutMs: 10_000 })) }));
    }
    log(`  ${(now() / 1000).toFixed(1)}s checking ${history.length} operations`);
    // A long run needs a long check: per-key search time grows faster than the history.
    const report = checkHistory(kvModel, history, { timeoutMs: Math.max(120_000, options.durationMs) });
    const byResult = { ok: 0, illegal: 0, unknown: 0 };
    for (const check of report.perKey) byResult[check.result]++;
    log(`  ${(now() / 1000).toFixed(1)}s checked: ${report.result} (keys ok ${byResult.ok}, illegal ${byResult.illegal}, unknown ${byResult.unknown})`);
    const acknowledged = history.filter((operation) => operation.returnTime !== Infinity).length;
    const maybe = history.length - acknowledged;
    const ok = report.result === 'ok' && (faults.failedSteps ?? 0) === 0 && (faults.stuckSteps ?? 0) === 0;
    const summary = `${history.length} operations (${acknowledged} acknowledged, ${maybe} maybe, ${refused} refused before replication); faults ${JSON.stringify(faults)}; ${recoveries} recoveries; linearizability: ${report.result}`;
    const result: ChaosReport = { ok, operations: history.length, acknowledged, maybe, refused, faults, recoveries, linearizability: report.result, summary };
    if (!ok) {
      const outDir = join(import.meta.dirname, 'out', new Date().toISOString().replace(/[:.]/g, '-'));
      mkdirSync(outDir, { recursive: true });
      // The operations of the keys that did not check out (the whole history of a long run does
      // not fit in one string).
      const failedKeys = new Set(report.perKey.filter((check) => check.result !== 'ok').map((check) => check.key));
      const kept = history.filter((operation) => failedKeys.has(operation.input.key)).slice(0, 1_000_000);
      writeFileSync(join(outDir, 'history.json'), historyToJson(kept, { model: 'kv', note: `chaos seed ${options.seed}: the keys that did not check out` }));
      writeFileSync(join(outDir, 'report.txt'), report.report);
      writeFileSync(join(outDir, 'servers.log'), cluster.log.join('\n'));
      result.outDir = outDir;
      result.summary += `\n${report.report}\nhistory and logs in ${outDir}`;
    }
    return result;
  } finally {
    running = false;
    await client.close();
    await cluster.stop();
  }
}

async function restart(cluster: ProcessCluster, slot: ServerSlot): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await cluster.startServer(slot);
      return;
    } catch (error) {
      // The port may still be held for a moment after a kill.
      if (attempt >= 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

function textOf(value: Buffer | null): string | null {
  return value === null ? null : value.toString('latin1');
}

// As a script: npm run test:chaos -- --minutes N [--seed S]
if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const argument = (name: string, fallback: number): number => {
    const index = process.argv.indexOf(`--${name}`);
    return index >= 0 ? Number(process.argv[index + 1]) : fallback;
  };
  const minutes = argument('minutes', 2);
  const seed = argument('seed', Date.now() % 1_000_000);
  process.stderr.write(`chaos: ${minutes} minutes, seed ${seed}\n`);
  // More keys for longer runs keep each key's history short enough to check.
  const report = await runChaos({ durationMs: minutes * 60_000, seed, keys: Math.max(200, Math.round(100 * minutes)), clients: 8 });
  console.log(report.summary);
  console.log(`replay with: npm run test:chaos -- --minutes ${minutes} --seed ${seed}`);
  process.exit(report.ok ? 0 : 1);
}


