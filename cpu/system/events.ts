// Exception and interrupt delivery (Intel SDM Vol. 3A ch. 6): the real-mode IVT,
// protected-mode interrupt/trap gates with the TSS stack switch, v8086 mode,
// the 64-bit IDT with IST and 16-byte stack alignment; #DF when a contributory
// or page fault happens while delivering one, and the triple fault that shuts
// the CPU down (RUN_STATE = RUN_SHUTDOWN; the backend returns EXIT_SHUTDOWN).

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import { ACC_READ } from '../../mmu/tlb.js';
import {
  ATTR_DB, ATTR_DPL_SHIFT, ATTR_L, ATTR_UNUSABLE, CS, DS, ES, EVENT_NMI, EVENT_SOFTINT, FLAG_AC, FLAG_IF,
  FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM, FS, GS, RUN_SHUTDOWN, RUN_STATE, SEG_ATTR, SEG_BASE, SEG_LIMIT,
  SEG_SEL, SS, TR,
} from '../state.js';
import { CpuFault, VEC_DF, VEC_GP, VEC_NP, VEC_PF, VEC_SS, VEC_TS } from '../fault.js';
import {
  checkStackSegment, desc, descBase, descDpl, descIsSystem, descLimit, descAttr, descPresent, descType, fetchDescriptor,
  isLongMode, isProtected, loadSegmentReal, setAccessed, setNullSegment, setSegment, TYPE_CODE, TYPE_CONFORMING,
  SYS_TASKGATE,
} from './segments.js';
import { commitRsp, push, stackAt, stackFromCurrent, stackLimit, stk } from './stack.js';
import { EVENT_LOG, sysOf } from './context.js';
import { TASK_INT, taskSwitch } from './task.js';
import { W } from '../words.js';

const gp = (code: number): CpuFault => new CpuFault(VEC_GP, code, true);

/** Exception classes for the double-fault rules (SDM Table 6-5). */
const BENIGN = 0, CONTRIBUTORY = 1, PAGE_FAULT = 2, DOUBLE_FAULT = 3;
function classOf(vector: number, kind: number): number {
  if (kind !== 3 << 8) return BENIGN; // only exceptions (EVENT_EXCEPTION) count
  if (vector === VEC_DF) return DOUBLE_FAULT;
  if (vector === VEC_PF) return PAGE_FAULT;
  return vector === 0 || (vector >= 10 && vector <= 13) ? CONTRIBUTORY : BENIGN;
}
const EVENT_EXCEPTION = 3 << 8;

/**
 * Deliver an event. RIP must already be the return address (the faulting
 * instruction for faults, the next one for traps and software interrupts).
 * A fault while delivering a software interrupt propagates (it is a fault of
 * the INT instruction); other nested faults follow the #DF rules.
 */
export function deliverEvent(c: Cpu, vector: number, kind: number, errorCode: number, hasError: boolean): void {
  for (let attempt = 0; ; attempt++) {
    logEvent(c, vector, kind, hasError ? errorCode : -1);
    try {
      deliverOnce(c, vector, kind, errorCode, hasError);
      c.r32[W.W_SHADOW] = 0; // delivering any event ends an STI / MOV SS shadow
      sysOf(c).events.delivered++;
      return;
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      if (kind === EVENT_SOFTINT) throw e;
      const first = classOf(vector, kind), second = classOf(e.vector, EVENT_EXCEPTION);
      if (first === DOUBLE_FAULT || attempt > 4) { tripleFault(c); return; }
      if ((first === CONTRIBUTORY && second === CONTRIBUTORY) ||
          (first === PAGE_FAULT && (second === CONTRIBUTORY || second === PAGE_FAULT))) {
        sysOf(c).events.doubleFaults++;
        vector = VEC_DF; errorCode = 0; hasError = true;
      } else {
        vector = e.vector; errorCode = e.errorCode; hasError = e.hasError;
      }
      kind = EVENT_EXCEPTION;
    }
  }
}

/** Remember the event for recentEvents(). */
function logEvent(c: Cpu, vector: number, kind: number, errorCode: number): void {
  const ctx = sysOf(c), i = ctx.eventLogPos * 4;
  ctx.eventLog[i] = vector; ctx.eventLog[i + 1] = kind; ctx.eventLog[i + 2] = errorCode; ctx.eventLog[i + 3] = c.r32[W.W_RIP];
  ctx.eventLogPos = (ctx.eventLogPos + 1) % EVENT_LOG;
}

