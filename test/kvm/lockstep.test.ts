// The lockstep oracle itself: random programs in 16/32/64-bit mode agree
// between two KVM vCPUs (generator, stepping and masking are sound), and a
// planted difference is caught at the exact instruction with a named field.
// Then the interpreter against KVM on x87/SSE programs (the forms this host's
// KVM can single-step; on kvm_pvm the moves its instruction emulator knows).

import { afterEach, describe, expect, it } from 'vitest';
import type { Backend, CpuHost } from '../../contracts/backend.js';
import { FLAG_AF, FLAG_CF, RBX, RFLAGS, StateView, gprOffset } from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';
import { KvmBackend } from '../../accel-kvm/kvm-backend.js';
import { cpuidEntries } from '../../cpu/cpuid.js';
import { busHost } from '../../machine/bus-host.js';
import { kvmStepper, runLockstep, type LockstepSide } from '../../machine/lockstep/kvm.js';
import { generateProgram, loadProgram, WRITABLE, type GenMode } from '../lockstep/gen.js';
import { fpFeatures } from '../lockstep/gen-fp.js';
import { lockstepRandom } from '../../bench/kvm-lockstep.js';
import { FX_FIP, FX_FSW, FX_FTW, FX_ST0, FX_XMM0 } from '../../cpu/state.js';
import { kvmSkipReason } from './rig.js';
import { nestedKvmWarning } from '../../accel-kvm/addon.js';

/** The kvm_pvm host runs 16/32-bit code through KVM's emulator, which has no DAA/AAA/AAS. */
const PVM = nestedKvmWarning()?.includes('kvm_pvm') ?? false;

const made: Backend[] = [];
afterEach(() => { for (const b of made.splice(0)) b.destroy(); });

const host = (memory: GuestMemory): CpuHost => busHost(memory);

function kvmSide(): LockstepSide & { backend: KvmBackend } {
  const memory = new GuestMemory(2 << 20);
  const backend = new KvmBackend(host(memory), { cpuid: cpuidEntries(0) });
  made.push(backend);
  return { backend, memory };
}

function prepare(mode: GenMode, count: number, seed: number, fpEighths = 0): { a: LockstepSide & { backend: KvmBackend }; b: LockstepSide & { backend: KvmBackend } } {
  const a = kvmSide(), b = kvmSide();
  const leaf1 = a.backend.cpuid.find((e) => e.leaf === 1);
  const fp = fpEighths > 0 && leaf1 ? { ...fpFeatures(leaf1.edx), emulatedOnly: PVM } : undefined;
  const s = loadProgram(a.memory, mode, generateProgram(mode, count, seed, { bcd: !PVM, fp, fpEighths }), seed, fp !== undefined);
  a.backend.setState(s.snapshot());
  return { a, b };
}

/** `stepper` with `edit(state, steps so far)` applied to every state it reports. */
function tampered(stepper: Backend, edit: (v: StateView, n: number) => void): Backend {
  let n = 0;
  return {
    ...stepper,
    run: (budget) => { n++; return stepper.run(budget); },
    getState: () => {
      const s = stepper.getState();
      edit(new StateView(s.buffer), n);
      return s;
    },
  };
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
    const faulty = tampered(kvmStepper(b.backend, b.memory), (v, n) => {
      if (n === 51) v.setU32(gprOffset(RBX) + 4, v.hi(gprOffset(RBX)) ^ 0x100);
    });
    const r = runLockstep(a, { backend: faulty, memory: b.memory }, { watch: WRITABLE });
    expect(r.end).toBe('divergence');
    expect(r.divergence?.step).toBe(50);
    expect(r.divergence?.diffs).toEqual(['rbx (0x18): kvm 0000000000008000, other 0000010000008000']);
    expect(r.divergence?.report).toMatch(/instruction:\n    000[0-9a-f]+: [0-9a-f ]+ +[a-z]/);
  });

  it('undefined flags come from the instruction rows: AF flipped after AND is masked, after ADD (or CF after AND) reported', () => {
    const code = new Uint8Array([0x21, 0xd8, 0x01, 0xd8, 0xf4]); // and eax, ebx; add eax, ebx; hlt
    const flipAt = (flag: number, at: number) => {
      const a = kvmSide(), b = kvmSide();
      a.backend.setState(loadProgram(a.memory, 32, code, 5).snapshot());
      const faulty = tampered(kvmStepper(b.backend, b.memory), (v, n) => { if (n === at) v.setU32(RFLAGS, v.lo(RFLAGS) ^ flag); });
      return runLockstep(a, { backend: faulty, memory: b.memory }, { watch: WRITABLE });
    };
    expect(flipAt(FLAG_AF, 1).end).toBe('halt'); // AND leaves AF undefined (its row's undef)
    const add = flipAt(FLAG_AF, 2);
    expect([add.end, add.divergence?.step]).toEqual(['divergence', 1]);
    expect(add.divergence?.diffs[0]).toMatch(/^rflags/);
    const cf = flipAt(FLAG_CF, 1);
    expect([cf.end, cf.divergence?.step]).toEqual(['divergence', 0]);
  });

  it('x87/SSE state is compared: XMM5 flipped after instruction 40 is reported naming xmm5; FIP and empty ST registers are not', () => {
    const { a, b } = prepare(64, 200, 91, 4);
    const faulty = tampered(kvmStepper(b.backend, b.memory), (v, n) => {
      v.setU32(FX_FIP, n); // never compared: AMD hosts save it only with an exception pending
      const top = (v.u32(FX_FSW) >> 11) & 7;
      for (let i = 0; i < 8; i++) if ((v.u8[FX_FTW] & (1 << ((top + i) & 7))) === 0) v.u8[FX_ST0 + i * 16 + 3] ^= 0x10; // ST(i), tagged empty
      if (n === 41) v.u8[FX_XMM0 + 5 * 16 + 9] ^= 0x04;
    });
    const r = runLockstep(a, { backend: faulty, memory: b.memory }, { watch: WRITABLE });
    expect(r.end).toBe('divergence');
    expect(r.divergence?.step).toBe(40);
    expect(r.divergence?.diffs.length).toBe(1);
    expect(r.divergence?.diffs[0]).toMatch(/^xmm5 \(0x4f8\): kvm [0-9a-f]{16}, other [0-9a-f]{16}$/);
  });
});

/** x87/SSE instructions per mode against the interpreter (the suite's share; the bench runs more). */
const FP_PER_MODE = Number(process.env.LOCKSTEP_FP_PER_MODE ?? 3000);

describe.skipIf(kvmSkipReason !== null)('interpreter vs KVM in lockstep on x87/SSE programs', () => {
  for (const mode of [16, 32, 64] as const) {
    it(`${mode}-bit: ${FP_PER_MODE} random x87/SSE instructions from seeded NaN/denormal/infinity state, no divergence`, () => {
      const r = lockstepRandom(mode, FP_PER_MODE, 300, 1, undefined, 8);
      for (const d of r.divergences) console.log(d.report);
      expect(r.divergences).toEqual([]);
      expect(r.fpInstructions).toBeGreaterThanOrEqual(FP_PER_MODE);
    });
  }
});
