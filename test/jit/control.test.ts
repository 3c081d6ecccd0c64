// Control flow and calls built with the encoder and run in Node: loops, br_table dispatch, blocks
// with results, tail-call chains deeper than any stack, call_indirect through a table, imports,
// globals and a start function.
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, Op, ValType } from '../../cpu/jit/wasm/index.js';

const I32 = ValType.I32;
const I64 = ValType.I64;
type Fn = (...args: number[]) => number;

describe('loops and branches', () => {
  it('a loop sums 1..n with br_if back to the loop head', () => {
    const m = new ModuleBuilder({ debug: true });
    const f = m.addFunction('sum', { params: [I32], results: [I32] });
    const acc = f.addLocal(I32);
    f.block().loop();
    f.localGet(0).op(Op.I32Eqz).brIf(1); // n == 0: leave the block
    f.localGet(acc).localGet(0).op(Op.I32Add).localSet(acc);
    f.localGet(0).i32Const(1).op(Op.I32Sub).localSet(0);
    f.br(0).end().end();
    f.localGet(acc);
    m.exportFunction('sum', f.index);
    const sum = m.instantiate().exports.sum as Fn;
    expect(sum(0)).toBe(0);
    expect(sum(10)).toBe(55);
    expect(sum(100000)).toBe(705082704); // 5000050000 mod 2^32
  });

  it('br_table dispatches an x86-style opcode byte to one of four handlers, default for the rest', () => {
    const m = new ModuleBuilder({ debug: true });
    const f = m.addFunction('dispatch', { params: [I32], results: [I32] });
    // block $default { block $c3 { block $c2 { block $c1 { block $c0 { br_table } ... } } } }
    f.block().block().block().block().block();
    f.localGet(0).brTable([0, 1, 2, 3], 4);
    f.end().i32Const(100).return();
    f.end().i32Const(101).return();
    f.end().i32Const(102).return();
    f.end().i32Const(103).return();
    f.end().i32Const(-1);
    m.exportFunction('dispatch', f.index);
    const dispatch = m.instantiate().exports.dispatch as Fn;
    expect([0, 1, 2, 3, 4, -1, 0x7fffffff].map((op) => dispatch(op))).toEqual([100, 101, 102, 103, -1, -1, -1]);
  });

  it('if/else with a result, and a block typed by a signature (params and two results)', () => {
    const m = new ModuleBuilder({ debug: true });
    const abs = m.addFunction('abs', { params: [I32], results: [I32] });
    abs.localGet(0).i32Const(0).op(Op.I32LtS).if(I32).i32Const(0).localGet(0).op(Op.I32Sub).else().localGet(0).end();
    m.exportFunction('abs', abs.index);
    // divmod(a, b) -> a / b * 1000 + a % b, via a block [i32 i32] -> [i32 i32]
    const dm = m.addFunction('divmod', { params: [I32, I32], results: [I32] });
    const q = dm.addLocal(I32);
    dm.localGet(0).localGet(1);
    dm.block({ params: [I32, I32], results: [I32, I32] });
    dm.localSet(q).localSet(0); // q = b, a = a (popped in reverse)
    dm.localGet(0).localGet(q).op(Op.I32DivU).localGet(0).localGet(q).op(Op.I32RemU);
    dm.end();
    dm.localSet(q).i32Const(1000).op(Op.I32Mul).localGet(q).op(Op.I32Add);
    m.exportFunction('divmod', dm.index);
    // An if that takes a parameter: (x, neg) -> neg ? -x : x + 1, with x passed into both arms.
    const pi = m.addFunction('param_if', { params: [I32, I32], results: [I32] });
    pi.localGet(0).localGet(1).if({ params: [I32], results: [I32] });
    pi.localSet(0).i32Const(0).localGet(0).op(Op.I32Sub).else().i32Const(1).op(Op.I32Add).end();
    m.exportFunction('param_if', pi.index);
    const inst = m.instantiate();
    expect((inst.exports.abs as Fn)(-7)).toBe(7);
    expect((inst.exports.abs as Fn)(7)).toBe(7);
    expect((inst.exports.divmod as Fn)(47, 5)).toBe(9002);
    expect((inst.exports.param_if as Fn)(5, 1)).toBe(-5);
    expect((inst.exports.param_if as Fn)(5, 0)).toBe(6);
  });

  it('select, drop, local.tee and the counting ops compose', () => {
    const m = new ModuleBuilder({ debug: true });
    const f = m.addFunction('max_bits', { params: [I32, I32], results: [I32] });
    const t = f.addLocal(I32);
    // popcnt(max_u(a, b)) + (tee'd value dropped)
    f.localGet(0).localTee(t).drop();
    f.localGet(0).localGet(1).localGet(0).localGet(1).op(Op.I32GtU).select().op(Op.I32Popcnt);
    m.exportFunction('f', f.index);
    const fn = m.instantiate().exports.f as Fn;
    expect(fn(0xff, 0x0f)).toBe(8);
    expect(fn(1, 0x70000000)).toBe(3);
  });
});

