// Replays host-CPU reference vectors (test/cpu/gen/int-vectors.c, generated on
// x86-64 hardware) through the interpreter in 64-bit mode: results exact,
// flags exact except the architecturally undefined ones, which are masked.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RAX, RBX, RCX, RDX, RSI } from '../../cpu/state.js';
import { Rig } from './harness.js';

interface Vec { op: string; size: number; a: string; b: string; c: string; d: string; fin: string; res: string; res2: string; fout: string }

const CF = 1, PF = 4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800;
const ARITH = CF | PF | AF | ZF | SF | OF;

const here = dirname(fileURLToPath(import.meta.url));
const vectors: Vec[] = readFileSync(join(here, 'vectors', 'int-vectors.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));

const ALU: Record<string, number> = { add: 0x01, or: 0x09, adc: 0x11, sbb: 0x19, and: 0x21, sub: 0x29, xor: 0x31, cmp: 0x39, test: 0x85 };
const UNARY: Record<string, [number, number]> = { inc: [0xff, 0], dec: [0xff, 1], not: [0xf7, 2], neg: [0xf7, 3] };
const SHIFT: Record<string, number> = { rol: 0, ror: 1, rcl: 2, rcr: 3, shl: 4, shr: 5, sar: 7 };
const MULDIV: Record<string, number> = { mul: 4, imul: 5, div: 6, idiv: 7 };
const BITS: Record<string, number> = { bt: 0xa3, bts: 0xab, btr: 0xb3, btc: 0xbb };
/** Where each vector keeps its operands: destination register, and which register res2 is read from. */
const DST: Record<string, number> = { cmpxchg: RSI };
const RES2: Record<string, number> = { mul: RDX, imul: RDX, div: RDX, idiv: RDX, xadd: RBX, cmpxchg: RAX };

const ALU_N: Record<string, number> = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 };
/** Address of the memory operand in the memory-destination form ([RSI]). */
const MEM = 0x3000;

/** Little-endian bytes of the low `n` bytes of a hex value. */
function immBytes(h: string, n: number): number[] {
  const [lo, hi] = hex64(h);
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(((i < 4 ? lo : hi) >>> (8 * (i & 3))) & 0xff);
  return out;
}

/**
 * ALU encodings cycled through per vector: 0 Ev,Gv; 1 Gv,Ev; 2 AL/rAX,imm;
 * 3 80/81 (F6/F7 for TEST) /n imm; 4 [RSI],Gv. Returns null if the operand
 * does not fit the form (64-bit immediates are sign-extended 32-bit).
 */
function encodeAlu(v: Vec, form: number): number[] | null {
  const pre = v.size === 2 ? [0x66] : v.size === 8 ? [0x48] : [];
  const b8 = v.size === 1 ? 1 : 0;
  const op = ALU[v.op];
  const immN = v.size === 8 ? 4 : v.size;
  if (form === 2 || form === 3) {
    if (v.size === 8) { const [lo, hi] = hex64(v.b); if (hi !== (lo >> 31 >>> 0)) return null; }
    const imm = immBytes(v.b, immN);
    if (form === 2) return [...pre, v.op === 'test' ? 0xa9 - b8 : (op & ~7) + 5 - b8, ...imm];
    return v.op === 'test' ? [...pre, 0xf7 - b8, 0xc0, ...imm] : [...pre, 0x81 - b8, 0xc0 | (ALU_N[v.op] << 3), ...imm];
  }
  if (form === 1) return v.op === 'test' ? null : [...pre, op + 2 - b8, 0xc3];
  if (form === 4) return [...pre, op - b8, 0x1e];
  return [...pre, op - b8, 0xd8];
}

/** The instruction bytes for a vector: destination RAX, source RBX, count CL. */
function encode(v: Vec): number[] {
  const pre = v.size === 2 ? [0x66] : v.size === 8 ? [0x48] : [];
  const b8 = v.size === 1 ? 1 : 0;
  if (v.op in ALU) return [...pre, ALU[v.op] - b8, 0xd8];
  if (v.op in UNARY) { const [op, n] = UNARY[v.op]; return [...pre, op - b8, 0xc0 | (n << 3)]; }
  if (v.op in SHIFT) return [...pre, 0xd3 - b8, 0xc0 | (SHIFT[v.op] << 3)];
  if (v.op === 'shld' || v.op === 'shrd') return [...pre, 0x0f, v.op === 'shld' ? 0xa5 : 0xad, 0xd8];
  if (v.op in BITS) return [...pre, 0x0f, BITS[v.op], 0xd8];
  if (v.op === 'bsf' || v.op === 'bsr') return [...pre, 0x0f, v.op === 'bsf' ? 0xbc : 0xbd, 0xc3];
  if (v.op === 'xadd') return [...pre, 0x0f, 0xc1 - b8, 0xd8];
  if (v.op === 'cmpxchg') return [...pre, ...(b8 ? [0x40] : []), 0x0f, 0xb1 - b8, 0xde];
  return [...pre, 0xf7 - b8, 0xc3 | (MULDIV[v.op] << 3)];
}

/** Flags the SDM leaves undefined for this case. */
function undefinedFlags(v: Vec): number {
  const bits = v.size * 8;
  const count = parseInt(v.c, 16) & (v.size === 8 ? 63 : 31);
  switch (v.op) {
    case 'and': case 'or': case 'xor': case 'test': return AF;
    case 'shl': case 'shr': case 'sar':
      if (count === 0) return 0;
      return AF | (count !== 1 ? OF : 0) | (count >= bits ? CF : 0);
    case 'rol': case 'ror': case 'rcl': case 'rcr': return count !== 1 ? OF : 0;
    case 'shld': case 'shrd': return count === 0 ? 0 : count > bits ? ARITH : AF | (count !== 1 ? OF : 0);
    case 'mul': case 'imul': return SF | ZF | AF | PF;
    case 'div': case 'idiv': return ARITH;
    case 'bt': case 'bts': case 'btr': case 'btc': return OF | SF | AF | PF;
    case 'bsf': case 'bsr': return CF | OF | SF | AF | PF;
  }
  return 0;
}

const hex64 = (h: string): [number, number] => { const t = h.padStart(16, '0'); return [parseInt(t.slice(8), 16), parseInt(t.slice(0, 8), 16)]; };

describe('integer instructions against host-CPU vectors', () => {
  const byOp = new Map<string, Vec[]>();
  for (const v of vectors) (byOp.get(v.op) ?? byOp.set(v.op, []).get(v.op)!).push(v);
  it('ALU ops in every encoding (Ev,Gv / Gv,Ev / acc,imm / group imm / memory destination) match the host CPU', () => {
    const t = new Rig(64);
    const failures: string[] = [];
    let ran = 0;
    for (const [i, v] of vectors.filter((x) => x.op in ALU).entries()) {
      const form = i % 5;
      const code = encodeAlu(v, form);
      if (!code) continue;
      ran++;
      // Gv,Ev swaps the roles: destination RAX in ModRM.reg, source RBX in ModRM.rm (same registers).
      t.setHex(RAX, v.a); t.setHex(RBX, v.b); t.set(RSI, MEM);
      if (form === 4) { t.setHex(RAX, '0'); const bytes = immBytes(v.a, v.size); t.mem.writeBytes(MEM, Uint8Array.from(bytes)); t.setHex(RBX, v.b); }
      t.setFlags(parseInt(v.fin, 16) & ARITH);
      t.run(Uint8Array.from(code));
      const mask = ARITH & ~undefinedFlags(v);
      let res: string;
      if (form === 4) { const m = t.mem.view(MEM, v.size); res = Array.from(m).reverse().map((x) => x.toString(16).padStart(2, '0')).join('').padStart(16, '0'); }
      else res = t.reg64(RAX);
      const want = v.res.padStart(16, '0');
      const wantMem = form === 4 ? want.slice(16 - 2 * v.size).padStart(16, '0') : want;
      if (res !== wantMem || (t.flags() & mask) !== (parseInt(v.fout, 16) & mask)) {
        failures.push(`${v.op}${v.size * 8} form ${form} a=${v.a} b=${v.b}: got ${res} flags ${(t.flags() & mask).toString(16)}, want ${wantMem} flags ${(parseInt(v.fout, 16) & mask).toString(16)}`);
      }
    }
    expect(ran).toBeGreaterThan(3000);
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('shifts and rotates by an immediate (C1 /n ib, D1 /n; lazy-flag fast ops for SHL/SHR/SAR) match the host CPU', () => {
    const t = new Rig(64);
    const failures: string[] = [];
    let ran = 0;
    for (const v of vectors.filter((x) => x.op in SHIFT)) {
      const mask = v.size === 8 ? 63 : 31;
      const count = parseInt(v.c, 16) & mask;
      const pre = v.size === 2 ? [0x66] : v.size === 8 ? [0x48] : [];
      const b8 = v.size === 1 ? 1 : 0;
      const modrm = 0xc0 | (SHIFT[v.op] << 3);
      const code = count === 1 && ran % 2 === 0 ? [...pre, 0xd1 - b8, modrm] : [...pre, 0xc1 - b8, modrm, count];
      ran++;
      t.setHex(RAX, v.a);
      t.setFlags(parseInt(v.fin, 16) & ARITH);
      // A following instruction that does not touch flags keeps them live (no dead-flag elision).
      t.run(Uint8Array.from([...code, 0x90]));
      const m = ARITH & ~undefinedFlags(v);
      const want = v.res.padStart(16, '0');
      if (t.reg64(RAX) !== want || (t.flags() & m) !== (parseInt(v.fout, 16) & m)) {
        failures.push(`${v.op}${v.size * 8} a=${v.a} count=${count}: got ${t.reg64(RAX)} flags ${(t.flags() & m).toString(16)}, want ${want} flags ${(parseInt(v.fout, 16) & m).toString(16)}`);
      }
    }
    expect(ran).toBeGreaterThan(1000);
    expect(failures.slice(0, 5)).toEqual([]);
  });

  it('two- and three-operand IMUL (0F AF reg/mem, 69 Iz, 6B Ib) give the host\'s one-operand low half and CF/OF', () => {
    const t = new Rig(64);
    const failures: string[] = [];
    let ran = 0;
    for (const [i, v] of vectors.filter((x) => x.op === 'imul' && x.size !== 1).entries()) {
      const pre = v.size === 2 ? [0x66] : v.size === 8 ? [0x48] : [];
      const [bLo, bHi] = hex64(v.b);
      const bits = v.size * 8;
      const bSigned = v.size === 8 ? (bHi === (bLo >> 31 >>> 0) ? bLo | 0 : null) : (bLo << (32 - bits)) >> (32 - bits);
      // Forms: 0 imul rAX,rBX; 1 imul rAX,[rSI]; 2 imul rAX,rBX,Iz (rBX = a); 3 imul rAX,rBX,Ib.
      const form = i % 4;
      let code: number[];
      if (form === 0) code = [...pre, 0x0f, 0xaf, 0xc3];
      else if (form === 1) code = [...pre, 0x0f, 0xaf, 0x06];
      else if (form === 2 && bSigned !== null) code = [...pre, 0x69, 0xc3, ...immBytes(v.b, v.size === 8 ? 4 : v.size)];
      else if (bSigned !== null && bSigned >= -128 && bSigned < 128) code = [...pre, 0x6b, 0xc3, bSigned & 0xff];
      else code = [...pre, 0x0f, 0xaf, 0xc3];
      ran++;
      t.setHex(RAX, v.a); t.set(RSI, MEM);
      t.setHex(RBX, code[pre.length] === 0x0f ? v.b : v.a);
      t.mem.writeBytes(MEM, Uint8Array.from(immBytes(v.b, v.size)));
      t.setFlags(parseInt(v.fin, 16) & ARITH);
      t.run(Uint8Array.from([...code, 0x90]));
      const want = v.res.padStart(16, '0');
      if (t.reg64(RAX) !== want || (t.flags() & (CF | OF)) !== (parseInt(v.fout, 16) & (CF | OF))) {
        failures.push(`imul${bits} form ${form} a=${v.a} b=${v.b}: got ${t.reg64(RAX)} flags ${t.flags().toString(16)}, want ${want} flags ${v.fout}`);
      }
    }
    expect(ran).toBeGreaterThan(300);
    expect(failures.slice(0, 5)).toEqual([]);
  });

  for (const [op, list] of byOp) {
    it(`${op}: ${list.length} cases match the host CPU (results exact, defined flags exact)`, () => {
      const t = new Rig(64);
      const failures: string[] = [];
      for (const v of list) {
        // 16-bit SHLD/SHRD with counts above 16 are undefined; the interpreter follows this (AMD) host.
        const dst = DST[v.op] ?? RAX;
        t.setHex(dst, v.a); t.setHex(RBX, v.b); t.setHex(RCX, v.c);
        if (v.op === 'cmpxchg') t.setHex(RAX, v.d); else t.setHex(RDX, v.d);
        t.setFlags(parseInt(v.fin, 16) & ARITH);
        t.run(Uint8Array.from(encode(v)));
        const mask = ARITH & ~undefinedFlags(v);
        const r2 = RES2[v.op];
        const got = { res: t.reg64(dst), res2: r2 !== undefined ? t.reg64(r2) : '', flags: (t.flags() & mask).toString(16) };
        const want = { res: v.res.padStart(16, '0'), res2: r2 !== undefined ? v.res2.padStart(16, '0') : '', flags: (parseInt(v.fout, 16) & mask).toString(16) };
        if (got.res !== want.res || got.res2 !== want.res2 || got.flags !== want.flags) {
          failures.push(`${v.op}${v.size * 8} a=${v.a} b=${v.b} c=${v.c} d=${v.d} fin=${v.fin}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
        }
      }
      void hex64;
      expect(failures.slice(0, 5)).toEqual([]);
    });
  }
});
