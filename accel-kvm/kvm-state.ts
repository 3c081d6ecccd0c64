// The exact mapping between the architectural state record (cpu/state.ts) and
// KVM's vCPU state ioctls: REGS, SREGS, XSAVE (or FPU), XCRS, DEBUGREGS, MSRS,
// VCPU_EVENTS and MP_STATE. Buffers are allocated once per vCPU.

import {
  APIC_BASE, CR0, CR2, CR3, CR4, CR8, CSTAR, DR0, DR6, DR7, EFER, EVENT_EXCEPTION, EVENT_EXTINT,
  EVENT_HAS_ERROR, EVENT_NMI, EVENT_SOFTINT, EVENT_VALID, FXSAVE, FXSAVE_SIZE, FX_FCW, FX_FDP, FX_FIP, FX_FOP,
  FX_FSW, FX_FTW, FX_MXCSR, FX_ST0, FX_XMM0, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, INT_SHADOW,
  KERNEL_GS_BASE, LSTAR, MCG_STATUS, MISC_ENABLE, MTRR_DEF_TYPE, MTRR_FIX, MTRR_VAR, NMI_MASKED, NMI_PENDING,
  PAT, PENDING_ERROR, RUN_HALTED, RUN_RUNNING, RUN_SHUTDOWN, RUN_STATE, PENDING_EVENT, PENDING_IRQ, PLATFORM_INFO, RFLAGS, RIP, SEG_ATTR, SEG_BASE, SEG_LIMIT,
  SEG_SEL, SFMASK, SHADOW_MOV_SS, SHADOW_STI, STAR, SYSENTER_CS, SYSENTER_EIP, SYSENTER_ESP, StateView, TSC,
  TSC_AUX, TSC_DEADLINE, XCR0, XSAVE_HEADER, gprOffset, segOffset,
} from '../cpu/state.js';
import type { NativeVm } from './addon.js';
import * as K from './kvm-structs.js';

/** MSRs the record holds: [MSR index, record offset]. APIC_BASE travels in kvm_sregs. */
export const RECORD_MSRS: ReadonlyArray<readonly [number, number]> = [
  [0xc0000081, STAR], [0xc0000082, LSTAR], [0xc0000083, CSTAR], [0xc0000084, SFMASK],
  [0xc0000102, KERNEL_GS_BASE], [0x174, SYSENTER_CS], [0x175, SYSENTER_ESP], [0x176, SYSENTER_EIP],
  [0x10, TSC], [0x277, PAT], [0x1a0, MISC_ENABLE], [0xc0000103, TSC_AUX], [0x6e0, TSC_DEADLINE],
  [0x2ff, MTRR_DEF_TYPE],
  // Fixed-range MTRRs in the record's order: 64K_00000, 16K_80000, 16K_A0000, 4K_C0000 .. 4K_F8000.
  ...[0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f].map((m, i) => [m, MTRR_FIX + i * 8] as const),
  // Variable-range MTRRs: PHYSBASE0, PHYSMASK0, ... at 0x200..0x20f.
  ...Array.from({ length: 16 }, (_, i) => [0x200 + i, MTRR_VAR + i * 8] as const),
  [0x17a, MCG_STATUS], [0xce, PLATFORM_INFO],
];

/** Offset in the FXSAVE image of the 48 software-available bytes (464-511). */
const FX_SOFTWARE_AREA = 464;
const XSTATE_X87 = 1, XSTATE_SSE = 2;

/** Halted/shut-down flags the backend tracks itself where KVM does not (user irqchip). */
export interface RunFlags {
  halted: boolean;
  shutdown: boolean;
}

const copy64 = (dst: DataView, dOff: number, src: DataView, sOff: number): void => {
  dst.setUint32(dOff, src.getUint32(sOff, true), true);
  dst.setUint32(dOff + 4, src.getUint32(sOff + 4, true), true);
};

export class KvmStateIo {
  private readonly regs = new Uint8Array(K.REGS_SIZE);
  private readonly sregs = new Uint8Array(K.SREGS_SIZE);
  private readonly xsave: Uint8Array;
  private readonly fpu = new Uint8Array(K.FPU_SIZE);
  private readonly xcrs = new Uint8Array(K.XCRS_SIZE);
  private readonly debugregs = new Uint8Array(K.DEBUGREGS_SIZE);
  private readonly events = new Uint8Array(K.EVENTS_SIZE);
  private readonly mp = new Uint8Array(4);
  private readonly msrs: Uint8Array;
  /** MSRs of RECORD_MSRS that this KVM reads and writes. */
  readonly msrList: Array<readonly [number, number]> = [];
  /** MSRs of RECORD_MSRS this KVM refuses (their record fields are kept as last set). */
  readonly msrsUnsupported: number[] = [];
  private readonly hasXsave: boolean;
  private readonly xsaveGet: 'GET_XSAVE' | 'GET_XSAVE2';
  private readonly hasXcrs: boolean;
  private xsaveValid = false;

