// Hardware task switching (SDM Vol. 3A 7.3) for 32-bit TSSs, outside IA-32e mode:
// JMP/CALL to a TSS descriptor or task gate, interrupts and exceptions through
// a task gate, and IRET with EFLAGS.NT back to the previous task. 16-bit TSSs
// are not supported (#TS on the selector). IA-32e mode has no task switching (#GP).

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import { ACC_READ, ACC_WRITE } from '../../mmu/tlb.js';
import {
  CR0, CR0_PG, CR0_TS, CR3, CS, DS, ES, FLAG_NT, FLAG_VM, FS, GS, LDTR, SEG_BASE, SEG_SEL, SS, TR,
} from '../state.js';
import { CpuFault, VEC_GP, VEC_NP, VEC_TS } from '../fault.js';
import {
  desc, descAttr, descBase, descDpl, descIsSystem, descLimit, descPresent, descType, fetchDescriptor, isLongMode,
  loadSegmentReal, setAccessed, setNullSegment, setSegment, SYS_LDT, SYS_TASKGATE, SYS_TSS_AVAIL, SYS_TSS_BUSY,
  TYPE_CODE, TYPE_CONFORMING, TYPE_READABLE, TYPE_WRITABLE,
} from './segments.js';
import { sysOf } from './context.js';
import { W } from '../words.js';

/** Why the switch happens: decides the busy bits, NT and the back link (SDM Table 7-2). */
export const TASK_JMP = 0, TASK_CALL = 1, TASK_INT = 2, TASK_IRET = 3;

const TSS_BACKLINK = 0x00, TSS_CR3 = 0x1c, TSS_EIP = 0x20, TSS_EFLAGS = 0x24, TSS_EAX = 0x28, TSS_ES = 0x48,
  TSS_LDT = 0x60;
const TSS32_MIN_LIMIT = 0x67;
/** The segment registers in TSS order (ES, CS, SS, DS, FS, GS), which is also state.ts order. */
const SEGS = [ES, CS, SS, DS, FS, GS];

const ts = (sel: number): CpuFault => new CpuFault(VEC_TS, sel & 0xfffc, true);
const gp = (code: number): CpuFault => new CpuFault(VEC_GP, code, true);

/**
 * desc holds a task gate or a TSS descriptor for `sel` (reached by JMP/CALL or
 * through the IDT): resolve it to the TSS selector, with the presence checks.
 */
export function taskTarget(c: Cpu, sel: number): number {
  if (isLongMode(c)) throw gp(sel & 0xfffc);
  if (descType(desc.hi) === SYS_TASKGATE) {
    if (!descPresent(desc.hi)) throw new CpuFault(VEC_NP, sel & 0xfffc, true);
    return desc.lo >>> 16;
  }
  return sel;
}

/** Switch to the task whose TSS selector is `tssSel`. RIP holds the old task's resume address. */
export function taskSwitch(c: Cpu, tssSel: number, reason: number): void {
  const r = c.r32;
  tssSel &= 0xffff;
  if ((tssSel & 4) !== 0 || !fetchDescriptor(c, tssSel)) throw ts(tssSel);
  const h = desc.hi, t = descType(h);
  if (!descIsSystem(h) || (t !== SYS_TSS_AVAIL && t !== SYS_TSS_BUSY)) throw ts(tssSel);
  // IRET returns to a busy task; everything else needs an available one.
  if ((reason === TASK_IRET) !== (t === SYS_TSS_BUSY)) throw gp(tssSel & 0xfffc);
  if (!descPresent(h)) throw new CpuFault(VEC_NP, tssSel & 0xfffc, true);
  const newBase = descBase(desc.lo, h), newLimit = descLimit(desc.lo, h);
  if (newLimit < TSS32_MIN_LIMIT) throw ts(tssSel);
  const newDescAddr = desc.addrLo, newDescAddrHi = desc.addrHi;
  const newAttr = descAttr(h);

  // Save the outgoing task into its TSS.
  const oldSel = r[segWord(TR, SEG_SEL)] & 0xffff;
  const oldBase = r[segWord(TR, SEG_BASE)];
  const flags = c.getRflags();
  const wr = (off: number, v: number): void => c.writeK((oldBase + off) | 0, 0, 4, v, ACC_WRITE);
  wr(TSS_EIP, r[W.W_RIP]);
  wr(TSS_EFLAGS, reason === TASK_JMP || reason === TASK_IRET ? flags & ~FLAG_NT : flags);
  for (let n = 0; n < 8; n++) wr(TSS_EAX + n * 4, r[n * 2]);
  for (let k = 0; k < 6; k++) wr(TSS_ES + k * 4, r[segWord(SEGS[k], SEG_SEL)] & 0xffff);

  // Read the incoming task's state before changing anything else.
  const rd = (off: number): number => c.readK((newBase + off) | 0, 0, 4, ACC_READ);
  const nEip = rd(TSS_EIP), nFlags = rd(TSS_EFLAGS), nCr3 = rd(TSS_CR3), nLdt = rd(TSS_LDT) & 0xffff;
  const gprs = new Int32Array(8);
  for (let n = 0; n < 8; n++) gprs[n] = rd(TSS_EAX + n * 4);
  const sels = SEGS.map((_, k) => rd(TSS_ES + k * 4) & 0xffff);

  // Busy bits and the back link.
  if (reason === TASK_JMP || reason === TASK_IRET) setBusy(c, oldSel, false);
  if (reason === TASK_CALL || reason === TASK_INT) c.writeK(newBase, 0, 2, oldSel, ACC_WRITE);
  if (reason !== TASK_IRET) {
    c.writeK((newDescAddr + 5) | 0, newDescAddrHi, 1, ((newAttr | 2) & 0xff), ACC_WRITE);
  }

  // Commit: TR, CR0.TS, CR3, registers, flags.
  setSegment(c, TR, tssSel, newBase, 0, newLimit, (newAttr & ~0xf) | SYS_TSS_BUSY);
  r[W.W_CR0] |= CR0_TS;
  if ((r[W.W_CR0] & CR0_PG) !== 0 && nCr3 !== r[W.W_CR3]) {
    if (!sysOf(c).mmu.setCr3(nCr3, 0)) throw gp(0);
    r[W.W_CR3] = nCr3; r[W.W_CR3 + 1] = 0;
    c.flushTlb(false);
  }
  for (let n = 0; n < 8; n++) { r[n * 2] = gprs[n]; r[n * 2 + 1] = 0; }
  let nf = nFlags;
  if (reason === TASK_CALL || reason === TASK_INT) nf |= FLAG_NT;
  c.setRflags(nf);
  r[W.W_RIP] = nEip; r[W.W_RIP + 1] = 0;
  // Selectors first (so a fault below is taken in the new task), then the descriptors.
  for (let k = 0; k < 6; k++) r[segWord(SEGS[k], SEG_SEL)] = sels[k];
  r[segWord(LDTR, SEG_SEL)] = nLdt;
  loadTaskSegments(c, sels, nLdt, (nf & FLAG_VM) !== 0);
  c.modeChanged();
}

