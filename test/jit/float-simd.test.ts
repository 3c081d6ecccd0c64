// Float arithmetic and conversions (trapping and saturating), and the SIMD subset, run in Node with
// operands and results passed through memory the way the JIT passes XMM registers.
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, Op, ValType } from '../../cpu/jit/wasm/index.js';

const I32 = ValType.I32;
const F32 = ValType.F32;
const F64 = ValType.F64;
type Fn = (...args: number[]) => number;

/** A module exporting fn(x) = op(x) for each [name, param type, op, result type]. */
function unaryModule(rows: [string, ValType, Op, ValType][], mem?: WebAssembly.Memory): Record<string, Fn> {
  const m = new ModuleBuilder({ debug: true });
  if (mem) m.importMemory('env', 'mem', 1);
  for (const [name, p, op, r] of rows) {
    const f = m.addFunction(name, { params: [p], results: [r] });
    f.localGet(0).op(op);
    m.exportFunction(name, f.index);
  }
  return m.instantiate(mem ? { env: { mem } } : {}).exports as Record<string, Fn>;
}

describe('float to integer conversions', () => {
  const e = unaryModule([
    ['sat_s', F64, Op.I32TruncSatF64S, I32],
    ['sat_u', F64, Op.I32TruncSatF64U, I32],
    ['sat_f32_s', F32, Op.I32TruncSatF32S, I32],
    ['trunc_s', F64, Op.I32TruncF64S, I32],
  ]);

  it('trunc_sat saturates and maps NaN to 0 (the x86 CVTTSD2SI "integer indefinite" is built on this)', () => {
    expect([3.7, -3.7, NaN, Infinity, -Infinity, 2 ** 31, -(2 ** 31) - 1].map((v) => e.sat_s(v))).toEqual([3, -3, 0, 0x7fffffff, -0x80000000, 0x7fffffff, -0x80000000]);
    expect([-1, 1e10, 4294967295.9, NaN].map((v) => e.sat_u(v) >>> 0)).toEqual([0, 0xffffffff, 0xffffffff, 0]);
    expect(e.sat_f32_s(-2.5)).toBe(-2);
  });

  it('the trapping trunc traps on NaN and overflow', () => {
    expect(e.trunc_s(-7.9)).toBe(-7);
    expect(() => e.trunc_s(NaN)).toThrow(WebAssembly.RuntimeError);
    expect(() => e.trunc_s(2 ** 31)).toThrow(WebAssembly.RuntimeError);
  });

  it('i64.trunc_sat_f64_u of 2^64 saturates both halves; f64.convert_i64_u of 2^64-1 rounds to 2^64', () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const m = new ModuleBuilder({ debug: true });
    m.importMemory('env', 'mem', 1);
    const f = m.addFunction('run', { params: [], results: [] });
    f.i32Const(0).f64Const(2 ** 64).op(Op.I64TruncSatF64U).store(Op.I64Store);
    f.i32Const(8).f64Const(-(2 ** 40) - 0.5).op(Op.I64TruncSatF64S).store(Op.I64Store);
    f.i32Const(16).i64Const(-1, -1).op(Op.F64ConvertI64U).store(Op.F64Store);
    f.i32Const(24).i64Const(-1, -1).op(Op.F64ConvertI64S).store(Op.F64Store);
    m.exportFunction('run', f.index);
    (m.instantiate({ env: { mem } }).exports.run as () => void)();
    const u32 = new Uint32Array(mem.buffer);
    const f64 = new Float64Array(mem.buffer);
    expect([u32[0], u32[1]]).toEqual([0xffffffff, 0xffffffff]);
    expect([u32[2], u32[3]]).toEqual([0, 0xffffff00]); // -2^40
    expect(f64[2]).toBe(2 ** 64);
    expect(f64[3]).toBe(-1);
  });
});

