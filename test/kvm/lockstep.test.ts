// The lockstep oracle itself: random programs in 16/32/64-bit mode agree
// between two KVM vCPUs (generator, stepping and masking are sound), and a
// planted difference is caught at the exact instruction with a named field.

import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, CpuHost } from '../../cpu/backend.js';
import { RBX, StateView, gprOffset } from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';
import { KvmBackend } from '../../accel-kvm/kvm-backend.js';
import { busHost } from '../../machine/bus-host.js';
import { kvmStepper, runLockstep, type LockstepSide } from '../../machine/lockstep.js';
import { generateProgram, loadProgram, WRITABLE, type GenMode } from '../../machine/lockstep-gen.js';
import { kvmSkipReason } from './rig.js';
import { nestedKvmWarning } from '../../accel-kvm/addon.js';

/** The kvm_pvm host runs 16/32-bit code through KVM's emulator, which has no DAA/AAA/AAS. */
const PVM = nestedKvmWarning()?.includes('kvm_pvm') ?? false;

const made: Backend[] = [];
afterEach(() => { for (const b of made.splice(0)) b.destroy(); });

const host = (memory: GuestMemory): CpuHost => busHost(memory);

function kvmSide(): LockstepSide & { backend: KvmBackend } {
  const memory = new GuestMemory(2 << 20);
  const backend = new KvmBackend(host(memory));
  made.push(backend);
  return { backend, memory };
}

function prepare(mode: GenMode, count: number, seed: number): { a: LockstepSide & { backend: KvmBackend }; b: LockstepSide & { backend: KvmBackend } } {
  const a = kvmSide(), b = kvmSide();
  const s = loadProgram(a.memory, mode, generateProgram(mode, count, seed, { bcd: !PVM }), seed);
  a.backend.setState(s.snapshot());
  return { a, b };
}

describe.skipIf(kvmSkipReason !== null)('lockstep oracle', () => {
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit random program: two KVM vCPUs agree on every instruction up to HLT`, () => {
      const { a, b } = prepare(mode, 300, 1000 + mode);
      const r = runLockstep(a, { backend: kvmStepper(b.backend, b.memory), memory: b.memory }, { watch: WRITABLE });
      if (r.divergence) console.log(r.divergence.report);
      expect(r.end).toBe('halt');
      expect(r.steps).toBeGreaterThan(300);
    });
  }

  it('a planted fault (RBX bit 40 flipped after instruction 50) is reported at step 50, naming rbx', () => {
    const { a, b } = prepare(64, 200, 77);
    const stepper = kvmStepper(b.backend, b.memory);
    let n = 0;
    const faulty: Backend = {
      ...stepper,
      run: (budget) => { n++; return stepper.run(budget); },
      getState: () => {
        const s = stepper.getState();
        if (n === 51) { const v = new StateView(s.buffer); v.setU32(gprOffset(RBX) + 4, v.hi(gprOffset(RBX)) ^ 0x100); }
        return s;
      },
    };
    const r = runLockstep(a, { backend: faulty, memory: b.memory }, { watch: WRITABLE });
    expect(r.end).toBe('divergence');
    expect(r.divergence?.step).toBe(50);
    expect(r.divergence?.diffs).toEqual(['rbx (0x18): kvm 0000000000008000, other 0000010000008000']);
    expect(r.divergence?.report).toMatch(/instruction:\n    000[0-9a-f]+: [0-9a-f ]+ +[a-z]/);
  });
});
