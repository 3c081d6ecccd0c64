// Every integer opcode in the encoder's table, run in Node against a BigInt oracle (BigInt in the
// test only: the encoder itself has none), plus exact 64-bit results with carries across halves.
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, Op, OP_ROWS, ValType } from '../../cpu/jit/wasm/index.js';

const I32 = ValType.I32;
const I64 = ValType.I64;
const M64 = (1n << 64n) - 1n;
const M32 = (1n << 32n) - 1n;

/** Pushes the i64 hi:lo built from two i32 locals. */
function pushI64FromHalves(f: ReturnType<ModuleBuilder['addFunction']>, lo: number, hi: number): void {
  f.localGet(hi).op(Op.I64ExtendI32U).i64Const(32, 0).op(Op.I64Shl);
  f.localGet(lo).op(Op.I64ExtendI32U).op(Op.I64Or);
}

const s64 = (v: bigint): bigint => BigInt.asIntN(64, v);
const s32 = (v: bigint): bigint => BigInt.asIntN(32, v);

function oracle(name: string, a: bigint, b: bigint, bits: 32 | 64): bigint | 'trap' {
  const mask = bits === 64 ? M64 : M32;
  const sx = bits === 64 ? s64 : s32;
  const n = BigInt(bits);
  const sh = b & (n - 1n);
  const op = name.slice(4);
  switch (op) {
    case 'add': return (a + b) & mask;
    case 'sub': return (a - b) & mask;
    case 'mul': return (a * b) & mask;
    case 'div_s': return b === 0n || (sx(a) === -(1n << (n - 1n)) && sx(b) === -1n) ? 'trap' : (sx(a) / sx(b)) & mask;
    case 'div_u': return b === 0n ? 'trap' : a / b;
    case 'rem_s': return b === 0n ? 'trap' : (sx(a) % sx(b)) & mask;
    case 'rem_u': return b === 0n ? 'trap' : a % b;
    case 'and': return a & b;
    case 'or': return a | b;
    case 'xor': return a ^ b;
    case 'shl': return (a << sh) & mask;
    case 'shr_s': return (sx(a) >> sh) & mask;
    case 'shr_u': return a >> sh;
    case 'rotl': return ((a << sh) | (a >> ((n - sh) % n))) & mask;
    case 'rotr': return ((a >> sh) | (a << ((n - sh) % n))) & mask;
    case 'eq': return a === b ? 1n : 0n;
    case 'ne': return a !== b ? 1n : 0n;
    case 'lt_s': return sx(a) < sx(b) ? 1n : 0n;
    case 'lt_u': return a < b ? 1n : 0n;
    case 'gt_s': return sx(a) > sx(b) ? 1n : 0n;
    case 'gt_u': return a > b ? 1n : 0n;
    case 'le_s': return sx(a) <= sx(b) ? 1n : 0n;
    case 'le_u': return a <= b ? 1n : 0n;
    case 'ge_s': return sx(a) >= sx(b) ? 1n : 0n;
    case 'ge_u': return a >= b ? 1n : 0n;
    case 'eqz': return a === 0n ? 1n : 0n;
    case 'clz': { let c = 0n; for (let i = n - 1n; i >= 0n && ((a >> i) & 1n) === 0n; i--) c++; return c; }
    case 'ctz': { let c = 0n; for (let i = 0n; i < n && ((a >> i) & 1n) === 0n; i++) c++; return c; }
    case 'popcnt': { let c = 0n; for (let i = 0n; i < n; i++) c += (a >> i) & 1n; return c; }
    case 'extend8_s': return BigInt.asIntN(8, a) & mask;
    case 'extend16_s': return BigInt.asIntN(16, a) & mask;
    case 'extend32_s': return BigInt.asIntN(32, a) & mask;
    default: throw new Error(`no oracle for ${name}`);
  }
}

const VALUES64: bigint[] = [
  0n, 1n, M64, 0xffffffffn, 0x1_0000_0000n, 0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn,
  0x1234_5678_9abc_def0n, 63n, 69n, 0x80n, 0xffff_ffff_ffff_ff80n,
];
const VALUES32: bigint[] = [0n, 1n, M32, 0x7fffffffn, 0x80000000n, 0x9abcdef0n, 31n, 37n, 0x80n, 0xffffff80n];

