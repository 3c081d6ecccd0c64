// Opcode-table rows for the system instructions (composed ahead of the integer
// rows by cpu/interp.ts, so these take precedence): far JMP/CALL/RET, IRET,
// INT n/INT3/INTO/INT1, PUSHF/POPF, CLI/STI, the 0F 00 / 0F 01 groups, LAR/LSL,
// MOV CR/DR, CLTS, INVD/WBINVD, RDMSR/WRMSR, RDTSC/RDTSCP, CPUID, SYSCALL/SYSRET,
// SYSENTER/SYSEXIT, SWAPGS, CLFLUSH. Each builder wraps one semantic function.
//
// Conventions of the interpreter (cpu/interp.ts): while a block runs, r32[W.W_RIP]
// is the block's start; F_TERM executors set RIP themselves; after an F_STOP
// instruction the block ends and RIP advances past it. A fault must leave RIP as
// it was (the run loop adds the instruction's offset to it), hence withNext().
// Builders run once per decode with the decoder's shared Insn: executors must
// capture every field they need at build time, never read `d` when they run.

import type { Cpu, Exec } from '../cpu.js';
import { segWord } from '../cpu.js';
import type { Insn } from '../decoder.js';
import { getOF } from '../flags.js';
import { eaFn, leaFn, memRead, regRead, regWrite } from '../operands.js';
import { pop, push } from '../stack.js';
import { EVENT_SOFTINT, FLAG_ZF, FS, GS, SEG_BASE } from '../state.js';
import {
  F_D64, F_I64, F_O64, F_READS, F_SHADOW, F_STOP, F_TERM, K_FAR, K_INT, K_SYS, OpRow, U_HOST_RAX, U_HOST_RBX, U_HOST_RCX, U_HOST_RDX, row,
} from '../table.js';
import { ACC_READ } from '../../mmu/tlb.js';
import { CpuFault, VEC_BP, VEC_DB, VEC_OF, VEC_UD } from '../fault.js';
import {
  clts, invlpg, lldt, lmsw, loadDtr, ltr, movFromCr, movFromDr, movToCr, movToDr, requireProtected,
  sldt, smsw, storeDtr, str, wbinvd,
} from './control.js';
import { DR6_B, HELD_ICEBP, reportDebug } from './debug.js';
import { deliverEvent } from './events.js';
import { rdSegBase, syscall, sysenter, sysexit, sysret, swapgs, wrSegBase } from './fastcall.js';
import { cli, popf, pushfValue, sti } from './io.js';
import { execCpuid, rdmsr, rdtsc, tscAux, wrmsr } from './msr.js';
import { lar, lsl, verify } from './segments.js';
import { callFar, iret, jmpFar, retFar } from './transfer.js';
import { W } from '../words.js';


/**
 * Run `fn` with RIP = the next instruction; on a fault put RIP back (the run loop
 * re-bases it). The decoder reuses its Insn, so the length is copied now, at build time.
 */
function withNext(d: Insn, fn: (c: Cpu) => void): Exec {
  const end = d.end;
  return (c) => {
    const r = c.r32;
    const lo = r[W.W_RIP], hi = r[W.W_RIP + 1];
    const sum = (lo >>> 0) + end;
    if (c.codeSize === 8) { r[W.W_RIP] = sum | 0; r[W.W_RIP + 1] = (hi + (sum > 0xffffffff ? 1 : 0)) | 0; }
    else { r[W.W_RIP] = c.codeSize === 4 ? sum | 0 : sum & 0xffff; r[W.W_RIP + 1] = 0; }
    try { fn(c); } catch (e) { r[W.W_RIP] = lo; r[W.W_RIP + 1] = hi; throw e; }
  };
}

/** Set or clear ZF (materialising the lazy flags first). */
function setZF(c: Cpu, on: boolean): void {
  const f = c.getRflags();
  c.setRflags(on ? f | FLAG_ZF : f & ~FLAG_ZF);
}

// ---- Far transfers.

