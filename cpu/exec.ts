// Runs one decoded block: the fast ops (cpu/fastops.ts) inline in one switch,
// every other instruction through its closure. Returns the number of
// instructions completed; on a fault it stores the CpuFault in c.fault and
// returns the index of the faulting instruction.

import type { Block } from './blocks.js';
import type { Cpu } from './cpu.js';
import { Fast as F } from './fastops.js';
import { testCC } from './flags.js';
import { incdec, incdec64 } from './alu.js';
import { pop, push } from './stack.js';
import { segCheck } from './operands.js';
import { BLOCK_END, CpuFault } from './fault.js';
import { aluM, aluR8, aluRM, leaM, loadM, storeM, storeMI } from './exec-mem.js';
import { PAGE_MASK as TLB_PAGE_MASK, TLB_MASK as TLB_INDEX_MASK } from '../mmu/tlb.js';

import { W } from './words.js';
import { segWord } from './cpu.js';
import { ES, SEG_BASE, SS } from './state.js';

/** mmu/tlb.ts's T.TLB_MASK and T.PAGE_MASK as literals (checked at load: the bundler inlines enums, not imports). */
const enum T { TLB_MASK = 4095, PAGE_MASK = -4096 }
if (T.TLB_MASK !== TLB_INDEX_MASK || T.PAGE_MASK !== TLB_PAGE_MASK) throw new Error('cpu/exec.ts TLB constants disagree with mmu/tlb.ts');
/** Word index of ES.base; segment n's base word is 8n above it (cpu/state.ts layout, checked at load). */
const enum S { ES_BASE_W = 0x44 }
if (S.ES_BASE_W !== segWord(ES, SEG_BASE) || S.ES_BASE_W + 8 * SS !== W.W_SSBASE) throw new Error('cpu/exec.ts segment words disagree with cpu/state.ts');

/**
 * Run instructions [0, n) of block b from `code` (b.code, or b.exact for partial
 * runs). A block that branches back to its own start (b.selfLoop) runs up to
 * `passes` times without returning to the run loop. Returns the number of
 * instructions completed; on a fault it returns ~completed (negative), with the
 * fault in c.lastFault and the faulting instruction's index in c.faultIndex. `from` starts the
 * first pass at that instruction (the JIT runs one instruction i as from = i, n = i + 1).
 * Before an instruction that may reach a device or a clock it sets c.inRun to c.blockStart plus
 * the instructions completed before it (cpu.ts: instruction time as if stepped).
 */
