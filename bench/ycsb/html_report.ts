/**
 * The self-contained HTML report: one file, no scripts, no external assets — tables, and plots
 * drawn as inline SVG from the results JSON alone:
 *
 *   - throughput per workload, one bar per system;
 *   - latency by percentile per workload, one line per system (x: "nines", 90% / 99% / 99.9% /
 *     99.99% evenly spaced, then max; y: ms, logarithmic so Redis's and etcd's scales both show);
 *   - throughput over time per workload, one line per system;
 * and, per phase, the operations' latencies, the CPU split, and (with --profile) where the
 * profiled server's main thread spent its time.
 */
import { describeServerLatencies } from './server_metrics.js';
import type { ProfileSummary } from './profile.js';
import { type PhaseResult, runName } from './results.js';
import type { SystemRun } from './runner.js';
import { describeProbes, describeSloRate } from './slo_search.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const WIDTH = 520;
const HEIGHT = 260;
const MARGIN = { left: 58, right: 12, top: 28, bottom: 40 };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function format(value: number | null | undefined, digits = 3): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(digits);
}

interface Series {
  name: string;
  color: string;
  points: [number, number][];
}

interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  xTicks?: [number, string][];
  logY?: boolean;
}

function niceTicks(min: number, max: number, count: number): number[] {
  const span = max - min || 1;
  const step = 10 ** Math.floor(Math.log10(span / count));
  const multiplier = [1, 2, 5, 10].find((m) => span / (m * step) <= count) ?? 10;
  const tick = multiplier * step;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / tick) * tick; v <= max + tick * 1e-9; v += tick) ticks.push(Math.round(v / tick) * tick);
  return ticks;
}

