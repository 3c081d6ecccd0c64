// Loads and stores against emu's one fixed-size WebAssembly.Memory: every width and extension, memarg
// offsets, and wasm code reading the interpreter's register file past guest RAM, as the JIT will.
import { describe, expect, it } from 'vitest';
import { ModuleBuilder, Op, ValType } from '../../cpu/jit/wasm/index.js';
import { GuestMemory } from '../../mmu/memory.js';
import { RAX, RBX, RIP, StateView, gprOffset } from '../../cpu/state.js';

const I32 = ValType.I32;
const I64 = ValType.I64;

describe('the memory import', () => {
  it('is declared fixed-size (max = min) and instantiates against GuestMemory\'s memory', () => {
    const mem = new GuestMemory(2 << 20);
    const pages = mem.buffer.byteLength / 65536;
    const m = new ModuleBuilder({ debug: true });
    m.importMemory('env', 'mem', pages);
    const f = m.addFunction('size', { params: [], results: [I32] });
    f.memorySize();
    m.exportFunction('size', f.index);
    const bytes = m.encode();
    const imp = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
    expect(imp).toEqual([{ module: 'env', name: 'mem', kind: 'memory' }]);
    // After the field name "mem": kind 2 (memory), limits flags 1 (max present), min, max.
    expect(pages).toBeLessThan(128); // one LEB128 byte each
    const text = `,${Array.from(bytes).join(',')},`;
    expect(text).toContain(`,${[3, 0x6d, 0x65, 0x6d, 0x02, 0x01, pages, pages].join(',')},`);
    const inst = m.instantiate({ env: { mem: mem.wasm } });
    expect((inst.exports.size as () => number)()).toBe(pages);
    // A memory whose maximum differs from the declared one is refused at link time.
    const growable = new WebAssembly.Memory({ initial: pages, maximum: pages + 1 });
    expect(() => m.instantiate({ env: { mem: growable } })).toThrow(WebAssembly.LinkError);
  });

  it('refuses memory limits outside 0 <= min <= max <= 65536 pages', () => {
    const m = new ModuleBuilder();
    expect(() => m.importMemory('env', 'mem', 4, 2)).toThrow(/min <= max/);
    expect(() => m.importMemory('env', 'mem', 65537)).toThrow(/65536/);
  });
});