  constructor(private readonly vm: NativeVm, private readonly kernelIrqchip: boolean) {
    this.hasXsave = vm.checkExtension(K.CAP_XSAVE) > 0;
    const xsave2 = vm.checkExtension(208 /* KVM_CAP_XSAVE2 */);
    this.xsaveGet = xsave2 > 0 ? 'GET_XSAVE2' : 'GET_XSAVE';
    this.xsave = new Uint8Array(Math.max(K.XSAVE_SIZE, xsave2));
    this.hasXcrs = vm.checkExtension(K.CAP_XCRS) > 0;
    this.msrs = new Uint8Array(8 + RECORD_MSRS.length * K.MSR_ENTRY_SIZE);
    this.probeMsrs();
  }

  /** Keep the MSRs KVM can both read and write back (KVM_GET/SET_MSRS return how many succeeded). */
  private probeMsrs(): void {
    const dv = new DataView(this.msrs.buffer);
    for (const entry of RECORD_MSRS) {
      this.msrs.fill(0);
      dv.setUint32(0, 1, true);
      dv.setUint32(8, entry[0], true);
      let ok = false;
      try {
        ok = this.vm.ioctl('GET_MSRS', this.msrs) === 1 && this.vm.ioctl('SET_MSRS', this.msrs) === 1;
      } catch { ok = false; }
      if (ok) this.msrList.push(entry);
      else this.msrsUnsupported.push(entry[0]);
    }
  }

