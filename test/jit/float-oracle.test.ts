// Every f32/f64 opcode whose operands and result JS can pass as numbers (arithmetic, comparisons,
// conversions among i32/f32/f64, reinterpretations), run in Node against a JS oracle on edge values.
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, Op, OP_ROWS, ValType } from '../../cpu/jit/wasm/index.js';

const LETTER: Record<string, ValType> = { i: ValType.I32, f: ValType.F32, d: ValType.F64 };
const fr = Math.fround;
const TRAP = 'trap';
type Result = number | typeof TRAP;

const FLOATS = [0, -0, 0.1, 1.5, -2.5, 3.7, -0.5, 2.5, NaN, Infinity, -Infinity, 1e10, -1e-300, 2 ** 31, -(2 ** 31) - 1, 4294967295.5, 2 ** 53 + 2];
const INTS = [0, 1, -1, 0x7fffffff, -0x80000000, 0x12345678, 0x7fc00001 | 0, 0x3f800000];

function nearest(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const r = Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : Math.round(x);
  return r === 0 && x < 0 ? -0 : r;
}

function truncTo(x: number, lo: number, hi: number, sat: boolean): Result {
  if (Number.isNaN(x)) return sat ? 0 : TRAP;
  const t = Math.trunc(x);
  if (t < lo) return sat ? lo : TRAP;
  if (t > hi) return sat ? hi : TRAP;
  return t;
}

const bits = new DataView(new ArrayBuffer(4));

function oracle(name: string, a: number, b: number): Result {
  const f32 = name.startsWith('f32.') || name.includes('_f32');
  const [x, y] = f32 && !name.includes('convert_i32') && name !== 'f32.reinterpret_i32' ? [fr(a), fr(b)] : [a, b];
  const out = (v: number): number => (name.startsWith('f32.') ? fr(v) : v);
  const op = name.slice(4);
  switch (op) {
    case 'abs': return out(Math.abs(x));
    case 'neg': return out(-x);
    case 'ceil': return out(Math.ceil(x));
    case 'floor': return out(Math.floor(x));
    case 'trunc': return out(Math.trunc(x));
    case 'nearest': return out(nearest(x));
    case 'sqrt': return out(Math.sqrt(x));
    case 'add': return out(x + y);
    case 'sub': return out(x - y);
    case 'mul': return out(x * y);
    case 'div': return out(x / y);
    case 'min': return out(Math.min(x, y));
    case 'max': return out(Math.max(x, y));
    case 'copysign': return out(y < 0 || Object.is(y, -0) ? -Math.abs(x) : Math.abs(x)); // JS's NaN is positive
    case 'eq': return x === y ? 1 : 0;
    case 'ne': return x !== y ? 1 : 0;
    case 'lt': return x < y ? 1 : 0;
    case 'gt': return x > y ? 1 : 0;
    case 'le': return x <= y ? 1 : 0;
    case 'ge': return x >= y ? 1 : 0;
    case 'trunc_f32_s': case 'trunc_f64_s': return truncTo(x, -(2 ** 31), 2 ** 31 - 1, false);
    case 'trunc_f32_u': case 'trunc_f64_u': return truncTo(x, 0, 2 ** 32 - 1, false);
    case 'trunc_sat_f32_s': case 'trunc_sat_f64_s': return truncTo(x, -(2 ** 31), 2 ** 31 - 1, true);
    case 'trunc_sat_f32_u': case 'trunc_sat_f64_u': return truncTo(x, 0, 2 ** 32 - 1, true);
    case 'convert_i32_s': return out(x | 0);
    case 'convert_i32_u': return out(x >>> 0);
    case 'demote_f64': return fr(x);
    case 'promote_f32': return x;
    case 'reinterpret_f32': bits.setFloat32(0, x); return bits.getInt32(0);
    case 'reinterpret_i32': bits.setInt32(0, x); return bits.getFloat32(0);
    default: throw new Error(`no oracle for ${name}`);
  }
}

describe('every f32/f64 opcode with JS-passable operands against a JS oracle', () => {
  // Signatures over i32/f32/f64 only, at least one float involved, no immediates.
  const rows = OP_ROWS.filter(([, name, sig, imm]) => imm === '-' && /^[ifd]+>[ifd]$/.test(sig) && /[fd]/.test(sig) && (name.startsWith('f') || name.includes('_f') || name.includes('reinterpret')));
  const m = new ModuleBuilder({ debug: true });
  for (const [code, name, sig] of rows) {
    const [p, r] = sig.split('>');
    const f = m.addFunction(name, { params: [...p].map((ch) => LETTER[ch]), results: [LETTER[r]] });
    for (let i = 0; i < p.length; i++) f.localGet(i);
    f.op(code as Op);
    m.exportFunction(name, f.index);
  }
  const exports = m.instantiate().exports;

  it('covers the 40 float arithmetic/comparison ops and 16 i32/f32/f64 conversions', () => {
    expect(rows.length).toBe(56);
  });

  for (const [, name, sig] of rows) {
    it(`${name} matches the oracle`, () => {
      const fn = exports[name] as (...args: number[]) => number;
      const binary = sig.indexOf('>') === 2;
      const inputs = sig[0] === 'i' ? INTS : FLOATS;
      for (const a of inputs) {
        for (const b of binary ? inputs : [0]) {
          let got: Result;
          try {
            got = fn(a, b);
          } catch (e) {
            expect(e).toBeInstanceOf(WebAssembly.RuntimeError);
            got = TRAP;
          }
          let want = oracle(name, a, b);
          if (sig.endsWith('i') && want !== TRAP) want = want | 0; // i32 results reach JS signed
          if (!Object.is(got, want)) expect(`${name}(${a}, ${b}) = ${got}`).toBe(`want ${want}`);
        }
      }
    });
  }
});
