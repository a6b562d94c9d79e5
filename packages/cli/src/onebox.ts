/**
 * `petrel onebox`: a whole cluster on this machine — one meta server and N replica servers, each
 * its own child process — then a table `temp` (8 partitions × 3 replicas) once it is healthy.
 * Prints the meta address and every PID; Ctrl-C (or SIGTERM) stops everything.
 *
 * Each child prints one `{"event":"ready",...}` line on stdout when it serves; their stderr logs
 * are passed through with a `[name]` prefix.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { type FlagSpec, integerFlag, parseFlags, requireFlag, usage } from './args.js';
import { childNodeFlags } from './loader.js';
import { PetrelClient } from '@petrel/client';

export const ONEBOX_FLAGS: Record<string, FlagSpec> = {
  replicas: { description: 'how many replica servers', default: '3' },
  dir: { description: 'data directory of the cluster', default: './.petrel-onebox' },
  'meta-port': { description: 'the meta server port', default: '34601' },
  'replica-port': { description: 'the first replica server port (then +1, +2 …)', default: '34801' },
  table: { description: 'the table to create once the cluster is up (empty: none)', default: 'temp' },
  partitions: { description: 'its partition count', default: '8' },
  'http-ports': { kind: 'switch', description: 'give every server a /metrics and /health port (meta-port + 1000, …)' },
  help: { kind: 'switch', description: 'show this help' },
};

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

export interface ChildServer {
  name: string;
  process: ChildProcess;
  ready: Promise<{ address: string; pid: number; httpPort: number | null }>;
}

/**
 * Starts `petrel <args>` as a child running this same Node with the same loader, and `nodeFlags`
 * besides (`--cpu-prof`, `--trace-gc`, … — flags NODE_OPTIONS does not take).
 */
export function startChild(name: string, args: string[], log: (line: string) => void, nodeFlags: readonly string[] = []): ChildServer {
  const child = spawn(process.execPath, [...childNodeFlags(), ...nodeFlags, MAIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    // The child stops by itself if this process dies without stopping it (see main.ts).
    env: { ...process.env, PETREL_PARENT_PID: String(process.pid) },
  });
  const ready = new Promise<{ address: string; pid: number; httpPort: number | null }>((resolvePromise, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      try {
        const event = JSON.parse(line) as { event?: string; address?: string; pid?: number; httpPort?: number | null };
        if (event.event === 'ready') resolvePromise({ address: event.address!, pid: event.pid!, httpPort: event.httpPort ?? null });
      } catch {
        log(`[${name}] ${line}`);
      }
    });
    child.once('exit', (code, signal) => reject(new Error(`${name} exited (${signal ?? code}) before it was ready`)));
  });
  ready.catch(() => undefined);
  createInterface({ input: child.stderr! }).on('line', (line) => log(`[${name}] ${line}`));
  return { name, process: child, ready };
}

export async function stopChildren(children: readonly ChildServer[]): Promise<void> {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolvePromise) => {
          if (child.process.exitCode !== null || child.process.signalCode !== null) return resolvePromise();
          const force = setTimeout(() => child.process.kill('SIGKILL'), 5000);
          child.process.once('exit', () => {
            clearTimeout(force);
            resolvePromise();
          });
          child.process.kill('SIGTERM');
        }),
    ),
  );
}

export async function runOnebox(args: string[]): Promise<void> {
  const { flags } = parseFlags(args, ONEBOX_FLAGS);
  if (flags.help !== undefined) {
    console.log(usage('onebox', 'Runs a local cluster: one meta server and N replica servers as child processes.', ONEBOX_FLAGS));
    return;
  }
  const replicaCount = integerFlag(flags, 'replicas')!;
  const metaPort = integerFlag(flags, 'meta-port')!;
  const replicaPort = integerFlag(flags, 'replica-port')!;
  const partitions = integerFlag(flags, 'partitions')!;
  const dir = resolve(requireFlag(flags, 'dir'));
  const http = flags['http-ports'] !== undefined;
  mkdirSync(dir, { recursive: true });
  const log = (line: string): void => {
    process.stderr.write(`${line}\n`);
  };
  const children: ChildServer[] = [];
  let stopping = false;
  const stop = async (code: number): Promise<never> => {
    stopping = true;
    process.stderr.write('onebox: stopping every server…\n');
    await stopChildren(children);
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  try {
    const metaAddress = `127.0.0.1:${metaPort}`;
    const metaArgs = ['meta', '--listen', metaAddress, '--data-dir', join(dir, 'meta')];
    if (http) metaArgs.push('--http-port', String(metaPort + 1000));
    children.push(startChild('meta', metaArgs, log));
    await children[0]!.ready;
    for (let i = 0; i < replicaCount; i++) {
      const replicaArgs = ['replica', '--listen', `127.0.0.1:${replicaPort + i}`, '--meta', metaAddress, '--data-dir', join(dir, `replica${i + 1}`)];
      if (http) replicaArgs.push('--http-port', String(replicaPort + i + 1000));
      children.push(startChild(`replica${i + 1}`, replicaArgs, log));
    }
    const servers = await Promise.all(children.map((child) => child.ready));
    for (const child of children) {
      child.process.once('exit', (code, signal) => {
        if (!stopping) log(`onebox: ${child.name} exited (${signal ?? code})`);
      });
    }
    const table = flags.table ?? '';
    if (table !== '') {
      // The client's createTable resolves once every partition is healthy.
      const client = new PetrelClient({ metaServers: [metaAddress], clientName: 'petrel-onebox' });
      try {
        const started = Date.now();
        log(`onebox: creating table ${table} (${partitions} partitions)…`);
        await client.admin.createTable(table, { partitionCount: partitions, replicaCount: Math.min(3, replicaCount), successIfExists: true, timeoutMs: 60_000 });
        log(`onebox: table ${table} is healthy (${Date.now() - started} ms)`);
      } finally {
        await client.close();
      }
    }
    const summary = { event: 'ready', meta: metaAddress, table: table === '' ? null : table, servers: servers.map((server, i) => ({ name: children[i]!.name, ...server })) };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    log(`onebox: meta server at ${metaAddress}; PIDs ${servers.map((server, i) => `${children[i]!.name}=${server.pid}`).join(' ')}; Ctrl-C stops everything`);
  } catch (error) {
    log(`onebox: ${String(error instanceof Error ? error.message : error)}`);
    await stop(1);
  }
}