  /** Fill `s` from the vCPU. Fields KVM does not hold are left as they are in `s`. */
  read(s: StateView, flags: RunFlags): void {
    const vm = this.vm;
    const out = s.dv;
    vm.ioctl('GET_REGS', this.regs);
    const r = new DataView(this.regs.buffer);
    for (let n = 0; n < 16; n++) copy64(out, gprOffset(n), r, K.REGS_GPR_SLOT[n] * 8);
    copy64(out, RIP, r, K.REGS_RIP);
    copy64(out, RFLAGS, r, K.REGS_RFLAGS);

    vm.ioctl('GET_SREGS', this.sregs);
    const sr = new DataView(this.sregs.buffer);
    for (let n = 0; n < 8; n++) {
      const k = K.SREGS_SEG_SLOT[n] * K.KSEG_SIZE, o = segOffset(n);
      const b = (f: number) => this.sregs[k + f];
      s.setU32(o + SEG_SEL, sr.getUint16(k + K.KSEG_SELECTOR, true));
      s.setU32(o + SEG_ATTR, (b(K.KSEG_TYPE) & 0xf) | (b(K.KSEG_S) & 1) << 4 | (b(K.KSEG_DPL) & 3) << 5 |
        (b(K.KSEG_PRESENT) & 1) << 7 | (b(K.KSEG_AVL) & 1) << 12 | (b(K.KSEG_L) & 1) << 13 |
        (b(K.KSEG_DB) & 1) << 14 | (b(K.KSEG_G) & 1) << 15 | (b(K.KSEG_UNUSABLE) & 1) << 16);
      s.setU32(o + SEG_LIMIT, sr.getUint32(k + K.KSEG_LIMIT, true));
      copy64(out, o + SEG_BASE, sr, k + K.KSEG_BASE);
    }
    copy64(out, GDTR_BASE, sr, K.SREGS_GDT);
    s.setU32(GDTR_LIMIT, sr.getUint16(K.SREGS_GDT + 8, true));
    copy64(out, IDTR_BASE, sr, K.SREGS_IDT);
    s.setU32(IDTR_LIMIT, sr.getUint16(K.SREGS_IDT + 8, true));
    copy64(out, CR0, sr, K.SREGS_CR0);
    copy64(out, CR2, sr, K.SREGS_CR2);
    copy64(out, CR3, sr, K.SREGS_CR3);
    copy64(out, CR4, sr, K.SREGS_CR4);
    copy64(out, CR8, sr, K.SREGS_CR8);
    copy64(out, EFER, sr, K.SREGS_EFER);
    copy64(out, APIC_BASE, sr, K.SREGS_APIC_BASE);

    this.readFpu(s);
    if (this.hasXcrs) {
      vm.ioctl('GET_XCRS', this.xcrs);
      const x = new DataView(this.xcrs.buffer);
      const n = x.getUint32(0, true);
      for (let i = 0; i < n && i < 16; i++) if (x.getUint32(8 + i * 16, true) === 0) copy64(out, XCR0, x, 8 + i * 16 + 8);
    }
    vm.ioctl('GET_DEBUGREGS', this.debugregs);
    const d = new DataView(this.debugregs.buffer);
    for (let i = 0; i < 4; i++) copy64(out, DR0 + i * 8, d, i * 8);
    copy64(out, DR6, d, K.DEBUGREGS_DR6);
    copy64(out, DR7, d, K.DEBUGREGS_DR7);

    if (this.msrList.length > 0) {
      const m = new DataView(this.msrs.buffer);
      this.fillMsrIndexes(m);
      const got = vm.ioctl('GET_MSRS', this.msrs);
      for (let i = 0; i < got; i++) copy64(out, this.msrList[i][1], m, 8 + i * K.MSR_ENTRY_SIZE + 8);
    }

    vm.ioctl('GET_VCPU_EVENTS', this.events);
    const e = this.events, ev = new DataView(e.buffer);
    let pending = 0, error = 0;
    if (e[K.EV_EXC_INJECTED] || e[K.EV_EXC_PENDING]) {
      pending = EVENT_VALID | EVENT_EXCEPTION | e[K.EV_EXC_NR] | (e[K.EV_EXC_HAS_ERROR] ? EVENT_HAS_ERROR : 0);
      if (e[K.EV_EXC_HAS_ERROR]) error = ev.getUint32(K.EV_EXC_ERROR, true);
    } else if (e[K.EV_NMI_INJECTED]) {
      pending = EVENT_VALID | EVENT_NMI | 2;
    } else if (e[K.EV_INT_INJECTED]) {
      pending = EVENT_VALID | (e[K.EV_INT_SOFT] ? EVENT_SOFTINT : EVENT_EXTINT) | e[K.EV_INT_NR];
    }
    s.setU32(PENDING_EVENT, pending);
    s.setU32(PENDING_ERROR, error);
    s.setU32(PENDING_IRQ, 0xffffffff);
    const sh = e[K.EV_INT_SHADOW];
    s.setU32(INT_SHADOW, (sh & K.KVM_SHADOW_STI ? SHADOW_STI : 0) | (sh & K.KVM_SHADOW_MOV_SS ? SHADOW_MOV_SS : 0));
    s.setU32(NMI_PENDING, e[K.EV_NMI_PENDING] ? 1 : 0);
    s.setU32(NMI_MASKED, e[K.EV_NMI_MASKED] ? 1 : 0);

    let halted = flags.halted;
    if (this.kernelIrqchip) {
      vm.ioctl('GET_MP_STATE', this.mp);
      halted = this.mp[0] === K.MP_STATE_HALTED;
    }
    s.setU32(RUN_STATE, flags.shutdown ? RUN_SHUTDOWN : halted ? RUN_HALTED : RUN_RUNNING);
  }

  private readFpu(s: StateView): void {
    if (this.hasXsave) {
      this.vm.ioctl(this.xsaveGet, this.xsave);
      this.xsaveValid = true;
      s.u8.set(this.xsave.subarray(0, FXSAVE_SIZE + 64), FXSAVE);
      // Bytes 464-511 of the FXSAVE image are software-available (the host kernel keeps its own
      // marker there); no instruction writes them, so they are not part of the state.
      s.u8.fill(0, FXSAVE + FX_SOFTWARE_AREA, FXSAVE + FXSAVE_SIZE);
      return;
    }
    // struct kvm_fpu carries the same fields as FXSAVE, in another order.
    this.vm.ioctl('GET_FPU', this.fpu);
    const f = new DataView(this.fpu.buffer), out = s.dv;
    s.u8.fill(0, FXSAVE, XSAVE_HEADER + 64);
    out.setUint16(FX_FCW, f.getUint16(K.FPU_FCW, true), true);
    out.setUint16(FX_FSW, f.getUint16(K.FPU_FSW, true), true);
    out.setUint8(FX_FTW, f.getUint8(K.FPU_FTWX));
    out.setUint16(FX_FOP, f.getUint16(K.FPU_LAST_OPCODE, true), true);
    copy64(out, FX_FIP, f, K.FPU_LAST_IP);
    copy64(out, FX_FDP, f, K.FPU_LAST_DP);
    out.setUint32(FX_MXCSR, f.getUint32(K.FPU_MXCSR, true), true);
    s.u8.set(this.fpu.subarray(K.FPU_FPR, K.FPU_FPR + 128), FX_ST0);
    s.u8.set(this.fpu.subarray(K.FPU_XMM, K.FPU_XMM + 256), FX_XMM0);
  }