const jmpFarPtr = (d: Insn): Exec => {
  const off = d.opSize === 2 ? d.imm & 0xffff : d.imm, sel = d.imm2 & 0xffff, size = d.opSize;
  return withNext(d, (c) => jmpFar(c, sel, off, 0, size));
};
const callFarPtr = (d: Insn): Exec => {
  const off = d.opSize === 2 ? d.imm & 0xffff : d.imm, sel = d.imm2 & 0xffff, size = d.opSize;
  return withNext(d, (c) => callFar(c, sel, off, 0, size));
};
/** Memory far pointer m16:16/32/64: offset first, then the selector. */
function farMem(call: boolean) {
  return (d: Insn): Exec => {
    const ea = eaFn(d), size = d.opSize;
    return withNext(d, (c) => {
      const lo = ea(c), hi = c.eaHi;
      const off = memRead(c, size, lo, hi), offHi = size === 8 ? c.resHi : 0;
      const sel = c.read16((lo + size) | 0, hi) & 0xffff;
      if (call) callFar(c, sel, off, offHi, size); else jmpFar(c, sel, off, offHi, size);
    });
  };
}
const retFarRow = (d: Insn): Exec => {
  const imm = d.op === 0xca ? d.imm & 0xffff : 0, size = d.opSize;
  return withNext(d, (c) => retFar(c, size, imm));
};
const iretRow = (d: Insn): Exec => { const size = d.opSize; return withNext(d, (c) => iret(c, size)); };

// ---- Software interrupts: traps (RIP = next instruction in the frame).

function softInt(vector: number) {
  return (d: Insn): Exec => {
    const vec = vector >= 0 ? vector : d.imm & 0xff;
    const isIntN = vector < 0;
    return withNext(d, (c) => {
      if (vec === VEC_OF && !getOF(c.r32)) return;
      // v8086 mode without VME: INT n is IOPL-sensitive.
      if (isIntN && c.mode === 2 && ((c.r32[W.W_RFLAGS] >>> 12) & 3) < 3) throw new CpuFault(13, 0, true);
      // INT n, INT3 and INTO are software interrupts (gate DPL checked, EXT = 0); INT1 is not.
      // INT1 in a MOV SS shadow delivers the data breakpoints the MOV SS hit with its own #DB.
      if (vector === VEC_DB) { if (c.heldDebug !== 0) reportDebug(c, c.heldDebug & DR6_B, 0); c.heldDebug = HELD_ICEBP; }
      deliverEvent(c, vec, vector === VEC_DB ? 3 << 8 : EVENT_SOFTINT, 0, false);
    });
  };
}

// ---- Flags.

const pushfRow = (d: Insn): Exec => {
  const size = d.opSize;
  return (c) => {
    const v = pushfValue(c);
    push(c, size, size === 2 ? v & 0xffff : v, 0);
  };
};
const popfRow = (d: Insn): Exec => {
  const size = d.opSize;
  return (c) => {
    const r = c.r32, sp = r[W.W_RSP], spHi = r[W.W_RSP + 1];
    const v = pop(c, size);
    try { popf(c, v, size); } catch (e) { r[W.W_RSP] = sp; r[W.W_RSP + 1] = spHi; throw e; }
  };
};

// ---- Register-or-memory word operands (0F 00 group, SMSW, LAR/LSL sources).

function ewRead(d: Insn): (c: Cpu) => number {
  if (d.isMem) { const ea = eaFn(d); return (c) => c.read16(ea(c), c.eaHi) & 0xffff; }
  const rd = regRead(2, d.rm, d.rex);
  return (c) => rd(c) & 0xffff;
}
/** Store a selector/MSW: 16 bits to memory, the operand size (zero-extended) to a register. */
function ewWrite(d: Insn): (c: Cpu, v: number) => void {
  if (d.isMem) { const ea = eaFn(d); return (c, v) => c.write16(ea(c), c.eaHi, v & 0xffff); }
  const wr = regWrite(d.opSize, d.rm, d.rex), mask = d.opSize === 2 ? 0xffff : -1;
  return (c, v) => { c.resHi = 0; wr(c, v & mask); };
}