export function execBlock(c: Cpu, b: Block, code: Int32Array, n: number, passes: number, from = 0): number {
  const fns = b.fns, r = c.r32;
  const startLo = r[W.W_RIP], startHi = r[W.W_RIP + 1];
  let i = 0, done = 0;
  try {
    for (;;) {
    for (i = from; i < n; i++) {
      const p = i << 2;
      const a = code[p + 1], s = code[p + 2];
      switch (code[p]) {
        case F.FAST_NONE: c.inRun = c.blockStart + done + i - from; fns[i](c); if (c.blockEnd !== 0) throw BLOCK_END; break;
        // ---- 32-bit ALU, register destination.
        case F.ADD_RR32: { const x = r[a], y = r[s], v = (x + y) | 0; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_ADD32; r[W.LF_A] = x; r[W.LF_B] = y; r[W.LF_RES] = v; break; }
        case F.SUB_RR32: { const x = r[a], y = r[s], v = (x - y) | 0; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_SUB32; r[W.LF_A] = x; r[W.LF_B] = y; r[W.LF_RES] = v; break; }
        case F.CMP_RR32: { const x = r[a], y = r[s]; r[W.LF_OP] = W.LF_SUB32; r[W.LF_A] = x; r[W.LF_B] = y; r[W.LF_RES] = (x - y) | 0; break; }
        case F.AND_RR32: { const v = r[a] & r[s]; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_LOGIC32; r[W.LF_RES] = v; break; }
        case F.OR_RR32: { const v = r[a] | r[s]; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_LOGIC32; r[W.LF_RES] = v; break; }
        case F.XOR_RR32: { const v = r[a] ^ r[s]; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_LOGIC32; r[W.LF_RES] = v; break; }
        case F.TEST_RR32: { r[W.LF_OP] = W.LF_LOGIC32; r[W.LF_RES] = r[a] & r[s]; break; }
        case F.ADD_RI32: { const x = r[a], v = (x + s) | 0; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_ADD32; r[W.LF_A] = x; r[W.LF_B] = s; r[W.LF_RES] = v; break; }
        case F.SUB_RI32: { const x = r[a], v = (x - s) | 0; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_SUB32; r[W.LF_A] = x; r[W.LF_B] = s; r[W.LF_RES] = v; break; }
        case F.CMP_RI32: { const x = r[a]; r[W.LF_OP] = W.LF_SUB32; r[W.LF_A] = x; r[W.LF_B] = s; r[W.LF_RES] = (x - s) | 0; break; }
        case F.AND_RI32: { const v = r[a] & s; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_LOGIC32; r[W.LF_RES] = v; break; }
        case F.OR_RI32: { const v = r[a] | s; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_LOGIC32; r[W.LF_RES] = v; break; }
        case F.XOR_RI32: { const v = r[a] ^ s; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_LOGIC32; r[W.LF_RES] = v; break; }
        // ---- ALU with dead flags (cpu/fastops.ts NO_FLAGS): the result only.
        case F.ADD_RR32 + F.NO_FLAGS: r[a] = (r[a] + r[s]) | 0; r[a + 1] = 0; break;
        case F.SUB_RR32 + F.NO_FLAGS: r[a] = (r[a] - r[s]) | 0; r[a + 1] = 0; break;
        case F.AND_RR32 + F.NO_FLAGS: r[a] &= r[s]; r[a + 1] = 0; break;
        case F.OR_RR32 + F.NO_FLAGS: r[a] |= r[s]; r[a + 1] = 0; break;
        case F.XOR_RR32 + F.NO_FLAGS: r[a] ^= r[s]; r[a + 1] = 0; break;
        case F.ADD_RI32 + F.NO_FLAGS: r[a] = (r[a] + s) | 0; r[a + 1] = 0; break;
        case F.SUB_RI32 + F.NO_FLAGS: r[a] = (r[a] - s) | 0; r[a + 1] = 0; break;
        case F.AND_RI32 + F.NO_FLAGS: r[a] &= s; r[a + 1] = 0; break;
        case F.OR_RI32 + F.NO_FLAGS: r[a] |= s; r[a + 1] = 0; break;
        case F.XOR_RI32 + F.NO_FLAGS: r[a] ^= s; r[a + 1] = 0; break;
        case F.CMP_RR32 + F.NO_FLAGS: case F.CMP_RI32 + F.NO_FLAGS: case F.TEST_RR32 + F.NO_FLAGS:
        case F.CMP_RR64 + F.NO_FLAGS: case F.CMP_RI64 + F.NO_FLAGS: case F.TEST_RR64 + F.NO_FLAGS: break;
        case F.ADD_RR64 + F.NO_FLAGS: case F.ADD_RI64 + F.NO_FLAGS: {
          const xl = r[a], rr = code[p] === F.ADD_RR64 + F.NO_FLAGS;
          const yl = rr ? r[s] : s, yh = rr ? r[s + 1] : s >> 31;
          const lo = (xl + yl) | 0;
          r[a + 1] = (r[a + 1] + yh + ((lo >>> 0) < (xl >>> 0) ? 1 : 0)) | 0; r[a] = lo;
          break;
        }
        case F.SUB_RR64 + F.NO_FLAGS: case F.SUB_RI64 + F.NO_FLAGS: {
          const xl = r[a], rr = code[p] === F.SUB_RR64 + F.NO_FLAGS;
          const yl = rr ? r[s] : s, yh = rr ? r[s + 1] : s >> 31;
          r[a + 1] = (r[a + 1] - yh - ((xl >>> 0) < (yl >>> 0) ? 1 : 0)) | 0; r[a] = (xl - yl) | 0;
          break;
        }
        case F.AND_RR64 + F.NO_FLAGS: r[a] &= r[s]; r[a + 1] &= r[s + 1]; break;
        case F.OR_RR64 + F.NO_FLAGS: r[a] |= r[s]; r[a + 1] |= r[s + 1]; break;
        case F.XOR_RR64 + F.NO_FLAGS: r[a] ^= r[s]; r[a + 1] ^= r[s + 1]; break;
        case F.AND_RI64 + F.NO_FLAGS: r[a] &= s; r[a + 1] &= s >> 31; break;
        case F.OR_RI64 + F.NO_FLAGS: r[a] |= s; r[a + 1] |= s >> 31; break;
        case F.XOR_RI64 + F.NO_FLAGS: r[a] ^= s; r[a + 1] ^= s >> 31; break;
        // ---- Shifts by an immediate (lazy flags: original value and count).
        case F.SHL_RI32: { const x = r[a], v = x << s; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_SHL32; r[W.LF_A] = x; r[W.LF_B] = s; r[W.LF_RES] = v; break; }
        case F.SHR_RI32: { const x = r[a], v = x >>> s | 0; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_SHR32; r[W.LF_A] = x; r[W.LF_B] = s; r[W.LF_RES] = v; break; }
        case F.SAR_RI32: { const x = r[a], v = x >> s; r[a] = v; r[a + 1] = 0; r[W.LF_OP] = W.LF_SAR32; r[W.LF_A] = x; r[W.LF_B] = s; r[W.LF_RES] = v; break; }
        case F.SHL_RI32 + F.NO_FLAGS: r[a] <<= s; r[a + 1] = 0; break;
        case F.SHR_RI32 + F.NO_FLAGS: r[a] = r[a] >>> s | 0; r[a + 1] = 0; break;
        case F.SAR_RI32 + F.NO_FLAGS: r[a] >>= s; r[a + 1] = 0; break;
        case F.SHL_RI64: case F.SHR_RI64: case F.SAR_RI64:
        case F.SHL_RI64 + F.NO_FLAGS: case F.SHR_RI64 + F.NO_FLAGS: case F.SAR_RI64 + F.NO_FLAGS: {
          const id = code[p], k = id & ~F.NO_FLAGS, x = r[a], xh = r[a + 1];
          let lo: number, hi: number;
          if (k === F.SHL_RI64) {
            if (s >= 32) { hi = x << (s - 32); lo = 0; } else { hi = (xh << s) | (x >>> (32 - s)); lo = x << s; }
          } else if (s >= 32) { lo = k === F.SAR_RI64 ? xh >> (s - 32) : (xh >>> (s - 32)) | 0; hi = k === F.SAR_RI64 ? xh >> 31 : 0; }
          else { lo = (x >>> s) | (xh << (32 - s)); hi = k === F.SAR_RI64 ? xh >> s : (xh >>> s) | 0; }
          r[a] = lo; r[a + 1] = hi;
          if (id < F.NO_FLAGS) {
            r[W.LF_OP] = k === F.SHL_RI64 ? W.LF_SHL64 : k === F.SHR_RI64 ? W.LF_SHR64 : W.LF_SAR64;
            r[W.LF_A] = x; r[W.LF_AHI] = xh; r[W.LF_B] = s; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi;
          }
          break;
        }
        case F.INC32: { const v = incdec(c, false, 4, r[a]); r[a] = v; r[a + 1] = 0; break; }
        case F.DEC32: { const v = incdec(c, true, 4, r[a]); r[a] = v; r[a + 1] = 0; break; }
        case F.INC64: case F.DEC64: {
          const dec = code[p] === F.DEC64, x = r[a], xh = r[a + 1];
          r[a] = incdec64(c, dec, x, xh); r[a + 1] = c.resHi;
          break;
        }
        case F.INC32 + F.NO_FLAGS: r[a] = (r[a] + 1) | 0; r[a + 1] = 0; break;
        case F.DEC32 + F.NO_FLAGS: r[a] = (r[a] - 1) | 0; r[a + 1] = 0; break;
        case F.INC64 + F.NO_FLAGS: { const v = (r[a] + 1) | 0; r[a] = v; if (v === 0) r[a + 1] = (r[a + 1] + 1) | 0; break; }
        case F.DEC64 + F.NO_FLAGS: { const x = r[a]; r[a] = (x - 1) | 0; if (x === 0) r[a + 1] = (r[a + 1] - 1) | 0; break; }
        // ---- 64-bit ALU, register destination (s = source word, or a sign-extended imm32).
        case F.ADD_RR64: case F.ADD_RI64: {
          const xl = r[a], xh = r[a + 1];
          const rr = code[p] === F.ADD_RR64;
          const yl = rr ? r[s] : s, yh = rr ? r[s + 1] : s >> 31;
          const lo = (xl + yl) | 0, hi = (xh + yh + ((lo >>> 0) < (xl >>> 0) ? 1 : 0)) | 0;
          r[a] = lo; r[a + 1] = hi;
          r[W.LF_OP] = W.LF_ADD64; r[W.LF_A] = xl; r[W.LF_AHI] = xh; r[W.LF_B] = yl; r[W.LF_BHI] = yh; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi;
          break;
        }
        case F.SUB_RR64: case F.SUB_RI64: case F.CMP_RR64: case F.CMP_RI64: {
          const id = code[p];
          const xl = r[a], xh = r[a + 1];
          const rr = id === F.SUB_RR64 || id === F.CMP_RR64;
          const yl = rr ? r[s] : s, yh = rr ? r[s + 1] : s >> 31;
          const lo = (xl - yl) | 0, hi = (xh - yh - ((xl >>> 0) < (yl >>> 0) ? 1 : 0)) | 0;
          if (id === F.SUB_RR64 || id === F.SUB_RI64) { r[a] = lo; r[a + 1] = hi; }
          r[W.LF_OP] = W.LF_SUB64; r[W.LF_A] = xl; r[W.LF_AHI] = xh; r[W.LF_B] = yl; r[W.LF_BHI] = yh; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi;
          break;
        }
        case F.AND_RR64: { const lo = r[a] & r[s], hi = r[a + 1] & r[s + 1]; r[a] = lo; r[a + 1] = hi; r[W.LF_OP] = W.LF_LOGIC64; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi; break; }
        case F.OR_RR64: { const lo = r[a] | r[s], hi = r[a + 1] | r[s + 1]; r[a] = lo; r[a + 1] = hi; r[W.LF_OP] = W.LF_LOGIC64; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi; break; }
        case F.XOR_RR64: { const lo = r[a] ^ r[s], hi = r[a + 1] ^ r[s + 1]; r[a] = lo; r[a + 1] = hi; r[W.LF_OP] = W.LF_LOGIC64; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi; break; }
        case F.TEST_RR64: { r[W.LF_OP] = W.LF_LOGIC64; r[W.LF_RES] = r[a] & r[s]; r[W.LF_RESHI] = r[a + 1] & r[s + 1]; break; }
        case F.AND_RI64: { const lo = r[a] & s, hi = r[a + 1] & (s >> 31); r[a] = lo; r[a + 1] = hi; r[W.LF_OP] = W.LF_LOGIC64; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi; break; }
        case F.OR_RI64: { const lo = r[a] | s, hi = r[a + 1] | (s >> 31); r[a] = lo; r[a + 1] = hi; r[W.LF_OP] = W.LF_LOGIC64; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi; break; }
        case F.XOR_RI64: { const lo = r[a] ^ s, hi = r[a + 1] ^ (s >> 31); r[a] = lo; r[a + 1] = hi; r[W.LF_OP] = W.LF_LOGIC64; r[W.LF_RES] = lo; r[W.LF_RESHI] = hi; break; }
        // ---- MOV.
        case F.MOV_RR32: r[a] = r[s]; r[a + 1] = 0; break;
        case F.MOV_RR64: r[a] = r[s]; r[a + 1] = r[s + 1]; break;
        case F.MOV_RI32: r[a] = s; r[a + 1] = 0; break;
        case F.MOV_RI64: r[a] = s; r[a + 1] = code[p + 3]; break;
        case F.LEA32: r[a] = (r[s] + code[p + 3]) | 0; r[a + 1] = 0; break;
        case F.LOAD32: case F.STORE32: {
          // s = base word | segment-base word << 16. cpu.segMax[seg] bounds loads and stores alike
          // (writable data only): a load through a read-only segment passes dwordCheck.
          const off = (r[s & 0xffff] + code[p + 3]) >>> 0, sbw = s >>> 16;
          if (off + 3 > c.segMax[(sbw - S.ES_BASE_W) >> 3]) dwordCheck(c, code[p], sbw, off);
          const lin = (r[sbw] + off) | 0;
          const t = ((lin >>> 12) & T.TLB_MASK);
          if (code[p] === F.LOAD32) {
            if (c.tlbTags[c.planeR | t] === (lin & T.PAGE_MASK) && c.tlbHi[t] === 0 && (lin & 0xfff) <= 0xffc) {
              r[a] = c.ram.getInt32(c.tlbPhys[t] + (lin & 0xfff), true);
            } else { c.inRun = c.blockStart + done + i - from; r[a] = c.read32(lin, 0); }
            r[a + 1] = 0;
          } else if (c.tlbTags[c.planeW | t] === (lin & T.PAGE_MASK) && c.tlbHi[t] === 0 && (lin & 0xfff) <= 0xffc) {
            c.ram.setInt32(c.tlbPhys[t] + (lin & 0xfff), r[a], true);
          } else { c.inRun = c.blockStart + done + i - from; c.write32(lin, 0, r[a]); if (c.blockEnd !== 0) throw BLOCK_END; }
          break;
        }
        case F.LOADZX8_32: {
          const off = (r[s & 0xffff] + code[p + 3]) >>> 0, sbw = s >>> 16;
          if (off > c.segMax[(sbw - S.ES_BASE_W) >> 3]) segCheck(c, (sbw - S.ES_BASE_W) >> 3, off, 1);
          const lin = (r[sbw] + off) | 0;
          const t = (lin >>> 12) & T.TLB_MASK;
          r[a] = c.tlbTags[c.planeR | t] === (lin & T.PAGE_MASK) && c.tlbHi[t] === 0 ? c.ramU8[c.tlbPhys[t] + (lin & 0xfff)] : (c.inRun = c.blockStart + done + i - from, c.read8(lin, 0));
          r[a + 1] = 0;
          break;
        }
        case F.LOADZX8_64: {
          const sum = (r[s] >>> 0) + code[p + 3];
          const lo = sum | 0, hi = (r[s + 1] + (sum > 0xffffffff ? 1 : sum < 0 ? -1 : 0)) | 0;
          if (((hi << 16) >> 16) !== hi) throw new CpuFault(13, 0, true);
          const t = ((lo >>> 12) ^ hi) & T.TLB_MASK;
          r[a] = c.tlbTags[c.planeR | t] === (lo & T.PAGE_MASK) && c.tlbHi[t] === hi ? c.ramU8[c.tlbPhys[t] + (lo & 0xfff)] : (c.inRun = c.blockStart + done + i - from, c.read8(lo, hi));
          r[a + 1] = 0;
          break;
        }
        case F.MOVSXD_RR: { const v = r[s]; r[a] = v; r[a + 1] = v >> 31; break; }
        // ---- General memory operands (cpu/exec-mem.ts).
        case F.LEA_M32: leaM(c, a, code[p + 3], false); break;
        case F.LEA_M64: leaM(c, a, code[p + 3], true); break;
        case F.LOAD_M: loadM(c, a, s, code[p + 3]); break;
        // (A store that reached MMIO may have asked for the block to end: cpu.blockEnd.)
        case F.STORE_M: storeM(c, a, s, code[p + 3]); if (c.blockEnd !== 0) throw BLOCK_END; break;
        case F.STORE_MI: storeMI(c, a, s, code[p + 3]); if (c.blockEnd !== 0) throw BLOCK_END; break;
        case F.NOP: break;
        case F.ALU_RM: aluRM(c, a, s, code[p + 3]); break;
        case F.ALU_MR: { const w = a & 0xff; aluM(c, a, s, code[p + 3], r[w], r[w + 1]); if (c.blockEnd !== 0) throw BLOCK_END; break; }
        case F.ALU_MI: aluM(c, a, a & 0xff, code[p + 3], s, s >> 31); if (c.blockEnd !== 0) throw BLOCK_END; break;
        case F.NOT32: r[a] = ~r[a]; r[a + 1] = 0; break;
        case F.NOT64: r[a] = ~r[a]; r[a + 1] = ~r[a + 1]; break;
        case F.CMOV32: if (cond(r, code[p + 3])) r[a] = r[s]; r[a + 1] = 0; break;
        case F.CMOV64: if (cond(r, code[p + 3])) { r[a] = r[s]; r[a + 1] = r[s + 1]; } break;
        case F.SETCC_R8: { const w = a & ~1, sh = (a & 1) << 3; r[w] = (r[w] & ~(0xff << sh)) | ((cond(r, code[p + 3]) ? 1 : 0) << sh); break; }
        case F.ALU_RR8: case F.ALU_RR8 + F.NO_FLAGS: aluR8(c, a, s, code[p + 3], true); break;
        case F.ALU_RI8: case F.ALU_RI8 + F.NO_FLAGS: aluR8(c, a, s, code[p + 3], false); break;
        case F.LOAD64_32: case F.LOAD64: case F.STORE64_32: case F.STORE64: {
          const id = code[p];
          const disp = code[p + 3];
          const sum = (r[s] >>> 0) + disp;
          const lo = sum | 0, hi = (r[s + 1] + (sum > 0xffffffff ? 1 : sum < 0 ? -1 : 0)) | 0;
          if (((hi << 16) >> 16) !== hi) throw new CpuFault(13, 0, true);
          // One TLB compare for RAM inside a page (8 bytes covers both widths), else the general accessors.
          const t = ((lo >>> 12) ^ hi) & T.TLB_MASK, off = lo & 0xfff;
          const load = id === F.LOAD64_32 || id === F.LOAD64;
          if (c.tlbTags[(load ? c.planeR : c.planeW) | t] === (lo & T.PAGE_MASK) && c.tlbHi[t] === hi && off <= 0xff8) {
            const ph = c.tlbPhys[t] + off, ram = c.ram;
            if (id === F.LOAD64_32) { r[a] = ram.getInt32(ph, true); r[a + 1] = 0; }
            else if (id === F.LOAD64) { r[a] = ram.getInt32(ph, true); r[a + 1] = ram.getInt32(ph + 4, true); }
            else if (id === F.STORE64_32) ram.setInt32(ph, r[a], true);
            else { ram.setInt32(ph, r[a], true); ram.setInt32(ph + 4, r[a + 1], true); }
          } else {
            c.inRun = c.blockStart + done + i - from;
            if (id === F.LOAD64_32) { r[a] = c.read32(lo, hi); r[a + 1] = 0; }
            else if (id === F.LOAD64) { r[a] = c.read64(lo, hi); r[a + 1] = c.hi; }
            else {
              if (id === F.STORE64_32) c.write32(lo, hi, r[a]); else c.write64(lo, hi, r[a], r[a + 1]);
              if (c.blockEnd !== 0) throw BLOCK_END;
            }
          }
          break;
        }
        // ---- Branches (always the last instruction of a block).
        case F.JCC32: r[W.W_RIP] = (r[W.W_RIP] + (cond(r, a) ? s : code[p + 3])) | 0; break;
        case F.JCC64: addRip64(r, cond(r, a) ? s : code[p + 3]); break;
        case F.JMP32: r[W.W_RIP] = (r[W.W_RIP] + s) | 0; break;
        case F.JMP64: addRip64(r, s); break;
        case F.CALL32: {
          c.inRun = c.blockStart + done + i - from; // (a stack in MMIO)
          const ret = (r[W.W_RIP] + code[p + 3]) | 0;
          if (c.stackFlat32 === 4) push4(c, r, ret); else push(c, 4, ret);
          r[W.W_RIP] = (r[W.W_RIP] + s) | 0;
          break;
        }
        case F.RET32: {
          c.inRun = c.blockStart + done + i - from;
          r[W.W_RIP] = c.stackFlat32 === 4 ? pop4(c, r) : pop(c, 4);
          r[W.W_RIP + 1] = 0;
          break;
        }
        case F.CALL64: {
          c.inRun = c.blockStart + done + i - from;
          const sum = (r[W.W_RIP] >>> 0) + code[p + 3];
          const hi = (r[W.W_RIP + 1] + (sum > 0xffffffff ? 1 : 0)) | 0;
          if (c.stackSize === 8) push8(c, r, sum | 0, hi); else push(c, 8, sum | 0, hi);
          addRip64(r, s);
          break;
        }
        case F.RET64: { c.inRun = c.blockStart + done + i - from; const lo = c.stackSize === 8 ? pop8(c, r) : pop(c, 8); r[W.W_RIP] = lo; r[W.W_RIP + 1] = c.resHi; break; }
        case F.PUSH32: c.inRun = c.blockStart + done + i - from; if (c.stackFlat32 === 4) push4(c, r, r[a]); else push(c, 4, r[a]); break;
        case F.POP32: { c.inRun = c.blockStart + done + i - from; const v = c.stackFlat32 === 4 ? pop4(c, r) : pop(c, 4); r[a] = v; r[a + 1] = 0; break; }
        case F.PUSH64: c.inRun = c.blockStart + done + i - from; if (c.stackSize === 8) push8(c, r, r[a], r[a + 1]); else push(c, 8, r[a], r[a + 1]); break;
        case F.POP64: { c.inRun = c.blockStart + done + i - from; const v = c.stackSize === 8 ? pop8(c, r) : pop(c, 8); r[a] = v; r[a + 1] = c.resHi; break; }
        default: throw new Error(`cpu/exec.ts: unknown fast op ${code[p]} (cpu/fastops.ts FAST_INFO)`);
      }
    }
    done += n - from;
    from = 0;
    if (--passes <= 0 || !b.selfLoop || r[W.W_RIP] !== startLo || r[W.W_RIP + 1] !== startHi) break;
    }
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    // A device asked for the block to end after instruction i (cpu.blockEnd, set by an MMIO write):
    // it completed; stop before the next, or end as usual (no further pass) if it was the last.
    if (e === BLOCK_END && ++i === n) return done + n - from;
    c.lastFault = e;
    c.faultIndex = i;
    return ~(done + i - from);
  }
  return done;
}

