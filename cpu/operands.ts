// Operand access chosen at decode time: effective-address closures specialised
// for the address size and form, and register read/write helpers for each
// operand size. Everything here runs once per decoded instruction; the
// closures it returns run per execution.

import type { Cpu } from './cpu.js';
import {
  ATTR_CODE_RW, ATTR_EXPAND_DOWN, ATTR_KIND_MASK, MODE_COMPAT, MODE_PROT, MODE_REAL, MODE_VM86, SEG_READ, SEG_WRITE, TYPE_CODE_EXEC_ONLY,
  TYPE_DATA_WRITABLE, segWord,
} from './cpu.js';
import { W } from './words.js';
import type { Insn } from './decoder.js';
import { memOperandWrites } from './facts.js';
import { CpuFault, VEC_GP, VEC_SS } from './fault.js';
import { ATTR_DB, ATTR_UNUSABLE, FS, GS, SEG_ATTR, SEG_BASE, SEG_LIMIT, SS } from './state.js';

/** Computes a memory operand's linear address: returns the low half, leaves the high half in c.eaHi. */
export type EaFn = (c: Cpu) => number;

const TWO32 = 4294967296;

/** Raise #GP(0) (or #SS(0) for stack-segment accesses) for a non-canonical 64-bit address. */
export function nonCanonical(seg: number): never {
  throw new CpuFault(seg === SS ? VEC_SS : VEC_GP, 0, true);
}

/** #GP(0), or #SS(0) for the stack segment: an offset past the segment limit. */
export function limitFault(seg: number): never {
  throw new CpuFault(seg === SS ? VEC_SS : VEC_GP, 0, true);
}

/**
 * The full check (SDM Vol. 3A 5.3-5.5) of a `size`-byte access at offset `off` (unsigned) in
 * segment `s` (ES..GS, plus SEG_WRITE for a write or read-modify-write), outside 64-bit mode, for
 * accesses that fail the one-compare test against a cpu.segMax bound. In protected and compatibility
 * mode the type first: a write needs a writable data segment, a read anything but an execute-only
 * code segment, and an unusable (null) segment faults. Then the limit: expand-up, every byte at or
 * below the limit (a 4 GiB limit never faults); expand-down, every byte above the limit, up to
 * 0xFFFFFFFF with B=1 or 0xFFFF with B=0. Real and v8086 mode check no types and use the cached
 * limit, so unreal mode works and a word at 0xFFFF with the usual 64 KiB limit faults.
 * Throws #GP(0), or #SS(0) for SS.
 */
export function segCheck(c: Cpu, s: number, off: number, size: number): void {
  if (!segFits(c, s, off, size)) limitFault(s & 7);
}

/** segCheck as a test: true if the access fits (bulk string chunks fall back to single elements otherwise). */
export function segFits(c: Cpu, s: number, off: number, size: number): boolean {
  const r = c.r32, seg = s & 7;
  const attr = r[segWord(seg, SEG_ATTR)];
  if (c.mode === MODE_PROT || c.mode === MODE_COMPAT) {
    if ((attr & ATTR_UNUSABLE) !== 0) return false;
    const t = attr & ATTR_CODE_RW;
    if (s >= SEG_WRITE ? t !== TYPE_DATA_WRITABLE : t === TYPE_CODE_EXEC_ONLY) return false;
  } else if ((attr & ATTR_UNUSABLE) !== 0 && c.mode !== MODE_REAL && c.mode !== MODE_VM86) return false;
  return offsetFits(attr, r[segWord(seg, SEG_LIMIT)] >>> 0, off, size);
}

/** The limit rule alone, for a segment with attributes `attr` and byte-granular `limit` (also a new stack's, cpu/system/stack.ts). */
export function offsetFits(attr: number, limit: number, off: number, size: number): boolean {
  const last = off + size - 1;
  if ((attr & ATTR_KIND_MASK) === ATTR_EXPAND_DOWN) return off > limit && last <= ((attr & ATTR_DB) !== 0 ? 0xffffffff : 0xffff);
  return last <= limit || limit === 0xffffffff;
}