function setBusy(c: Cpu, sel: number, busy: boolean): void {
  if (!fetchDescriptor(c, sel)) return;
  const access = (desc.hi >>> 8) & 0xff;
  c.writeK((desc.addrLo + 5) | 0, desc.addrHi, 1, busy ? access | 2 : access & ~2, ACC_WRITE);
}

/** Load LDTR and the segment registers of the new task, with #TS for bad selectors (SDM 7.3, step 12). */
function loadTaskSegments(c: Cpu, sels: number[], ldt: number, vm86: boolean): void {
  if ((ldt & 0xfffc) === 0) setNullSegment(c, LDTR, ldt);
  else {
    if ((ldt & 4) !== 0 || !fetchDescriptor(c, ldt) || !descIsSystem(desc.hi) || descType(desc.hi) !== SYS_LDT) throw ts(ldt);
    if (!descPresent(desc.hi)) throw ts(ldt);
    setSegment(c, LDTR, ldt, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
  }
  if (vm86) {
    for (let k = 0; k < 6; k++) loadSegmentReal(c, SEGS[k], sels[k], true);
    return;
  }
  const cpl = sels[1] & 3; // CS.RPL is the new CPL
  for (let k = 0; k < 6; k++) {
    const seg = SEGS[k], sel = sels[k];
    if ((sel & 0xfffc) === 0) {
      if (seg === CS || seg === SS) throw ts(sel);
      setNullSegment(c, seg, sel);
      continue;
    }
    if (!fetchDescriptor(c, sel)) throw ts(sel);
    const h = desc.hi, t = descType(h), dpl = descDpl(h);
    if (descIsSystem(h)) throw ts(sel);
    if (seg === CS) {
      if ((t & TYPE_CODE) === 0) throw ts(sel);
      if ((t & TYPE_CONFORMING) !== 0 ? dpl > cpl : dpl !== cpl) throw ts(sel);
    } else if (seg === SS) {
      if ((t & TYPE_CODE) !== 0 || (t & TYPE_WRITABLE) === 0 || dpl !== cpl || (sel & 3) !== cpl) throw ts(sel);
    } else {
      if ((t & TYPE_CODE) !== 0 && (t & TYPE_READABLE) === 0) throw ts(sel);
      if (((t & TYPE_CODE) === 0 || (t & TYPE_CONFORMING) === 0) && (cpl > dpl || (sel & 3) > dpl)) throw ts(sel);
    }
    if (!descPresent(h)) throw new CpuFault(seg === SS ? 12 : VEC_NP, sel & 0xfffc, true);
    setAccessed(c);
    setSegment(c, seg, sel, descBase(desc.lo, h), 0, descLimit(desc.lo, h), descAttr(h));
  }
}

/** IRET with NT set: return to the task named by the current TSS's back link. */
export function taskReturn(c: Cpu): void {
  const base = c.r32[segWord(TR, SEG_BASE)];
  const link = c.readK((base + TSS_BACKLINK) | 0, 0, 2, ACC_READ) & 0xffff;
  taskSwitch(c, link, TASK_IRET);
}
