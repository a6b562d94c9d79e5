/**
 * The runner end to end against the in-process system (real client worker processes, no
 * server), the merged results and the HTML report; and the CPU profile reader on a profile built
 * by hand.
 *
 *   node --import tsx bench/ycsb/runner.test.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { htmlReport } from './html_report.js';
import { defaultRunOptions } from './options.js';
import { areaOf, type CpuProfile, summarizeProfile } from './profile.js';
import { Histogram } from './histogram.js';
import { mergePhase, type PhaseContext } from './results.js';
import { runSystem } from './runner.js';
import type { PhaseReport } from './worker_protocol.js';

test('a run against the in-process system loads, runs each workload and its 50% rerun, and reports', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'ycsb-runner-test-'));
  try {
    const options = { ...defaultRunOptions(true), workloads: ['A', 'E'], recordCount: 300, durationSec: 0, operationCount: 2000, clients: 2, inFlight: 4, fractionOfPeak: 0.5, dataRoot, progress: false };
    const lines: string[] = [];
    const run = await runSystem('memory', options, (line) => lines.push(line));
    assert.is(run.status, 'ran', run.reason ?? '');
    assert.is(run.load?.operations, 300);
    assert.is(run.load?.errors, 0);
    assert.is(run.phases.length, 4, 'A, A at 50%, E, E at 50%');
    const [a, aHalf, e] = run.phases;
    assert.is(a!.workload, 'A');
    assert.is(a!.targetOpsPerSec, null);
    assert.is(a!.operations, 2000);
    assert.ok(Math.abs(a!.perOperation.read!.count - 1000) < 150, `reads ${a!.perOperation.read!.count}`);
    assert.ok(a!.overall.p50Ms <= a!.overall.p99Ms && a!.overall.p99Ms <= a!.overall.maxMs);
    assert.ok(aHalf!.targetOpsPerSec !== null && Math.abs(aHalf!.targetOpsPerSec - a!.opsPerSec / 2) < 1e-6);
    assert.ok(aHalf!.opsPerSec <= aHalf!.targetOpsPerSec * 1.1, `throttled to ${aHalf!.targetOpsPerSec}, ran ${aHalf!.opsPerSec}`);
    assert.ok(e!.perOperation.scan !== undefined && e!.perOperation.insert !== undefined);
    assert.ok(e!.recordsPerScan !== null && e!.recordsPerScan > 0);
    assert.ok(a!.curves.all!.length > 0);
    assert.is(run.load?.overTarget, null, 'the load phase keeps no windows');
    const seconds = a!.overTarget?.seconds ?? [];
    assert.ok(seconds.length > 0, 'the run phase has its seconds');
    assert.ok(seconds.every(([, pct]) => pct >= 0 && pct <= 100));
    const slowest = Math.max(...seconds.map(([, , maxMs]) => maxMs));
    assert.ok(Math.abs(slowest - a!.overall.maxMs) <= 0.02 * a!.overall.maxMs + 0.02, `windows' slowest ${slowest} ms, histogram's ${a!.overall.maxMs} ms`);
    const html = htmlReport('test', { options }, [run]);
    assert.ok(html.startsWith('<!doctype html>') && html.includes('<svg') && html.includes('latency by percentile'));
    assert.not.ok(/<script|https?:\/\/(?!www\.w3\.org)/.test(html), 'self-contained: no scripts, no external assets');
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});

test('a workload named twice gets its own sections and ratios in the HTML report (C, C#2)', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'ycsb-runner-test-'));
  try {
    const options = { ...defaultRunOptions(true), workloads: ['C', 'C'], recordCount: 200, durationSec: 0, operationCount: 600, clients: 1, inFlight: 4, fractionOfPeak: 0.5, dataRoot, progress: false };
    const run = await runSystem('memory', options, () => {});
    assert.is(run.status, 'ran', run.reason ?? '');
    assert.equal(
      run.phases.map((phase) => [phase.workload, phase.targetOpsPerSec === null]),
      [['C', true], ['C', false], ['C', true], ['C', false]],
    );
    // The same run under two names, so that the report has a Petrel / peer ratio table.
    const asPetrel = { ...run, system: 'petrel' };
    const html = htmlReport('test', { options }, [asPetrel, run]);
    for (const label of ['C', 'C at a fraction of peak', 'C#2', 'C#2 at a fraction of peak']) {
      assert.ok(html.includes(`<h2>Workload ${label}</h2>`), `a section for ${label}`);
    }
    const ratios = html.slice(html.indexOf('Petrel ops/s ÷ peer ops/s'));
    assert.match(ratios, /<tr><td>C<\/td><td>1\.00×<\/td><\/tr>/);
    assert.match(ratios, /<tr><td>C#2<\/td><td>1\.00×<\/td><\/tr>/);
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});

test('--slo-p99: the 50% rerun is the first probe, the search runs more, and the outcome is the highest rate that met the bound', async () => {
  const dataRoot = mkdtempSync(join(tmpdir(), 'ycsb-runner-test-'));
  try {
    // In-process Map: every probe's p99 is far under 1 s, so each meets and the search bisects up
    // towards the peak until it is within 1.2× of it (50% → 71% → 84%).
    const options = { ...defaultRunOptions(true), workloads: ['C'], recordCount: 200, durationSec: 0, operationCount: 600, clients: 1, inFlight: 4, fractionOfPeak: 0.5, sloP99Ms: 1000, dataRoot, progress: false };
    const run = await runSystem('memory', options, () => {});
    assert.is(run.status, 'ran', run.reason ?? '');
    const [peak, half, ...probes] = run.phases;
    assert.ok(peak!.targetOpsPerSec === null && !half!.sloProbe && probes.length > 0 && probes.every((phase) => phase.sloProbe));
    const outcome = run.slo.C!;
    assert.ok(outcome !== undefined, 'an outcome for C');
    assert.is(outcome.probes.length, 1 + probes.length);
    assert.is(outcome.probes[0]!.targetOpsPerSec, half!.targetOpsPerSec);
    const met = outcome.probes.filter((probe) => probe.met);
    // The clients may fall behind a rate near the peak (a probe not met); those that met bound the outcome.
    assert.ok(met.length > 0);
    assert.is(outcome.targetOpsPerSec, Math.max(...met.map((probe) => probe.targetOpsPerSec)));
    // The 50% probe is probes[0]. When it met, the next probe went above it (whether that one met
    // depends on whether one client keeps up near its peak); when it did not, below.
    const [first, second] = outcome.probes;
    assert.ok(second !== undefined && (first!.met ? second.targetOpsPerSec > first!.targetOpsPerSec : second.targetOpsPerSec < first!.targetOpsPerSec), 'bisected from the 50% probe');
    const html = htmlReport('test', { options }, [run]);
    assert.ok(html.includes('Throughput with p99 ≤ 1,000 ms'));
    assert.not.ok(html.includes('(p99 search)'), 'probes stay out of the per-workload sections');
  } finally {
    rmSync(dataRoot, { recursive: true, force: true });
  }
});

test('merging the workers\' seconds: the share over the target, and how much of it the worst tenth of the seconds holds', () => {
  const report = (windows: PhaseReport['windows']): PhaseReport => {
    const histogram = new Histogram();
    for (const [, ops] of windows) histogram.record(1e6, ops);
    return { startedEpochMs: 1_000_000, endedEpochMs: 1_020_000, operations: { read: { histogram: histogram.snapshot(), service: null, errors: 0, notFound: 0, records: 0 } }, windows, cpuMs: 0, errorSamples: [] };
  };
  const context: PhaseContext = { system: 'x', workload: 'A', distribution: 'zipfian', targetOpsPerSec: 100, clients: 2, inFlightPerClient: 1, timeline: [], machineCpuPct: null, loadAverage: [0, 0], monotonicUs: [0, 0], syscalls: null, serverCpuPctByProcess: null };
  // Twenty seconds of 100 operations each over two workers; 30 slow ones in second 1005, and one
  // in each of the ten even seconds.
  const first: PhaseReport['windows'] = [];
  const second: PhaseReport['windows'] = [];
  for (let s = 1000; s < 1020; s++) {
    first.push([s, 50, s === 1005 ? 20 : 0, s === 1005 ? 90 : 5]);
    second.push([s, 50, s === 1005 ? 10 : s % 2 === 0 ? 1 : 0, s === 1005 ? 70 : 25]);
  }
  const merged = mergePhase(context, [report(first), report(second)]).overTarget;
  assert.ok(merged !== null);
  assert.is(merged.thresholdMs, 20);
  assert.is(merged.pct, 2, '40 of 2,000 operations');
  // The worst tenth is 2 of 20 seconds: 1005 (30) and one of the even seconds (1): 31 of 40.
  assert.is(merged.worstTenthShare, 0.775);
  assert.equal(merged.seconds[5], [6, 30, 90], 'second 1005 ends 6 s after the start: 30% over, slowest 90 ms');
  assert.equal(merged.seconds[0], [1, 1, 25]);
});

test('an unknown system is refused and a missing binary is skipped with a reason', async () => {
  const refused = await runSystem('mongo', defaultRunOptions(true), () => {}).then(
    () => null,
    (error: unknown) => error,
  );
  assert.match(String(refused), /unknown system mongo/);
  const saved = process.env.REDIS_SERVER;
  process.env.REDIS_SERVER = '/nonexistent/redis-server';
  try {
    const lines: string[] = [];
    const run = await runSystem('redis', defaultRunOptions(true), (line) => lines.push(line));
    assert.is(run.status, 'skipped');
    assert.match(run.reason ?? '', /redis-server not found/);
    assert.match(lines.join('\n'), /skipping redis/);
  } finally {
    if (saved === undefined) delete process.env.REDIS_SERVER;
    else process.env.REDIS_SERVER = saved;
  }
});

test('the profile reader counts only the window, self and total time, and areas', () => {
  const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9, columnNumber: 0 });
  // root → serve (replica) → encode (protocol) ; root → (idle) ; root → (garbage collector)
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 4, 5] },
      { id: 2, callFrame: frame('serve', 'file:///r/packages/replica/src/server.ts'), children: [3] },
      { id: 3, callFrame: frame('encode', 'file:///r/packages/protocol/src/codec.ts') },
      { id: 4, callFrame: frame('(idle)', '') },
      { id: 5, callFrame: frame('(garbage collector)', '') },
    ],
    startTime: 1000,
    endTime: 2000,
    // at 1100 1200 … 2000
    samples: [3, 3, 2, 4, 4, 5, 3, 4, 2, 3],
    timeDeltas: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100],
  };
  const whole = summarizeProfile(profile, null, null);
  assert.is(whole.samples, 10);
  assert.is(whole.busyPct, 70);
  assert.equal(whole.topSelf[0], { function: 'encode (packages/protocol/src/codec.ts:10)', selfPct: 40, totalPct: 40 });
  assert.equal(whole.topTotal[0], { function: 'serve (packages/replica/src/server.ts:10)', selfPct: 20, totalPct: 60 });
  assert.ok(whole.byArea.some((a) => a.area === '@petrel/protocol' && a.selfPct === 40));
  // 1100..1300: encode, encode, serve
  const window = summarizeProfile(profile, 1100, 1300);
  assert.is(window.samples, 3);
  assert.is(window.busyPct, 100);
  assert.is(window.sampledMs, 0);
  assert.is(areaOf(frame('send', 'file:///r/node_modules/ws/lib/sender.js')), 'ws');
  assert.is(areaOf(frame('x', 'file:///r/node_modules/@grpc/grpc-js/a.js')), '@grpc/grpc-js');
  assert.is(areaOf(frame('writev', '')), '(native)');
  assert.is(areaOf(frame('emit', 'node:events')), 'node internals');
});

test.run();