const sldtRow = (d: Insn): Exec => { const w = ewWrite(d); return (c) => w(c, sldt(c)); };
const strRow = (d: Insn): Exec => { const w = ewWrite(d); return (c) => w(c, str(c)); };
const lldtRow = (d: Insn): Exec => { const rd = ewRead(d); return (c) => lldt(c, rd(c)); };
const ltrRow = (d: Insn): Exec => { const rd = ewRead(d); return (c) => ltr(c, rd(c)); };
function verRow(write: boolean) {
  return (d: Insn): Exec => { const rd = ewRead(d); return (c) => { requireProtected(c); setZF(c, verify(c, rd(c), write)); }; };
}
/**
 * ARPL Ew,Gw (outside 64-bit mode, where 0x63 is MOVSXD): raise the destination selector's
 * RPL to the source's and set ZF, else clear ZF. Always 16 bits; #UD in real and v8086 mode.
 */
function arplRow(d: Insn): Exec {
  const src = regRead(2, d.reg, d.rex);
  if (d.isMem) {
    const ea = eaFn(d);
    return (c) => {
      requireProtected(c);
      const lo = ea(c), hi = c.eaHi;
      const dst = c.read16(lo, hi), rpl = src(c) & 3, adjust = (dst & 3) < rpl;
      if (adjust) c.write16(lo, hi, (dst & ~3) | rpl);
      setZF(c, adjust);
    };
  }
  const rd = regRead(2, d.rm, d.rex), wr = regWrite(2, d.rm, d.rex);
  return (c) => {
    requireProtected(c);
    const dst = rd(c), rpl = src(c) & 3, adjust = (dst & 3) < rpl;
    if (adjust) wr(c, (dst & ~3) | rpl);
    setZF(c, adjust);
  };
}

const smswRow = (d: Insn): Exec => { const w = ewWrite(d); return (c) => w(c, smsw(c)); };
const lmswRow = (d: Insn): Exec => { const rd = ewRead(d); return (c) => lmsw(c, rd(c)); };

function larLsl(isLsl: boolean) {
  return (d: Insn): Exec => {
    const rd = ewRead(d), wr = regWrite(d.opSize, d.reg, d.rex), size = d.opSize;
    return (c) => {
      requireProtected(c);
      const v = isLsl ? lsl(c, rd(c)) : lar(c, rd(c));
      if (v === -1) { setZF(c, false); return; }
      c.resHi = 0;
      wr(c, size === 2 ? v & 0xffff : v | 0);
      setZF(c, true);
    };
  };
}

function dtr(idt: boolean, load: boolean) {
  return (d: Insn): Exec => {
    const ea = eaFn(d), size = d.opSize;
    return load ? (c) => { const lo = ea(c); loadDtr(c, idt, lo, c.eaHi, size); }
      : (c) => { const lo = ea(c); storeDtr(c, idt, lo, c.eaHi); };
  };
}
/**
 * INVLPG m: the linear address of the operand, with no segment-limit or canonical check (SDM
 * INVLPG lists neither; a non-canonical address invalidates nothing and raises nothing).
 */
const invlpgRow = (d: Insn): Exec => {
  const off = leaFn(d), sb = segWord(d.seg, SEG_BASE), based = !d.mode64 || d.seg === FS || d.seg === GS, m64 = d.mode64;
  return (c) => {
    let lo = off(c), hi = c.eaHi;
    if (based) {
      const r = c.r32, sum = (lo >>> 0) + (r[sb] >>> 0);
      hi = m64 ? (hi + r[sb + 1] + (sum > 0xffffffff ? 1 : 0)) | 0 : 0;
      lo = sum | 0;
    }
    invlpg(c, lo, hi);
  };
};
/** CLFLUSH: no caches, but the address must translate (it can #PF). */
const clflushRow = (d: Insn): Exec => { const ea = eaFn(d); return (c) => { const lo = ea(c); c.translate(lo, c.eaHi, c.cpl === 3 ? 2 : ACC_READ); }; };

