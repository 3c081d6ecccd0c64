// Opcode-table rows for MMX/SSE..SSE4.2 (from defs.ts) and the state instructions
// (FXSAVE/FXRSTOR, LDMXCSR/STMXCSR, XSAVE/XRSTOR/XSAVEOPT, XGETBV/XSETBV, EMMS, fences),
// with the availability rules: CR0.EM/TS/MP, CR4.OSFXSR/OSXMMEXCPT/OSXSAVE (Intel SDM
// Vol. 3A 2.5 and Vol. 1 13.2), #XM vs #UD for unmasked SIMD exceptions.

import type { Cpu, Exec } from '../cpu.js';
import type { Insn } from '../decoder.js';
import { row, OpRow } from '../table.js';
import { eaFn } from '../operands.js';
import { CpuFault, VEC_UD, VEC_NM, VEC_GP, VEC_XM } from '../fault.js';
import { CR0, CR4, CR0_EM, CR0_TS, CR0_MP, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_OSXSAVE, FX_MXCSR } from '../state.js';
import { W } from '../words.js';
import { SSE_DEFS, SseDef } from './defs.js';
import { resolve, runDef, newOps, Ops } from './operands.js';
import { MEM_TMP, sseOut, emms, MXCSR_MASK } from './vec.js';
import { vecOf, loadBytes, storeBytes, probeStore } from '../fpu/guestmem.js';
import { fxsave, fxrstor, xsave, xrstor } from './state-save.js';
import { ferrFollowsEs, pendingX87 } from '../fpu/ferr.js';

const ud = (): never => { throw new CpuFault(VEC_UD); };
const cr0 = (c: Cpu): number => c.r32[W.W_CR0];
const cr4 = (c: Cpu): number => c.r32[W.W_CR4];

/** x87 and MMX availability: EM -> #UD (MMX) / #NM (x87), TS -> #NM; a pending x87 exception -> #MF. */
export function mmxCheck(c: Cpu): void {
  const r = cr0(c);
  if (r & CR0_EM) ud();
  if (r & CR0_TS) throw new CpuFault(VEC_NM);
  pendingX87(c);
}
/** SSE availability: EM or !OSFXSR -> #UD, TS -> #NM. */
export function sseCheck(c: Cpu): void {
  const r = cr0(c);
  if ((r & CR0_EM) !== 0 || (cr4(c) & CR4_OSFXSR) === 0) ud();
  if (r & CR0_TS) throw new CpuFault(VEC_NM);
}
/** WAIT/FWAIT: #NM only with TS and MP; then pending x87 exceptions. */
function fwait(c: Cpu): void {
  if ((cr0(c) & (CR0_TS | CR0_MP)) === (CR0_TS | CR0_MP)) throw new CpuFault(VEC_NM);
  pendingX87(c);
}

/** The builder for one SSE/MMX definition: operands resolved at decode time. */
function build(def: SseDef): (d: Insn) => Exec {
  const gpOnly = def.form === 'GE' || def.form === 'GM' || def.form === 'MG';
  return (d) => {
    const o: Ops = newOps();
    resolve(def, o, d.reg, d.rm, d.regRaw, d.rmRaw, d.mod !== 3, d.opSize, d.rex);
    const imm = d.imm & 0xff, w = d.opSize;
    const ea = d.mod !== 3 ? eaFn(d, Math.max(o.load, o.store, 1), o.store > 0) : null;
    const mmx = def.mmx;
    return (c) => {
      if (!gpOnly) { if (mmx) mmxCheck(c); else sseCheck(c); }
      const x = vecOf(c);
      let lo = 0, hi = 0;
      if (ea) {
        lo = ea(c); hi = c.eaHi;
        if (def.align && (lo & 15) !== 0) throw new CpuFault(VEC_GP, 0, true);
        if (o.load) loadBytes(c, lo, hi, o.load, MEM_TMP);
        if (o.store) probeStore(c, lo, hi, o.store);
      }
      if (!runDef(def, x, o, imm, w)) {
        throw new CpuFault((cr4(c) & CR4_OSXMMEXCPT) !== 0 ? VEC_XM : VEC_UD);
      }
      if (o.store) storeBytes(c, lo, hi, o.store, MEM_TMP);
      if (def.flags && sseOut.eflags >= 0) c.setRflags((c.getRflags() & ~0x8d5) | sseOut.eflags);
    };
  };
}

