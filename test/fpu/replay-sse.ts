// Replays MMX/SSE vectors: the record's instruction bytes are decoded by the interpreter's
// decoder over the SSE definitions' rows, operands resolved as the interpreter does, and
// XMM2/XMM0/MM2/RCX/MXCSR/EFLAGS (and a stored memory operand) compared with the host's.

import { StateView, resetState, FX_MXCSR, RAX, RCX, RDX } from '../../cpu/state.js';
import { decode, Insn } from '../../cpu/decoder.js';
import { composeTable, row, OpRow } from '../../cpu/table.js';
import { SSE_DEFS, SseDef } from '../../cpu/sse/defs.js';
import { resolve, runDef, newOps } from '../../cpu/sse/operands.js';
import { vecViews, xmmOff, mmOff, gprOff, MEM_TMP, sseOut } from '../../cpu/sse/vec.js';
import { REC_SIZE, R_CTL, R_IMM, R_A, R_B, R_C, R_O, R_M, R_ST, R_FL, R_GPR, hex, VectorFile } from './vectors.js';
import { approxMismatch } from './host.js';

const byRow = new Map<OpRow, SseDef>();
const rows = SSE_DEFS.map((d) => { const r = row(d.code, d.asm, () => () => {}); byRow.set(r, d); return r; });
const table = composeTable(rows);
const st = StateView.detached();
const x = vecViews(st.u8.buffer, 0);
const ops = newOps();
const insn = new Insn();

/** Flags each instruction defines (others are undefined and not compared). */
function flagMask(asm: string): number {
  if (/^(lzcnt|tzcnt)/.test(asm)) return 0x41;
  return 0x8d5;
}

/** RCPPS/RCPSS/RSQRTPS/RSQRTSS: their bits are the CPU model's, exact only where host.ts says the model is the host. */
export const isApprox = (asm: string): boolean => /^(rcp|rsqrt)[ps]s /.test(asm);
const APPROX_BOUND = 1.5 * 2 ** -12;
const f32 = new Float32Array(1), u32 = new Uint32Array(f32.buffer);
const asF32 = (bits: number): number => { u32[0] = bits; return f32[0]; };

/**
 * On another CPU: a lane that differs from the host's must be a normal within the architectural
 * bound of 1/x (1/sqrt(x)) of its source lane, and the host's a normal too; lanes the instruction
 * does not write (RCPSS/RSQRTSS upper lanes) must be equal.
 */
function approxLanesOk(asm: string, got: Uint8Array, gotOff: number, want: Uint8Array, wantOff: number, src: Uint8Array): boolean {
  const g = new DataView(got.buffer, got.byteOffset + gotOff, 16), w = new DataView(want.buffer, want.byteOffset + wantOff, 16);
  const sv = new DataView(src.buffer, src.byteOffset, 16);
  const lanes = asm.includes('ps ') ? 4 : 1, rsqrt = asm.startsWith('rsqrt');
  for (let k = 0; k < 4; k++) {
    const gb = g.getUint32(4 * k, true), wb = w.getUint32(4 * k, true);
    if (gb === wb) continue;
    const normal = (b: number): boolean => ((b >>> 23) & 0xff) !== 0 && ((b >>> 23) & 0xff) !== 0xff;
    if (k >= lanes || !normal(gb) || !normal(wb)) return false;
    const v = asF32(sv.getUint32(4 * k, true)), exact = rsqrt ? 1 / Math.sqrt(v) : 1 / v;
    if (!(Math.abs(asF32(gb) / exact - 1) <= APPROX_BOUND)) return false;
  }
  return true;
}