// ---- MOV CR/DR: 64-bit operands in 64-bit mode, 32-bit otherwise; ModRM.mod is ignored.

function movCr(toCr: boolean, dr: boolean) {
  return (d: Insn): Exec => {
    const n = d.reg, gpr = d.rm * 2;
    const lockCr8 = d.lock && !dr; // LOCK MOV CR0 is CR8 on AMD; here #UD
    if (toCr) {
      return (c) => {
        if (lockCr8) throw new CpuFault(VEC_UD);
        const r = c.r32, hi = c.codeSize === 8 ? r[gpr + 1] : 0;
        if (dr) movToDr(c, n, r[gpr], hi); else movToCr(c, n, r[gpr], hi);
      };
    }
    return (c) => {
      if (lockCr8) throw new CpuFault(VEC_UD);
      const v = dr ? movFromDr(c, n) : movFromCr(c, n);
      const r = c.r32;
      r[gpr] = v; r[gpr + 1] = c.codeSize === 8 ? c.resHi : 0;
    };
  };
}

// ---- MSRs, TSC, CPUID.

const rdmsrRow = (): Exec => (c) => {
  const r = c.r32;
  const lo = rdmsr(c, r[W.W_RCX]);
  r[W.W_RAX] = lo; r[W.W_RAX + 1] = 0; r[W.W_RDX] = c.resHi; r[W.W_RDX + 1] = 0;
};
const wrmsrRow = (): Exec => (c) => { const r = c.r32; wrmsr(c, r[W.W_RCX], r[W.W_RAX], r[W.W_RDX]); };
const rdtscRow = (): Exec => (c) => {
  const r = c.r32;
  const lo = rdtsc(c);
  r[W.W_RAX] = lo; r[W.W_RAX + 1] = 0; r[W.W_RDX] = c.resHi; r[W.W_RDX + 1] = 0;
};
const rdtscpRow = (): Exec => (c) => {
  const r = c.r32;
  const lo = rdtsc(c);
  r[W.W_RAX] = lo; r[W.W_RAX + 1] = 0; r[W.W_RDX] = c.resHi; r[W.W_RDX + 1] = 0;
  r[W.W_RCX] = tscAux(c); r[W.W_RCX + 1] = 0;
};
const cpuidRow = (): Exec => (c) => execCpuid(c);
/** RDPID: TSC_AUX into a register (64-bit in 64-bit mode, else 32). */
const rdpidRow = (d: Insn): Exec => {
  const w = d.rm * 2;
  return (c) => { const r = c.r32; r[w] = tscAux(c); r[w + 1] = 0; };
};
function segBaseRow(gs: boolean, write: boolean) {
  return (d: Insn): Exec => {
    const w = d.rm * 2, size = d.opSize;
    return write ? (c) => wrSegBase(c, gs, w, size) : (c) => rdSegBase(c, gs, w, size);
  };
}

const simple = (fn: (c: Cpu) => void) => (): Exec => fn;
const FAR = { kind: K_FAR }, INT = { kind: K_INT }, SYS = { kind: K_SYS };

