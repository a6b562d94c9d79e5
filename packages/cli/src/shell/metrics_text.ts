/**
 * Reading the servers' `/metrics` (Prometheus text format 0.0.4) for `server_stat` and `app_stat`:
 * samples as (name, labels, value), sums over label subsets, the difference of two scrapes, and a
 * quantile estimated from histogram buckets.
 */

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, char: string) => (char === 'n' ? '\n' : char));
}

/** Parses the text; comment lines and lines that do not parse are skipped. */
export function parseMetricsText(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\S+)?$/.exec(line);
    if (match === null) continue;
    const labels: Record<string, string> = {};
    const labelText = match[3];
    if (labelText !== undefined && labelText !== '') {
      const labelPattern = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
      for (let label = labelPattern.exec(labelText); label !== null; label = labelPattern.exec(labelText)) labels[label[1]!] = unescapeLabel(label[2]!);
    }
    const valueText = match[4]!;
    const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
    if (Number.isNaN(value) && valueText !== 'NaN') continue;
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

function matches(sample: Sample, name: string, where: Readonly<Record<string, string>> | undefined): boolean {
  if (sample.name !== name) return false;
  if (where !== undefined) for (const [key, value] of Object.entries(where)) if (sample.labels[key] !== value) return false;
  return true;
}

/** The sum of every sample of `name` whose labels include `where`; undefined when there is none. */
export function sumOf(samples: readonly Sample[], name: string, where?: Readonly<Record<string, string>>): number | undefined {
  let sum: number | undefined;
  for (const sample of samples) if (matches(sample, name, where)) sum = (sum ?? 0) + sample.value;
  return sum;
}

/** Sums of `name` grouped by one label's value. */
export function groupBy(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const groups = new Map<string, number>();
  for (const sample of samples) {
    if (sample.name !== name) continue;
    const key = sample.labels[label] ?? '';
    groups.set(key, (groups.get(key) ?? 0) + sample.value);
  }
  return groups;
}

function sampleKey(sample: Sample): string {
  return `${sample.name}{${Object.keys(sample.labels)
    .sort()
    .map((key) => `${key}=${sample.labels[key]}`)
    .join(',')}}`;
}

/** `after − before`, sample by sample (a sample absent before counts from 0): the change of counters over an interval. */
export function difference(after: readonly Sample[], before: readonly Sample[]): Sample[] {
  const earlier = new Map(before.map((sample) => [sampleKey(sample), sample.value]));
  return after.map((sample) => ({ ...sample, value: sample.value - (earlier.get(sampleKey(sample)) ?? 0) }));
}

/**
 * The q-quantile (0 < q ≤ 1) of a histogram from its cumulative `_bucket` samples, summed over
 * every label set that matches `where`: the upper bound of the first bucket that holds the
 * quantile (an upper estimate). Undefined when the histogram is empty; Infinity when the quantile
 * lies past the largest finite bound.
 */
export function histogramQuantile(samples: readonly Sample[], name: string, q: number, where?: Readonly<Record<string, string>>): number | undefined {
  const buckets = new Map<number, number>();
  for (const sample of samples) {
    if (!matches(sample, `${name}_bucket`, where)) continue;
    const leText = sample.labels.le;
    if (leText === undefined) continue;
    const le = leText === '+Inf' ? Infinity : Number(leText);
    buckets.set(le, (buckets.get(le) ?? 0) + sample.value);
  }
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  const total = buckets.get(Infinity) ?? (bounds.length > 0 ? buckets.get(bounds[bounds.length - 1]!)! : 0);
  if (total <= 0) return undefined;
  const rank = q * total;
  for (const bound of bounds) if (buckets.get(bound)! >= rank) return bound;
  return Infinity;
}
