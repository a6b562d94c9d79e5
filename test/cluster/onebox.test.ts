/**
 * `petrel onebox` as a user runs it — `npm start` (node --import tsx main.ts) and `npx petrel`
 * (bin/petrel.js, which registers the TypeScript loader from inside, so the children must be given
 * it): it starts a meta and three replica servers as child processes, creates the table `temp`
 * (8 × 3) once the cluster is up, prints one ready line with the meta address and the PIDs; the
 * table serves; SIGINT stops every process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort } from '@petrel/cli';
import { PetrelClient } from '@petrel/client';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MAIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');
const BIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'petrel.js');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function oneboxServesAndStops(command: string[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'petrel-onebox-'));
  const metaPort = await freePort();
  const replicaPort = await freePort();
  const onebox = spawn(process.execPath, [...command, 'onebox', '--dir', dir, '--meta-port', String(metaPort), '--replica-port', String(replicaPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  onebox.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-5000)));
  try {
    const ready = await new Promise<{ meta: string; table: string; servers: { name: string; pid: number; address: string }[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`onebox not ready in 60 s:\n${stderr}`)), 60_000);
      createInterface({ input: onebox.stdout! }).on('line', (line) => {
        const event = JSON.parse(line) as { event?: string };
        if (event.event === 'ready') {
          clearTimeout(timer);
          resolve(event as never);
        }
      });
      onebox.once('exit', (code) => reject(new Error(`onebox exited with ${code}:\n${stderr}`)));
    });
    assert.is(ready.meta, `127.0.0.1:${metaPort}`);
    assert.is(ready.table, 'temp');
    assert.equal(ready.servers.map((server) => server.name), ['meta', 'replica1', 'replica2', 'replica3']);
    assert.ok(ready.servers.every((server) => alive(server.pid)));
    const client = new PetrelClient({ metaServers: [ready.meta], timeoutMs: 10_000 });
    try {
      const info = await client.admin.tableInfo('temp');
      assert.is(info.partitionCount, 8);
      assert.ok(info.partitions.every((p) => p.primary !== null && p.secondaries.length === 2), 'temp is healthy');
      const temp = await client.openTable('temp');
      await temp.set('hello', 'world', '!');
      assert.is((await temp.get('hello', 'world'))?.toString(), '!');
    } finally {
      await client.close();
    }
    const exited = new Promise<number | null>((resolve) => onebox.once('exit', (code) => resolve(code)));
    onebox.kill('SIGINT');
    assert.is(await exited, 0);
    const deadline = Date.now() + 10_000;
    while (ready.servers.some((server) => alive(server.pid))) {
      if (Date.now() > deadline) throw new Error('servers still running after onebox stopped');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    if (onebox.exitCode === null) onebox.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

test('npm start (node --import tsx main.ts onebox) starts, serves the table temp, and SIGINT stops every process', () => oneboxServesAndStops(['--import', 'tsx', MAIN]));

test('npx petrel onebox (bin/petrel.js) does the same: its children get the TypeScript loader', () => oneboxServesAndStops([BIN]));

test.run();