// Stack fast paths for the common stack sizes (32-bit SS.B=1, 64-bit mode): one
// TLB compare, else the general accessors (which fault before W.W_RSP changes).
// The 32-bit ones run only on a 4 GiB expand-up SS (cpu.stackFlat32), where
// no access can be past the limit; other 32-bit stacks take cpu/stack.ts's checked path.

function push4(c: Cpu, r: Int32Array, v: number): void {
  const sp = (r[W.W_RSP] - 4) | 0, lin = (sp + r[W.W_SSBASE]) | 0;
  const t = (lin >>> 12) & T.TLB_MASK;
  if (c.tlbTags[c.planeW | t] === (lin & T.PAGE_MASK) && c.tlbHi[t] === 0 && (lin & 0xfff) <= 0xffc) c.ram.setInt32(c.tlbPhys[t] + (lin & 0xfff), v, true);
  else c.write32(lin, 0, v);
  r[W.W_RSP] = sp;
}

function pop4(c: Cpu, r: Int32Array): number {
  const sp = r[W.W_RSP], lin = (sp + r[W.W_SSBASE]) | 0;
  const t = (lin >>> 12) & T.TLB_MASK;
  const v = c.tlbTags[c.planeR | t] === (lin & T.PAGE_MASK) && c.tlbHi[t] === 0 && (lin & 0xfff) <= 0xffc
    ? c.ram.getInt32(c.tlbPhys[t] + (lin & 0xfff), true) : c.read32(lin, 0);
  r[W.W_RSP] = (sp + 4) | 0;
  return v;
}