/** Shutdown: the CPU stops until reset (SDM 6.15, interrupt 8). */
export function tripleFault(c: Cpu): void {
  sysOf(c).events.tripleFaults++;
  c.r32[W.W_RUN] = RUN_SHUTDOWN;
}

function deliverOnce(c: Cpu, vector: number, kind: number, errorCode: number, hasError: boolean): void {
  if (!isProtected(c)) deliverReal(c, vector);
  else if (isLongMode(c)) deliverLong(c, vector, kind, errorCode, hasError);
  else deliverLegacy(c, vector, kind, errorCode, hasError);
  if (kind === EVENT_NMI) c.r32[W.W_NMI_MASKED] = 1;
}

/** Real mode: far call through the IVT entry, FLAGS/CS/IP pushed, IF/TF/AC/RF cleared. */
function deliverReal(c: Cpu, vector: number): void {
  const r = c.r32;
  if (vector * 4 + 3 > (r[W.W_IDTR_LIMIT] & 0xffff)) throw gp(vector * 8 + 2);
  const ent = (r[W.W_IDTR_BASE] + vector * 4) | 0;
  const ip = c.readK(ent, 0, 2, ACC_READ) & 0xffff;
  const cs = c.readK((ent + 2) | 0, 0, 2, ACC_READ) & 0xffff;
  const flags = c.getRflags();
  stackFromCurrent(c);
  push(c, 2, flags);
  push(c, 2, r[segWord(CS, SEG_SEL)]);
  push(c, 2, r[W.W_RIP]);
  commitRsp(c);
  c.setRflags(flags & ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF));
  loadSegmentReal(c, CS, cs, false);
  r[W.W_RIP] = ip; r[W.W_RIP + 1] = 0;
  c.modeChanged();
}

/** Read the gate for `vector` (8 or 16 bytes) into g[]; faults per SDM 6.12.1. */
const g = new Int32Array(4);
function readGate(c: Cpu, vector: number, wide: boolean, idtErr: number, soft: boolean): void {
  const r = c.r32;
  const size = wide ? 16 : 8;
  if (vector * size + size - 1 > (r[W.W_IDTR_LIMIT] & 0xffff)) throw gp(idtErr);
  const base = r[W.W_IDTR_BASE], baseHi = wide ? r[W.W_IDTR_BASE + 1] : 0;
  const off = vector * size;
  const lo = (base + off) | 0;
  const hi = (baseHi + ((base >>> 0) + off >= 4294967296 ? 1 : 0)) | 0;
  for (let k = 0; k < size / 4; k++) g[k] = c.readK((lo + 4 * k) | 0, hi, 4, ACC_READ);
  const type = (g[1] >>> 8) & 0xf;
  const ok = wide ? type === 14 || type === 15 : type === 5 || type === 6 || type === 7 || type === 14 || type === 15;
  if ((g[1] & (1 << 12)) !== 0 || !ok) throw gp(idtErr);
  if (soft && ((g[1] >>> 13) & 3) < c.cpl) throw gp(idtErr);
  if ((g[1] & (1 << 15)) === 0) throw new CpuFault(VEC_NP, idtErr, true);
}

/** Fetch and check the handler's code segment; leaves it in `desc`. */
function checkHandlerCs(c: Cpu, sel: number, ext: number, long: boolean): void {
  if ((sel & 0xfffc) === 0) throw gp(ext);
  if (!fetchDescriptor(c, sel)) throw gp((sel & 0xfffc) | ext);
  const h = desc.hi;
  if (descIsSystem(h) || (descType(h) & TYPE_CODE) === 0 || descDpl(h) > c.cpl) throw gp((sel & 0xfffc) | ext);
  if (long && ((descAttr(h) & ATTR_L) === 0 || (descAttr(h) & ATTR_DB) !== 0)) throw gp((sel & 0xfffc) | ext);
  if (!descPresent(h)) throw new CpuFault(VEC_NP, (sel & 0xfffc) | ext, true);
}