describe('every i32/i64 integer opcode against a BigInt oracle', () => {
  // Rows with a fixed signature over i32/i64 only and no immediates: arithmetic, bit ops,
  // comparisons, sign extension.
  const rows = OP_ROWS.filter(([, name, sig, imm]) => imm === '-' && /^(ii>i|i>i|ll>l|l>l|ll>i|l>i)$/.test(sig) && !name.includes('wrap'));


  const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const m = new ModuleBuilder({ debug: true });
  m.importMemory('env', 'mem', 1);
  for (const [code, name, sig] of rows) {
    const is64 = sig[0] === 'l';
    const binary = sig.startsWith('ii') || sig.startsWith('ll');
    // i32 forms take (a, b); i64 forms take (a_lo, a_hi, b_lo, b_hi) and store i64 results at 0.
    const params = is64 ? [I32, I32, I32, I32] : [I32, I32];
    const f = m.addFunction(name, { params, results: [I32] });
    if (is64) {
      f.i32Const(0);
      pushI64FromHalves(f, 0, 1);
      if (binary) pushI64FromHalves(f, 2, 3);
      f.op(code as Op);
      if (sig.endsWith('l')) f.store(Op.I64Store).i32Const(-1);
      else {
        const r = f.addLocal(I32);
        f.localSet(r).drop().localGet(r);
      }
    } else {
      f.localGet(0);
      if (binary) f.localGet(1);
      f.op(code as Op);
    }
    m.exportFunction(name, f.index);
  }
  const bytes = m.encode();
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { mem } });
  const u32 = new Uint32Array(mem.buffer);

  it('all 63 (31 i32, 32 i64) go into one module that passes WebAssembly.validate', () => {
    expect(rows.length).toBe(63);
    expect(WebAssembly.validate(bytes)).toBe(true);
  });

  for (const [, name, sig] of rows) {
    it(`${name} matches the oracle on edge values`, () => {
      const is64 = sig[0] === 'l';
      const binary = sig.startsWith('ii') || sig.startsWith('ll');
      const values = is64 ? VALUES64 : VALUES32;
      const fn = inst.exports[name] as (...args: number[]) => number;
      for (const a of values) {
        for (const b of binary ? values : [0n]) {
          const want = oracle(name, a, b, is64 ? 64 : 32);
          const args = is64 ? [Number(a & M32), Number(a >> 32n), Number(b & M32), Number(b >> 32n)] : [Number(a), Number(b)];
          let got: bigint | 'trap';
          try {
            const r = fn(...args);
            got = is64 && sig.endsWith('l') ? BigInt(u32[0]) | (BigInt(u32[1]) << 32n) : BigInt(r >>> 0);
          } catch (e) {
            expect(e).toBeInstanceOf(WebAssembly.RuntimeError);
            got = 'trap';
          }
          if (got !== want) expect(`${name}(${a.toString(16)}, ${b.toString(16)}) = ${got.toString(16)}`).toBe(`want ${want.toString(16)}`);
        }
      }
    });
  }
});

describe('64-bit arithmetic with exact results across the halves', () => {
  // add/sub/mul of the i64s at [0] and [8], result to [16], in a memory shared with a Uint32Array.
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const u32 = new Uint32Array(mem.buffer);
  const m = new ModuleBuilder({ debug: true });
  m.importMemory('env', 'mem', 1);
  for (const [name, op] of [['add', Op.I64Add], ['sub', Op.I64Sub], ['mul', Op.I64Mul]] as const) {
    const f = m.addFunction(name, { params: [], results: [] });
    f.i32Const(16).i32Const(0).load(Op.I64Load).i32Const(0).load(Op.I64Load, 8).op(op).store(Op.I64Store);
    m.exportFunction(name, f.index);
  }
  const inst = m.instantiate({ env: { mem } });
  const run = (name: string, a: [number, number], b: [number, number]): [number, number] => {
    u32.set([a[0], a[1], b[0], b[1]], 0);
    (inst.exports[name] as () => void)();
    return [u32[4], u32[5]];
  };

  it('0x00000000_ffffffff + 1 carries into the high half', () => {
    expect(run('add', [0xffffffff, 0], [1, 0])).toEqual([0, 1]);
  });
  it('0xffffffff_ffffffff + 1 wraps to 0', () => {
    expect(run('add', [0xffffffff, 0xffffffff], [1, 0])).toEqual([0, 0]);
  });
  it('0x00000001_00000000 - 1 borrows from the high half', () => {
    expect(run('sub', [0, 1], [1, 0])).toEqual([0xffffffff, 0]);
  });
  it('0xffffffff * 0xffffffff = 0xfffffffe_00000001', () => {
    expect(run('mul', [0xffffffff, 0], [0xffffffff, 0])).toEqual([1, 0xfffffffe]);
  });
  it('0x12345678_9abcdef0 * 0x10 shifts a nibble across the halves', () => {
    expect(run('mul', [0x9abcdef0, 0x12345678], [0x10, 0])).toEqual([0xabcdef00, 0x23456789]);
  });
});