/** Memory-operand state instructions: align is the required alignment (#GP if not). */
function stateRow(code: string, asm: string, align: number, run: (c: Cpu, lo: number, hi: number, mode64: boolean) => void, check: (c: Cpu) => void,
  size: number, write: boolean): OpRow {
  return row(code, asm, (d) => {
    // (the decoder reuses its Insn: take what the executor needs now, not when it runs)
    const ea = eaFn(d, size, write), mode64 = d.mode64;
    return (c) => {
      check(c);
      const lo = ea(c), hi = c.eaHi;
      if (align && (lo & (align - 1)) !== 0) throw new CpuFault(VEC_GP, 0, true);
      run(c, lo, hi, mode64);
    };
  });
}
/** FXSAVE/FXRSTOR: #UD with EM, #NM with TS (OSFXSR only selects whether XMM state is included). */
function fxCheck(c: Cpu): void {
  if (cr0(c) & CR0_EM) ud();
  if (cr0(c) & CR0_TS) throw new CpuFault(VEC_NM);
}
function xsaveCheck(c: Cpu): void {
  if ((cr4(c) & CR4_OSXSAVE) === 0) ud();
  if (cr0(c) & CR0_TS) throw new CpuFault(VEC_NM);
}
const WORK = 0x7c0; // MEM_TMP
/** Bytes checked against the segment limit: the FXSAVE area, and the XSAVE area for x87|SSE (legacy region + header). */
const FX_BYTES = 512, XSAVE_BYTES = 576;

export const SSE_ROWS: OpRow[] = [
  ...SSE_DEFS.map((def) => row(def.code, def.asm, build(def))),
  stateRow('np 0f ae /0 m', 'fxsave M', 16, (c, lo, hi, m64) => fxsave(c, lo, hi, m64), fxCheck, FX_BYTES, true),
  stateRow('np 0f ae /1 m', 'fxrstor M', 16, (c, lo, hi, m64) => { fxrstor(c, lo, hi, m64); ferrFollowsEs(c); }, fxCheck, FX_BYTES, false),
  stateRow('np 0f ae /2 m', 'ldmxcsr Md', 0, (c, lo, hi) => {
    loadBytes(c, lo, hi, 4, WORK);
    const v = c.dv.getUint32(WORK, true);
    if ((v & ~MXCSR_MASK) !== 0) throw new CpuFault(VEC_GP, 0, true);
    c.dv.setUint32(FX_MXCSR, v, true);
  }, sseCheck, 4, false),
  stateRow('np 0f ae /3 m', 'stmxcsr Md', 0, (c, lo, hi) => {
    c.dv.setUint32(WORK, c.dv.getUint32(FX_MXCSR, true), true); storeBytes(c, lo, hi, 4, WORK);
  }, sseCheck, 4, true),
  stateRow('np 0f ae /4 m', 'xsave M', 64, (c, lo, hi, m64) => xsave(c, lo, hi, m64), xsaveCheck, XSAVE_BYTES, true),
  stateRow('np 0f ae /5 m', 'xrstor M', 64, (c, lo, hi, m64) => { xrstor(c, lo, hi, m64); ferrFollowsEs(c); }, xsaveCheck, XSAVE_BYTES, false),
  stateRow('np 0f ae /6 m', 'xsaveopt M', 64, (c, lo, hi, m64) => xsave(c, lo, hi, m64), xsaveCheck, XSAVE_BYTES, true),
  row('np 0f ae /5 r', 'lfence', () => () => {}),
  row('np 0f ae /6 r', 'mfence', () => () => {}),
  row('np 0f ae /7 r', 'sfence', () => () => {}),
  row('np 0f 77', 'emms', () => (c) => { mmxCheck(c); emms(vecOf(c)); }),
  row('9b', 'fwait', () => fwait),
  row('np 0f 01 /2 r rm=0', 'xgetbv', () => (c) => {
    if ((cr4(c) & CR4_OSXSAVE) === 0) ud();
    if (c.r32[W.W_RCX] !== 0) throw new CpuFault(VEC_GP, 0, true); // ECX: only XCR0
    c.r32[W.W_RAX] = c.r32[W.W_XCR0]; c.r32[W.W_RAX + 1] = 0; c.r32[W.W_RDX] = c.r32[W.W_XCR0 + 1]; c.r32[W.W_RDX + 1] = 0;
  }),
  row('np 0f 01 /2 r rm=1', 'xsetbv', () => (c) => {
    if ((cr4(c) & CR4_OSXSAVE) === 0) ud();
    const v = c.r32[W.W_RAX], vhi = c.r32[W.W_RDX];
    // CPL 0, XCR0 only, x87 always on, only x87|SSE supported (Intel SDM Vol. 1 13.3)
    if (c.cpl !== 0 || c.r32[W.W_RCX] !== 0 || (v & 1) === 0 || (v & ~3) !== 0 || vhi !== 0) throw new CpuFault(VEC_GP, 0, true);
    c.r32[W.W_XCR0] = v; c.r32[W.W_XCR0 + 1] = 0;
  }, 0),
];