describe('loads and stores of every width through a Uint8Array view', () => {
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const u8 = new Uint8Array(mem.buffer);
  const dv = new DataView(mem.buffer);
  const m = new ModuleBuilder({ debug: true });
  m.importMemory('env', 'mem', 1);
  // Loads from address a + 0x10 (memarg offset), i64 results stored at 0x100.
  const loads32: [string, Op][] = [['i32.load8_s', Op.I32Load8S], ['i32.load8_u', Op.I32Load8U], ['i32.load16_s', Op.I32Load16S], ['i32.load16_u', Op.I32Load16U], ['i32.load', Op.I32Load]];
  const loads64: [string, Op][] = [['i64.load8_s', Op.I64Load8S], ['i64.load8_u', Op.I64Load8U], ['i64.load16_s', Op.I64Load16S], ['i64.load16_u', Op.I64Load16U], ['i64.load32_s', Op.I64Load32S], ['i64.load32_u', Op.I64Load32U], ['i64.load', Op.I64Load]];
  for (const [name, op] of loads32) {
    const f = m.addFunction(name, { params: [I32], results: [I32] });
    f.localGet(0).load(op, 0x10);
    m.exportFunction(name, f.index);
  }
  for (const [name, op] of loads64) {
    const f = m.addFunction(name, { params: [I32], results: [] });
    f.i32Const(0x100).localGet(0).load(op, 0x10, 0).store(Op.I64Store); // alignment hint 1: unaligned is legal
    m.exportFunction(name, f.index);
  }
  const stores: [string, Op, ValType][] = [['i32.store8', Op.I32Store8, I32], ['i32.store16', Op.I32Store16, I32], ['i32.store', Op.I32Store, I32], ['i64.store8', Op.I64Store8, I64], ['i64.store16', Op.I64Store16, I64], ['i64.store32', Op.I64Store32, I64]];
  for (const [name, op, t] of stores) {
    const f = m.addFunction(name, { params: [I32], results: [] });
    f.localGet(0);
    if (t === I32) f.i32Const(0x8899aabb | 0);
    else f.i64Const(0x8899aabb, 0x11223344);
    f.store(op, 0x10);
    m.exportFunction(name, f.index);
  }
  const inst = m.instantiate({ env: { mem } });
  const call = (name: string, a: number): number => (inst.exports[name] as (a: number) => number)(a);

  it('i32 loads sign- or zero-extend 0xF0E1D2C3 read at an odd address', () => {
    dv.setUint32(0x21, 0xf0e1d2c3, true);
    expect(call('i32.load8_s', 0x11)).toBe(-61); // 0xC3
    expect(call('i32.load8_u', 0x11)).toBe(0xc3);
    expect(call('i32.load16_s', 0x11) >>> 0).toBe(0xffffd2c3);
    expect(call('i32.load16_u', 0x11)).toBe(0xd2c3);
    expect(call('i32.load', 0x11) >>> 0).toBe(0xf0e1d2c3);
  });

  it('i64 loads sign- or zero-extend into both halves', () => {
    dv.setUint32(0x40, 0x8a9b7c6d, true);
    dv.setUint32(0x44, 0x01234567, true);
    const half = (name: string): [number, number] => {
      call(name, 0x30);
      return [dv.getUint32(0x100, true), dv.getUint32(0x104, true)];
    };
    expect(half('i64.load8_s')).toEqual([0x6d, 0]);
    expect(half('i64.load8_u')).toEqual([0x6d, 0]);
    expect(half('i64.load16_s')).toEqual([0x7c6d, 0]);
    expect(half('i64.load32_s')).toEqual([0x8a9b7c6d, 0xffffffff]);
    expect(half('i64.load32_u')).toEqual([0x8a9b7c6d, 0]);
    expect(half('i64.load')).toEqual([0x8a9b7c6d, 0x01234567]);
    dv.setUint16(0x40, 0x80ff, true);
    expect(half('i64.load8_s')).toEqual([0xffffffff, 0xffffffff]);
    expect(half('i64.load16_s')).toEqual([0xffff80ff, 0xffffffff]);
    expect(half('i64.load16_u')).toEqual([0x80ff, 0]);
  });

  it('narrow stores write only their bytes', () => {
    const after = (name: string): number[] => {
      u8.fill(0xee, 0x200, 0x220);
      call(name, 0x200);
      return Array.from(u8.subarray(0x210, 0x219));
    };
    expect(after('i32.store8')).toEqual([0xbb, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
    expect(after('i32.store16')).toEqual([0xbb, 0xaa, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
    expect(after('i32.store')).toEqual([0xbb, 0xaa, 0x99, 0x88, 0xee, 0xee, 0xee, 0xee, 0xee]);
    expect(after('i64.store8')).toEqual([0xbb, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
    expect(after('i64.store16')).toEqual([0xbb, 0xaa, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee, 0xee]);
    expect(after('i64.store32')).toEqual([0xbb, 0xaa, 0x99, 0x88, 0xee, 0xee, 0xee, 0xee, 0xee]);
  });

  it('an access past the end of the fixed-size memory traps instead of growing it', () => {
    expect(() => call('i32.load', 65536 - 0x10 - 3)).toThrow(WebAssembly.RuntimeError);
    expect(mem.buffer.byteLength).toBe(65536);
  });
});

describe('wasm code and the interpreter share the register file past guest RAM', () => {
  it('RAX += RBX and RIP += 3 in wasm are seen by the StateView, with a carry into the high half', () => {
    const mem = new GuestMemory(2 << 20);
    const state = new StateView(mem.buffer, mem.stateOffset);
    state.set64(gprOffset(RAX), 0xffffffff, 0x00000001);
    state.set64(gprOffset(RBX), 0x00000001, 0x00000010);
    state.set64(RIP, 0x1000, 0);

    const m = new ModuleBuilder({ debug: true });
    m.importMemory('emu', 'memory', mem.buffer.byteLength / 65536);
    // The state record's base is a parameter here; a JIT would bake it into the memargs' offsets.
    const f = m.addFunction('add_rax_rbx', { params: [I32], results: [] });
    f.localGet(0).localGet(0).load(Op.I64Load, gprOffset(RAX)).localGet(0).load(Op.I64Load, gprOffset(RBX)).op(Op.I64Add).store(Op.I64Store, gprOffset(RAX));
    f.localGet(0).localGet(0).load(Op.I64Load, RIP).i64Const(3, 0).op(Op.I64Add).store(Op.I64Store, RIP);
    m.exportFunction('run', f.index);
    (m.instantiate({ emu: { memory: mem.wasm } }).exports.run as (base: number) => void)(mem.stateOffset);

    expect(state.hex64(gprOffset(RAX))).toBe('0000001200000000');
    expect(state.hex64(RIP)).toBe('0000000000001003');
  });
});