export function replaySse(f: VectorFile, maxReport = 5): { fail: number; report: string[] } {
  const report: string[] = [];
  let fail = 0;
  for (let k = 0; k < f.count; k++) {
    const r = f.data.subarray(k * REC_SIZE, (k + 1) * REC_SIZE);
    const rv = new DataView(r.buffer, r.byteOffset, REC_SIZE);
    resetState(st);
    st.u8.set(r.subarray(R_A, R_A + 16), xmmOff(2));
    st.u8.set(r.subarray(R_B, R_B + 16), xmmOff(3));
    st.u8.set(r.subarray(R_C, R_C + 16), xmmOff(0));
    st.u8.set(r.subarray(R_A, R_A + 8), mmOff(2));
    st.u8.set(r.subarray(R_B, R_B + 8), mmOff(3));
    st.u8.set(r.subarray(R_C, R_C + 8), gprOff(RAX));
    st.u8.set(r.subarray(R_C + 8, R_C + 16), gprOff(RDX));
    st.u8.set(r.subarray(R_A, R_A + 8), gprOff(RCX));
    st.dv.setUint32(FX_MXCSR, rv.getUint32(R_CTL, true), true);
    // the instruction bytes, then its immediate
    const bytes = [...r.subarray(120, 127)]; // byte 127 marks a host trap (unmasked SIMD exception)
    const trapped = r[127] === 0xf7;
    let end = 7; while (end > 0 && bytes[end - 1] === 0) end--;
    const code = [...bytes.slice(0, end), rv.getUint32(R_IMM, true) & 0xff, 0, 0, 0, 0];
    decode(table, (o) => code[o], 0, 8, insn);
    const def = byRow.get(insn.row)!;
    resolve(def, ops, insn.reg, insn.rm, insn.regRaw, insn.rmRaw, insn.mod !== 3, insn.opSize, insn.rex);
    // memory operands are [rdi+0x28] (c, loads) or [rdi+0x50] (o+24, stores) in the generator
    if (ops.memSrc) st.u8.set(r.subarray(R_C, R_C + 16), MEM_TMP);
    if (ops.memDst) st.u8.fill(0, MEM_TMP, MEM_TMP + 16);
    const completed = runDef(def, x, ops, insn.imm & 0xff, insn.opSize);
    const diffs: string[] = [];
    if (completed === trapped) diffs.push(trapped ? 'completed, host took #XM' : 'took #XM, host completed');
    const cmp = (what: string, off: number, want: number, n: number): void => {
      const g = hex(st.u8, off, n), w = hex(r, want, n);
      if (g !== w) diffs.push(`${what} ${g} want ${w}`);
    };
    if (approxMismatch() !== null && isApprox(def.asm)) {
      if (!approxLanesOk(def.asm, st.u8, xmmOff(2), r, R_O, r.subarray(R_B, R_B + 16))) diffs.push(`xmm2 ${hex(st.u8, xmmOff(2), 16)} want ${hex(r, R_O, 16)} (or within the bound)`);
    } else cmp('xmm2', xmmOff(2), R_O, 16);
    cmp('xmm0', xmmOff(0), R_M, 16);
    cmp('mm2', mmOff(2), R_O + 16, 8);
    cmp('rcx', gprOff(RCX), R_GPR, 8);
    const mx = st.dv.getUint32(FX_MXCSR, true), wantMx = rv.getUint32(R_ST, true);
    if (mx !== wantMx) diffs.push(`mxcsr ${mx.toString(16)} want ${wantMx.toString(16)}`);
    if (def.flags && !trapped) {
      const m = flagMask(def.asm), want = rv.getUint32(R_FL, true) & m;
      if (((sseOut.eflags & m) >>> 0) !== want) diffs.push(`eflags ${(sseOut.eflags >>> 0).toString(16)} want ${want.toString(16)}`);
    }
    if (ops.memDst) cmp('mem', MEM_TMP, R_O + 24, ops.store);
    if (diffs.length) {
      fail++;
      if (report.length < maxReport) {
        report.push(`${f.name} #${k} ${def.asm} imm=${(rv.getUint32(R_IMM, true)).toString(16)} mxcsr=${rv.getUint32(R_CTL, true).toString(16)} a=${hex(r, R_A, 16)} b=${hex(r, R_B, 16)} c=${hex(r, R_C, 16)}: ${diffs.join('; ')}`);
      }
    }
  }
  return { fail, report };
}
