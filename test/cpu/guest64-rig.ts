// A bare interpreter running a flat 64-bit test guest (assembled from a .S file at test time):
// long mode with CS 0x08 / data 0x10, the first 2 MiB identity-mapped, the stack below 512 KiB,
// and an interrupt source the guest drives itself: OUT to port 0xe0 raises the vector in AL,
// taken once IF=1 and its class is above CR8 (the stub local APIC's TPR), which a write to
// APIC_TPR (an MMIO page past RAM, mapped at 4 MiB) sets too, ending the block when that lets
// the pending vector in, as the board's local APIC does (endBlock); in x2APIC mode MSR 0x808
// is that TPR. `npm run test:jit`
// (EMU_TEST_ACCEL=jit) runs the guests under the jit backend, every block compiled at once.
import { readFileSync } from 'node:fs';
import { EXIT_HALT, type CpuHost } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { InterpBackend } from '../../cpu/interp.js';
import { JitBackend } from '../../cpu/jit/backend.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import { CR3, GDTR_BASE, GDTR_LIMIT, RSP, StateView, gprOffset } from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';
import { buildFlat } from './system-build.js';

export const GUEST64_CODE = 0x10000;
const GDT = 0x8000, STACK = 0x80000;
/** The stub APIC page: past the 4 MiB of RAM, so every access is MMIO; its TPR register. */
const APIC_PAGE = 0x400000, APIC_TPR = APIC_PAGE + 0x80;

/** Assemble test/cpu/`file`, run it from GUEST64_CODE until HLT; returns the memory to read results from. */
export function runGuest64(file: string): GuestMemory {
  const mem = new GuestMemory(4 << 20);
  const s = new StateView(mem.buffer, mem.stateOffset);
  let pending = 0, tpr = 0;
  const host: CpuHost = {
    memory: mem,
    portRead: () => 0xff,
    portWrite: (port, _size, value) => { if (port === 0xe0) pending = value & 0xff; },
    interrupts: {
      hasInterrupt: () => pending !== 0 && pending >> 4 > tpr,
      acknowledge: () => { const v = pending; pending = 0; return v; },
    },
    apic: {
      setHwEnabled: () => {},
      readCr8: () => tpr,
      writeCr8: (v) => { tpr = v & 0xf; },
      readTscDeadline: () => 0,
      writeTscDeadline: () => {},
      // x2APIC: only the TPR (MSR 0x808), CR8 again.
      x2apic: {
        setMode: () => {},
        read: (msr) => (msr === 0x808 ? tpr << 4 : NaN),
        readHi: () => 0,
        write: (msr, lo, hi) => { if (msr !== 0x808 || hi !== 0) return false; tpr = (lo >>> 4) & 0xf; return true; },
      },
    },
    now: () => 0,
    a20Enabled: () => true,
  };
  const b = process.env.EMU_TEST_ACCEL === 'jit'
    ? new JitBackend(host, [SYSTEM_EXTENSION], { threshold: 1, batch: 1, all: true })
    : new InterpBackend(host, [SYSTEM_EXTENSION]);
  const ready = (): boolean => host.interrupts.hasInterrupt();
  mem.mmio = {
    mmioRead: (addr) => (addr === APIC_TPR ? tpr << 4 : 0xffffffff),
    mmioWrite: (addr, _size, v) => {
      if (addr !== APIC_TPR) return;
      const before = ready();
      tpr = (v >>> 4) & 0xf;
      if (!before && ready()) b.endBlock();
    },
  };
  flatState(s, 64, GUEST64_CODE);
  // GDT: null, 0x08 64-bit ring-0 code, 0x10 ring-0 data (the selectors flatState loads).
  mem.write32(GDT + 8, 0x0000ffff); mem.write32(GDT + 12, 0x00af9a00);
  mem.write32(GDT + 16, 0x0000ffff); mem.write32(GDT + 20, 0x00cf9200);
  s.set64(GDTR_BASE, GDT, 0); s.setU32(GDTR_LIMIT, 23);
  // The first 2 MiB identity-mapped by one 2 MiB page.
  mem.write32(0x1000, 0x2007); mem.write32(0x2000, 0x3007); mem.write32(0x3000, 0xe7);
  mem.write32(0x3000 + 8 * (APIC_PAGE >>> 21), APIC_PAGE | 0xe7); // and the 2 MiB holding the APIC page
  s.set64(CR3, 0x1000, 0);
  s.set64(gprOffset(RSP), STACK, 0);
  mem.writeBytes(GUEST64_CODE, buildFlat(readFileSync(new URL(`./${file}`, import.meta.url), 'utf8'), GUEST64_CODE));
  b.setState(s.snapshot());
  let halted = false;
  for (let k = 0; k < 100 && !halted; k++) halted = b.run(100_000) === EXIT_HALT;
  if (!halted) throw new Error(`${file} did not reach its final HLT (${b.disassembleAtRip()})`);
  return mem;
}
