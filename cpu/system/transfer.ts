// Far control transfers (SDM Vol. 2: JMP, CALL, RET, IRET; Vol. 3A 5.8): direct
// to a code segment or through call gates (with the TSS stack switch and
// parameter copy), far returns to the same or an outer privilege level, IRET in
// real, v8086, protected and IA-32e mode. TSS and task-gate targets and IRET with
// NT go to the task switch (task.ts).

import type { Cpu } from '../cpu.js';
import { segWord } from '../cpu.js';
import {
  ATTR_DB, ATTR_DPL_SHIFT, ATTR_L, ATTR_UNUSABLE, CS, DS, ES, FLAG_AC, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT,
  FLAG_RF, FLAG_VIF, FLAG_VIP, FLAG_VM, FS, GS, SEG_ATTR, SEG_SEL, SS,
} from '../state.js';
import { CpuFault, VEC_GP, VEC_NP, VEC_TS } from '../fault.js';
import {
  checkStackSegment, desc, descAttr, descBase, descDpl, descIsSystem, descLimit, descPresent, descType,
  fetchDescriptor, isLongMode, isProtected, loadSegmentReal, nullInaccessibleSegments, setAccessed, setSegment,
  SYS_CALLGATE, SYS_CALLGATE16, SYS_TASKGATE, SYS_TSS16_AVAIL, SYS_TSS_AVAIL, TYPE_CODE, TYPE_CONFORMING,
} from './segments.js';
import { TASK_CALL, TASK_JMP, taskReturn, taskSwitch, taskTarget } from './task.js';
import { commitRsp, pop, push, stackAdjust, stackAt, stackFromCurrent, stackLimit, stk } from './stack.js';
import { readTssStack, tssSsSel, tssStackHi } from './events.js';
import { W } from '../words.js';

const gp = (code: number): CpuFault => new CpuFault(VEC_GP, code, true);
const selErr = (sel: number): number => sel & 0xfffc;

/** Saved copy of a descriptor across a second fetch. */
const saved = { lo: 0, hi: 0, addrLo: 0, addrHi: 0 };
function save(): void { saved.lo = desc.lo; saved.hi = desc.hi; saved.addrLo = desc.addrLo; saved.addrHi = desc.addrHi; }
function restore(): void { desc.lo = saved.lo; desc.hi = saved.hi; desc.addrLo = saved.addrLo; desc.addrHi = saved.addrHi; }

function setRipSized(c: Cpu, lo: number, hi: number, size: number): void {
  const r = c.r32;
  if (size === 8) { r[W.W_RIP] = lo; r[W.W_RIP + 1] = hi; } else { r[W.W_RIP] = size === 4 ? lo : lo & 0xffff; r[W.W_RIP + 1] = 0; }
}

/**
 * #GP(0) if a 16/32-bit target offset lies past the limit of the code segment in `desc`, checked
 * before anything is committed (SDM Vol. 2 JMP/CALL/RET/IRET: "instruction pointer not within the
 * code segment limit"); 64-bit targets (size 8) have no limit.
 */
function checkTargetIp(ip: number, size: number): void {
  if (size !== 8 && (size === 2 ? ip & 0xffff : ip >>> 0) > (descLimit(desc.lo, desc.hi) >>> 0)) throw gp(0);
}

