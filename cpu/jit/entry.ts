// One way into compiled code. Every region function (cpu/jit/codegen.ts) is put in a funcref
// table, and the run loop enters it through one exported wasm function, go(slot, base, limit,
// entry), that calls the slot's function with call_indirect (done = 0). Compiled regions go on
// to each other through the same table (cpu/jit/chain.ts). A JS call site that calls thousands
// of different exported functions (one per region) is megamorphic, and V8 then enters wasm
// through its generic JS-to-wasm wrapper every time (2 % of a Linux boot's samples); a call site
// that always calls the same exported function gets the fast, specialised wrapper (measured here:
// ~115-155 ns a call through 1,024 exports against ~50-80 through one, at load 16).

import { ModuleBuilder, ValType } from './wasm/index.js';
import { REGION_SIG } from './chain.js';

// A table also keeps alive every instance that imports it: V8 (Node 20) lists each importing
// instance in the table's dispatch tables, strongly, so a module whose regions were all freed
// from their slots is never collected while its table lives (~1 KiB of heap per instance even
// for an empty module, measured; a JIT that recompiled self-modifying code ran out of heap).
// So the table counts its modules and those with no region left, and JitCompiler drops the
// whole table with every compiled region once the dead outnumber the live (dropTable): the old
// table, its `go` and every instance importing it then become garbage together.

const I32 = ValType.I32;
/** Slots the table starts with; it doubles when full. */
const FIRST_SLOTS = 256;

/** One instantiated module: how many of its regions still hold a slot of the table. */
export interface ModuleLife { regions: number }

export class RegionTable {
  readonly table = new WebAssembly.Table({ element: 'anyfunc', initial: FIRST_SLOTS });
  /** Calls the region function in `slot` with (base, limit, entry) and returns what it returns. */
  readonly go: (slot: number, base: number, limit: number, entry: number) => number;
  private readonly free: number[] = [];
  private used = 0;
  /** The module of the region in each slot. */
  private readonly owner: (ModuleLife | undefined)[] = [];
  /** Modules instantiated against this table, and those of them with no region left in it (kept alive by the table). */
  modules = 0;
  deadModules = 0;

  constructor() {
    const m = new ModuleBuilder();
    m.importTable('e', 't', 1);
    const type = m.typeIndex(REGION_SIG);
    const f = m.addFunction('go', { params: [I32, I32, I32, I32], results: [I32] });
    f.localGet(1).localGet(2).localGet(3).i32Const(0).localGet(0).callIndirect(type, 0);
    f.finish();
    m.exportFunction('go', f.index);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { e: { t: this.table } });
    this.go = inst.exports.go as RegionTable['go'];
  }

  /** A module instantiated against this table, whose regions put() will place. */
  module(): ModuleLife {
    this.modules++;
    return { regions: 0 };
  }

  /** Put a region function of module `life` in a free slot; returns the slot. */
  add(fn: unknown, life: ModuleLife): number {
    const slot = this.reserve();
    this.put(slot, fn, life);
    return slot;
  }

  /** A free slot for a region about to be compiled (its code names its slot); put() fills it. */
  reserve(): number {
    let slot = this.free.pop();
    if (slot === undefined) {
      if (this.used === this.table.length) this.table.grow(this.table.length);
      slot = this.used++;
    }
    return slot;
  }

  put(slot: number, fn: unknown, life: ModuleLife): void {
    this.table.set(slot, fn);
    this.owner[slot] = life;
    life.regions++;
  }

  /** The region in `slot` is gone: its slot is free (its module is dead once it has no region left). */
  release(slot: number): void {
    this.table.set(slot, null);
    this.free.push(slot);
    const life = this.owner[slot];
    this.owner[slot] = undefined;
    if (life !== undefined && --life.regions === 0) this.deadModules++;
  }

  /** Whether the modules this table keeps alive for nothing are at least `min` and outnumber the live ones. */
  worthDropping(min: number): boolean {
    return this.deadModules >= min && this.deadModules >= this.modules - this.deadModules;
  }

  /** Slots holding a region function. */
  get size(): number { return this.used - this.free.length; }
}
