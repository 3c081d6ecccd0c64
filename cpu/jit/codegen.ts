// The code generator: one region (cpu/jit/region.ts: blocks of one physical page
// joined by direct branches) -> one wasm function `(base, limit, entry) -> done`.
// Its body is a loop around a br_table over the region's blocks: a direct branch
// (or a fall-through) to a block of the region sets the next block and goes round
// the loop, so guest registers and lazy flags stay in locals across the region;
// RET compares the popped address with the region's return points. Each block
// runs as execBlock(c, b, b.code, b.n, 1) would. The fast ops listed in
// cpu/fastops.ts's table as inline are emitted as wasm over guest registers held
// in i64 locals; every other instruction (and every slow path: TLB miss, MMIO,
// segment check, code page) calls the `step` import, which runs that one
// instruction through the interpreter's executor after the cached registers and
// lazy flags are written back to the state record.
//
// RIP is a local too, written back with the registers: the start of the block
// running (as under the interpreter), until a branch sets it to its target. The region leaves when a block
// ends outside it, when the next block would take the instructions run past
// `limit`, or at the end of a block after `step` asked it to (an event is due:
// cpu.attention moved, a shadow, an NMI). It writes the block it stopped in to
// V.JIT_EXIT (with its table slot) and returns the instructions completed, or ~completed
// with cpu.lastFault/faultIndex set for that block (a fault, or a write to its own code).
// A block done where the region cannot go on (an indirect branch, a RET to no return point
// of the region, a branch or fall-through off it) first tries the jump cache and tail-calls
// the region there (cpu/jit/chain.ts): the function is `(base, limit, entry, done) -> done`,
// `done` counting the instructions of every region of the chain.

import { FAST_INFO, Fast as F } from '../fastops.js';
import { endsInBranch, inline, type RegionCode } from './region.js';
import { ModuleBuilder, type FuncBuilder } from './wasm/index.js';
import { REGION_SIG, emitChain } from './chain.js';
import { I32, P_LIMIT, P_ENTRY, type GenStats } from './gen-base.js';
import { OpGen } from './gen-ops.js';

export { IMPORT_STEP, IMPORT_COND, IMPORT_KEEPCF, SLOW_STEP, STEP_LEAVE, registersInMemory, type GenStats } from './gen-base.js';

/** Emits the function for region r into `f`. */
export function emitRegion(f: FuncBuilder, r: RegionCode, stats: GenStats, typeIndex: number): void {
  new RegionGen(f, r, typeIndex).emit(stats);
}

class RegionGen extends OpGen {
  emit(stats: GenStats): void {
    const f = this.f, blocks = this.r.blocks, count = blocks.length;
    this.reload();
    f.localGet(P_ENTRY).localSet(this.next);
    if (this.r.chain) { f.block(); this.chainAt = f.depth; }
    f.loop();
    for (let k = count - 1; k >= 0; k--) f.block();
    f.localGet(this.next).brTable(blocks.map((_, k) => k), 0);
    for (let k = 0; k < count; k++) {
      f.end(); // block k's code follows the end of its br_table target, inside a loop of its own
      f.loop();
      this.j = k;
      this.b = blocks[k];
      this.code = this.b.code;
      this.nest = 0;
      this.lastFlags = -1;
      const b = this.b;
      for (let i = 0; i < b.n; i++) {
        const id = this.code[i << 2];
        if (inline(id)) { stats.inlined++; this.op(i, id); } else { stats.stepped++; this.step(i); this.lastFlags = -1; }
      }
      // After a block that no inline branch ended: a stepped branch leaves; a fall-through may stay.
      const last = this.code[(b.n - 1) << 2];
      if (!inline(last) || !FAST_INFO[last & ~F.NO_FLAGS].ends) {
        const t = !endsInBranch(b) && this.r.fallThrough && b.page1 < 0 ? this.target(b, b.len) : -1;
        if (t >= 0) this.goTo(t, true); else this.exit(b.n);
      }
      f.end();
    }
    f.end();
    f.unreachable();
    if (this.r.chain) {
      f.end();
      emitChain(f, { wide: this.r.wide, limit: P_LIMIT, done: this.doneL, rip: this.rip, gen: this.t0, lo: this.t1, hi: this.t2, at: this.st }, this.typeIndex);
      f.localGet(this.doneL);
    }
    f.finish();
  }
}

/** A module of compiled regions: its bytes, function k (export `r${k}`) for region k. */
export function buildModule(regions: RegionCode[], memPages: number, stats: GenStats, debug = false): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder({ debug });
  m.importMemory('e', 'm', memPages);
  m.importFunction('e', 'step', { params: [I32, I32, I32], results: [I32] });
  m.importFunction('e', 'cond', { params: [I32], results: [I32] });
  m.importFunction('e', 'keepcf', { params: [], results: [] });
  if (regions.some((r) => r.chain)) m.importTable('e', 't', 0);
  const type = m.typeIndex(REGION_SIG);
  const fns = regions.map((_, k) => m.addFunction(`r${k}`, REGION_SIG));
  regions.forEach((r, k) => { emitRegion(fns[k], r, stats, type); m.exportFunction(`r${k}`, fns[k].index); });
  return m.encode();
}