export const SYSTEM_ROWS: OpRow[] = [
  row('9a', 'call Ap', callFarPtr, F_TERM | F_I64, FAR),
  row('ea', 'jmp Ap', jmpFarPtr, F_TERM | F_I64, FAR),
  row('ff /3 m', 'call Mp', farMem(true), F_TERM | F_READS, FAR),
  row('ff /5 m', 'jmp Mp', farMem(false), F_TERM | F_READS, FAR),
  row('ca', 'retf Iw', retFarRow, F_TERM, FAR),
  row('cb', 'retf', retFarRow, F_TERM, FAR),
  row('cf', 'iret|iretd|iretq', iretRow, F_TERM, FAR),
  row('cc', 'int3', softInt(VEC_BP), F_TERM, INT),
  row('cd', 'int Ib', softInt(-1), F_TERM, INT),
  row('ce', 'into', softInt(VEC_OF), F_TERM | F_I64, INT),
  row('f1', 'int1', softInt(VEC_DB), F_TERM, INT),
  row('9c', 'pushf|pushfd|pushfq', pushfRow, F_D64),
  row('9d', 'popf|popfd|popfq', popfRow, F_D64 | F_STOP),
  row('fa', 'cli', simple(cli)),
  row('fb', 'sti', simple(sti), F_SHADOW),
  row('0f 00 /0', 'sldt Ew', sldtRow),
  row('0f 00 /1', 'str Ew', strRow),
  row('0f 00 /2', 'lldt Ew', lldtRow, F_READS),
  row('0f 00 /3', 'ltr Ew', ltrRow, F_READS),
  row('0f 00 /4', 'verr Ew', verRow(false), F_READS),
  row('0f 00 /5', 'verw Ew', verRow(true), F_READS),
  row('0f 01 /0 m', 'sgdt Ms', dtr(false, false)),
  row('0f 01 /1 m', 'sidt Ms', dtr(true, false)),
  row('0f 01 /2 m', 'lgdt Ms', dtr(false, true), F_READS),
  row('0f 01 /3 m', 'lidt Ms', dtr(true, true), F_READS),
  row('0f 01 /4', 'smsw Ew', smswRow),
  row('0f 01 /6', 'lmsw Ew', lmswRow, F_STOP | F_READS),
  row('0f 01 /7 m', 'invlpg Mb', invlpgRow, F_STOP | F_READS),
  row('0f 01 /7 r rm=0', 'swapgs', simple(swapgs), F_O64),
  row('0f 01 /7 r rm=1', 'rdtscp', rdtscpRow, 0, { undef: U_HOST_RAX | U_HOST_RCX | U_HOST_RDX }),
  row('63', 'arpl Ew,Gw', arplRow, F_I64),
  row('0f 02', 'lar Gv,Ew', larLsl(false)),
  row('0f 03', 'lsl Gv,Ew', larLsl(true)),
  row('0f 05', 'syscall', (d) => withNext(d, syscall), F_TERM, SYS),
  row('0f 06', 'clts', simple(clts)),
  row('0f 07', 'sysret', (d) => { const size = d.opSize; return withNext(d, (c) => sysret(c, size)); }, F_TERM, SYS),
  row('0f 08', 'invd', simple(wbinvd)),
  row('0f 09', 'wbinvd', simple(wbinvd)),
  row('0f 20', 'mov Ry,Cy', movCr(false, false)),
  row('0f 21', 'mov Ry,Dy', movCr(false, true)),
  row('0f 22', 'mov Cy,Ry', movCr(true, false), F_STOP),
  row('0f 23', 'mov Dy,Ry', movCr(true, true), F_STOP),
  row('0f 30', 'wrmsr', wrmsrRow, F_STOP),
  row('0f 31', 'rdtsc', rdtscRow, 0, { undef: U_HOST_RAX | U_HOST_RDX }),
  row('0f 32', 'rdmsr', rdmsrRow),
  row('0f 34', 'sysenter', (d) => withNext(d, sysenter), F_TERM, SYS),
  row('0f 35', 'sysexit', (d) => { const size = d.opSize; return withNext(d, (c) => sysexit(c, size)); }, F_TERM, SYS),
  row('0f a2', 'cpuid', cpuidRow, 0, { undef: U_HOST_RAX | U_HOST_RBX | U_HOST_RCX | U_HOST_RDX }),
  row('np 0f ae /7 m', 'clflush Mb', clflushRow, F_READS),
  row('pf3 0f ae /0 r', 'rdfsbase Ry', segBaseRow(false, false), F_O64),
  row('pf3 0f ae /1 r', 'rdgsbase Ry', segBaseRow(true, false), F_O64),
  row('pf3 0f ae /2 r', 'wrfsbase Ry', segBaseRow(false, true), F_O64),
  row('pf3 0f ae /3 r', 'wrgsbase Ry', segBaseRow(true, true), F_O64),
  row('pf3 0f c7 /7 r', 'rdpid Ry', rdpidRow),
];