describe('float arithmetic', () => {
  const e = unaryModule([
    ['sqrt', F64, Op.F64Sqrt, F64],
    ['nearest', F64, Op.F64Nearest, F64],
    ['floor', F64, Op.F64Floor, F64],
    ['neg', F64, Op.F64Neg, F64],
    ['demote_promote', F64, Op.F32DemoteF64, F32],
    ['bits', F32, Op.I32ReinterpretF32, I32],
    ['from_i32', I32, Op.F64ConvertI32U, F64],
  ]);

  it('sqrt, round-half-even nearest, floor, neg of -0, demote, reinterpret, convert', () => {
    expect(e.sqrt(2)).toBe(Math.SQRT2);
    expect([0.5, 1.5, 2.5, -2.5].map((v) => e.nearest(v))).toEqual([0, 2, 2, -2]);
    expect(e.floor(-0.5)).toBe(-1);
    expect(Object.is(e.neg(0), -0)).toBe(true);
    expect(e.demote_promote(0.1)).toBe(Math.fround(0.1));
    expect(e.bits(1)).toBe(0x3f800000);
    expect(e.from_i32(-1)).toBe(4294967295);
  });

  it('binary ops: min with NaN, copysign, div by zero gives infinity (no trap)', () => {
    const m = new ModuleBuilder({ debug: true });
    for (const [name, op] of [['min', Op.F64Min], ['copysign', Op.F64Copysign], ['div', Op.F64Div], ['lt', Op.F64Lt]] as const) {
      const f = m.addFunction(name, { params: [F64, F64], results: [op === Op.F64Lt ? I32 : F64] });
      f.localGet(0).localGet(1).op(op);
      m.exportFunction(name, f.index);
    }
    const x = m.instantiate().exports as Record<string, Fn>;
    expect(x.min(1, NaN)).toBeNaN();
    expect(Object.is(x.min(0, -0), -0)).toBe(true);
    expect(x.copysign(3, -0)).toBe(-3);
    expect(x.div(1, 0)).toBe(Infinity);
    expect(x.lt(NaN, 1)).toBe(0);
  });
});

