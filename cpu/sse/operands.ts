// Operand resolution for SSE/MMX definitions: which record offsets ModRM names for each
// form, how many bytes a memory operand loads/stores, and running a definition once its
// memory source (if any) is in MEM_TMP. Shared by the interpreter rows and the vector replay.

import { SseDef } from './defs.js';
import { Vec, xmmOff, mmOff, gprOff, MEM_TMP, mmxEnter, mmxWrote, sseOut } from './vec.js';

/** Resolved operands of one decoded instruction (filled by resolve, no allocation). */
export interface Ops { d: number; s: number; memSrc: boolean; memDst: boolean; load: number; store: number; dstMm: boolean }
export const newOps = (): Ops => ({ d: 0, s: 0, memSrc: false, memDst: false, load: 0, store: 0, dstMm: false });

/** Forms whose load/store size follows the operand size (REX.W/66). */
const SIZED = /^(cvtsi2s[sd]|movd|pextrd|pinsrd|popcnt|lzcnt|tzcnt|movbe|movnti)\b|^crc32 Gy/;

/**
 * reg/rm: ModRM fields with REX extensions; regRaw/rmRaw: without (MMX registers);
 * isMem: mod != 3; opSize: 2/4/8; rex: the REX byte (byte registers AH..BH without it).
 */
export function resolve(def: SseDef, o: Ops, reg: number, rm: number, regRaw: number, rmRaw: number, isMem: boolean, opSize: number, rex: number): void {
  const X = xmmOff, M = mmOff, G = gprOff;
  let d = 0, s = 0, memSrc = false, memDst = false, dstMm = false;
  switch (def.form) {
    case 'VW': d = X(reg); s = isMem ? MEM_TMP : X(rm); memSrc = isMem; break;
    case 'PQ': d = M(regRaw); s = isMem ? MEM_TMP : M(rmRaw); memSrc = isMem; dstMm = true; break;
    case 'GU': d = G(reg); s = isMem ? MEM_TMP : X(rm); memSrc = isMem; break;
    case 'GN': d = G(reg); s = M(rmRaw); break;
    case 'VE': d = X(reg); s = isMem ? MEM_TMP : G(rm); memSrc = isMem; break;
    case 'PE': d = M(regRaw); s = isMem ? MEM_TMP : G(rm); memSrc = isMem; dstMm = true; break;
    case 'EV': d = isMem ? MEM_TMP : G(rm); s = X(reg); memDst = isMem; break;
    case 'EP': d = isMem ? MEM_TMP : G(rm); s = M(regRaw); memDst = isMem; break;
    case 'VQ': d = X(reg); s = isMem ? MEM_TMP : M(rmRaw); memSrc = isMem; break;
    case 'PW': d = M(regRaw); s = isMem ? MEM_TMP : X(rm); memSrc = isMem; dstMm = true; break;
    case 'GE':
      d = G(reg); memSrc = isMem;
      // a byte source names AH..BH for rm 4..7 without REX
      s = isMem ? MEM_TMP : def.load === 1 && rex === 0 && rm >= 4 && rm < 8 ? G(rm - 4) + 1 : G(rm);
      break;
    case 'GM': d = G(reg); s = MEM_TMP; memSrc = true; break;
    case 'MG': d = MEM_TMP; s = G(reg); memDst = true; break;
    case 'WV': d = isMem ? MEM_TMP : X(rm); s = X(reg); memDst = isMem; break;
    case 'QP': d = isMem ? MEM_TMP : M(rmRaw); s = M(regRaw); memDst = isMem; dstMm = !isMem; break;
    case 'PU': d = M(regRaw); s = X(rm); dstMm = true; break;
    case 'VN': d = X(reg); s = M(rmRaw); break;
    case 'UI': d = X(rm); s = d; break;
    case 'NI': d = M(rmRaw); s = d; dstMm = true; break;
  }
  const sized = SIZED.test(def.asm);
  o.d = d; o.s = s; o.memSrc = memSrc; o.memDst = memDst; o.dstMm = dstMm;
  o.load = memSrc ? (sized ? opSize : def.load) : 0;
  o.store = memDst ? (sized ? opSize : def.store) : 0;
  if (o.store && (def.form === 'EV' || def.form === 'EP') && sized) o.store = opSize === 8 ? 8 : 4;
}

/** Run a resolved definition (memory source already in MEM_TMP). Returns false on #XM. */
export function runDef(def: SseDef, x: Vec, o: Ops, imm: number, opSize: number): boolean {
  sseOut.eflags = -1; sseOut.fault = false;
  if (def.mmx) mmxEnter(x);
  def.fn(x, o.d, o.s, imm, opSize, o.memSrc || o.memDst);
  if (sseOut.fault) return false;
  if (o.dstMm) mmxWrote(x, o.d);
  return true;
}
