// Replays x87 vectors through x87Exec on a detached state record and compares the whole
// visible FPU state: FSW, the full tag word, the non-empty registers, EFLAGS (FCOMI) and
// any memory result.

import { StateView, resetState } from '../../cpu/state.js';
import { x87Exec, x87Result, x87Flags } from '../../cpu/fpu/x87ops.js';
import { finit, fullTagWord, stOff, fsw } from '../../cpu/fpu/x87state.js';
import { FX_FCW } from '../../cpu/state.js';
import { REC_SIZE, R_CTL, R_IMM, R_A, R_B, R_C, R_O, R_M, R_ST, R_FL, hex, VectorFile } from './vectors.js';
import { boundaryDistance } from './hardcase.js';

const st = StateView.detached();
resetState(st);
const dv = st.dv;
/** The registers as loaded, before the instruction ran (for judging hard cases). */
const input = StateView.detached();
resetState(input);
const mem = new Uint8Array(16);

/** Parse "D8C1" (register form) or "D8_4m" (memory form, ModRM.reg 4). */
function parseName(name: string): { op: number; modrm: number } {
  const op = parseInt(name.slice(0, 2), 16);
  if (name.endsWith('m')) return { op, modrm: parseInt(name[3], 10) << 3 };
  return { op, modrm: parseInt(name.slice(2, 4), 16) };
}
/** Memory forms that store, and how many bytes. */
const STORES: Record<string, number> = {
  D9_2m: 4, D9_3m: 4, DD_2m: 8, DD_3m: 8, DB_7m: 10, DB_2m: 4, DB_3m: 4, DF_2m: 2, DF_3m: 2, DF_7m: 8,
  DB_1m: 4, DD_1m: 8, DF_1m: 2, DF_6m: 10,
};
const EFLAGS_OPS = new Set(['DBF1', 'DBE9', 'DFF1', 'DFE9']);

/** An 80-bit value as one ordered integer, so adjacent values differ by 1 (test code only). */
function ordered(b: Uint8Array, off: number): bigint {
  let sig = 0n;
  for (let i = 7; i >= 0; i--) sig = (sig << 8n) | BigInt(b[off + i]);
  const se = b[off + 8] | (b[off + 9] << 8), e = BigInt(se & 0x7fff);
  // the explicit integer bit is implied by a nonzero exponent: drop it so binades join up
  const v = e === 0n ? sig : (e << 63n) + (sig & ((1n << 63n) - 1n));
  return se & 0x8000 ? -v : v;
}

/** Results of a replay: failures, hard cases accepted, and the largest boundary distance among them. */
export interface ReplayResult { fail: number; hard: number; hardMax: number; report: string[] }

/**
 * Replay one instruction's vectors. With `hardCase` (the transcendentals), a vector may
 * differ from the host in one register by one unit in the last place and/or in C1 when the
 * exact result lies within `hardCase` ulps of a rounding boundary (test/fpu/hardcase.ts):
 * there the host microcode's own error decides, and such vectors are counted in `hard`.
 */
export function replayX87(f: VectorFile, maxReport = 5, hardCase = 0): ReplayResult {
  const { op, modrm } = parseName(f.name);
  const storeBytes = STORES[f.name] ?? 0;
  const report: string[] = [];
  let fail = 0, hard = 0, hardMax = 0;
  for (let k = 0; k < f.count; k++) {
    const r = f.data.subarray(k * REC_SIZE, (k + 1) * REC_SIZE);
    const rv = new DataView(r.buffer, r.byteOffset, REC_SIZE);
    finit(dv);
    for (const src of [R_B, R_A]) { mem.set(r.subarray(src, src + 10)); x87Exec(dv, 0xdb, 0x28, mem); }
    if (hardCase) input.u8.set(st.u8.subarray(0, 0x600));
    const ctl = rv.getUint32(R_CTL, true);
    dv.setUint16(FX_FCW, ctl & 0xffff, true);
    mem.fill(0); mem.set(r.subarray(R_C, R_C + 16));
    x87Flags.in = rv.getUint32(R_IMM, true) & 0x45;
    x87Exec(dv, op, modrm, mem);
    const expSt = rv.getUint32(R_ST, true);
    const expFsw = expSt & 0xffff, expTag = expSt >>> 16;
    const gotFsw = fsw(dv), gotTag = fullTagWord(dv);
    const diffs: string[] = [];
    /** Differences a hard case may explain: C1, and registers one ulp apart. */
    let c1Only = false;
    const offBy1: number[] = [];
    if (gotFsw !== expFsw) {
      if (hardCase && (gotFsw ^ expFsw) === 0x200) c1Only = true;
      else diffs.push(`fsw ${gotFsw.toString(16)} want ${expFsw.toString(16)}`);
    }
    if (gotTag !== expTag) diffs.push(`ftw ${gotTag.toString(16)} want ${expTag.toString(16)}`);
    const topv = (expFsw >> 11) & 7;
    for (let i = 0; i < 3; i++) {
      if (((expTag >> (2 * ((topv + i) & 7))) & 3) === 3) continue;
      const got = hex(st.u8, stOff(i), 10), want = hex(r, R_O + 10 * i, 10);
      if (got === want) continue;
      const d = ordered(st.u8, stOff(i)) - ordered(r, R_O + 10 * i);
      if (hardCase && (d === 1n || d === -1n)) offBy1.push(i);
      else diffs.push(`st${i} ${got} want ${want}`);
    }
    if (!diffs.length && (c1Only || offBy1.length)) {
      // judge by the registers that differ, or for C1 alone by the nearest of the results
      const slots = offBy1.length ? offBy1 : [0, 1];
      let dist = Infinity;
      for (const i of slots) dist = Math.min(dist, boundaryDistance(f.name, i, input.dv, ctl, expFsw, st.u8, stOff(i), r, R_O + 10 * i));
      if (dist < hardCase) { hard++; hardMax = Math.max(hardMax, dist); }
      else diffs.push(`${c1Only ? 'C1' : `st${offBy1.join(',')} by 1 ulp`} with the exact result ${dist.toFixed(4)} ulp from a boundary`);
    }
    if (EFLAGS_OPS.has(f.name)) {
      const want = rv.getUint32(R_FL, true) & 0x45;
      if (x87Result.eflags !== want) diffs.push(`eflags ${x87Result.eflags.toString(16)} want ${want.toString(16)}`);
    }
    if (storeBytes) {
      const got = hex(mem, 0, storeBytes), want = hex(r, R_M, storeBytes);
      if (got !== want) diffs.push(`mem ${got} want ${want}`);
    }
    if (diffs.length) {
      fail++;
      if (report.length < maxReport) {
        report.push(`${f.name} #${k} fcw=${ctl.toString(16)} a=${hex(r, R_A, 10)} b=${hex(r, R_B, 10)} c=${hex(r, R_C, 10)}: ${diffs.join('; ')}`);
      }
    }
  }
  return { fail, hard, hardMax, report };
}
