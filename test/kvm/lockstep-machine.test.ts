// The board-level lockstep (emu --lockstep=kvm,X): two machines booted from
// the same image step together, devices and timers included.

import { describe, expect, it } from 'vitest';
import { KvmBackend } from '../../accel-kvm/kvm-backend.js';
import { registerNodeBackends } from '../../machine/backends-node.js';
import { bootRecipe } from '../../machine/boot.js';
import { kvmStepper } from '../../machine/lockstep/kvm.js';
import { runMachineLockstep } from '../../machine/lockstep/machine.js';
import { LockstepUsageError, lockstepCli, lockstepPair } from '../../machine/lockstep/cli.js';
import type { BackendName } from '../../contracts/backend.js';
import { Machine } from '../../machine/machine.js';
import { calcImage } from './guests.js';
import { kvmSkipReason } from './rig.js';
import { readFileSync } from 'node:fs';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

describe('lockstep pairs', () => {
  it('--lockstep=interp,kvm puts kvm first; two in-process backends stay as given; kvm,kvm is a usage error', () => {
    expect(lockstepPair(['interp', 'kvm'])).toEqual(['kvm', 'interp']);
    expect(lockstepPair(['interp', 'jit'])).toEqual(['interp', 'jit']);
    expect(() => lockstepPair(['kvm', 'kvm'])).toThrow(LockstepUsageError);
  });
});

describe.skipIf(kvmSkipReason !== null)('machine lockstep', () => {
  it('CALC booted on two boards: 2000 instructions agree step by step, serial output included', () => {
    registerNodeBackends();
    const out: string[] = ['', ''];
    const boards = [0, 1].map((i) => {
      const m = new Machine({ memory: 16 << 20, accel: 'kvm', deterministic: true, noReboot: true, onSerial: (b) => { out[i] += String.fromCharCode(b); } });
      m.boot(bootRecipe({ raw: [{ file: { name: 'calc', bytes: calcImage() }, addr: 0x100000 }] }));
      return m;
    });
    try {
      // The second board's KVM vCPU plays "the other backend", single-stepped.
      boards[1].backend = kvmStepper(boards[1].backend as KvmBackend, boards[1].memory);
      const r = runMachineLockstep(boards[0], boards[1], { maxSteps: 2000 });
      if (r.divergence) console.log(r.divergence.report);
      expect(r.end).toBe('max-steps');
      expect(r.steps).toBeGreaterThanOrEqual(2000);
      expect(out[0].length).toBeGreaterThan(0);
      expect(out[1]).toBe(out[0]);
    } finally {
      for (const m of boards) m.destroy();
    }
  });

  it('emu --lockstep=interp,kvm on CALC: the interpreter agrees with KVM for 3000 instructions, status 0', async () => {
    registerNodeBackends();
    const make = (accel: BackendName): Machine => {
      const m = new Machine({ memory: 16 << 20, accel, deterministic: true, noReboot: true });
      m.boot(bootRecipe({ raw: [{ file: { name: 'calc', bytes: calcImage() }, addr: 0x100000 }] }));
      return m;
    };
    const r = await lockstepCli(['interp', 'kvm'], make, 3000);
    expect(r.text).toMatch(/^lockstep kvm,interp: 3\d{3} instructions compared in [\d.]+ s, ended by max-steps/);
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasToolchain())('a guest idling in STI; HLT: both boards stay halted through timer events with no interrupt (PIT, IRQ0 masked) and wake together for the RTC IRQ8', () => {
    registerNodeBackends();
    const image = buildFlat(readFileSync(new URL('./timer-guest.S', import.meta.url), 'utf8'), 0x7c00);
    const make = (accel: BackendName): Machine => {
      const m = new Machine({ memory: 4 << 20, accel, deterministic: true, noReboot: true });
      m.boot(bootRecipe({ raw: [{ file: { name: 'timer-guest', bytes: image }, addr: 0x7c00 }] }));
      return m;
    };
    const kvm = make('kvm'), other = make('interp');
    try {
      const r = runMachineLockstep(kvm, other, { maxSteps: 5000 });
      if (r.divergence) console.log(r.divergence.report);
      expect(r.divergence).toBeNull();
      expect(r.end).toMatch(/the guest's exit/);
      expect(kvm.memory.read8(0x500)).toBe(3);
      expect(other.memory.read8(0x500)).toBe(3);
    } finally {
      other.destroy();
      kvm.destroy();
    }
  });
});
