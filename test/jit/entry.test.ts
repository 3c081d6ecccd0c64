// The region table (cpu/jit/entry.ts): compiled regions are entered through one exported
// function, go(slot, base, limit, entry), which calls the slot's function; slots grow past the
// first table size, and a released slot is reused; it counts the modules it keeps alive with no
// region left (the JIT drops the table when those outnumber the live ones).

import { describe, expect, it } from 'vitest';
import { RegionTable } from '../../cpu/jit/entry.js';
import { ModuleBuilder, Op, ValType } from '../../cpu/jit/wasm/index.js';

const I32 = ValType.I32;

/** A region-shaped function (base, limit, entry, done) -> base * 1000 + limit * 10 + entry + done * 7 + k (go passes done = 0). */
function regionFn(k: number): unknown {
  const m = new ModuleBuilder({ debug: true });
  const f = m.addFunction('r0', { params: [I32, I32, I32, I32], results: [I32] });
  f.localGet(0).i32Const(1000).op(Op.I32Mul).localGet(1).i32Const(10).op(Op.I32Mul).op(Op.I32Add).localGet(2).op(Op.I32Add).i32Const(k).op(Op.I32Add);
  f.localGet(3).i32Const(7).op(Op.I32Mul).op(Op.I32Add);
  f.finish();
  m.exportFunction('r0', f.index);
  return new WebAssembly.Instance(new WebAssembly.Module(m.encode())).exports.r0;
}

describe('region table', () => {
  it('enters each slot\'s function with the arguments, past the first 256 slots', () => {
    const t = new RegionTable();
    const slots = Array.from({ length: 300 }, (_, k) => t.add(regionFn(k * 100_000), t.module()));
    expect(new Set(slots).size).toBe(300);
    expect(t.size).toBe(300);
    for (const k of [0, 1, 255, 256, 299]) expect(t.go(slots[k], 3, 4, 5)).toBe(3045 + k * 100_000);
  });

  it('reuses a released slot, and an empty slot traps', () => {
    const t = new RegionTable();
    const a = t.add(regionFn(1), t.module()), b = t.add(regionFn(2), t.module());
    t.release(a);
    expect(t.size).toBe(1);
    expect(() => t.go(a, 0, 0, 0)).toThrow(WebAssembly.RuntimeError);
    const c = t.add(regionFn(7), t.module());
    expect(c).toBe(a);
    expect(t.go(c, 0, 0, 0)).toBe(7);
    expect(t.go(b, 0, 0, 0)).toBe(2);
  });

  it('a module is dead once its last region leaves the table; dropping is worth it when the dead outnumber the live', () => {
    const t = new RegionTable();
    const m1 = t.module(), m2 = t.module(), m3 = t.module();
    const a = t.add(regionFn(1), m1), b = t.add(regionFn(2), m1), c = t.add(regionFn(3), m2);
    t.add(regionFn(4), m3);
    t.release(a);
    expect(t.deadModules).toBe(0); // m1 still has b
    t.release(b);
    expect(t.deadModules).toBe(1);
    expect(t.worthDropping(1)).toBe(false); // 1 dead, 2 live
    t.release(c);
    expect(t.deadModules).toBe(2);
    expect(t.worthDropping(1)).toBe(true);
    expect(t.worthDropping(3)).toBe(false);
  });
});