function linePlot(options: PlotOptions): string {
  const points = options.series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  if (points.length === 0) return '';
  const xs = points.map(([x]) => x);
  const ys = points.map(([, y]) => (options.logY ? Math.max(y, 1e-3) : y));
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  const transformY = (y: number) => (options.logY ? Math.log10(Math.max(y, 1e-3)) : y);
  let yMin = options.logY ? Math.floor(Math.log10(Math.min(...ys))) : 0;
  let yMax = options.logY ? Math.ceil(Math.log10(Math.max(...ys))) : Math.max(...ys) * 1.05;
  if (yMax <= yMin) yMax = yMin + 1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin || 1)) * plotWidth;
  const py = (y: number) => MARGIN.top + plotHeight - ((transformY(y) - yMin) / (yMax - yMin)) * plotHeight;
  const parts: string[] = [];
  parts.push(`<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeHtml(options.title)}</text>`);
  const yTicks = options.logY ? Array.from({ length: yMax - yMin + 1 }, (_, i) => 10 ** (yMin + i)) : niceTicks(yMin, yMax, 5);
  for (const tick of yTicks) {
    const y = py(tick);
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 4}" y="${y + 4}" text-anchor="end">${format(tick, 2)}</text>`);
  }
  const xTicks = options.xTicks ?? niceTicks(xMin, xMax, 6).map((x): [number, string] => [x, format(x, 2)]);
  for (const [tick, label] of xTicks) {
    const x = px(tick);
    parts.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotHeight}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${MARGIN.top + plotHeight + 14}" text-anchor="middle">${escapeHtml(label)}</text>`);
  }
  parts.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#888"/>`);
  parts.push(`<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 6}" text-anchor="middle">${escapeHtml(options.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(options.yLabel)}</text>`);
  options.series.forEach((series, i) => {
    const path = series.points.filter(([, y]) => Number.isFinite(y)).map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${series.color}" stroke-width="2" points="${path}"/>`);
    parts.push(`<rect x="${MARGIN.left + 8}" y="${MARGIN.top + 6 + i * 15}" width="10" height="10" fill="${series.color}"/>`);
    parts.push(`<text x="${MARGIN.left + 22}" y="${MARGIN.top + 15 + i * 15}">${escapeHtml(series.name)}</text>`);
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`;
}

function barChart(title: string, groups: string[], systems: string[], value: (group: string, system: string) => number | null): string {
  const values = groups.flatMap((g) => systems.map((s) => value(g, s) ?? 0));
  const maxValue = Math.max(...values, 1);
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const groupWidth = plotWidth / Math.max(groups.length, 1);
  const barWidth = (groupWidth * 0.8) / Math.max(systems.length, 1);
  const parts: string[] = [`<text x="${WIDTH / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeHtml(title)}</text>`];
  for (const tick of niceTicks(0, maxValue, 5)) {
    const y = MARGIN.top + plotHeight - (tick / maxValue) * plotHeight;
    parts.push(`<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    parts.push(`<text x="${MARGIN.left - 4}" y="${y + 4}" text-anchor="end">${format(tick, 2)}</text>`);
  }
  groups.forEach((group, g) => {
    systems.forEach((system, s) => {
      const v = value(group, system);
      if (v === null) return;
      const h = (v / maxValue) * plotHeight;
      const x = MARGIN.left + g * groupWidth + groupWidth * 0.1 + s * barWidth;
      parts.push(`<rect x="${x}" y="${MARGIN.top + plotHeight - h}" width="${barWidth - 1}" height="${h}" fill="${COLORS[s % COLORS.length]}"><title>${escapeHtml(`${system} ${group}: ${format(v)} ops/s`)}</title></rect>`);
    });
    parts.push(`<text x="${MARGIN.left + g * groupWidth + groupWidth / 2}" y="${MARGIN.top + plotHeight + 14}" text-anchor="middle">${escapeHtml(group)}</text>`);
  });
  systems.forEach((system, s) => {
    parts.push(`<rect x="${WIDTH - MARGIN.right - 90}" y="${MARGIN.top + 6 + s * 15}" width="10" height="10" fill="${COLORS[s % COLORS.length]}"/>`);
    parts.push(`<text x="${WIDTH - MARGIN.right - 76}" y="${MARGIN.top + 15 + s * 15}">${escapeHtml(system)}</text>`);
  });
  parts.push(`<text transform="translate(14 ${MARGIN.top + plotHeight / 2}) rotate(-90)" text-anchor="middle">ops/s</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" font-family="sans-serif" font-size="11">${parts.join('')}</svg>`;
}

/** "Nines" position of a percentile: 90 → 1, 99 → 2, 99.9 → 3; 100 (max) one step past 99.99. */
function nines(percentile: number): number {
  return percentile >= 100 ? 4.5 : Math.min(4, -Math.log10(1 - percentile / 100));
}

const NINES_TICKS: [number, string][] = [
  [0, '0%'],
  [1, '90%'],
  [2, '99%'],
  [3, '99.9%'],
  [4, '99.99%'],
  [4.5, 'max'],
];

/**
 * Each phase of a run, labelled so that the same label means the same run on every system: a
 * workload named again is C#2, C#3 (as bench/cluster.ts prints them); a throttled run after a
 * full-speed one is that run's label "at a fraction of peak" (each system's own rate, shown in its
 * heading); a throttled run with no full-speed run before it (a fixed --target, the same rate for
 * every system) is labelled with its rate.
 */
function labelPhases(run: SystemRun): Map<string, PhaseResult> {
  const labels = new Map<string, PhaseResult>();
  const fullSpeedRuns = new Map<string, number>();
  const throttledRuns = new Map<string, number>();
  const lastFullSpeed = new Map<string, string>();
  for (const phase of run.phases) {
    const { workload } = phase;
    if (phase.sloProbe) continue; // in the p99 search's own section (sloSection)
    if (phase.targetOpsPerSec === null) {
      const nth = (fullSpeedRuns.get(workload) ?? 0) + 1;
      fullSpeedRuns.set(workload, nth);
      const label = runName(workload, nth);
      lastFullSpeed.set(workload, label);
      labels.set(label, phase);
    } else {
      const after = lastFullSpeed.get(workload);
      if (after !== undefined) {
        labels.set(`${after} at a fraction of peak`, phase);
        lastFullSpeed.delete(workload);
      } else {
        const nth = (throttledRuns.get(workload) ?? 0) + 1;
        throttledRuns.set(workload, nth);
        labels.set(`${runName(workload, nth)} @ ${format(phase.targetOpsPerSec)}/s`, phase);
      }
    }
  }
  return labels;
}

function phaseTable(phase: PhaseResult): string {
  const rows = Object.entries(phase.perOperation).map(
    ([operation, s]) =>
      `<tr><td>${operation}</td><td>${format(s.count)}</td><td>${format(s.opsPerSec)}</td><td>${format(s.meanMs)}</td><td>${format(s.p50Ms)}</td><td>${format(s.p95Ms)}</td><td>${format(s.p99Ms)}</td><td>${format(s.p999Ms)}</td><td>${format(s.maxMs)}</td><td>${s.errors}</td><td>${s.notFound}</td></tr>`,
  );
  return `<table><tr><th>operation</th><th>count</th><th>ops/s</th><th>mean ms</th><th>p50</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th><th>errors</th><th>not found</th></tr>${rows.join('')}</table>`;
}

function profileSection(profile: ProfileSummary): string {
  const rows = (list: ProfileSummary['topSelf']) => list.map((f) => `<tr><td>${escapeHtml(f.function)}</td><td>${f.selfPct}</td><td>${f.totalPct}</td></tr>`).join('');
  return [
    `<p>Profiled server, main thread: busy ${profile.busyPct}% of ${profile.samples} samples; self time by area: ${escapeHtml(profile.byArea.map((a) => `${a.area} ${a.selfPct}%`).join(', '))}</p>`,
    `<table><tr><th>top functions by self time</th><th>self %</th><th>total %</th></tr>${rows(profile.topSelf)}</table>`,
    `<table><tr><th>Petrel functions by total time</th><th>self %</th><th>total %</th></tr>${rows(profile.topTotal)}</table>`,
  ].join('\n');
}

/** With --slo-p99: each system's highest rate under the p99 bound, per workload, with every probe. */
function sloSection(ran: SystemRun[]): string[] {
  const workloads = [...new Set(ran.flatMap((run) => Object.keys(run.slo)))];
  if (workloads.length === 0) return [];
  const bound = ran.flatMap((run) => Object.values(run.slo))[0]!.p99BoundMs;
  const systems = ran.map((run) => run.system);
  const body: string[] = [];
  body.push(`<h2>Throughput with p99 ≤ ${format(bound)} ms</h2>`);
  body.push(
    `<p>After each full-speed run the bench ran the workload again at fixed rates, halving from half the peak until the p99 (from due) was at most ${format(bound)} ms with no errors and the clients keeping up, then bisecting; the highest rate that met it, and every probe (✓ met, ✗ not).</p>`,
  );
  body.push('<table><tr><th>workload</th><th>system</th><th>ops/s with p99 ≤ bound</th><th>of its peak</th><th>p99 there, ms</th><th>probes: target ops/s:p99 ms</th></tr>');
  for (const workload of workloads) {
    for (const run of ran) {
      const outcome = run.slo[workload];
      if (outcome === undefined) continue;
      const probes = describeProbes(outcome.probes, format);
      const fraction = outcome.fractionOfPeak === null ? '–' : `${Math.round(outcome.fractionOfPeak * 100)}%`;
      body.push(`<tr><td>${escapeHtml(workload)}</td><td>${escapeHtml(run.system)}</td><td>${escapeHtml(describeSloRate(outcome, format))}</td><td>${fraction}</td><td>${format(outcome.p99Ms)}</td><td>${escapeHtml(probes)}</td></tr>`);
    }
  }
  body.push('</table>');
  const bySystem = new Map(ran.map((run) => [run.system, run.slo]));
  body.push(barChart(`Throughput with p99 ≤ ${format(bound)} ms`, workloads, systems, (w, s) => bySystem.get(s)?.[w]?.opsPerSec ?? null));
  return body;
}

export function htmlReport(title: string, meta: Record<string, unknown>, runs: SystemRun[]): string {
  const ran = runs.filter((run) => run.status === 'ran' || run.phases.length > 0);
  const systems = ran.map((run) => run.system);
  const labelled = new Map(ran.map((run) => [run.system, labelPhases(run)]));
  const labels = [...new Set([...labelled.values()].flatMap((byLabel) => [...byLabel.keys()]))];
  const find = (system: string, label: string) => labelled.get(system)?.get(label);
  // Full-speed runs, by label (C, C#2, …): the ratios and the throughput chart.
  const fullSpeedLabels = labels.filter((label) => ran.some((run) => find(run.system, label)?.targetOpsPerSec === null));
  const peakOf = (system: string, label: string) => {
    const phase = find(system, label);
    return phase?.targetOpsPerSec === null ? phase : undefined;
  };
  const body: string[] = [];
  body.push(`<h1>${escapeHtml(title)}</h1>`);
  body.push(`<pre>${escapeHtml(JSON.stringify(meta, null, 2))}</pre>`);
  body.push('<h2>Systems</h2><ul>');
  for (const run of runs) body.push(`<li><b>${escapeHtml(run.system)}</b>: ${escapeHtml(run.status)}${run.description ? ` — ${escapeHtml(run.description)}` : ''}${run.reason ? ` — ${escapeHtml(run.reason)}` : ''}</li>`);
  body.push('</ul>');
  body.push('<h2>Summary</h2><table><tr><th>workload</th>');
  for (const system of systems) body.push(`<th>${escapeHtml(system)} ops/s</th><th>p50 ms</th><th>p99 ms</th><th>p99.9 ms</th>`);
  body.push('</tr>');
  for (const label of labels) {
    body.push(`<tr><td>${escapeHtml(label)}</td>`);
    for (const system of systems) {
      const p = find(system, label);
      body.push(`<td>${format(p?.opsPerSec)}</td><td>${format(p?.overall.p50Ms)}</td><td>${format(p?.overall.p99Ms)}</td><td>${format(p?.overall.p999Ms)}</td>`);
    }
    body.push('</tr>');
  }
  body.push('</table>');
  const petrel = systems.includes('petrel') ? 'petrel' : null;
  const peers = systems.filter((system) => system !== 'petrel');
  if (petrel !== null && peers.length > 0) {
    body.push(`<h2>Petrel ops/s ÷ peer ops/s</h2><table><tr><th>workload</th>${peers.map((peer) => `<th>${escapeHtml(peer)}</th>`).join('')}</tr>`);
    for (const workload of fullSpeedLabels) {
      const own = peakOf(petrel, workload)?.opsPerSec;
      const cells = peers.map((peer) => {
        const theirs = peakOf(peer, workload)?.opsPerSec;
        return `<td>${own !== undefined && theirs !== undefined && theirs > 0 ? `${(own / theirs).toFixed(2)}×` : '–'}</td>`;
      });
      body.push(`<tr><td>${escapeHtml(workload)}</td>${cells.join('')}</tr>`);
    }
    body.push('</table>');
  }
  body.push(barChart('Throughput at full speed', fullSpeedLabels, systems, (w, s) => peakOf(s, w)?.opsPerSec ?? null));
  body.push(...sloSection(ran));
  for (const label of labels) {
    body.push(`<h2>Workload ${escapeHtml(label)}</h2>`);
    const series = (pick: (p: PhaseResult) => [number, number][]) =>
      systems.flatMap((system, i): Series[] => {
        const p = find(system, label);
        return p ? [{ name: system, color: COLORS[i % COLORS.length]!, points: pick(p) }] : [];
      });
    body.push(
      linePlot({
        title: `${label}: latency by percentile (all operations)`,
        xLabel: 'percentile',
        yLabel: 'latency, ms (log)',
        logY: true,
        xTicks: NINES_TICKS,
        series: series((p) => (p.curves.all ?? []).map(([q, ms]) => [nines(q), ms])),
      }),
    );
    body.push(linePlot({ title: `${label}: throughput over time`, xLabel: 'seconds', yLabel: 'ops/s', series: series((p) => p.timeline) }));
    body.push(linePlot({ title: `${label}: slowest operation in each second`, xLabel: 'seconds', yLabel: 'ms (log)', logY: true, series: series((p) => (p.overTarget?.seconds ?? []).map(([t, , maxMs]) => [t, maxMs])) }));
    for (const system of systems) {
      const p = find(system, label);
      if (!p) continue;
      const byServer = Object.entries(p.serverCpuPctByProcess).map(([name, pct]) => `${name} ${pct}%`).join(', ');
      const target = p.targetOpsPerSec === null ? '' : ` (target ${format(p.targetOpsPerSec)}/s)`;
      body.push(`<h3>${escapeHtml(system)}: ${format(p.opsPerSec)} ops/s${target} over ${p.durationSec} s, ${p.clients} clients × ${p.inFlightPerClient} in flight${p.recordsPerScan === null ? '' : `; ${format(p.recordsPerScan)} records per scan`}</h3>`);
      body.push(`<p>CPU in % of one core: clients ${p.clientCpuPct}%, servers ${p.serverCpuPct ?? '–'}%${byServer === '' ? '' : ` (${escapeHtml(byServer)})`}, whole machine ${p.machineCpuPct ?? '–'}%; load average ${p.loadAverage[0]} → ${p.loadAverage[1]}</p>`);
      if (p.overTarget !== null) {
        const share = p.overTarget.worstTenthShare === null ? '' : `; the worst tenth of the seconds holds ${Math.round(p.overTarget.worstTenthShare * 100)}% of them (10% if spread evenly)`;
        body.push(`<p>Operations over ${p.overTarget.thresholdMs} ms from due: ${p.overTarget.pct}%${share}</p>`);
      }
      const waits = Object.entries(p.serverWaitPctByProcess).map(([name, pct]) => `${name} ${pct}%`).join(', ');
      if (waits !== '') body.push(`<p>Server main threads ready to run but waiting for a core, in % of the phase: ${escapeHtml(waits)}</p>`);
      const gc = Object.entries(p.serverGcByProcess).map(([name, g]) => `${name} ${g.pausePct}% (${g.pauses} pauses, ${g.major} major, ${g.over20Ms} over 20 ms)`).join(', ');
      if (gc !== '') body.push(`<p>Server main threads' garbage-collection pauses, in % of the phase: ${escapeHtml(gc)}</p>`);
      for (const [name, l] of Object.entries(p.serverLatencyByProcess)) {
        const figures = describeServerLatencies(l, p.durationSec).map(([what, text]) => `${what} ${text}`);
        body.push(`<p>Inside ${escapeHtml(name)} (ms, p99 as a bucket bound): ${escapeHtml(figures.join('; '))}${l.lsmStallMs === null ? '' : `; LSM write stalls ${Math.round(l.lsmStallMs)} ms`}${l.eventLoopDelayMs === null ? '' : `; event-loop delay over the last 10 s p99 ${l.eventLoopDelayMs.p99} ms, max ${l.eventLoopDelayMs.max} ms`}</p>`);
      }
      if (p.syscalls !== null) body.push(`<p>System calls of the servers in the phase (perf): ${escapeHtml(Object.entries(p.syscalls).map(([name, count]) => `${name} ${format(count / p.durationSec)}/s`).join(', '))}</p>`);
      body.push(phaseTable(p));
      if (p.profile !== null) body.push(profileSection(p.profile));
    }
  }
  const style = 'body{font-family:sans-serif;margin:24px;max-width:1100px}table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}svg{margin:8px 8px 8px 0}pre{background:#f6f6f6;padding:8px;font-size:12px}';
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${style}</style></head><body>${body.join('\n')}</body></html>\n`;
}