  private fillMsrIndexes(m: DataView): void {
    m.setUint32(0, this.msrList.length, true);
    m.setUint32(4, 0, true);
    for (let i = 0; i < this.msrList.length; i++) {
      m.setUint32(8 + i * K.MSR_ENTRY_SIZE, this.msrList[i][0], true);
      m.setUint32(8 + i * K.MSR_ENTRY_SIZE + 4, 0, true);
    }
  }

  /** Load the vCPU from `s`. Throws with KVM's errno text if KVM rejects the state. */
  write(s: StateView): void {
    const vm = this.vm, src = s.dv;
    const sr = new DataView(this.sregs.buffer);
    // Start from KVM's own sregs so the interrupt bitmap is whatever KVM holds.
    vm.ioctl('GET_SREGS', this.sregs);
    for (let n = 0; n < 8; n++) {
      const k = K.SREGS_SEG_SLOT[n] * K.KSEG_SIZE, o = segOffset(n);
      const attr = s.u32(o + SEG_ATTR);
      copy64(sr, k + K.KSEG_BASE, src, o + SEG_BASE);
      sr.setUint32(k + K.KSEG_LIMIT, s.u32(o + SEG_LIMIT), true);
      sr.setUint16(k + K.KSEG_SELECTOR, s.u32(o + SEG_SEL) & 0xffff, true);
      const b = this.sregs;
      b[k + K.KSEG_TYPE] = attr & 0xf;
      b[k + K.KSEG_PRESENT] = (attr >> 7) & 1;
      b[k + K.KSEG_DPL] = (attr >> 5) & 3;
      b[k + K.KSEG_DB] = (attr >> 14) & 1;
      b[k + K.KSEG_S] = (attr >> 4) & 1;
      b[k + K.KSEG_L] = (attr >> 13) & 1;
      b[k + K.KSEG_G] = (attr >> 15) & 1;
      b[k + K.KSEG_AVL] = (attr >> 12) & 1;
      b[k + K.KSEG_UNUSABLE] = (attr >> 16) & 1;
      b[k + 23] = 0;
    }
    copy64(sr, K.SREGS_GDT, src, GDTR_BASE);
    sr.setUint16(K.SREGS_GDT + 8, s.u32(GDTR_LIMIT) & 0xffff, true);
    copy64(sr, K.SREGS_IDT, src, IDTR_BASE);
    sr.setUint16(K.SREGS_IDT + 8, s.u32(IDTR_LIMIT) & 0xffff, true);
    copy64(sr, K.SREGS_CR0, src, CR0);
    copy64(sr, K.SREGS_CR2, src, CR2);
    copy64(sr, K.SREGS_CR3, src, CR3);
    copy64(sr, K.SREGS_CR4, src, CR4);
    copy64(sr, K.SREGS_CR8, src, CR8);
    copy64(sr, K.SREGS_EFER, src, EFER);
    copy64(sr, K.SREGS_APIC_BASE, src, APIC_BASE);
    // Pending external interrupts travel in vcpu_events, not the bitmap.
    this.sregs.fill(0, K.SREGS_INTERRUPT_BITMAP, K.SREGS_SIZE);
    vm.ioctl('SET_SREGS', this.sregs);

    if (this.msrList.length > 0) {
      const m = new DataView(this.msrs.buffer);
      this.fillMsrIndexes(m);
      for (let i = 0; i < this.msrList.length; i++) copy64(m, 8 + i * K.MSR_ENTRY_SIZE + 8, src, this.msrList[i][1]);
      const n = vm.ioctl('SET_MSRS', this.msrs);
      if (n !== this.msrList.length) {
        throw new Error(`KVM_SET_MSRS refused MSR 0x${this.msrList[n][0].toString(16)} = 0x${s.hex64(this.msrList[n][1])}`);
      }
    }

    const r = new DataView(this.regs.buffer);
    for (let n = 0; n < 16; n++) copy64(r, K.REGS_GPR_SLOT[n] * 8, src, gprOffset(n));
    copy64(r, K.REGS_RIP, src, RIP);
    copy64(r, K.REGS_RFLAGS, src, RFLAGS);
    vm.ioctl('SET_REGS', this.regs);

    if (this.hasXcrs && s.lo(XCR0) & 1) {
      const x = new DataView(this.xcrs.buffer);
      this.xcrs.fill(0);
      x.setUint32(0, 1, true);
      copy64(x, 8 + 8, src, XCR0);
      vm.ioctl('SET_XCRS', this.xcrs);
    }
    this.writeFpu(s);

    const d = new DataView(this.debugregs.buffer);
    this.debugregs.fill(0);
    for (let i = 0; i < 4; i++) copy64(d, i * 8, src, DR0 + i * 8);
    copy64(d, K.DEBUGREGS_DR6, src, DR6);
    copy64(d, K.DEBUGREGS_DR7, src, DR7);
    vm.ioctl('SET_DEBUGREGS', this.debugregs);

    const e = this.events, ev = new DataView(e.buffer);
    e.fill(0);
    const pending = s.u32(PENDING_EVENT), kind = pending & 0x700;
    if (pending & EVENT_VALID) {
      if (kind === EVENT_EXCEPTION) {
        e[K.EV_EXC_INJECTED] = 1;
        e[K.EV_EXC_NR] = pending & 0xff;
        e[K.EV_EXC_HAS_ERROR] = pending & EVENT_HAS_ERROR ? 1 : 0;
        ev.setUint32(K.EV_EXC_ERROR, s.u32(PENDING_ERROR), true);
      } else if (kind === EVENT_NMI) {
        e[K.EV_NMI_INJECTED] = 1;
      } else {
        e[K.EV_INT_INJECTED] = 1;
        e[K.EV_INT_NR] = pending & 0xff;
        e[K.EV_INT_SOFT] = kind === EVENT_SOFTINT ? 1 : 0;
      }
    } else if ((s.u32(PENDING_IRQ) | 0) >= 0) {
      // An interrupt the old backend acknowledged but had not delivered: KVM delivers it next.
      e[K.EV_INT_INJECTED] = 1;
      e[K.EV_INT_NR] = s.u32(PENDING_IRQ) & 0xff;
    }
    const shadow = s.u32(INT_SHADOW);
    e[K.EV_INT_SHADOW] = (shadow & SHADOW_STI ? K.KVM_SHADOW_STI : 0) | (shadow & SHADOW_MOV_SS ? K.KVM_SHADOW_MOV_SS : 0);
    e[K.EV_NMI_PENDING] = s.u32(NMI_PENDING) ? 1 : 0;
    e[K.EV_NMI_MASKED] = s.u32(NMI_MASKED) ? 1 : 0;
    ev.setUint32(K.EV_FLAGS, K.VCPUEVENT_VALID_NMI_PENDING | K.VCPUEVENT_VALID_SHADOW, true);
    vm.ioctl('SET_VCPU_EVENTS', this.events);

    if (this.kernelIrqchip) {
      this.mp.fill(0);
      this.mp[0] = s.u32(RUN_STATE) === RUN_HALTED ? K.MP_STATE_HALTED : K.MP_STATE_RUNNABLE;
      vm.ioctl('SET_MP_STATE', this.mp);
    }
  }

