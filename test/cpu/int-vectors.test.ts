// Replays host-CPU reference vectors (test/cpu/gen/int-vectors.c, generated on
// x86-64 hardware) through the interpreter in 64-bit mode: results exact,
// flags exact except the architecturally undefined ones, which are masked.

import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RAX, RBX, RCX, RDX } from '../../cpu/state.js';
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

/** The instruction bytes for a vector: destination RAX, source RBX, count CL. */
function encode(v: Vec): number[] {
  const pre = v.size === 2 ? [0x66] : v.size === 8 ? [0x48] : [];
  const b8 = v.size === 1 ? 1 : 0;
  if (v.op in ALU) return [...pre, ALU[v.op] - b8, 0xd8];
  if (v.op in UNARY) { const [op, n] = UNARY[v.op]; return [...pre, op - b8, 0xc0 | (n << 3)]; }
  if (v.op in SHIFT) return [...pre, 0xd3 - b8, 0xc0 | (SHIFT[v.op] << 3)];
  if (v.op === 'shld' || v.op === 'shrd') return [...pre, 0x0f, v.op === 'shld' ? 0xa5 : 0xad, 0xd8];
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
    case 'shld': case 'shrd': return count === 0 ? 0 : AF | (count !== 1 ? OF : 0);
    case 'mul': case 'imul': return SF | ZF | AF | PF;
    case 'div': case 'idiv': return ARITH;
  }
  return 0;
}

const hex64 = (h: string): [number, number] => { const t = h.padStart(16, '0'); return [parseInt(t.slice(8), 16), parseInt(t.slice(0, 8), 16)]; };

describe('integer instructions against host-CPU vectors', () => {
  const byOp = new Map<string, Vec[]>();
  for (const v of vectors) (byOp.get(v.op) ?? byOp.set(v.op, []).get(v.op)!).push(v);
  for (const [op, list] of byOp) {
    it(`${op}: ${list.length} cases match the host CPU (results exact, defined flags exact)`, () => {
      const t = new Rig(64);
      const failures: string[] = [];
      for (const v of list) {
        const count = parseInt(v.c, 16) & (v.size === 8 ? 63 : 31);
        if ((v.op === 'shld' || v.op === 'shrd') && v.size === 2 && count > 16) continue; // result undefined
        t.setHex(RAX, v.a); t.setHex(RBX, v.b); t.setHex(RCX, v.c); t.setHex(RDX, v.d);
        t.setFlags(parseInt(v.fin, 16) & ARITH);
        t.run(Uint8Array.from(encode(v)));
        const mask = ARITH & ~undefinedFlags(v);
        const got = { res: t.reg64(RAX), res2: v.op in MULDIV ? t.reg64(RDX) : '', flags: (t.flags() & mask).toString(16) };
        const want = { res: v.res.padStart(16, '0'), res2: v.op in MULDIV ? v.res2.padStart(16, '0') : '', flags: (parseInt(v.fout, 16) & mask).toString(16) };
        if (got.res !== want.res || got.res2 !== want.res2 || got.flags !== want.flags) {
          failures.push(`${v.op}${v.size * 8} a=${v.a} b=${v.b} c=${v.c} d=${v.d} fin=${v.fin}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
        }
      }
      void hex64;
      expect(failures.slice(0, 5)).toEqual([]);
    });
  }
});
