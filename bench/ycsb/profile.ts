/**
 * Reads a V8 CPU profile (`node --cpu-prof`, a `.cpuprofile` file) and sums its samples over a
 * time window: where one server process spent its main thread's time during one phase.
 *
 * A profile is a call tree (`nodes`, each a function with its children) plus `samples` — the
 * tree node on top of the stack at each tick — and `timeDeltas` between ticks, in microseconds
 * of the monotonic clock, which is the clock of `process.hrtime` in every process of the
 * machine: the runner notes each phase's start and end on it, and only the samples in between
 * are counted.
 *
 *   self time      samples with the function on top of the stack
 *   total time     samples with the function anywhere on the stack (counted once per sample)
 *   "(idle)"       the main thread waiting for I/O: the share of the window it had nothing to do
 *   "(program)", "(garbage collector)"  V8 and native work outside JS functions
 *
 * Only the main (JS) thread is sampled: the fsyncs of the mutation log and compactions run in
 * libuv's thread pool or worker threads and show here only as the JS that waits for them.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionShare {
  /** `name (file:line)`, the file relative to the repository or a package. */
  function: string;
  /** Percent of the window's samples. */
  selfPct: number;
  totalPct: number;
}

export interface ProfileSummary {
  samples: number;
  /** Milliseconds the window's samples cover. */
  sampledMs: number;
  /** Percent of samples with the main thread busy (not "(idle)"). */
  busyPct: number;
  /** Self time by where the code lives: a Petrel package, node internals, a dependency, V8. */
  byArea: { area: string; selfPct: number }[];
  /** The functions with the most self time. */
  topSelf: FunctionShare[];
  /** The Petrel functions with the most total time (what they and their callees cost). */
  topTotal: FunctionShare[];
}

export function readProfile(path: string): CpuProfile {
  return JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
}

/** Where a function's code lives, for the by-area sums. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (url === '') {
    if (functionName === '(idle)' || functionName === '(garbage collector)' || functionName === '(program)') return functionName;
    return '(native)';
  }
  const petrel = /\/packages\/([a-z]+)\//.exec(url);
  if (petrel !== null) return `@petrel/${petrel[1]}`;
  const dependency = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dependency !== null) return dependency[1]!;
  if (url.startsWith('node:')) return 'node internals';
  return 'other';
}

function shortLocation(url: string): string {
  const petrel = /\/(packages\/.*)$/.exec(url);
  if (petrel !== null) return petrel[1]!;
  const dependency = /\/node_modules\/(.*)$/.exec(url);
  if (dependency !== null) return dependency[1]!;
  return url;
}

function functionKey(frame: CallFrame): string {
  if (frame.url === '') return frame.functionName;
  return `${frame.functionName || '(anonymous)'} (${shortLocation(frame.url)}:${frame.lineNumber + 1})`;
}

/**
 * Sums the samples taken in [fromUs, toUs] (monotonic microseconds; null: the whole profile).
 * `top` bounds the function lists.
 */
export function summarizeProfile(profile: CpuProfile, fromUs: number | null, toUs: number | null, top = 15): ProfileSummary {
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const areas = new Map<string, number>();
  let counted = 0;
  let idle = 0;
  let time = profile.startTime;
  let firstUs = Infinity;
  let lastUs = -Infinity;
  const onStack = new Set<string>();
  for (let i = 0; i < profile.samples.length; i++) {
    time += profile.timeDeltas[i] ?? 0;
    if ((fromUs !== null && time < fromUs) || (toUs !== null && time > toUs)) continue;
    const node = byId.get(profile.samples[i]!);
    if (node === undefined) continue;
    counted++;
    firstUs = Math.min(firstUs, time);
    lastUs = Math.max(lastUs, time);
    const key = functionKey(node.callFrame);
    self.set(key, (self.get(key) ?? 0) + 1);
    const area = areaOf(node.callFrame);
    areas.set(area, (areas.get(area) ?? 0) + 1);
    if (area === '(idle)') idle++;
    onStack.clear();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame;
      if (areaOf(frame).startsWith('@petrel/')) onStack.add(functionKey(frame));
    }
    for (const k of onStack) total.set(k, (total.get(k) ?? 0) + 1);
  }
  const pct = (n: number): number => (counted === 0 ? 0 : Math.round((n / counted) * 1000) / 10);
  const ranked = (map: Map<string, number>): [string, number][] => [...map.entries()].sort((a, b) => b[1] - a[1]);
  return {
    samples: counted,
    sampledMs: counted === 0 ? 0 : Math.round((lastUs - firstUs) / 1000),
    busyPct: pct(counted - idle),
    byArea: ranked(areas).map(([area, n]) => ({ area, selfPct: pct(n) })),
    topSelf: ranked(self)
      .filter(([key]) => key !== '(idle)')
      .slice(0, top)
      .map(([key, n]) => ({ function: key, selfPct: pct(n), totalPct: pct(total.get(key) ?? n) })),
    topTotal: ranked(total)
      .slice(0, top)
      .map(([key, n]) => ({ function: key, selfPct: pct(self.get(key) ?? 0), totalPct: pct(n) })),
  };
}

/** The monotonic clock in microseconds, as the profiles' timestamps count it. */
export function monotonicUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}
