/**
 * The shell's operations commands against a live cluster (servers in this process, the shell as a
 * real process with -e): get/set_meta_level, manual_compact, set_replica_count.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initChecksum } from '@petrel/base';
import { PetrelClient } from '@petrel/client';
import { MetaServer } from '@petrel/meta';
import { ReplicaServer } from '@petrel/replica';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const MAIN = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'src', 'main.ts');

test('get/set_meta_level, manual_compact and set_replica_count through the shell', async () => {
  await initChecksum();
  const root = mkdtempSync(join(tmpdir(), 'petrel-shellops-'));
  const logs: string[] = [];
  const log = (line: string): void => void logs.push(line);
  const meta = await MetaServer.start({ listen: '127.0.0.1:0', dataDir: join(root, 'meta'), log });
  const replicas: ReplicaServer[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await ReplicaServer.start({ listen: '127.0.0.1:0', meta: [meta.address], dataDir: join(root, `r${i}`), log }));
  const client = new PetrelClient({ metaServers: [meta.address], timeoutMs: 10_000 });
  const shell = async (commands: string): Promise<{ status: number | null; stdout: string; stderr: string }> => {
    // The servers run in this process: let the shell's requests be answered while it runs.
    const { spawn } = await import('node:child_process');
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'shell', '--meta', meta.address, '-e', commands]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.on('exit', (status) => resolve({ status, stdout, stderr }));
    });
  };

  try {
    await client.admin.createTable('ops', { partitionCount: 2, replicaCount: 3 });
    const level = await shell('get_meta_level');
    assert.is(level.status, 0, level.stderr);
    assert.match(level.stdout, /meta_level\W+lively/, level.stdout);
    const set = await shell('set_meta_level steady; get_meta_level');
    assert.is(set.status, 0, set.stderr);
    assert.match(set.stdout, /meta level set to steady/);
    assert.equal(await client.admin.getMetaLevel(), { level: 'steady', effective: 'steady' });
    const bad = await shell('set_meta_level sleepy');
    assert.is(bad.status, 1);
    await shell('set_meta_level lively');
    const table = await client.openTable('ops');
    for (let i = 0; i < 50; i++) await table.set(`h${i}`, 's', 'v');
    const compact = await shell('use ops; manual_compact');
    assert.is(compact.status, 0, compact.stderr);
    assert.match(compact.stdout, /manual compaction of table ops triggered/);
    const deadline = Date.now() + 15_000;
    while (logs.filter((line) => line.includes('manual compaction of 1.') && line.includes('done')).length < 6) {
      if (Date.now() > deadline) throw new Error('the replicas did not compact');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const resize = await shell('use ops; set_replica_count 2');
    assert.is(resize.status, 0, resize.stderr);
    const shrinkDeadline = Date.now() + 15_000;
    for (;;) {
      const info = await client.admin.tableInfo('ops');
      if (info.partitions.every((p) => p.secondaries.length === 1)) break;
      if (Date.now() > shrinkDeadline) throw new Error(`not shrunk: ${JSON.stringify(info.partitions)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.is((await table.get('h7', 's'))?.toString(), 'v');
  } finally {
    await client.close();
    for (const replica of replicas) await replica.stop();
    await meta.stop();
    rmSync(root, { recursive: true, force: true });
  }
});

test.run();