  private writeFpu(s: StateView): void {
    if (this.hasXsave) {
      // Keep the extended components (AVX, ...) KVM last reported; the record holds x87/SSE and the header.
      if (!this.xsaveValid) {
        this.vm.ioctl(this.xsaveGet, this.xsave);
        this.xsaveValid = true;
      }
      this.xsave.set(s.u8.subarray(FXSAVE, FXSAVE + FX_SOFTWARE_AREA), 0);
      // The header stays KVM's own (its XCOMP_BV and extended components are KVM's business);
      // the record's FXSAVE image is authoritative, so x87 and SSE are marked as not in their init
      // state (XSTATE_BV bits 0-1), or the restore would ignore the registers just written.
      this.xsave[K.XSAVE_HEADER_OFFSET] |= XSTATE_X87 | XSTATE_SSE;
      this.vm.ioctl('SET_XSAVE', this.xsave);
      return;
    }
    const f = new DataView(this.fpu.buffer), src = s.dv;
    this.fpu.fill(0);
    f.setUint16(K.FPU_FCW, src.getUint16(FX_FCW, true), true);
    f.setUint16(K.FPU_FSW, src.getUint16(FX_FSW, true), true);
    f.setUint8(K.FPU_FTWX, src.getUint8(FX_FTW));
    f.setUint16(K.FPU_LAST_OPCODE, src.getUint16(FX_FOP, true), true);
    copy64(f, K.FPU_LAST_IP, src, FX_FIP);
    copy64(f, K.FPU_LAST_DP, src, FX_FDP);
    f.setUint32(K.FPU_MXCSR, src.getUint32(FX_MXCSR, true), true);
    this.fpu.set(s.u8.subarray(FX_ST0, FX_ST0 + 128), K.FPU_FPR);
    this.fpu.set(s.u8.subarray(FX_XMM0, FX_XMM0 + 256), K.FPU_XMM);
    this.vm.ioctl('SET_FPU', this.fpu);
  }
}