describe('calls', () => {
  it('a 1,000,000-deep return_call chain runs in constant stack; the same chain with call overflows', () => {
    const m = new ModuleBuilder({ debug: true });
    // count(n, acc): n == 0 ? acc : count(n - 1, acc + 2), once as a tail call, once not.
    const sig = { params: [I32, I64], results: [I64] };
    const tail = m.addFunction('count_tail', sig);
    const plain = m.addFunction('count_call', sig);
    for (const [f, tailCall] of [[tail, true], [plain, false]] as const) {
      f.localGet(0).op(Op.I32Eqz).if().localGet(1).return().end();
      f.localGet(0).i32Const(1).op(Op.I32Sub).localGet(1).i64Const(2, 0).op(Op.I64Add);
      if (tailCall) f.returnCall(f.index);
      else f.call(f.index);
    }
    // i64 crosses to JS as BigInt; wrap the result to i32 so the test sees plain numbers.
    for (const f of [tail, plain]) {
      const w = m.addFunction(`${f.name}_i32`, { params: [I32], results: [I32] });
      w.localGet(0).i64Const(0, 0).call(f.index).op(Op.I32WrapI64);
      m.exportFunction(f.name, w.index);
    }
    const bytes = m.encode();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes));
    expect((inst.exports.count_tail as Fn)(1_000_000)).toBe(2_000_000);
    expect((inst.exports.count_call as Fn)(1000)).toBe(2000);
    expect(() => (inst.exports.count_call as Fn)(1_000_000)).toThrow(RangeError); // "Maximum call stack size exceeded"
  });

  it('mutually recursive return_calls: both functions added first, bodies filled in either order', () => {
    const m = new ModuleBuilder({ debug: true });
    const sig = { params: [I32], results: [I32] };
    const even = m.addFunction('even', sig);
    const odd = m.addFunction('odd', sig);
    // odd's body is written first and calls even, and even calls odd: indices are known up front.
    for (const [f, result, next] of [[odd, 0, even], [even, 1, odd]] as const) {
      f.localGet(0).op(Op.I32Eqz).if().i32Const(result).return().end();
      f.localGet(0).i32Const(1).op(Op.I32Sub).returnCall(next.index);
    }
    m.exportFunction('even', even.index);
    const isEven = m.instantiate().exports.even as Fn;
    expect(isEven(1_000_001)).toBe(0);
    expect(isEven(2_000_000)).toBe(1);
  });

  it('return_call_indirect ping-pongs between two table entries 1,000,000 times', () => {
    const m = new ModuleBuilder({ debug: true });
    const sig = { params: [I32], results: [I32] };
    const type = m.typeIndex(sig);
    m.addTable(2, 2);
    const even = m.addFunction('even', sig);
    const odd = m.addFunction('odd', sig);
    // even(n) = n == 0 ? 1 : odd(n - 1); odd(n) = n == 0 ? 0 : even(n - 1), through table slots 0/1.
    for (const [f, result, next] of [[even, 1, 1], [odd, 0, 0]] as const) {
      f.localGet(0).op(Op.I32Eqz).if().i32Const(result).return().end();
      f.localGet(0).i32Const(1).op(Op.I32Sub).i32Const(next).returnCallIndirect(type);
    }
    m.addElements(0, [even.index, odd.index]);
    m.exportFunction('even', even.index);
    const isEven = m.instantiate().exports.even as Fn;
    expect(isEven(1_000_000)).toBe(1);
    expect(isEven(999_999)).toBe(0);
  });

  it('call_indirect through a table: the right target, a type mismatch traps, an empty slot traps', () => {
    const m = new ModuleBuilder({ debug: true });
    const binop = { params: [I32, I32], results: [I32] };
    const unop = { params: [I32], results: [I32] };
    m.addTable(4); // slots 0..3, slot 3 left empty
    const add = m.addFunction('add', binop);
    add.localGet(0).localGet(1).op(Op.I32Add);
    const sub = m.addFunction('sub', binop);
    sub.localGet(0).localGet(1).op(Op.I32Sub);
    const neg = m.addFunction('neg', unop);
    neg.i32Const(0).localGet(0).op(Op.I32Sub);
    m.addElements(0, [add.index, sub.index, neg.index]);
    const apply = m.addFunction('apply', { params: [I32, I32, I32], results: [I32] });
    apply.localGet(1).localGet(2).localGet(0).callIndirect(m.typeIndex(binop));
    m.exportFunction('apply', apply.index);
    m.exportTable('table');
    const inst = m.instantiate();
    const applyFn = inst.exports.apply as Fn;
    expect(applyFn(0, 7, 5)).toBe(12);
    expect(applyFn(1, 7, 5)).toBe(2);
    expect(() => applyFn(2, 7, 5)).toThrow(/signature|type/i);
    expect(() => applyFn(3, 7, 5)).toThrow(WebAssembly.RuntimeError);
    expect(() => applyFn(4, 7, 5)).toThrow(WebAssembly.RuntimeError);
    expect((inst.exports.table as WebAssembly.Table).length).toBe(4);
  });

  it('separately built modules link through one shared table: a new block installs itself and an old one tail-calls it', () => {
    const sig = { params: [I32], results: [I32] };
    // Module A: owns the table; its block jumps to whatever slot 1 holds (a chained block).
    const a = new ModuleBuilder({ debug: true });
    a.addTable(8, 8);
    const first = a.addFunction('block_a', sig);
    first.localGet(0).i32Const(10).op(Op.I32Add).i32Const(1).returnCallIndirect(a.typeIndex(sig));
    a.exportFunction('run', first.index);
    a.exportTable('table');
    const ia = a.instantiate();
    const table = ia.exports.table as WebAssembly.Table;
    expect(() => (ia.exports.run as Fn)(1)).toThrow(WebAssembly.RuntimeError); // slot 1 empty yet
    // Module B: imports the table and fills slot 1 with its own function at instantiation.
    const b = new ModuleBuilder({ debug: true });
    b.importTable('jit', 'table', 8, 8);
    const second = b.addFunction('block_b', sig);
    second.localGet(0).i32Const(3).op(Op.I32Mul);
    b.addElements(1, [second.index]);
    b.instantiate({ jit: { table } });
    expect((ia.exports.run as Fn)(1)).toBe(33);
  });

  it('imported host functions come first in the index space and are called with their arguments', () => {
    const seen: number[] = [];
    const m = new ModuleBuilder({ debug: true });
    const portOut = m.importFunction('emu', 'port_out', { params: [I32, I32], results: [] });
    const f = m.addFunction('run', { params: [], results: [] });
    f.i32Const(0x3f8).i32Const(0x41).call(portOut);
    f.i32Const(0x80).i32Const(0xff).call(portOut);
    m.exportFunction('run', f.index);
    expect(portOut).toBe(0);
    expect(f.index).toBe(1);
    expect(() => m.importFunction('emu', 'late', { params: [], results: [] })).toThrow(/before adding local/);
    (m.instantiate({ emu: { port_out: (port: number, v: number) => seen.push(port, v) } }).exports.run as () => void)();
    expect(seen).toEqual([0x3f8, 0x41, 0x80, 0xff]);
  });
});

describe('globals and the start function', () => {
  it('a start function initialises a mutable global from an imported one; an exported getter reads it', () => {
    const m = new ModuleBuilder({ debug: true });
    const base = m.importGlobal('env', 'base', I32, false);
    const counter = m.addGlobal(I32, true, { i32: 0 });
    const wide = m.addGlobal(I64, false, { i64: [0x89abcdef, 0x01234567] });
    const copy = m.addGlobal(I32, false, { global: base });
    const start = m.addFunction('start', { params: [], results: [] });
    start.globalGet(base).i32Const(10).op(Op.I32Mul).globalSet(counter);
    m.setStart(start.index);
    const get = m.addFunction('get', { params: [], results: [I32] });
    get.globalGet(counter).globalGet(copy).op(Op.I32Add).globalGet(wide).i64Const(32, 0).op(Op.I64ShrU).op(Op.I32WrapI64).op(Op.I32Xor);
    m.exportFunction('get', get.index);
    m.exportGlobal('counter', counter);
    const inst = m.instantiate({ env: { base: 4 } });
    expect((inst.exports.get as Fn)()).toBe((44 ^ 0x01234567) | 0);
    expect((inst.exports.counter as WebAssembly.Global).value).toBe(40);
  });
});
