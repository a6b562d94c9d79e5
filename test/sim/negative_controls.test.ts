/**
 * Negative controls: with each planted bug switched on, the simulator must report a violation
 * within the bug's seed budget (controls.ts). A control that passes unnoticed means the
 * simulator has gone blind to that class of bug.
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { findCatch, negativeControls } from './controls.js';

for (const control of negativeControls) {
  test(`planted bug ${control.bug} (${control.breaks}) is caught within ${control.budget} seeds`, () => {
    const caught = findCatch(control);
    assert.ok(caught !== null, `${control.bug} went unnoticed for ${control.budget} seeds (profile ${control.profile})`);
    console.log(`${control.bug}: caught by ${caught.invariant} at seed ${caught.seed} — ${caught.replay}`);
  });
}

test.run();