/** The stack pointer for privilege `cpl` (or IST slot `ist`) from the current TSS. */
export let tssSsSel = 0;
export function readTssStack(c: Cpu, cpl: number, ist: number, long: boolean): number {
  const r = c.r32;
  const trSel = r[segWord(TR, SEG_SEL)] & 0xfffc;
  const base = r[segWord(TR, SEG_BASE)], baseHi = long ? r[segWord(TR, SEG_BASE) + 1] : 0;
  const limit = r[segWord(TR, SEG_LIMIT)] >>> 0;
  const type = r[segWord(TR, SEG_ATTR)] & 0xf;
  if (long) {
    const off = ist !== 0 ? 36 + (ist - 1) * 8 : 4 + cpl * 8;
    if (off + 7 > limit) throw new CpuFault(VEC_TS, trSel, true);
    const lo = c.readK((base + off) | 0, baseHi, 4, ACC_READ);
    tssStackHi = c.readK((base + off + 4) | 0, baseHi, 4, ACC_READ);
    return lo;
  }
  if (type === 1 || type === 3) { // 16-bit TSS
    const off = 2 + cpl * 4;
    if (off + 3 > limit) throw new CpuFault(VEC_TS, trSel, true);
    tssSsSel = c.readK((base + off + 2) | 0, 0, 2, ACC_READ) & 0xffff;
    return c.readK((base + off) | 0, 0, 2, ACC_READ) & 0xffff;
  }
  const off = 4 + cpl * 8;
  if (off + 5 > limit) throw new CpuFault(VEC_TS, trSel, true);
  tssSsSel = c.readK((base + off + 4) | 0, 0, 2, ACC_READ) & 0xffff;
  return c.readK((base + off) | 0, 0, 4, ACC_READ);
}
export let tssStackHi = 0;

/** Protected mode (not IA-32e): 16/32-bit interrupt and trap gates, v8086 included. */
function deliverLegacy(c: Cpu, vector: number, kind: number, errorCode: number, hasError: boolean): void {
  const r = c.r32;
  const soft = kind === EVENT_SOFTINT;
  const ext = soft ? 0 : 1;
  const idtErr = (vector << 3) | 2 | ext;
  readGate(c, vector, false, idtErr, soft);
  const type = (g[1] >>> 8) & 0xf;
  if (type === SYS_TASKGATE) {
    // A task gate: switch tasks, then push the error code on the new task's stack.
    taskSwitch(c, g[0] >>> 16, TASK_INT);
    if (hasError) { stackFromCurrent(c); push(c, 4, errorCode); commitRsp(c); }
    return;
  }
  const gate32 = (type & 8) !== 0;
  const size = gate32 ? 4 : 2;
  const sel = g[0] >>> 16;
  const offset = gate32 ? ((g[0] & 0xffff) | (g[1] & 0xffff0000)) : g[0] & 0xffff;
  checkHandlerCs(c, sel, ext, false);
  const csLo = desc.lo, csHi = desc.hi, csAddrLo = desc.addrLo, csAddrHi = desc.addrHi;
  if (offset >>> 0 > descLimit(csLo, csHi) >>> 0) throw gp(ext); // SDM INT n: handler EIP past the CS limit
  const dpl = descDpl(csHi);
  const conforming = (descType(csHi) & TYPE_CONFORMING) !== 0;
  const flags = c.getRflags();
  const vm = (flags & FLAG_VM) !== 0;
  const cpl = c.cpl;
  const oldSs = r[segWord(SS, SEG_SEL)], oldSp = r[2 * 4];
  let newCpl = cpl;
  let ssLo = 0, ssHi = 0, ssSel = 0;
  if (!conforming && dpl < cpl) {
    newCpl = dpl;
    if (vm && dpl !== 0) throw gp(sel & 0xfffc);
    const sp = readTssStack(c, dpl, 0, false);
    ssSel = tssSsSel;
    checkStackSegment(c, ssSel, dpl, VEC_TS);
    ssLo = desc.lo; ssHi = desc.hi;
    stackAt(sp, 0, (descAttr(ssHi) & ATTR_DB) !== 0 ? 4 : 2, descBase(ssLo, ssHi), dpl);
    stackLimit(descAttr(ssHi), descLimit(ssLo, ssHi), (ssSel & 0xfffc) | ext); // no room for the frame: #SS(NewSS | EXT)
    if (vm) {
      push(c, size, r[segWord(GS, SEG_SEL)]);
      push(c, size, r[segWord(FS, SEG_SEL)]);
      push(c, size, r[segWord(DS, SEG_SEL)]);
      push(c, size, r[segWord(ES, SEG_SEL)]);
    }
    push(c, size, oldSs);
    push(c, size, oldSp);
  } else {
    if (vm) throw gp(sel & 0xfffc);
    stackFromCurrent(c);
    stk.err = ext; // SDM INT n: no room on the current stack is #SS(EXT)
  }
  push(c, size, flags);
  push(c, size, r[segWord(CS, SEG_SEL)]);
  push(c, size, r[W.W_RIP]);
  if (hasError) push(c, size, errorCode);
  // Everything that can fault has been done: commit.
  if (newCpl !== cpl) {
    desc.lo = ssLo; desc.hi = ssHi;
    setSegment(c, SS, ssSel, descBase(ssLo, ssHi), 0, descLimit(ssLo, ssHi), descAttr(ssHi));
  }
  commitRsp(c);
  if (vm) for (const s of [ES, DS, FS, GS]) setNullSegment(c, s, 0);
  desc.lo = csLo; desc.hi = csHi; desc.addrLo = csAddrLo; desc.addrHi = csAddrHi;
  setAccessed(c);
  setSegment(c, CS, (sel & 0xfffc) | newCpl, descBase(csLo, csHi), 0, descLimit(csLo, csHi), descAttr(csHi));
  const interruptGate = (type & 1) === 0;
  c.setRflags(flags & ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM | (interruptGate ? FLAG_IF : 0)));
  r[W.W_RIP] = offset; r[W.W_RIP + 1] = 0;
  c.modeChanged();
}

