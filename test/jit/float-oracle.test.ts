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

describe('every conversion involving i64, through memory (i64 never crosses into JS)', () => {
  const rows = OP_ROWS.filter(([, name, sig, imm]) => imm === '-' && /^[ilfd]>[ilfd]$/.test(sig) && sig.includes('l') && sig !== 'l>l' && (sig !== 'l>i' || name === 'i32.wrap_i64'));
  const LOAD: Record<string, Op> = { i: Op.I32Load, l: Op.I64Load, f: Op.F32Load, d: Op.F64Load };
  const STORE: Record<string, Op> = { i: Op.I32Store, l: Op.I64Store, f: Op.F32Store, d: Op.F64Store };
  const TYPE: Record<string, ValType> = { i: ValType.I32, l: ValType.I64, f: ValType.F32, d: ValType.F64 };
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const dv = new DataView(mem.buffer);
  const m = new ModuleBuilder({ debug: true });
  m.importMemory('env', 'mem', 1);
  for (const [code, name, sig] of rows) {
    const f = m.addFunction(name, { params: [], results: [] });
    f.i32Const(8).i32Const(0).load(LOAD[sig[0]]).op(code as Op).store(STORE[sig[2]]);
    m.exportFunction(name, f.index);
  }
  const exports = m.instantiate({ env: { mem } }).exports;
  const I64S = [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 0x123456789abcdef0n, (1n << 53n) + 1n, 0xffffffffn, 0x80000000n];
  const FLOATS64 = [...FLOATS, 2 ** 63, -(2 ** 63), 2 ** 64, 1e19, -1e19, 2 ** 62 + 2 ** 40];

  function want(name: string, x: number | bigint): number | bigint | typeof TRAP {
    const op = name.slice(4);
    const clamp = (v: number, lo: bigint, hi: bigint, sat: boolean): bigint | typeof TRAP => {
      if (Number.isNaN(v)) return sat ? 0n : TRAP;
      const t = Math.trunc(v);
      if (t < Number(lo)) return sat ? lo : TRAP;
      if (t >= Number(hi) + 1) return sat ? hi : TRAP; // hi + 1 is a power of two: exact as a double
      return BigInt(t);
    };
    const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
    const u64 = (v: bigint): bigint => BigInt.asUintN(64, v);
    const I64_MIN = -(1n << 63n), I64_MAX = (1n << 63n) - 1n, U64_MAX = (1n << 64n) - 1n;
    const v = typeof x === 'number' && name.includes('_f32') ? fr(x) : x;
    switch (op) {
      case 'wrap_i64': return Number(BigInt.asIntN(32, v as bigint));
      case 'extend_i32_s': return BigInt(v as number);
      case 'extend_i32_u': return BigInt((v as number) >>> 0);
      case 'trunc_f32_s': case 'trunc_f64_s': return clamp(v as number, I64_MIN, I64_MAX, false);
      case 'trunc_f32_u': case 'trunc_f64_u': return clamp(v as number, 0n, U64_MAX, false);
      case 'trunc_sat_f32_s': case 'trunc_sat_f64_s': return clamp(v as number, I64_MIN, I64_MAX, true);
      case 'trunc_sat_f32_u': case 'trunc_sat_f64_u': return clamp(v as number, 0n, U64_MAX, true);
      case 'convert_i64_s': return name.startsWith('f32') ? fr(Number(s64(v as bigint))) : Number(s64(v as bigint));
      case 'convert_i64_u': return name.startsWith('f32') ? fr(Number(u64(v as bigint))) : Number(u64(v as bigint));
      case 'reinterpret_f64': { const d = new DataView(new ArrayBuffer(8)); d.setFloat64(0, v as number, true); return d.getBigInt64(0, true); }
      case 'reinterpret_i64': { const d = new DataView(new ArrayBuffer(8)); d.setBigInt64(0, v as bigint, true); return d.getFloat64(0, true); }
      default: throw new Error(`no oracle for ${name}`);
    }
  }

  it('covers wrap, both extends, 8 truncations, 4 converts and both reinterprets', () => {
    expect(rows).toHaveLength(17);
  });

  for (const [, name, sig] of rows) {
    it(`${name} matches the oracle`, () => {
      const inputs: (number | bigint)[] = sig[0] === 'l' ? I64S : sig[0] === 'i' ? INTS : FLOATS64;
      for (const x of inputs) {
        if (sig[0] === 'l') dv.setBigInt64(0, x as bigint, true);
        else if (sig[0] === 'i') dv.setInt32(0, x as number, true);
        else if (sig[0] === 'f') dv.setFloat32(0, x as number, true);
        else dv.setFloat64(0, x as number, true);
        let got: number | bigint | typeof TRAP;
        try {
          (exports[name] as () => void)();
          got = sig[2] === 'l' ? dv.getBigInt64(8, true) : sig[2] === 'i' ? dv.getInt32(8, true) : sig[2] === 'f' ? dv.getFloat32(8, true) : dv.getFloat64(8, true);
        } catch (e) {
          expect(e).toBeInstanceOf(WebAssembly.RuntimeError);
          got = TRAP;
        }
        let w = want(name, x);
        if (typeof w === 'bigint' && sig[2] === 'l') w = BigInt.asIntN(64, w);
        if (!Object.is(got, w)) expect(`${name}(${x}) = ${got}`).toBe(`want ${w}`);
      }
    });
  }
});
