// An interrupt source armed under the random programs (GenOptions.windows = 'armed', issue 19):
// a local APIC with a self-IPI pending from the start, and a handler that acknowledges it (EOI),
// sends the next self-IPI and returns with IF clear in the interrupted code's FLAGS. So an
// interrupt is always pending, and every window the program opens (STI's shadow ending, POPF or
// IRET setting IF, a MOV SS shadow ending) takes it at the instruction boundary the SDM names;
// the program then runs on with interrupts off until it opens the next window. Nothing depends
// on time: two backends, or KVM and one, must take each interrupt at the same instruction.

import type { CpuHost } from '../../contracts/backend.js';
import { ATTR_G, ATTR_P, ATTR_S, FS, IDTR_BASE, IDTR_LIMIT, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, StateView, segOffset } from '../../cpu/state.js';
import { Bus } from '../../devices/bus.js';
import { APIC_ICR_LO, APIC_SVR, ICR_SHORTHAND_SHIFT, LAPIC_BASE, LAPIC_SIZE, Lapic, SH_SELF, SVR_ENABLE } from '../../devices/lapic.js';
import { busHost } from '../../machine/bus-host.js';
import type { GuestMemory } from '../../mmu/memory.js';
import type { GenMode } from './gen.js';

/** The self-IPI's vector (priority class 4: above a TPR of 0). */
export const ARMED_VECTOR = 0x40;
/** Where the handler and the protected-mode IDT go (between the stack page and the code). */
const HANDLER = 0xb000, IDT = 0xc000;
/** 64-bit mode reaches the APIC page through the 2 MiB page at this linear address (PD[1]). */
const APIC_LINEAR64 = 0x200000;
/** Page tables of gen.ts's long mode: the page directory. */
const PD64 = 0x22000;

const ICR_SELF = (SH_SELF << ICR_SHORTHAND_SHIFT) | ARMED_VECTOR;
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];

/**
 * The handler per mode: clear IF in the saved FLAGS (its byte 1, bit 1), EOI, the next self-IPI,
 * return. 16-bit code reaches the APIC through FS, a flat 4 GiB segment (big real mode).
 */
function handler(mode: GenMode): number[] {
  const eoi = LAPIC_BASE + 0xb0, icr = LAPIC_BASE + APIC_ICR_LO;
  if (mode === 16) {
    return [
      0x55, 0x89, 0xe5, 0x80, 0x66, 0x07, 0xfd, 0x5d, // push bp; mov bp, sp; and byte [bp+7], 0xfd; pop bp
      0x66, 0x67, 0x64, 0xc7, 0x05, ...le32(eoi), ...le32(0), // mov dword [fs:eoi], 0
      0x66, 0x67, 0x64, 0xc7, 0x05, ...le32(icr), ...le32(ICR_SELF), // mov dword [fs:icr], self | vector
      0xcf, // iret
    ];
  }
  if (mode === 32) {
    // Returns by POPF of the saved EFLAGS and RETF 4, not IRET: kvm_pvm's instruction emulator
    // (which runs 32-bit code there) has no protected-mode IRET.
    return [
      0x80, 0x64, 0x24, 0x09, 0xfd, // and byte [esp+9], 0xfd
      0xc7, 0x05, ...le32(eoi), ...le32(0),
      0xc7, 0x05, ...le32(icr), ...le32(ICR_SELF),
      0xff, 0x74, 0x24, 0x08, 0x9d, // push dword [esp+8]; popf
      0xca, 0x04, 0x00, // retf 4
    ];
  }
  const eoi64 = APIC_LINEAR64 + 0xb0, icr64 = APIC_LINEAR64 + APIC_ICR_LO;
  return [
    0x80, 0x64, 0x24, 0x11, 0xfd, // and byte [rsp+17], 0xfd
    0xc7, 0x04, 0x25, ...le32(eoi64), ...le32(0),
    0xc7, 0x04, 0x25, ...le32(icr64), ...le32(ICR_SELF),
    0x48, 0xcf, // iretq
  ];
}

/** Install the handler and its vector for a program loaded by loadProgram (entry state `s`). */
export function installArmedHandler(mem: GuestMemory, mode: GenMode, s: StateView): void {
  mem.writeBytes(HANDLER, new Uint8Array(handler(mode)));
  if (mode === 16) {
    mem.dv.setUint16(ARMED_VECTOR * 4, 0, true);
    mem.dv.setUint16(ARMED_VECTOR * 4 + 2, HANDLER >>> 4, true);
    const fs = segOffset(FS);
    s.setU32(fs + SEG_SEL, 0);
    s.set64(fs + SEG_BASE, 0, 0);
    s.setU32(fs + SEG_LIMIT, 0xffffffff);
    s.setU32(fs + SEG_ATTR, ATTR_P | ATTR_S | 0x3 | ATTR_G);
    return;
  }
  const size = mode === 64 ? 16 : 8, gate = IDT + ARMED_VECTOR * size;
  mem.dv.setUint16(gate, HANDLER & 0xffff, true);
  mem.dv.setUint16(gate + 2, mode === 64 ? 0x18 : 0x08, true);
  mem.u8[gate + 5] = 0x8e; // present, DPL 0, interrupt gate
  mem.dv.setUint16(gate + 6, HANDLER >>> 16, true);
  s.set64(IDTR_BASE, IDT, 0);
  s.setU32(IDTR_LIMIT, (ARMED_VECTOR + 1) * size - 1);
  // The APIC page, uncached, at a linear address the handler can encode.
  if (mode === 64) mem.dv.setUint32(PD64 + 8, LAPIC_BASE | 0x9b, true);
}

/**
 * A host like busHost's with a local APIC on its bus as the interrupt source: software-enabled,
 * TPR 0, the first self-IPI already pending.
 */
export function armedHost(memory: GuestMemory): CpuHost & { lapic: Lapic } {
  const bus = new Bus();
  const lapic = new Lapic({ clock: { now: () => 0 } });
  bus.registerMmio('lapic', LAPIC_BASE, LAPIC_SIZE, lapic);
  armLapic(lapic);
  return { ...busHost(memory, bus), interrupts: lapic, lapic };
}

/** The APIC as a program starts: power-up state, software-enabled, the first self-IPI pending. */
export function armLapic(lapic: Lapic): void {
  lapic.powerUp();
  lapic.mmioWrite(APIC_SVR, 4, SVR_ENABLE | 0xff);
  lapic.mmioWrite(APIC_ICR_LO, 4, ICR_SELF);
}