function push8(c: Cpu, r: Int32Array, lo: number, hi: number): void {
  const sum = (r[W.W_RSP] >>> 0) - 8;
  const spLo = sum | 0, spHi = sum < 0 ? (r[W.W_RSP + 1] - 1) | 0 : r[W.W_RSP + 1];
  const t = ((spLo >>> 12) ^ spHi) & T.TLB_MASK;
  if (c.tlbTags[c.planeW | t] === (spLo & T.PAGE_MASK) && c.tlbHi[t] === spHi && (spLo & 0xfff) <= 0xff8) {
    const ph = c.tlbPhys[t] + (spLo & 0xfff);
    c.ram.setInt32(ph, lo, true);
    c.ram.setInt32(ph + 4, hi, true);
    r[W.W_RSP] = spLo; r[W.W_RSP + 1] = spHi;
  } else push(c, 8, lo, hi);
}

/** Pops 8 bytes: low half returned, high half in c.resHi. */
function pop8(c: Cpu, r: Int32Array): number {
  const spLo = r[W.W_RSP], spHi = r[W.W_RSP + 1];
  const t = ((spLo >>> 12) ^ spHi) & T.TLB_MASK;
  if (c.tlbTags[c.planeR | t] === (spLo & T.PAGE_MASK) && c.tlbHi[t] === spHi && (spLo & 0xfff) <= 0xff8) {
    const ph = c.tlbPhys[t] + (spLo & 0xfff);
    c.resHi = c.ram.getInt32(ph + 4, true);
    const sum = (spLo >>> 0) + 8;
    r[W.W_RSP] = sum | 0;
    if (sum > 0xffffffff) r[W.W_RSP + 1] = (spHi + 1) | 0;
    return c.ram.getInt32(ph, true);
  }
  return pop(c, 8);
}