/**
 * Bytes a ModRM memory operand spans, from the row's operand spec (SDM appendix A size letters):
 * b/w/d/q/v/y/z as specSize, p (far pointer: offset + selector), a (BOUND's pair), s
 * (descriptor-table register image), t (x87 80-bit). 1 for bare M and specs it does not know.
 */
export function memOperandSize(d: Insn): number {
  for (const o of d.row.operands) {
    if ((o[0] !== 'E' && o[0] !== 'M') || o.length !== 2) continue;
    const t = o[1];
    if (t === 'p') return d.opSize + 2;
    if (t === 'a') return 2 * d.opSize;
    if (t === 's') return d.mode64 ? 10 : 6;
    if (t === 't') return 10;
    return 'bwdqvyz'.includes(t) ? specSize(o, d) : 1;
  }
  return 1;
}

/**
 * The linear-address function for d's ModRM memory operand, for an access of `size` bytes (by
 * default the row's memory operand size) that writes the operand if `write` (by default from the
 * row: memOperandWrites). Outside 64-bit mode the whole access is checked against the segment
 * (cpu.segMax's bound for reads or for any access, then segCheck) before the base is added.
 */
export function eaFn(d: Insn, size = memOperandSize(d), write = memOperandWrites(d)): EaFn {
  // bm: the cpu.segMax bound (any access, or reads only); sm: what segCheck is told.
  const seg = d.seg, bm = write ? seg : seg + SEG_READ, sm = write ? seg + SEG_WRITE : seg;
  const sb = segWord(seg, SEG_BASE);
  const disp = d.disp | 0;
  const b = d.base >= 0 ? d.base * 2 : -1, x = d.index >= 0 ? d.index * 2 : -1, s = d.scale;
  const k = size - 1;
  if (d.addrSize === 2) {
    if (b < 0) return (c) => { c.eaHi = 0; const r = c.r32, o = disp & 0xffff; if (o + k > c.segMax[bm]) segCheck(c, sm, o, size); return (r[sb] + o) | 0; };
    if (x < 0) return (c) => { c.eaHi = 0; const r = c.r32, o = (r[b] + disp) & 0xffff; if (o + k > c.segMax[bm]) segCheck(c, sm, o, size); return (r[sb] + o) | 0; };
    return (c) => { c.eaHi = 0; const r = c.r32, o = (r[b] + r[x] + disp) & 0xffff; if (o + k > c.segMax[bm]) segCheck(c, sm, o, size); return (r[sb] + o) | 0; };
  }
  if (!d.mode64) {
    if (b < 0 && x < 0) { const o = disp >>> 0; return (c) => { c.eaHi = 0; if (o + k > c.segMax[bm]) segCheck(c, sm, o, size); return (c.r32[sb] + o) | 0; }; }
    if (x < 0) return (c) => { c.eaHi = 0; const r = c.r32, o = (r[b] + disp) >>> 0; if (o + k > c.segMax[bm]) segCheck(c, sm, o, size); return (r[sb] + o) | 0; };
    if (b < 0) return (c) => { c.eaHi = 0; const r = c.r32, o = ((r[x] << s) + disp) >>> 0; if (o + k > c.segMax[bm]) segCheck(c, sm, o, size); return (r[sb] + o) | 0; };
    return (c) => { c.eaHi = 0; const r = c.r32, o = (r[b] + (r[x] << s) + disp) >>> 0; if (o + k > c.segMax[bm]) segCheck(c, sm, o, size); return (r[sb] + o) | 0; };
  }
  // 64-bit mode: only FS and GS have a base.
  const fsgs = seg === FS || seg === GS;
  const end = d.end;
  if (d.addrSize === 4) {
    // 32-bit address, zero-extended, then the FS/GS base.
    const off: EaFn = d.ripRel
      ? (c) => (c.r32[W.W_RIP] + end + disp) | 0
      : b < 0 && x < 0 ? () => disp
        : x < 0 ? (c) => (c.r32[b] + disp) | 0
          : b < 0 ? (c) => ((c.r32[x] << s) + disp) | 0
            : (c) => (c.r32[b] + (c.r32[x] << s) + disp) | 0;
    if (!fsgs) return (c) => { c.eaHi = 0; return off(c); };
    return (c) => {
      const r = c.r32;
      const sum = (off(c) >>> 0) + (r[sb] >>> 0);
      const hi = (r[sb + 1] + (sum >= TWO32 ? 1 : 0)) | 0;
      if (((hi << 16) >> 16) !== hi) nonCanonical(seg);
      c.eaHi = hi;
      return sum | 0;
    };
  }
  let full: EaFn;
  if (d.ripRel) {
    const k = end + disp;
    full = (c) => {
      const r = c.r32;
      const sum = (r[W.W_RIP] >>> 0) + k;
      c.eaHi = (r[W.W_RIP + 1] + (sum >= TWO32 ? 1 : sum < 0 ? -1 : 0)) | 0;
      return sum | 0;
    };
  } else if (b < 0 && x < 0) {
    const hi = disp >> 31;
    full = (c) => { c.eaHi = hi; return disp; };
  } else if (x < 0) {
    full = (c) => {
      const r = c.r32;
      const sum = (r[b] >>> 0) + disp;
      c.eaHi = (r[b + 1] + (sum >= TWO32 ? 1 : sum < 0 ? -1 : 0)) | 0;
      return sum | 0;
    };
  } else {
    const scale = 1 << s;
    // The carry out of the low half: floor(sum / 2^32) counts both the index/base carry and the
    // displacement's; disp's sign extension into the high half is added separately above.
    full = (c) => {
      const r = c.r32;
      const sum = (b >= 0 ? r[b] >>> 0 : 0) + (r[x] >>> 0) * scale + (disp >>> 0);
      c.eaHi = ((b >= 0 ? r[b + 1] : 0) + (r[x + 1] << s) + (disp >> 31) + Math.floor(sum / TWO32)) | 0;
      return sum | 0;
    };
  }
  const inner = full;
  if (fsgs) {
    full = (c) => {
      const lo = inner(c);
      const r = c.r32;
      const sum = (lo >>> 0) + (r[sb] >>> 0);
      c.eaHi = (c.eaHi + r[sb + 1] + (sum >= TWO32 ? 1 : 0)) | 0;
      return sum | 0;
    };
  }
  const f2 = full;
  return (c) => {
    const lo = f2(c);
    const hi = c.eaHi;
    if (((hi << 16) >> 16) !== hi) nonCanonical(seg);
    return lo;
  };
}

