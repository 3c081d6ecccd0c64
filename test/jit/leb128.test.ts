// LEB128 and constant encodings of the wasm encoder: exact bytes, and the values a running module sees.
import { describe, expect, it } from 'vitest';
import { ByteWriter, ModuleBuilder, Op, splitI64, u32Size, ValType } from '../../cpu/jit/wasm/index.js';

function bytesOf(write: (w: ByteWriter) => void): number[] {
  const w = new ByteWriter(1); // capacity 1: every case also exercises growth
  write(w);
  return Array.from(w.bytes());
}

describe('LEB128 encodings (core spec 5.2.2)', () => {
  it('unsigned 32-bit: 0, 127, 128, 2^32-1', () => {
    expect(bytesOf((w) => w.u32(0))).toEqual([0x00]);
    expect(bytesOf((w) => w.u32(127))).toEqual([0x7f]);
    expect(bytesOf((w) => w.u32(128))).toEqual([0x80, 0x01]);
    expect(bytesOf((w) => w.u32(0xffffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
    expect(u32Size(0)).toBe(1);
    expect(u32Size(128)).toBe(2);
    expect(u32Size(0xffffffff)).toBe(5);
  });

  it('signed 32-bit: 0, -1, 63/64 and -64/-65 (the sign bit of the last byte), ±2^31', () => {
    expect(bytesOf((w) => w.s32(0))).toEqual([0x00]);
    expect(bytesOf((w) => w.s32(-1))).toEqual([0x7f]);
    expect(bytesOf((w) => w.s32(63))).toEqual([0x3f]);
    expect(bytesOf((w) => w.s32(64))).toEqual([0xc0, 0x00]);
    expect(bytesOf((w) => w.s32(-64))).toEqual([0x40]);
    expect(bytesOf((w) => w.s32(-65))).toEqual([0xbf, 0x7f]);
    expect(bytesOf((w) => w.s32(0x7fffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0x07]);
    expect(bytesOf((w) => w.s32(-0x80000000))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
    // 2^31 as an unsigned number is the int32 bit pattern 0x80000000 = -2^31.
    expect(bytesOf((w) => w.s32(0x80000000))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
  });

  it('signed 64-bit from halves: 0, -1, 2^32, 2^63-1, -2^63', () => {
    expect(bytesOf((w) => w.s64(0, 0))).toEqual([0x00]);
    expect(bytesOf((w) => w.s64(-1, -1))).toEqual([0x7f]);
    expect(bytesOf((w) => w.s64(0, 1))).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(bytesOf((w) => w.s64(0xffffffff, 0x7fffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00]);
    expect(bytesOf((w) => w.s64(0, 0x80000000))).toEqual([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f]);
    // -2^31 as a 64-bit value: the high half is all ones.
    expect(bytesOf((w) => w.s64(0x80000000, -1))).toEqual([0x80, 0x80, 0x80, 0x80, 0x78]);
    // +2^31 needs a sixth byte so the sign bit reads clear.
    expect(bytesOf((w) => w.s64(0x80000000, 0))).toEqual([0x80, 0x80, 0x80, 0x80, 0x08]);
  });

  it('unsigned 64-bit from halves: 2^32 and 2^64-1', () => {
    expect(bytesOf((w) => w.u64(0, 1))).toEqual([0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(bytesOf((w) => w.u64(0xffffffff, 0xffffffff))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
  });

  it('splitI64 takes exact JS integers only, negatives as two\'s complement', () => {
    expect(splitI64(0)).toEqual({ lo: 0, hi: 0 });
    expect(splitI64(-1)).toEqual({ lo: -1, hi: -1 });
    expect(splitI64(2 ** 32)).toEqual({ lo: 0, hi: 1 });
    expect(splitI64(-(2 ** 63))).toEqual({ lo: 0, hi: -0x80000000 });
    expect(splitI64(2 ** 53 + 2)).toEqual({ lo: 2, hi: 0x200000 });
    expect(() => splitI64(0.5)).toThrow(/not an integer/);
    expect(() => splitI64(2 ** 64)).toThrow(/64-bit/);
  });
});

describe('constants round-trip through a running module', () => {
  // Each case: an i64.const stored into memory as 8 bytes, read back as two halves.
  const cases: [string, number, number][] = [
    ['0', 0, 0],
    ['-1', -1, -1],
    ['2^31', 0x80000000, 0],
    ['-2^31', 0x80000000, -1],
    ['2^32-1', 0xffffffff, 0],
    ['2^63-1', 0xffffffff, 0x7fffffff],
    ['-2^63', 0, 0x80000000],
    ['0x123456789abcdef0', 0x9abcdef0, 0x12345678],
  ];

  it('i64.const of every edge value reaches memory bit for bit', () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const m = new ModuleBuilder({ debug: true });
    m.importMemory('env', 'mem', 1);
    const f = m.addFunction('store_all', { params: [], results: [] });
    cases.forEach(([, lo, hi], i) => f.i32Const(i * 8).i64Const(lo, hi).store(Op.I64Store));
    // The same values given as JS numbers where they are exact.
    f.i32Const(0x100).i64ConstNumber(-(2 ** 63)).store(Op.I64Store);
    f.i32Const(0x108).i64ConstNumber(2 ** 32 - 1).store(Op.I64Store);
    m.exportFunction('run', f.index);
    const bytes = m.encode();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
    (inst.exports.run as () => void)();
    const u32 = new Uint32Array(mem.buffer);
    cases.forEach(([name, lo, hi], i) => {
      expect([name, u32[i * 2], u32[i * 2 + 1]]).toEqual([name, lo >>> 0, hi >>> 0]);
    });
    expect([u32[0x40], u32[0x41]]).toEqual([0, 0x80000000]);
    expect([u32[0x42], u32[0x43]]).toEqual([0xffffffff, 0]);
  });

  it('i32.const of 0, -1, ±2^31, 2^32-1 returns the int32 a JS caller sees', () => {
    const m = new ModuleBuilder({ debug: true });
    const values = [0, -1, 0x7fffffff, -0x80000000, 0xffffffff, 64, -65];
    values.forEach((v, i) => {
      const f = m.addFunction(`c${i}`, { params: [], results: [ValType.I32] });
      f.i32Const(v);
      m.exportFunction(`c${i}`, f.index);
    });
    const inst = m.instantiate();
    values.forEach((v, i) => expect((inst.exports[`c${i}`] as () => number)()).toBe(v | 0));
  });

  it('f32/f64 constants by value and by bit pattern (a NaN payload survives)', () => {
    const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const m = new ModuleBuilder({ debug: true });
    m.importMemory('env', 'mem', 1);
    const f = m.addFunction('run', { params: [], results: [] });
    f.i32Const(0).f64Const(Math.PI).store(Op.F64Store);
    f.i32Const(8).f64ConstBits(0x00000001, 0x7ff80000).store(Op.F64Store);
    f.i32Const(16).f32Const(1.5).store(Op.F32Store);
    f.i32Const(20).f32ConstBits(0x7fc00123).store(Op.F32Store);
    m.exportFunction('run', f.index);
    (m.instantiate({ env: { mem } }).exports.run as () => void)();
    const dv = new DataView(mem.buffer);
    expect(dv.getFloat64(0, true)).toBe(Math.PI);
    expect([dv.getUint32(8, true), dv.getUint32(12, true)]).toEqual([1, 0x7ff80000]);
    expect(dv.getFloat32(16, true)).toBe(1.5);
    expect(dv.getUint32(20, true)).toBe(0x7fc00123);
  });
});
