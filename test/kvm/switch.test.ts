// Moving a running guest between KVM and the interpreter (machine.setBackend):
// state travels through the state record, memory is shared. A computing guest
// switched many times mid-loop prints exactly what an unswitched run prints.

import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../contracts/backend.js';
import { registerNodeBackends } from '../../machine/backends-node.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { CALC_LINES as LINES, calcImage } from './guests.js';
import { kvmSkipReason } from './rig.js';

/** Run CALC, switching backends by `schedule(step)`; returns the serial output and the switch count. */
function runCalc(schedule: (step: number) => BackendName): { text: string; switches: number } {
  let text = '';
  const m = new Machine({ memory: 16 << 20, accel: schedule(0), noReboot: true, onSerial: (b) => { text += String.fromCharCode(b); } });
  try {
    m.boot(bootRecipe({ raw: [{ file: { name: 'calc', bytes: calcImage() }, addr: 0x100000 }] }));
    // Bounded by time, not steps: a KVM slice on a loaded nested host may retire almost nothing.
    const deadline = performance.now() + 60_000;
    for (let step = 0; performance.now() < deadline && text.split('\n').length <= LINES && !m.exited; step++) {
      m.setBackend(schedule(step));
      m.runSteps(1, 2_000); // small steps, so the computation spans many switches
    }
    return { text, switches: m.stats.switches };
  } finally {
    m.destroy();
  }
}

registerNodeBackends();

/** The unswitched interpreter run is the reference; the test needs it to be complete. */
const reference = kvmSkipReason === null ? runCalc(() => 'interp').text : '';
const interpNotReady = kvmSkipReason === null && reference.split('\n').length !== LINES + 1
  ? `the interpreter does not yet run the CALC guest (printed ${JSON.stringify(reference.slice(0, 40))}); run bench/kvm-lockstep-run.mjs to see where it diverges from KVM`
  : null;
if (interpNotReady) console.log(`test/kvm/switch skipped: ${interpNotReady}`);

describe.skipIf(kvmSkipReason !== null || interpNotReady !== null)('switching backends under a running guest', () => {
  it('kvm <-> interp every few slices mid-computation: same 16 lines as unswitched interp and kvm runs', () => {
    const kvm = runCalc(() => 'kvm');
    expect(kvm.text).toBe(reference);
    const switched = runCalc((step) => (Math.floor(step / 3) % 2 === 0 ? 'kvm' : 'interp'));
    expect(switched.text).toBe(reference);
    expect(switched.switches).toBeGreaterThanOrEqual(6);
  }, 180_000);
});
