// -smp N under KVM (issue 17): one VM with one vCPU fd per vCPU, run round-robin on the one
// thread. With --irqchip=user the TypeScript LAPICs route the IPIs and INIT/SIPI are the
// machine's (an AP in wait-for-SIPI is not run); the SMP test guest (test/guests/smp.S) wakes the
// APs with INIT-SIPI-SIPI through the xAPIC ICR and checks every IPI kind, as under interp
// (test/machine/smp.test.ts). Skips, saying why, where /dev/kvm is unusable.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BackendUnavailable } from '../../machine/backends.js';
import { registerNodeBackends } from '../../machine/backends-node.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';
import { kvmSkipReason } from './rig.js';

registerNodeBackends();
// kvm_pvm (this project's nested /dev/kvm) cannot emulate a 32-bit protected-mode IRET, and smp.S's
// handlers return by IRET: there tinyos's smp command (64-bit, test/tinyos-smp.test.ts) is the KVM SMP test.
const skip = kvmSkipReason ?? (hasToolchain() ? null : 'no assembler for test/guests/smp.S')
  ?? (existsSync('/sys/module/kvm_pvm') ? 'this /dev/kvm is kvm_pvm, which cannot emulate the 32-bit IRET of smp.S\'s handlers (test/tinyos-smp.test.ts runs tinyos smp under kvm instead)' : null);
if (skip) console.log(`test/kvm/smp: skipped: ${skip}`);

const SOURCE = readFileSync(new URL('../guests/smp.S', import.meta.url), 'utf8');
const UP = 0x6000, WORK = 0x6004, NCPUS = 0x6008, HITS40 = 0x6100, HITS41 = 0x6140, HITS42 = 0x6180, HITS43 = 0x61c0, NMIS = 0x6200;

function boot(cpus: number, irqchip: 'user' | 'kernel') {
  const m = new Machine({ memory: 16 << 20, accel: 'kvm', irqchip, noReboot: true, smp: cpus });
  m.boot(bootRecipe({ raw: [{ file: { name: 'smp.bin', bytes: buildFlat(SOURCE, 0x8000) }, addr: 0x8000 }] }));
  const end = Date.now() + 60_000;
  while (!m.exited && Date.now() < end) m.runSteps(1);
  const dw = (a: number) => m.memory.dv.getUint32(a, true);
  const per = (base: number) => Array.from({ length: cpus }, (_, i) => dw(base + 4 * i));
  return { m, dw, per };
}

describe.skipIf(skip !== null)('-smp N under KVM', () => {
  for (const cpus of [2, 4]) {
    it(`--irqchip=user, -smp ${cpus}: the APs come up by INIT-SIPI-SIPI, each IPI kind arrives where its destination says, the LOCK XADD counter is exact`, () => {
      const { m, dw, per } = boot(cpus, 'user');
      try {
        expect(m.exited?.reason).toBe('isa-debug-exit: status 33');
        expect(m.vcpus.map((v) => v.backend.name)).toEqual(Array(cpus).fill('kvm'));
        expect(dw(NCPUS)).toBe(cpus);
        expect(dw(UP)).toBe(cpus - 1);
        expect(dw(WORK)).toBe(1000 * (cpus - 1));
        expect(per(HITS40)).toEqual([0, ...Array(cpus - 1).fill(1)]);
        expect(per(HITS41)).toEqual([0, 1, ...(cpus > 2 ? [1] : []), ...Array(Math.max(0, cpus - 3)).fill(0)]);
        expect(per(HITS42)).toEqual([1, ...Array(cpus - 1).fill(0)]);
        expect(per(NMIS)).toEqual([0, ...Array(cpus - 1).fill(1)]);
        expect(per(HITS43).reduce((a, b) => a + b, 0)).toBe(1);
        const c = m.vcpuCounters();
        expect(c.map((v) => v.sipis)).toEqual([0, ...Array(cpus - 1).fill(1)]);
        expect(c.map((v) => v.inits)).toEqual([0, ...Array(cpus - 1).fill(1)]);
        for (const v of c.slice(1)) expect(v.halts).toBeGreaterThanOrEqual(1); // KVM_EXIT_HLT: the AP's sti; hlt
      } finally {
        m.destroy();
      }
    }, 120_000);
  }
});

describe.skipIf(kvmSkipReason !== null)('-smp N under KVM with --irqchip=kernel', () => {
  it('is refused in one line naming the fix', () => {
    let err: unknown;
    try { new Machine({ memory: 16 << 20, accel: 'kvm', irqchip: 'kernel', smp: 2 }).destroy(); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(BackendUnavailable);
    expect((err as Error).message).toBe('--accel=kvm -smp 2 runs with the TypeScript LAPICs only (KVM\'s in-kernel ones would start the APs where the machine\'s round-robin does not see it); use --irqchip=user');
  });
});