/** The offset-only (no segment base) effective address, for LEA: low half; high half in c.eaHi. */
export function leaFn(d: Insn): EaFn {
  const disp = d.disp | 0;
  const b = d.base >= 0 ? d.base * 2 : -1, x = d.index >= 0 ? d.index * 2 : -1, s = d.scale;
  if (d.addrSize === 2) return (c) => { c.eaHi = 0; const r = c.r32; return ((b >= 0 ? r[b] : 0) + (x >= 0 ? r[x] : 0) + disp) & 0xffff; };
  if (d.addrSize === 4 || !d.mode64) {
    if (d.ripRel) { const end = d.end; return (c) => { c.eaHi = 0; return (c.r32[W.W_RIP] + end + disp) | 0; }; }
    return (c) => { c.eaHi = 0; const r = c.r32; return ((b >= 0 ? r[b] : 0) + (x >= 0 ? r[x] << s : 0) + disp) | 0; };
  }
  if (d.ripRel) {
    const k = d.end + disp;
    return (c) => {
      const r = c.r32;
      const sum = (r[W.W_RIP] >>> 0) + k;
      c.eaHi = (r[W.W_RIP + 1] + (sum >= TWO32 ? 1 : sum < 0 ? -1 : 0)) | 0;
      return sum | 0;
    };
  }
  const scale = 1 << s;
  return (c) => {
    const r = c.r32;
    const sum = (b >= 0 ? r[b] >>> 0 : 0) + (x >= 0 ? (r[x] >>> 0) * scale : 0) + (disp >>> 0);
    c.eaHi = ((b >= 0 ? r[b + 1] : 0) + (x >= 0 ? r[x + 1] << s : 0) + (disp >> 31) + Math.floor(sum / TWO32)) | 0;
    return sum | 0;
  };
}