/** Load CS from `desc` with RPL = cpl. */
function commitCs(c: Cpu, sel: number, cpl: number): void {
  setAccessed(c);
  setSegment(c, CS, (sel & 0xfffc) | cpl, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/** A direct code-segment target for JMP/CALL (desc holds it): privilege rules; returns nothing, throws. */
function checkDirectCode(c: Cpu, sel: number): void {
  const h = desc.hi, t = descType(h), dpl = descDpl(h), cpl = c.cpl;
  if ((t & TYPE_CONFORMING) !== 0) { if (dpl > cpl) throw gp(selErr(sel)); }
  else if ((sel & 3) > cpl || dpl !== cpl) throw gp(selErr(sel));
  if (isLongMode(c) && (descAttr(h) & ATTR_L) !== 0 && (descAttr(h) & ATTR_DB) !== 0) throw gp(selErr(sel));
  if (!descPresent(h)) throw new CpuFault(VEC_NP, selErr(sel), true);
}

/** Gate fields after readCallGate(). */
const gate = { sel: 0, offLo: 0, offHi: 0, params: 0, size: 4 };

/** desc holds a call gate for selector `sel`: check it and fetch its target code segment into desc. */
function readCallGate(c: Cpu, sel: number): void {
  const h = desc.hi, t = descType(h), long = isLongMode(c);
  if (long ? t !== SYS_CALLGATE : t !== SYS_CALLGATE && t !== SYS_CALLGATE16) throw gp(selErr(sel));
  if (descDpl(h) < c.cpl || descDpl(h) < (sel & 3)) throw gp(selErr(sel));
  if (!descPresent(h)) throw new CpuFault(VEC_NP, selErr(sel), true);
  gate.sel = desc.lo >>> 16;
  gate.size = long ? 8 : t === SYS_CALLGATE ? 4 : 2;
  gate.offLo = gate.size === 2 ? desc.lo & 0xffff : (desc.lo & 0xffff) | (h & 0xffff0000);
  gate.offHi = long ? desc.hi2lo : 0;
  gate.params = long ? 0 : h & 0x1f;
  if (long && (desc.hi2hi & (0x1f << 8)) !== 0) throw gp(selErr(sel));
  const target = gate.sel;
  if ((target & 0xfffc) === 0) throw gp(0);
  if (!fetchDescriptor(c, target)) throw gp(selErr(target));
  const th = desc.hi;
  if (descIsSystem(th) || (descType(th) & TYPE_CODE) === 0 || descDpl(th) > c.cpl) throw gp(selErr(target));
  if (long && ((descAttr(th) & ATTR_L) === 0 || (descAttr(th) & ATTR_DB) !== 0)) throw gp(selErr(target));
  if (!descPresent(th)) throw new CpuFault(VEC_NP, selErr(target), true);
}

/** Fetch a far-transfer target descriptor (16 bytes for long-mode system descriptors). */
function fetchTarget(c: Cpu, sel: number): void {
  if ((sel & 0xfffc) === 0) throw gp(0);
  if (!fetchDescriptor(c, sel)) throw gp(selErr(sel));
  if (descIsSystem(desc.hi) && isLongMode(c) && !fetchDescriptor(c, sel, true)) throw gp(selErr(sel));
}

/** JMP ptr16:16/32, JMP m16:16/32/64. */
export function jmpFar(c: Cpu, sel: number, offLo: number, offHi: number, opSize: number): void {
  sel &= 0xffff;
  if (!isProtected(c) || c.mode === 2) {
    loadSegmentReal(c, CS, sel, c.mode === 2);
    setRipSized(c, offLo, 0, opSize === 2 ? 2 : 4);
    c.modeChanged();
    return;
  }
  fetchTarget(c, sel);
  if (!descIsSystem(desc.hi) && (descType(desc.hi) & TYPE_CODE) !== 0) {
    checkDirectCode(c, sel);
    checkTargetIp(offLo, (descAttr(desc.hi) & ATTR_L) !== 0 && isLongMode(c) ? 8 : opSize);
    commitCs(c, sel, c.cpl);
    setRipSized(c, offLo, offHi, (descAttr(desc.hi) & ATTR_L) !== 0 && isLongMode(c) ? 8 : opSize);
  } else if (descIsSystem(desc.hi) && (descType(desc.hi) === SYS_CALLGATE || descType(desc.hi) === SYS_CALLGATE16)) {
    readCallGate(c, sel);
    const t = descType(desc.hi);
    if ((t & TYPE_CONFORMING) === 0 && descDpl(desc.hi) !== c.cpl) throw gp(selErr(gate.sel));
    checkTargetIp(gate.offLo, gate.size);
    commitCs(c, gate.sel, c.cpl);
    setRipSized(c, gate.offLo, gate.offHi, gate.size);
  } else if (isTaskTarget(c, sel)) {
    taskSwitch(c, taskTarget(c, sel), TASK_JMP);
    return;
  } else throw gp(selErr(sel));
  c.modeChanged();
}

/** desc holds a TSS descriptor or task gate usable by JMP/CALL from here (DPL >= CPL and RPL). */
function isTaskTarget(c: Cpu, sel: number): boolean {
  const h = desc.hi, t = descType(h);
  if (!descIsSystem(h) || !(t === SYS_TASKGATE || t === SYS_TSS_AVAIL || t === SYS_TSS16_AVAIL)) return false;
  if (descDpl(h) < c.cpl || descDpl(h) < (sel & 3)) throw gp(selErr(sel));
  return true;
}

/** CALL ptr16:16/32, CALL m16:16/32/64. RIP holds the return address. */
export function callFar(c: Cpu, sel: number, offLo: number, offHi: number, opSize: number): void {
  const r = c.r32;
  sel &= 0xffff;
  const retLo = r[W.W_RIP], retHi = r[W.W_RIP + 1];
  const oldCs = r[segWord(CS, SEG_SEL)];
  if (!isProtected(c) || c.mode === 2) {
    stackFromCurrent(c);
    push(c, opSize, oldCs);
    push(c, opSize, retLo);
    commitRsp(c);
    loadSegmentReal(c, CS, sel, c.mode === 2);
    setRipSized(c, offLo, 0, opSize);
    c.modeChanged();
    return;
  }
  fetchTarget(c, sel);
  if (!descIsSystem(desc.hi) && (descType(desc.hi) & TYPE_CODE) !== 0) {
    checkDirectCode(c, sel);
    checkTargetIp(offLo, (descAttr(desc.hi) & ATTR_L) !== 0 && isLongMode(c) ? 8 : opSize);
    save();
    stackFromCurrent(c);
    push(c, opSize, oldCs, 0);
    push(c, opSize, retLo, retHi);
    commitRsp(c);
    restore();
    commitCs(c, sel, c.cpl);
    setRipSized(c, offLo, offHi, (descAttr(desc.hi) & ATTR_L) !== 0 && isLongMode(c) ? 8 : opSize);
    c.modeChanged();
    return;
  }
  const t0 = descType(desc.hi);
  if (isTaskTarget(c, sel)) { taskSwitch(c, taskTarget(c, sel), TASK_CALL); return; }
  if (!descIsSystem(desc.hi) || (t0 !== SYS_CALLGATE && t0 !== SYS_CALLGATE16)) throw gp(selErr(sel));
  readCallGate(c, sel);
  checkTargetIp(gate.offLo, gate.size);
  save();
  const dpl = descDpl(desc.hi), cpl = c.cpl;
  const conforming = (descType(desc.hi) & TYPE_CONFORMING) !== 0;
  const size = gate.size;
  if (!conforming && dpl < cpl) {
    // More privilege: switch to the inner stack from the TSS, copy parameters.
    const long = isLongMode(c);
    const oldSs = r[segWord(SS, SEG_SEL)], oldSpLo = r[W.W_RSP], oldSpHi = r[W.W_RSP + 1];
    let ssSel = 0, ssLo = 0, ssHi = 0;
    const spLo = readTssStack(c, dpl, 0, long);
    if (long) {
      const spHi = tssStackHi;
      stackAt(spLo, spHi, 8, 0, dpl);
    } else {
      ssSel = tssSsSel;
      checkStackSegment(c, ssSel, dpl, VEC_TS);
      ssLo = desc.lo; ssHi = desc.hi;
      stackAt(spLo, 0, (descAttr(ssHi) & ATTR_DB) !== 0 ? 4 : 2, descBase(ssLo, ssHi), dpl);
      stackLimit(descAttr(ssHi), descLimit(ssLo, ssHi), ssSel & 0xfffc); // no room: #SS(SS selector)
    }
    // Parameters are read from the old stack before anything is written.
    const params: number[] = [];
    if (gate.params > 0) {
      const cur = { spLo: stk.spLo, spHi: stk.spHi, addr: stk.addr, base: stk.base, kind: stk.kind };
      stackFromCurrent(c);
      for (let k = 0; k < gate.params; k++) params.push(pop(c, size));
      stackAt(cur.spLo, cur.spHi, cur.addr, cur.base, dpl);
      if (!long) stackLimit(descAttr(ssHi), descLimit(ssLo, ssHi), ssSel & 0xfffc);
    }
    push(c, size, oldSs, 0);
    push(c, size, oldSpLo, oldSpHi);
    for (let k = params.length - 1; k >= 0; k--) push(c, size, params[k]);
    push(c, size, oldCs, 0);
    push(c, size, retLo, retHi);
    if (long) setSegment(c, SS, dpl, 0, 0, 0, ATTR_UNUSABLE | (dpl << ATTR_DPL_SHIFT));
    else setSegment(c, SS, ssSel, descBase(ssLo, ssHi), 0, descLimit(ssLo, ssHi), descAttr(ssHi));
    commitRsp(c);
    restore();
    commitCs(c, gate.sel, dpl);
  } else {
    stackFromCurrent(c);
    push(c, size, oldCs, 0);
    push(c, size, retLo, retHi);
    commitRsp(c);
    restore();
    commitCs(c, gate.sel, cpl);
  }
  setRipSized(c, gate.offLo, gate.offHi, size);
  c.modeChanged();
}

/** Fetch and check the CS a far RET or IRET returns to (left in desc and saved); returns its RPL. */
function fetchReturnCs(c: Cpu, sel: number): number {
  if ((sel & 0xfffc) === 0) throw gp(0);
  if (!fetchDescriptor(c, sel)) throw gp(selErr(sel));
  checkReturnCs(c, sel);
  save();
  return sel & 3;
}

/** Check a return CS (desc holds it) against RPL rules for RET/IRET. */
function checkReturnCs(c: Cpu, sel: number): void {
  const h = desc.hi, rpl = sel & 3;
  if (rpl < c.cpl) throw gp(selErr(sel));
  if (descIsSystem(h) || (descType(h) & TYPE_CODE) === 0) throw gp(selErr(sel));
  if ((descType(h) & TYPE_CONFORMING) !== 0 ? descDpl(h) > rpl : descDpl(h) !== rpl) throw gp(selErr(sel));
  if (!descPresent(h)) throw new CpuFault(VEC_NP, selErr(sel), true);
}

/** Load a return SS (outer privilege) or a null SS where 64-bit mode allows it. */
function loadReturnSs(c: Cpu, ssSel: number, rpl: number, to64: boolean): void {
  if ((ssSel & 0xfffc) === 0 && to64 && rpl !== 3) {
    setSegment(c, SS, ssSel, 0, 0, 0, ATTR_UNUSABLE | (rpl << ATTR_DPL_SHIFT));
    return;
  }
  checkStackSegment(c, ssSel, rpl, VEC_GP);
  setAccessed(c);
  setSegment(c, SS, ssSel, descBase(desc.lo, desc.hi), 0, descLimit(desc.lo, desc.hi), descAttr(desc.hi));
}

/** RET far [imm16]. */
export function retFar(c: Cpu, opSize: number, imm: number): void {
  const r = c.r32;
  stackFromCurrent(c);
  const ipLo = pop(c, opSize), ipHi = opSize === 8 ? stk.popHi : 0;
  const sel = pop(c, opSize) & 0xffff;
  if (!isProtected(c) || c.mode === 2) {
    stackAdjust(imm);
    commitRsp(c);
    loadSegmentReal(c, CS, sel, c.mode === 2);
    setRipSized(c, ipLo, 0, opSize);
    c.modeChanged();
    return;
  }
  const rpl = fetchReturnCs(c, sel);
  const to64 = isLongMode(c) && (descAttr(desc.hi) & ATTR_L) !== 0;
  checkTargetIp(ipLo, to64 ? 8 : opSize === 8 ? 4 : opSize);
  if (rpl === c.cpl) {
    stackAdjust(imm);
    commitRsp(c);
    restore();
    commitCs(c, sel, rpl);
  } else {
    stackAdjust(imm);
    const spLo = pop(c, opSize), spHi = opSize === 8 ? stk.popHi : 0;
    const ssSel = pop(c, opSize) & 0xffff;
    loadReturnSs(c, ssSel, rpl, to64);
    restore();
    commitCs(c, sel, rpl);
    const ssBig = (r[segWord(SS, SEG_ATTR)] & ATTR_DB) !== 0;
    stackAt(spLo, spHi, to64 ? 8 : ssBig ? 4 : 2, 0, rpl);
    stackAdjust(imm);
    commitRsp(c);
    nullInaccessibleSegments(c, rpl);
  }
  setRipSized(c, ipLo, ipHi, to64 ? 8 : opSize);
  c.modeChanged();
}

/** RFLAGS bits IRET/POPF may load before privilege masking. */
const IRET_FLAGS_32 = 0x257fd5 | FLAG_VM | FLAG_VIF | FLAG_VIP | FLAG_RF;

/** Merge a popped flags value into RFLAGS under the privilege rules (SDM IRET, POPF). */
function iretFlags(c: Cpu, v: number, opSize: number, cpl: number): number {
  const old = c.getRflags();
  const iopl = (old & FLAG_IOPL) >>> 12;
  let mask = FLAG_AC | FLAG_ID | FLAG_NT | FLAG_RF | 0xfd5 | FLAG_VIF | FLAG_VIP | FLAG_IOPL | FLAG_IF;
  if (cpl > 0) mask &= ~(FLAG_IOPL | FLAG_VIF | FLAG_VIP);
  if (cpl > iopl) mask &= ~FLAG_IF;
  if (opSize === 2) mask &= 0xffff;
  return (old & ~mask) | (v & mask);
}

/** IRET / IRETD / IRETQ. */
export function iret(c: Cpu, opSize: number): void {
  const r = c.r32;
  const flagsNow = c.getRflags();
  r[W.W_NMI_MASKED] = 0;
  if (!isProtected(c)) {
    stackFromCurrent(c);
    const ip = pop(c, opSize), sel = pop(c, opSize) & 0xffff, fl = pop(c, opSize);
    commitRsp(c);
    loadSegmentReal(c, CS, sel, false);
    setRipSized(c, ip, 0, opSize);
    const keep = opSize === 2 ? ~0xffff : FLAG_VM | FLAG_VIP | FLAG_VIF;
    c.setRflags((flagsNow & keep) | (fl & (opSize === 2 ? 0xffff : 0x257fd5)));
    c.modeChanged();
    return;
  }
  if (c.mode === 2) {
    // v8086: IRET is IOPL-sensitive (no VME).
    if ((flagsNow & FLAG_IOPL) !== FLAG_IOPL) throw gp(0);
    stackFromCurrent(c);
    const ip = pop(c, opSize), sel = pop(c, opSize) & 0xffff, fl = pop(c, opSize);
    commitRsp(c);
    loadSegmentReal(c, CS, sel, true);
    setRipSized(c, ip, 0, opSize);
    const mask = (opSize === 2 ? 0xffff : 0x257fd5 | FLAG_RF) & ~FLAG_IOPL;
    c.setRflags((flagsNow & ~mask) | (fl & mask));
    c.modeChanged();
    return;
  }
  if ((flagsNow & FLAG_NT) !== 0) {
    if (isLongMode(c)) throw gp(0);
    taskReturn(c); // nested task: back to the previous one
    return;
  }
  const long = isLongMode(c);
  stackFromCurrent(c);
  const ipLo = pop(c, opSize), ipHi = opSize === 8 ? stk.popHi : 0;
  const sel = pop(c, opSize) & 0xffff;
  const fl = pop(c, opSize);
  const cpl = c.cpl;
  if (!long && (fl & FLAG_VM) !== 0 && cpl === 0 && opSize === 4) {
    // Return to v8086 mode: ESP, SS, ES, DS, FS, GS follow on the stack.
    const sp = pop(c, 4), ss = pop(c, 4), es = pop(c, 4), ds = pop(c, 4), fs = pop(c, 4), gs = pop(c, 4);
    c.setRflags((fl & IRET_FLAGS_32) | 0);
    for (const [seg, s] of [[CS, sel], [SS, ss], [ES, es], [DS, ds], [FS, fs], [GS, gs]] as const) loadSegmentReal(c, seg, s, true);
    r[W.W_RSP] = sp; r[W.W_RSP + 1] = 0;
    setRipSized(c, ipLo & 0xffff, 0, 4);
    c.modeChanged();
    return;
  }
  const rpl = fetchReturnCs(c, sel);
  const to64 = long && (descAttr(desc.hi) & ATTR_L) !== 0;
  checkTargetIp(ipLo, to64 ? 8 : opSize === 8 ? 4 : opSize);
  // In IA-32e mode IRET always pops SS:RSP from 64-bit mode; otherwise only for an outer return.
  if (rpl !== cpl || (long && c.codeSize === 8)) {
    const spLo = pop(c, opSize), spHi = opSize === 8 ? stk.popHi : 0;
    const ssSel = pop(c, opSize) & 0xffff;
    if (rpl === cpl && (ssSel & 0xfffc) === 0 && long && rpl !== 3) {
      setSegment(c, SS, ssSel, 0, 0, 0, ATTR_UNUSABLE | (rpl << ATTR_DPL_SHIFT));
    } else loadReturnSs(c, ssSel, rpl, to64);
    if (opSize === 8 || to64) { r[W.W_RSP] = spLo; r[W.W_RSP + 1] = spHi; }
    else if ((r[segWord(SS, SEG_ATTR)] & ATTR_DB) !== 0 || opSize === 4) { r[W.W_RSP] = spLo; r[W.W_RSP + 1] = 0; }
    else r[W.W_RSP] = (r[W.W_RSP] & ~0xffff) | (spLo & 0xffff);
  } else commitRsp(c);
  const newFlags = iretFlags(c, fl, opSize, cpl) & ~FLAG_VM;
  restore();
  commitCs(c, sel, rpl);
  c.setRflags(newFlags);
  setRipSized(c, ipLo, ipHi, to64 ? 8 : opSize === 8 ? 4 : opSize);
  if (rpl > cpl) nullInaccessibleSegments(c, rpl);
  c.modeChanged();
}

