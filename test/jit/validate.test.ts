// Malformed bodies are refused (by the debug checker with the function and instruction named, and
// by WebAssembly.validate), the opcode table agrees with V8's typing, and module plumbing (type
// dedup, names, exports) is right.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, Op, OP_ROWS, ValType, ValidationError, type FuncSig } from '../../cpu/jit/wasm/index.js';

const I32 = ValType.I32;
const I64 = ValType.I64;
const VOID: FuncSig = { params: [], results: [] };
const LETTER: Record<string, ValType> = { i: I32, l: I64, f: ValType.F32, d: ValType.F64, v: ValType.V128 };

function pushZero(f: ReturnType<ModuleBuilder['addFunction']>, t: ValType): void {
  if (t === I32) f.i32Const(0);
  else if (t === I64) f.i64Const(0, 0);
  else if (t === ValType.F32) f.f32Const(0);
  else if (t === ValType.F64) f.f64Const(0);
  else f.v128Const(new Uint8Array(16));
}

describe('an unbalanced or ill-typed body is rejected', () => {
  it('a value left on the stack: the debug checker names function and instruction; WebAssembly.validate says no', () => {
    const debug = new ModuleBuilder({ debug: true });
    debug.addFunction('block_0x1000', VOID).i32Const(1).i32Const(2).op(Op.I32Add);
    expect(() => debug.encode()).toThrow(ValidationError);
    expect(() => debug.encode()).toThrow('wasm: function 0 "block_0x1000", instruction #3 (end): 1 value(s) left on the stack at the end of the function');

    const plain = new ModuleBuilder();
    plain.addFunction('block_0x1000', VOID).i32Const(1).i32Const(2).op(Op.I32Add);
    expect(WebAssembly.validate(plain.encode())).toBe(false);
  });

  it('a missing end is refused even without debug; an extra end is refused at once', () => {
    const m = new ModuleBuilder();
    m.addFunction('open', VOID).block().loop().end();
    expect(() => m.encode()).toThrow('wasm: function 0 "open": 1 block(s) still open at the end of the body (missing end)');
    const n = new ModuleBuilder();
    const f = n.addFunction('closed', VOID).block().end();
    expect(() => f.end()).toThrow(/end with no open block/);
  });

  it('a wrong operand type names the instruction and both types', () => {
    const m = new ModuleBuilder({ debug: true });
    const f = m.addFunction('mix', { params: [I64], results: [I32] });
    f.i32Const(1);
    f.localGet(0);
    expect(() => f.op(Op.I32Add)).toThrow('wasm: function 0 "mix", instruction #2 (i32.add): needs i32 but found i64');
  });

  it('stack underflow, a branch past the outermost block, else outside if, select without a condition', () => {
    const mk = () => new ModuleBuilder({ debug: true }).addFunction('f', VOID);
    expect(() => mk().op(Op.I32Eqz)).toThrow(/instruction #0 \(i32.eqz\): needs i32 but the function's stack is empty/);
    expect(() => mk().block().br(2)).toThrow(/instruction #1 \(br\): branch depth 2 is outside the 2 enclosing block/);
    expect(() => mk().block().else()).toThrow(/else inside a block, not an if/);
    expect(() => mk().i32Const(1).i32Const(2).select()).toThrow(/\(select\): needs i32 but the function's stack is empty/);
    expect(() => mk().i32Const(0).if(I32).i32Const(1).end()).toThrow(/needs an else/);
  });

  it('code after br/return is dead: its stack is polymorphic, as the spec says', () => {
    const m = new ModuleBuilder({ debug: true });
    const f = m.addFunction('dead', { params: [], results: [I32] });
    f.i32Const(7).return().op(Op.I32Add); // the add's operands are unknowable: valid
    m.exportFunction('dead', f.index);
    const bytes = m.encode();
    expect(WebAssembly.validate(bytes)).toBe(true);
    expect((m.instantiate().exports.dead as () => number)()).toBe(7);
  });

  it('builder misuse: immediates through op(), over-aligned stores, unknown locals/globals/functions, immutable globals, mismatched tail calls, no memory', () => {
    const m = new ModuleBuilder({ debug: true });
    m.importMemory('env', 'mem', 1);
    const g = m.addGlobal(I32, false, { i32: 1 });
    const f = () => m.addFunction('f', { params: [I32], results: [I32] });
    expect(() => f().op(Op.I32Const)).toThrow(/use its own builder method/);
    expect(() => f().op(Op.I32Load)).toThrow(/use its own builder method/);
    expect(() => f().i32Const(0).i32Const(0).store(Op.I32Store16, 0, 2)).toThrow(/alignment 2\^2 exceeds the natural 2\^1/);
    expect(() => f().load(Op.I32Add)).toThrow(/is not a load or store/);
    expect(() => f().localGet(5)).toThrow(/local 5 does not exist \(1 declared\)/);
    expect(() => f().i32Const(0).globalSet(g)).toThrow(/global 0 is immutable/);
    const v = m.addFunction('v', VOID);
    expect(() => f().returnCall(v.index)).toThrow(/tail call's callee must return what this function returns/);
    expect(() => f().i32Const(0).callIndirect(0)).toThrow(/there is no table 0/);
    expect(() => f().call(99)).toThrow(/instruction #0 \(call\): there is no function 99 \(add every function before filling bodies/);
    expect(() => f().globalGet(7)).toThrow(/global 7 does not exist/);
    const noMemory = new ModuleBuilder({ debug: true });
    expect(() => noMemory.addFunction('f', VOID).i32Const(0).load(Op.I32Load).drop()).toThrow(/\(i32.load\): the module has no memory \(importMemory first\)/);
    expect(() => noMemory.addFunction('g', VOID).memorySize()).toThrow(/the module has no memory/);
  });

  it('WebAssembly.validate agrees that a return_call to a callee with other results is invalid', () => {
    const m = new ModuleBuilder();
    const v = m.addFunction('v', VOID);
    m.addFunction('f', { params: [], results: [I32] }).returnCall(v.index);
    expect(WebAssembly.validate(m.encode())).toBe(false);
  });
});

describe('the generated opcode table', () => {
  it('opcodes.ts is what gen-opcodes.mjs produces from its table', () => {
    const script = fileURLToPath(new URL('../../cpu/jit/wasm/gen-opcodes.mjs', import.meta.url));
    expect(() => execFileSync(process.execPath, [script, '--check'], { stdio: 'pipe' })).not.toThrow();
  });

  it('every fixed-signature opcode validates in V8 with the signature the table gives it', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const [code, name, sig, imm] of OP_ROWS) {
      if (sig === '*' || !(imm === '-' || imm === 'L' || imm[0] === 'm')) continue;
      const [p, r] = sig.split('>');
      const m = new ModuleBuilder({ debug: true });
      m.importMemory('env', 'mem', 1);
      const f = m.addFunction(name, VOID);
      for (const ch of p) pushZero(f, LETTER[ch]);
      if (imm === '-') f.op(code as Op);
      else if (imm === 'L') f.lane(code as Op, 1);
      else if (r === '') f.store(code as Op, 4);
      else f.load(code as Op, 4);
      for (let i = 0; i < r.length; i++) f.drop();
      if (!WebAssembly.validate(m.encode())) bad.push(name);
      checked++;
    }
    expect(bad).toEqual([]);
    expect(checked).toBeGreaterThan(220);
  });
});

describe('module plumbing', () => {
  it('function types are deduplicated across imports, functions and call_indirect', () => {
    const m = new ModuleBuilder();
    const sig = { params: [I32, I32], results: [I32] };
    m.importFunction('env', 'h', sig);
    m.addFunction('a', sig).localGet(0);
    m.addFunction('b', { params: [I32, I32], results: [I32] }).localGet(1);
    m.addFunction('c', VOID);
    expect(m.typeIndex({ params: [I32, I32], results: [I32] })).toBe(0);
    const bytes = m.encode();
    // Type section: id 1, size, count 2.
    expect(Array.from(bytes.subarray(8, 11))).toEqual([1, 10, 2]);
  });

  it('locals of one type declared together form one group; interleaved types form runs', () => {
    const m = new ModuleBuilder({ debug: true });
    const f = m.addFunction('locals', { params: [I32], results: [I64] });
    expect(f.addLocal(I64, 3)).toBe(1);
    expect(f.addLocal(I32)).toBe(4);
    expect(f.addLocal(I64)).toBe(5);
    f.localGet(1).localGet(5).op(Op.I64Add).localGet(4).op(Op.I64ExtendI32S).op(Op.I64Add);
    m.exportFunction('f', f.index);
    const bytes = m.encode();
    expect(WebAssembly.validate(bytes)).toBe(true);
    // Code section body: 3 groups: 3 x i64, 1 x i32, 1 x i64.
    const text = `,${Array.from(bytes).join(',')},`;
    expect(text).toContain(`,3,3,${I64},1,${I32},1,${I64},`);
  });

  it('the name section puts the function\'s name in a trap\'s stack trace', () => {
    const m = new ModuleBuilder({ name: 'jit_block' });
    const f = m.addFunction('translated_0x7c00', VOID).unreachable();
    m.exportFunction('run', f.index);
    let stack = '';
    try {
      (m.instantiate().exports.run as () => void)();
    } catch (e) {
      stack = (e as Error).stack ?? '';
    }
    expect(stack).toContain('translated_0x7c00');
  });

  it('a duplicate export name is refused', () => {
    const m = new ModuleBuilder();
    const f = m.addFunction('f', VOID);
    m.exportFunction('run', f.index);
    expect(() => m.exportFunction('run', f.index)).toThrow(/export "run" declared twice/);
  });
});
