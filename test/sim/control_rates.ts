/**
 * Prints the negative-control table of README.md: for each planted bug, the seed that first
 * catches it, the invariant that does, and how many of the first N seeds catch it.
 *
 *   node --import tsx test/sim/control_rates.ts [N=300]
 */
import { findCatch, measureCatchRate, negativeControls } from './controls.js';

const seeds = Number(process.argv[2] ?? 300);
console.log('| planted bug | breaks | fault mix | first caught at seed | by | caught in seeds 1..N | by invariant |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const control of negativeControls) {
  const first = findCatch(control);
  const rate = measureCatchRate(control, seeds);
  const invariants = Object.entries(rate.byInvariant)
    .sort((a, b) => b[1] - a[1])
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  const mix = control.options === undefined ? control.profile : `${control.profile}, ${JSON.stringify(control.options)}`;
  console.log(`| \`${control.bug}\` | ${control.breaks} | ${mix} | ${first?.seed ?? `none in ${control.budget}`} | ${first?.invariant ?? '—'} | ${rate.caught}/${seeds} | ${invariants} |`);
}