/** Word index and bit shift of an 8-bit register: AH/CH/DH/BH without REX, SPL..R15B with. */
export function byteRegWord(n: number, rex: number): number { return rex === 0 && n >= 4 && n < 8 ? (n - 4) * 2 : n * 2; }
export function byteRegShift(n: number, rex: number): number { return rex === 0 && n >= 4 && n < 8 ? 8 : 0; }

// ---- Register reads/writes by size, for builders that are not on the hottest paths.

/** Read a general register of `size` bytes (low half for 64-bit; high half in c.resHi). */
export function regRead(size: number, n: number, rex: number): (c: Cpu) => number {
  if (size === 1) {
    const w = byteRegWord(n, rex), sh = byteRegShift(n, rex);
    return sh ? (c) => (c.r32[w] >> 8) & 0xff : (c) => c.r32[w] & 0xff;
  }
  const w = n * 2;
  if (size === 2) return (c) => c.r32[w] & 0xffff;
  if (size === 4) return (c) => c.r32[w];
  return (c) => { c.resHi = c.r32[w + 1]; return c.r32[w]; };
}

/** Write a general register of `size` bytes (64-bit: value low half, c.resHi high half; 32-bit zeroes the high half). */
export function regWrite(size: number, n: number, rex: number): (c: Cpu, v: number) => void {
  if (size === 1) {
    const w = byteRegWord(n, rex), sh = byteRegShift(n, rex);
    return sh ? (c, v) => { c.r32[w] = (c.r32[w] & ~0xff00) | ((v & 0xff) << 8); }
      : (c, v) => { c.r32[w] = (c.r32[w] & ~0xff) | (v & 0xff); };
  }
  const w = n * 2;
  if (size === 2) return (c, v) => { c.r32[w] = (c.r32[w] & ~0xffff) | (v & 0xffff); };
  if (size === 4) return (c, v) => { c.r32[w] = v; c.r32[w + 1] = 0; };
  return (c, v) => { c.r32[w] = v; c.r32[w + 1] = c.resHi; };
}

/** Memory read of `size` bytes at lo:hi (64-bit: low half returned, high half in c.resHi). */
export function memRead(c: Cpu, size: number, lo: number, hi: number): number {
  switch (size) {
    case 1: return c.read8(lo, hi);
    case 2: return c.read16(lo, hi);
    case 4: return c.read32(lo, hi);
    default: { const v = c.read64(lo, hi); c.resHi = c.hi; return v; }
  }
}

/** Memory write of `size` bytes (64-bit: value low half, c.resHi high half). */
export function memWrite(c: Cpu, size: number, lo: number, hi: number, v: number): void {
  switch (size) {
    case 1: c.write8(lo, hi, v); break;
    case 2: c.write16(lo, hi, v); break;
    case 4: c.write32(lo, hi, v); break;
    default: c.write64(lo, hi, v, c.resHi);
  }
}

/** Operand size of an operand spec letter-pair: b=1, w=2, d=4, q=8, v=d.opSize, z=min(opSize,4), y=4|8. */
export function specSize(spec: string, d: Insn): number {
  if (spec === 'AL' || spec === 'CL') return 1;
  if (spec === 'DX') return 2;
  switch (spec[spec.length - 1]) {
    case 'b': return 1;
    case 'w': return 2;
    case 'd': return 4;
    case 'q': return 8;
    case 'y': return d.opSize === 8 ? 8 : 4;
    case 'z': return d.opSize === 2 ? 2 : 4;
    default: return d.opSize;
  }
}
