/**
 * bench/wal.ts — the write-ahead log against the disk's own floor, in one run, on one disk.
 *
 *   (a) raw: one write + fdatasync per 100-byte record through node:fs (synchronous calls, so no
 *       thread-pool hop is counted against the floor);
 *   (b) the log in `fsync` mode with 1, 8, 64 and 256 concurrent appenders of 100-byte records
 *       (each appender awaits its append, then appends again), with preallocation on (the default)
 *       and, at 64 appenders, off;
 *   (c) the log in `os` mode (no fsync) with 256, 64 and 1 appenders vs raw fs.writeSync of the
 *       same 100-byte records one call each (osWriteRatio uses 256 appenders), and vs raw
 *       fs.writeSync of the same bytes in 1 MiB chunks — in MB/s of payload (the log also writes
 *       17 bytes of framing per record, which counts against it).
 *
 *   npm run bench:wal [-- --quick]
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { nodeVfs } from '@petrel/base';
import { type Durability, Wal } from '@petrel/wal';
import { quick, report, round, table } from './lib/report.js';

const RECORD_BYTES = 100;
const seconds = quick ? 0.8 : 3;
const root = join(import.meta.dirname, '..', '.tmp', `bench-wal-${process.pid}`);
mkdirSync(root, { recursive: true });
const payload = Buffer.alloc(RECORD_BYTES, 0x61);

function rawFsyncPerRecord(): number {
  const path = join(root, 'raw-fsync');
  const fd = openSync(path, 'w');
  let count = 0;
  let position = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    writeSync(fd, payload, 0, RECORD_BYTES, position);
    fdatasyncSync(fd);
    position += RECORD_BYTES;
    count++;
  }
  const elapsed = (performance.now() - started) / 1000;
  closeSync(fd);
  return count / elapsed;
}

/** MB/s of raw fs.writeSync calls of `chunkBytes` each, over a file kept under 512 MiB. */
function rawWriteMBps(chunkBytes: number): number {
  const fd = openSync(join(root, `raw-write-${chunkBytes}`), 'w');
  const chunk = Buffer.alloc(chunkBytes, 0x61);
  const wrap = 512 * 2 ** 20;
  const callsPerCheck = Math.max(1, Math.floor(2 ** 20 / chunkBytes));
  let bytes = 0;
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    for (let i = 0; i < callsPerCheck; i++) {
      writeSync(fd, chunk, 0, chunkBytes, bytes % wrap);
      bytes += chunkBytes;
    }
  }
  const elapsed = (performance.now() - started) / 1000;
  closeSync(fd);
  return bytes / 2 ** 20 / elapsed;
}

async function logRun(durability: Durability, appenders: number, preallocate: boolean): Promise<{ perSec: number; syncs: number; mbPerSec: number }> {
  const dir = join(root, `wal-${durability}-${appenders}-${preallocate}`);
  const wal = await Wal.open({ vfs: nodeVfs, dir, durability, preallocate, segmentSizeBytes: 64 * 2 ** 20 });
  let index = 0;
  let done = 0;
  // A timer ends the run, so that appenders do not read the clock once per append.
  let running = true;
  const timer = setTimeout(() => (running = false), seconds * 1000);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: appenders }, async () => {
      while (running) {
        await wal.append({ index: ++index, data: payload });
        done++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  clearTimeout(timer);
  const { syncs } = wal.stats();
  await wal.close();
  await nodeVfs.removeTree(dir);
  return { perSec: done / elapsed, syncs, mbPerSec: (done * RECORD_BYTES) / 2 ** 20 / elapsed };
}

console.log(`bench:wal — ${RECORD_BYTES}-byte records, ${seconds}s per run, in ${root}`);
const rawFsyncPerSec = rawFsyncPerRecord();
const rows: (string | number)[][] = [['raw write+fdatasync per record', 1, rawFsyncPerSec, 1, '-']];
const durable: Record<string, number> = {};
for (const appenders of [1, 8, 64, 256]) {
  const run = await logRun('fsync', appenders, true);
  durable[appenders] = run.perSec;
  rows.push([`log fsync, ${appenders} appenders`, appenders, run.perSec, run.perSec / rawFsyncPerSec, run.syncs]);
}
const unallocated = await logRun('fsync', 64, false);
rows.push(['log fsync, 64 appenders, no preallocation', 64, unallocated.perSec, unallocated.perSec / rawFsyncPerSec, unallocated.syncs]);
console.log(table(['durable appends', 'in flight', 'records/s', 'vs raw', 'fsyncs'], rows));

const rawPerRecordMBps = rawWriteMBps(RECORD_BYTES);
const rawChunkMBps = rawWriteMBps(2 ** 20);
const os256 = await logRun('os', 256, false);
const os64 = await logRun('os', 64, false);
const os1 = await logRun('os', 1, false);
console.log();
console.log(
  table(
    ['os mode (no fsync)', 'MB/s payload', 'log / this'],
    [
      ['raw writeSync per 100-byte record', rawPerRecordMBps, os256.mbPerSec / rawPerRecordMBps],
      ['raw writeSync in 1 MiB chunks', rawChunkMBps, os256.mbPerSec / rawChunkMBps],
      ['log os mode, 256 appenders', os256.mbPerSec, 1],
      ['log os mode, 64 appenders', os64.mbPerSec, os64.mbPerSec / os256.mbPerSec],
      ['log os mode, 1 appender', os1.mbPerSec, os1.mbPerSec / os256.mbPerSec],
    ],
  ),
);
rmSync(root, { recursive: true, force: true });

const figures = {
  recordBytes: RECORD_BYTES,
  secondsPerRun: seconds,
  rawFsyncPerSec: round(rawFsyncPerSec, 1),
  durablePerSec1: round(durable[1]!, 1),
  durablePerSec8: round(durable[8]!, 1),
  durablePerSec64: round(durable[64]!, 1),
  durablePerSec256: round(durable[256]!, 1),
  durablePerSec64NoPreallocate: round(unallocated.perSec, 1),
  groupCommitRatio64: round(durable[64]! / rawFsyncPerSec),
  preallocateRatio64: round(durable[64]! / unallocated.perSec),
  osWriteMBps256: round(os256.mbPerSec, 2),
  osWriteMBps64: round(os64.mbPerSec, 2),
  osWriteMBps1: round(os1.mbPerSec, 2),
  rawWritePerRecordMBps: round(rawPerRecordMBps, 2),
  rawWriteChunkMBps: round(rawChunkMBps, 2),
  // The log's os-mode throughput (256 appenders) over raw writeSync of the same 100-byte records.
  osWriteRatio: round(os256.mbPerSec / rawPerRecordMBps),
  osWriteRatio64: round(os64.mbPerSec / rawPerRecordMBps),
  osWriteRatioVsChunked: round(os256.mbPerSec / rawChunkMBps),
};
report('wal', figures);