/** RIP += k (64-bit). */
function addRip64(r: Int32Array, k: number): void {
  const sum = (r[W.W_RIP] >>> 0) + k;
  r[W.W_RIP] = sum | 0;
  if (sum > 0xffffffff || sum < 0) r[W.W_RIP + 1] = (r[W.W_RIP + 1] + (sum < 0 ? -1 : 1)) | 0;
}

/** Condition codes with the common after-CMP/SUB/logic cases read straight from the lazy state. */
function cond(r: Int32Array, cc: number): boolean {
  const op = r[W.LF_OP];
  if ((cc === 4 || cc === 5) && op !== 0) {
    // ZF is computed the same way for every lazy operation.
    const z = (op & 3) === 3 ? (r[W.LF_RES] | r[W.LF_RESHI]) === 0 : r[W.LF_RES] === 0;
    return z === (cc === 4);
  }
  if (op === W.LF_SUB32) {
    const x = r[W.LF_A], y = r[W.LF_B];
    switch (cc) {
      case 2: return (x >>> 0) < (y >>> 0);
      case 3: return (x >>> 0) >= (y >>> 0);
      case 4: return x === y;
      case 5: return x !== y;
      case 6: return (x >>> 0) <= (y >>> 0);
      case 7: return (x >>> 0) > (y >>> 0);
      case 12: return x < y;
      case 13: return x >= y;
      case 14: return x <= y;
      case 15: return x > y;
    }
  } else if (op === W.LF_LOGIC32 || op === W.LF_ADD32) {
    if (cc === 4) return r[W.LF_RES] === 0;
    if (cc === 5) return r[W.LF_RES] !== 0;
  } else if (op === W.LF_SUB64) {
    const xh = r[W.LF_AHI], yh = r[W.LF_BHI];
    const eq = xh === yh && r[W.LF_A] === r[W.LF_B];
    // Unsigned and signed "below" from the halves.
    const ult = (xh >>> 0) < (yh >>> 0) || (xh === yh && (r[W.LF_A] >>> 0) < (r[W.LF_B] >>> 0));
    const slt = xh < yh || (xh === yh && (r[W.LF_A] >>> 0) < (r[W.LF_B] >>> 0));
    switch (cc) {
      case 2: return ult;
      case 3: return !ult;
      case 4: return eq;
      case 5: return !eq;
      case 6: return ult || eq;
      case 7: return !ult && !eq;
      case 12: return slt;
      case 13: return !slt;
      case 14: return slt || eq;
      case 15: return !slt && !eq;
    }
  } else if (op === W.LF_LOGIC64 || op === W.LF_ADD64) {
    if (cc === 4) return (r[W.LF_RES] | r[W.LF_RESHI]) === 0;
    if (cc === 5) return (r[W.LF_RES] | r[W.LF_RESHI]) !== 0;
  }
  return testCC(r, cc);
}

/** The full segment check of a LOAD32/STORE32 fast op's dword at `off` (segment base word sbw). */
function dwordCheck(c: Cpu, id: number, sbw: number, off: number): void {
  segCheck(c, ((sbw - S.ES_BASE_W) >> 3) + (id === F.LOAD32 ? 0 : 8), off, 4);
}