describe('SIMD v128 on 16-byte slots in memory (XMM registers in the state record)', () => {
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const u8 = new Uint8Array(mem.buffer);
  const u32 = new Uint32Array(mem.buffer);
  const m = new ModuleBuilder({ debug: true });
  m.importMemory('env', 'mem', 1);
  // Each op: [0x20] = op([0x00], [0x10]).
  const binops: [string, Op][] = [
    ['i8x16.add', Op.I8x16Add], ['i8x16.sub', Op.I8x16Sub], ['i8x16.add_sat_u', Op.I8x16AddSatU], ['i8x16.eq', Op.I8x16Eq],
    ['i8x16.min_s', Op.I8x16MinS], ['i32x4.add', Op.I32x4Add], ['i32x4.sub', Op.I32x4Sub], ['i32x4.mul', Op.I32x4Mul],
    ['i32x4.gt_s', Op.I32x4GtS], ['i32x4.max_u', Op.I32x4MaxU], ['i64x2.add', Op.I64x2Add], ['v128.and', Op.V128And],
    ['v128.andnot', Op.V128Andnot], ['v128.xor', Op.V128Xor], ['i8x16.swizzle', Op.I8x16Swizzle],
  ];
  for (const [name, op] of binops) {
    const f = m.addFunction(name, { params: [], results: [] });
    f.i32Const(0x20).i32Const(0).load(Op.V128Load).i32Const(0).load(Op.V128Load, 0x10).op(op).store(Op.V128Store);
    m.exportFunction(name, f.index);
  }
  // Lane and shuffle forms, and the reductions.
  const rev = m.addFunction('reverse', { params: [], results: [] });
  rev.i32Const(0x20).i32Const(0).load(Op.V128Load).i32Const(0).load(Op.V128Load, 0x10);
  rev.i8x16Shuffle([15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0]).store(Op.V128Store);
  m.exportFunction('reverse', rev.index);
  const lanes = m.addFunction('lanes', { params: [I32], results: [I32] });
  // splat(x) with lane 2 replaced by 7, stored; then i32 lane 2 + i32 lane 3 + i8 lane 0 (unsigned).
  lanes.i32Const(0).localGet(0).op(Op.I32x4Splat).i32Const(7).lane(Op.I32x4ReplaceLane, 2).store(Op.V128Store, 0x30, 4);
  lanes.i32Const(0).load(Op.V128Load, 0x30).lane(Op.I32x4ExtractLane, 2);
  lanes.i32Const(0).load(Op.V128Load, 0x30).lane(Op.I32x4ExtractLane, 3).op(Op.I32Add);
  lanes.i32Const(0).load(Op.V128Load, 0x30).lane(Op.I8x16ExtractLaneU, 0).op(Op.I32Add);
  m.exportFunction('lanes', lanes.index);
  const consts = m.addFunction('const_bitmask', { params: [], results: [I32] });
  consts.v128Const([0x80, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]).op(Op.I8x16Bitmask);
  m.exportFunction('const_bitmask', consts.index);
  const bytes = m.encode();
  const x = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } }).exports as Record<string, Fn>;
  const a = [0x01, 0x7f, 0x80, 0xff, 0x10, 0x20, 0x30, 0x40, 0xfe, 0x00, 0x05, 0x0a, 0xaa, 0x55, 0xf0, 0x0f];
  const b = [0xff, 0x01, 0x80, 0x01, 0x10, 0x21, 0x2f, 0x80, 0x03, 0x00, 0xfb, 0x0a, 0x55, 0x55, 0x0f, 0x0f];
  const run = (name: string): number[] => {
    u8.set(a, 0);
    u8.set(b, 0x10);
    x[name]();
    return Array.from(u8.subarray(0x20, 0x30));
  };
  const lanewise8 = (fn: (p: number, q: number) => number): number[] => a.map((p, i) => fn(p, b[i]) & 0xff);
  const s8 = (v: number): number => (v << 24) >> 24;

  it('validates', () => {
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  it('i8x16 lane-wise ops wrap, saturate and compare per byte', () => {
    expect(run('i8x16.add')).toEqual(lanewise8((p, q) => p + q));
    expect(run('i8x16.sub')).toEqual(lanewise8((p, q) => p - q));
    expect(run('i8x16.add_sat_u')).toEqual(lanewise8((p, q) => Math.min(255, p + q)));
    expect(run('i8x16.eq')).toEqual(lanewise8((p, q) => (p === q ? 0xff : 0)));
    expect(run('i8x16.min_s')).toEqual(lanewise8((p, q) => Math.min(s8(p), s8(q))));
    expect(run('i8x16.swizzle')).toEqual(b.map((i) => (i < 16 ? a[i] : 0)));
  });

  it('i32x4/i64x2 lane-wise ops and bitwise ops match scalar results', () => {
    const lanes32 = (fn: (p: number, q: number) => number): number[] => {
      u8.set(a, 0);
      u8.set(b, 0x10);
      return [0, 1, 2, 3].map((i) => fn(u32[i], u32[4 + i]) >>> 0);
    };
    const as32 = (bytes: number[]): number[] => Array.from(new Uint32Array(new Uint8Array(bytes).buffer));
    expect(as32(run('i32x4.add'))).toEqual(lanes32((p, q) => p + q));
    expect(as32(run('i32x4.sub'))).toEqual(lanes32((p, q) => p - q));
    expect(as32(run('i32x4.mul'))).toEqual(lanes32((p, q) => Math.imul(p, q)));
    expect(as32(run('i32x4.gt_s'))).toEqual(lanes32((p, q) => ((p | 0) > (q | 0) ? -1 : 0)));
    expect(as32(run('i32x4.max_u'))).toEqual(lanes32((p, q) => Math.max(p, q)));
    expect(run('v128.and')).toEqual(lanewise8((p, q) => p & q));
    expect(run('v128.andnot')).toEqual(lanewise8((p, q) => p & ~q));
    expect(run('v128.xor')).toEqual(lanewise8((p, q) => p ^ q));
    // i64x2.add: lane 0's low words overflow, so the carry must reach its high word.
    const sum = as32(run('i64x2.add'));
    expect(u32[0] + u32[4]).toBeGreaterThan(0xffffffff);
    const lo0 = (u32[0] + u32[4]) >>> 0;
    const carry0 = u32[0] + u32[4] > 0xffffffff ? 1 : 0;
    expect(sum.slice(0, 2)).toEqual([lo0, (u32[1] + u32[5] + carry0) >>> 0]);
  });

  it('i8x16.shuffle, splat, replace/extract lane, v128.const and bitmask', () => {
    expect(run('reverse')).toEqual(a.slice().reverse());
    expect(x.lanes(0x01020304)).toBe(7 + 0x01020304 + 0x04);
    expect(x.const_bitmask()).toBe(0b1000_0000_0000_0101);
  });
});