/** IA-32e mode: 64-bit gates, IST, SS:RSP always pushed, RSP aligned to 16. */
function deliverLong(c: Cpu, vector: number, kind: number, errorCode: number, hasError: boolean): void {
  const r = c.r32;
  const soft = kind === EVENT_SOFTINT;
  const ext = soft ? 0 : 1;
  const idtErr = (vector << 3) | 2 | ext;
  readGate(c, vector, true, idtErr, soft);
  const type = (g[1] >>> 8) & 0xf;
  const sel = g[0] >>> 16;
  const offLo = (g[0] & 0xffff) | (g[1] & 0xffff0000), offHi = g[2];
  const ist = g[1] & 7;
  checkHandlerCs(c, sel, ext, true);
  const csLo = desc.lo, csHi = desc.hi, csAddrLo = desc.addrLo, csAddrHi = desc.addrHi;
  const dpl = descDpl(csHi);
  const conforming = (descType(csHi) & TYPE_CONFORMING) !== 0;
  const cpl = c.cpl;
  const newCpl = !conforming && dpl < cpl ? dpl : cpl;
  const flags = c.getRflags();
  const oldSs = r[segWord(SS, SEG_SEL)];
  const oldSpLo = r[2 * 4], oldSpHi = r[2 * 4 + 1];
  let spLo = oldSpLo, spHi = oldSpHi;
  if (newCpl !== cpl || ist !== 0) {
    spLo = readTssStack(c, newCpl, ist, true);
    spHi = tssStackHi;
    if (((spHi << 16) >> 16) !== spHi) throw new CpuFault(VEC_SS, ext, true); // non-canonical stack from the TSS
  }
  stackAt(spLo & ~15, spHi, 8, 0, newCpl);
  push(c, 8, oldSs, 0);
  push(c, 8, oldSpLo, oldSpHi);
  push(c, 8, flags, 0);
  push(c, 8, r[segWord(CS, SEG_SEL)], 0);
  push(c, 8, r[W.W_RIP], r[W.W_RIP + 1]);
  if (hasError) push(c, 8, errorCode, 0);
  if (newCpl !== cpl) setSegment(c, SS, newCpl, 0, 0, 0, ATTR_UNUSABLE | (newCpl << ATTR_DPL_SHIFT));
  r[2 * 4] = stk.spLo; r[2 * 4 + 1] = stk.spHi;
  desc.lo = csLo; desc.hi = csHi; desc.addrLo = csAddrLo; desc.addrHi = csAddrHi;
  setAccessed(c);
  setSegment(c, CS, (sel & 0xfffc) | newCpl, descBase(csLo, csHi), 0, descLimit(csLo, csHi), descAttr(csHi));
  const interruptGate = (type & 1) === 0;
  c.setRflags(flags & ~(FLAG_TF | FLAG_NT | FLAG_RF | FLAG_VM | (interruptGate ? FLAG_IF : 0)));
  r[W.W_RIP] = offLo; r[W.W_RIP + 1] = offHi;
  c.modeChanged();
}
