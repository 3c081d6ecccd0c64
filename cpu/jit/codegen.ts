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

import type { Block } from '../blocks.js';
import { Fast as F, FAST_INFO } from '../fastops.js';
import { W } from '../words.js';
import { V } from '../vcpu-layout.js';
import { Access, READ, STACK_READ, STACK_WRITE, WRITE } from './access.js';
import { inline, type RegionCode } from './region.js';
import { ALU_KIND, ALU_OP32, ALU_OP64, K_ADD, K_CMP, K_SUB, K_TEST, emitCond } from './conds.js';
import { FuncBuilder, ModuleBuilder, Op, ValType } from './wasm/index.js';
import { REGION_SIG, emitChain } from './chain.js';

const I32 = ValType.I32, I64 = ValType.I64;
/** Byte offsets in the state record. */
const B_RIP = W.W_RIP * 4, B_LF_OP = W.LF_OP * 4, B_LF_RES = W.LF_RES * 4, B_LF_A = W.LF_A * 4, B_LF_B = W.LF_B * 4;
const B_RFLAGS = W.W_RFLAGS * 4, RSP = 4;
/** Lazy-flag kinds of INC and DEC (cpu/flags.ts K_INC, K_DEC). */
const K_LF_INC = 6, K_LF_DEC = 7;
/** Parameters of a region function (chain.ts REGION_SIG). */
const P_BASE = 0, P_LIMIT = 1, P_ENTRY = 2, P_DONE = 3;
/** Return points a RET compares its target with before it leaves the region. */
const MAX_RET_TARGETS = 4;

/** The imports every generated module takes (besides the memory). */
export const IMPORT_STEP = 0, IMPORT_COND = 1, IMPORT_KEEPCF = 2;
/** Added to `step`'s instruction index when it is the slow path of an inline instruction (a TLB miss, MMIO, a page crossing...). */
export const SLOW_STEP = 0x100;
/** What `step` returns besides a stop index + 1: go on, but leave the region at the end of this block. */
export const STEP_LEAVE = -1;

/** Registers an inline fast op reads or writes (bit n = GPR n), from its fields. */
function regsOf(id: number, a: number, s: number): number {
  const base = id & ~F.NO_FLAGS;
  const info = FAST_INFO[base];
  let m = 0;
  if (info.fields.includes('a')) m |= 1 << (a >> 1);
  if (info.fields.includes('r')) m |= 1 << (s >> 1); // source register word
  if (info.fields.includes('m')) m |= 1 << ((s & 0xffff) >> 1); // base register word (| seg << 16)
  if (info.stack) m |= 1 << RSP;
  return m;
}

export interface GenStats { inlined: number; stepped: number }

/** Emits the function for region r into `f`. */
export function emitRegion(f: FuncBuilder, r: RegionCode, stats: GenStats, typeIndex: number): void {
  new RegionGen(f, r, typeIndex).emit(stats);
}

class RegionGen {
  private readonly reg = new Int32Array(16).fill(-1);
  /** Guest registers stay in the state record (no locals): see registersInMemory. */
  private readonly inMemory: boolean;
  /** A value on its way to a register in the state record. */
  private readonly regTmp: number;
  private used = 0;
  private written = 0;
  private lf = false;
  /** Instructions done (the `done` parameter: those of earlier regions of the chain included). */
  private readonly doneL = P_DONE;
  /** f.depth inside the block whose end is the chain attempt (0: the region does not chain). */
  private chainAt = 0;
  private readonly next: number;
  private readonly st: number;
  private readonly t0: number;
  private readonly t1: number;
  private readonly t2: number;
  private readonly u0: number;
  private readonly u1: number;
  private readonly u2: number;
  private readonly lfOp: number;
  private readonly lfRes: number;
  private readonly lfA: number;
  private readonly lfB: number;
  /** RIP (i64 in 64-bit code, else the low half as i32), and its value before a RET. */
  private readonly rip: number;
  private readonly ripOld: number;
  /** Memory access: segment bounds and the page test. */
  private readonly mem: Access;
  /** The block being emitted: its index in the region, the block, its code. */
  private j = 0;
  private b: Block;
  private code: Int32Array;
  /** if/else levels open inside the block being emitted (for branch depths to the loop). */
  private nest = 0;
  /** The last inline op at or before the Jcc that writes flags, if no stepped instruction follows it. */
  private lastFlags = -1;
  /** Region index of the block at each physical address. */
  private readonly at = new Map<number, number>();
  /** Region indices of the blocks a CALL in the region returns to. */
  private readonly returns: number[] = [];

  constructor(private readonly f: FuncBuilder, private readonly r: RegionCode, private readonly typeIndex: number) {
    r.blocks.forEach((b, k) => this.at.set(b.phys, k));
    const segs: number[] = [];
    let stack = 0;
    for (const b of r.blocks) {
      const code = b.code;
      for (let i = 0; i < b.n; i++) {
        const id = code[i << 2];
        if (!inline(id)) continue;
        const m = regsOf(id, code[(i << 2) + 1], code[(i << 2) + 2]);
        this.used |= m;
        const info = FAST_INFO[id & ~F.NO_FLAGS];
        if (info.writesDst) this.written |= 1 << (code[(i << 2) + 1] >> 1);
        if (info.stack) this.written |= 1 << RSP;
        if (info.flagsW !== 0 || info.flagsR !== 0) this.lf = true;
        if (info.stack) stack = r.wide ? 8 : 4;
        if ((id === F.LOAD32 || id === F.STORE32 || id === F.LOADZX8_32) && !segs.includes(code[(i << 2) + 2] >>> 16)) segs.push(code[(i << 2) + 2] >>> 16);
        if (id === F.CALL32 || id === F.CALL64) {
          const t = this.target(b, code[(i << 2) + 3]);
          if (t >= 0 && !this.returns.includes(t) && this.returns.length < MAX_RET_TARGETS) this.returns.push(t);
        }
      }
    }
    this.b = r.blocks[0];
    this.code = this.b.code;
    // Registers in locals pay a load per register at every entry and after every stepped
    // instruction, and a store per written one before each step and exit; in the state record they
    // pay a load or store per use instead (registersInMemory).
    this.inMemory = registersInMemory(r);
    if (!this.inMemory) for (let n = 0; n < 16; n++) if ((this.used & (1 << n)) !== 0) this.reg[n] = f.addLocal(I64);
    this.regTmp = f.addLocal(I64);
    this.next = f.addLocal(I32);
    this.st = f.addLocal(I32);
    this.t0 = f.addLocal(I32);
    this.t1 = f.addLocal(I32);
    this.t2 = f.addLocal(I32);
    this.lfOp = f.addLocal(I32);
    this.u0 = f.addLocal(I64);
    this.u1 = f.addLocal(I64);
    this.u2 = f.addLocal(I64);
    this.lfRes = f.addLocal(I64);
    this.lfA = f.addLocal(I64);
    this.lfB = f.addLocal(I64);
    this.rip = f.addLocal(r.wide ? I64 : I32);
    this.ripOld = f.addLocal(r.wide ? I64 : I32);
    this.mem = new Access(f, r.wide, r.wide ? [] : segs, stack);
  }

  /** Region index of the block at offset `off` from b's start, if it lies on b's page and in the region; else -1. */
  private target(b: Block, off: number): number {
    const o = (b.phys & 0xfff) + off;
    if (o < 0 || o >= 0x1000) return -1;
    return this.at.get((b.phys & ~0xfff) + o) ?? -1;
  }

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
        const t = !b.branch && this.r.fallThrough && b.page1 < 0 ? this.target(b, b.len) : -1;
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

  // ---- State record <-> locals.

  private base(): void { this.f.localGet(P_BASE); }

  /** Write back every register the region's inline code may have changed, and the lazy flags. */
  private flush(): void {
    const f = this.f;
    for (let n = 0; n < 16; n++) if (this.reg[n] >= 0 && (this.written & (1 << n)) !== 0) { this.base(); f.localGet(this.reg[n]).store(Op.I64Store, n * 8, 2); }
    this.base(); f.localGet(this.rip).store(this.r.wide ? Op.I64Store : Op.I32Store, B_RIP, this.r.wide ? 2 : -1);
    if (this.lf) this.flushFlags();
  }

  private flushFlags(): void {
    const f = this.f;
    this.base(); f.localGet(this.lfOp).store(Op.I32Store, B_LF_OP);
    this.base(); f.localGet(this.lfRes).store(Op.I64Store, B_LF_RES, 2);
    this.base(); f.localGet(this.lfA).store(Op.I64Store, B_LF_A, 2);
    this.base(); f.localGet(this.lfB).store(Op.I64Store, B_LF_B, 2);
  }

  /** (Re)load every register the inline code uses, and the lazy flags. */
  private reload(): void {
    const f = this.f;
    for (let n = 0; n < 16; n++) if (this.reg[n] >= 0) { this.base(); f.load(Op.I64Load, n * 8, 2).localSet(this.reg[n]); }
    this.base(); f.load(this.r.wide ? Op.I64Load : Op.I32Load, B_RIP, this.r.wide ? 2 : -1).localSet(this.rip);
    this.mem.reload();
    if (this.lf) {
      this.base(); f.load(Op.I32Load, B_LF_OP).localSet(this.lfOp);
      this.base(); f.load(Op.I64Load, B_LF_RES, 2).localSet(this.lfRes);
      this.base(); f.load(Op.I64Load, B_LF_A, 2).localSet(this.lfA);
      this.base(); f.load(Op.I64Load, B_LF_B, 2).localSet(this.lfB);
    }
  }

  /** Record the block the region stops in, with the region's table slot (V.JIT_EXIT). */
  private noteExit(): void {
    this.base(); this.f.i32Const((this.r.slot << 8) | this.j).store(Op.I32Store, V.JIT_EXIT);
  }

  /** Leave the region having completed c instructions of the current block (all of them: through the chain attempt). */
  private exit(c: number): void {
    const f = this.f;
    this.flush();
    this.noteExit();
    if (this.chainAt !== 0 && c === this.b.n && this.b.branch) { // (RIP is the next block's: a branch set it)
      f.localGet(this.doneL).i32Const(c).op(Op.I32Add).localSet(this.doneL);
      f.br(f.depth - this.chainAt);
      return;
    }
    f.localGet(this.doneL);
    if (c !== 0) f.i32Const(c).op(Op.I32Add);
    f.return();
  }

  /**
   * The current block is done (a branch has set RIP to t's start, or it falls through):
   * go on at region block t unless that would run past the limit, else leave.
   */
  private goTo(t: number, fall: boolean): void {
    const f = this.f, n = this.b.n;
    f.localGet(this.doneL).i32Const(n).op(Op.I32Add).localTee(this.doneL);
    f.i32Const(this.r.blocks[t].n).op(Op.I32Add).localGet(P_LIMIT).op(Op.I32LeU);
    f.if();
    if (fall) this.addRip(this.r.wide, this.b.len);
    // To this block's own loop; forward, out of the blocks enclosing this one to t's code; else
    // round the dispatch loop (past this block's loop) to block t.
    if (t >= this.j) f.br(this.nest + 1 + t - this.j);
    else f.i32Const(t).localSet(this.next).br(this.r.blocks.length - 1 - this.j + this.nest + 2);
    f.end();
    this.exit(0); // done already counts this block
  }

  /** After a branch set RIP to offset `off` from the block's start: on to that block if the region has it, else leave. */
  private branchTo(off: number): void {
    const t = this.target(this.b, off);
    if (t >= 0) this.goTo(t, false); else this.exit(this.b.n);
  }

  /**
   * Instruction i through the interpreter: write back, call step(id, i); leave the region if
   * it reports a fault or a stop (its value - 1 is the index to stop at); if it asks to leave
   * (STEP_LEAVE), no further block runs (the limit drops to 0); reload.
   */
  private step(i: number): void {
    const f = this.f;
    this.flush();
    f.i32Const(this.r.ids[this.j]).i32Const(inline(this.code[i << 2]) ? i | SLOW_STEP : i).call(IMPORT_STEP).localTee(this.st);
    f.if();
    f.localGet(this.st).i32Const(0).op(Op.I32LtS);
    f.if();
    f.i32Const(0).localSet(P_LIMIT);
    f.else();
    this.noteExit();
    f.localGet(this.st).i32Const(1).op(Op.I32Sub).localGet(this.doneL).op(Op.I32Add);
    f.i32Const(-1).op(Op.I32Xor).return();
    f.end();
    f.end();
    this.reload();
  }

  /** The slow path of inline instruction i: the interpreter runs all of it; a branch (CALL/RET) then leaves. */
  private slow(i: number): void {
    this.step(i);
    if (FAST_INFO[this.code[i << 2] & ~F.NO_FLAGS].ends) this.exit(this.b.n);
  }

  // ---- Registers.

  private get64(n: number): void {
    if (this.inMemory) { this.base(); this.f.load(Op.I64Load, n * 8, 2); } else this.f.localGet(this.reg[n]);
  }
  /** Pops an i64 into register n. */
  private set64(n: number): void {
    if (!this.inMemory) { this.f.localSet(this.reg[n]); return; }
    this.f.localSet(this.regTmp); this.base(); this.f.localGet(this.regTmp).store(Op.I64Store, n * 8, 2);
  }
  private get32(n: number): void {
    if (this.inMemory) { this.base(); this.f.load(Op.I32Load, n * 8, 2); } else this.f.localGet(this.reg[n]).op(Op.I32WrapI64);
  }
  /** Pops an i32: the register becomes its zero extension (a 32-bit destination clears bits 63:32). */
  private set32(n: number): void { this.f.op(Op.I64ExtendI32U); this.set64(n); }

  /** Lazy flags of a 32-bit op: kind, then operands and result from i32 locals (-1 = leave as is, -2 - v = constant v). */
  private flags32(op: number, a: number, bv: number, res: number): void {
    const f = this.f;
    f.i32Const(op).localSet(this.lfOp);
    if (a !== -1) { f.localGet(a).op(Op.I64ExtendI32S).localSet(this.lfA); }
    if (bv <= -2) f.i64Const(-2 - bv, (-2 - bv) >> 31).localSet(this.lfB);
    else if (bv !== -1) f.localGet(bv).op(Op.I64ExtendI32S).localSet(this.lfB);
    f.localGet(res).op(Op.I64ExtendI32S).localSet(this.lfRes);
  }

  private flags64(op: number, a: number, bv: number, res: number): void {
    const f = this.f;
    f.i32Const(op).localSet(this.lfOp);
    if (a !== -1) f.localGet(a).localSet(this.lfA);
    if (bv !== -1) f.localGet(bv).localSet(this.lfB);
    f.localGet(res).localSet(this.lfRes);
  }

  // ---- One inline fast op.

  private op(i: number, id: number): void {
    const f = this.f, p = i << 2, code = this.code;
    const a = code[p + 1], s = code[p + 2], x = code[p + 3], ra = a >> 1, rs = s >> 1;
    const { t0, t1, t2, u0, u1, u2 } = this;
    const info = FAST_INFO[id & ~F.NO_FLAGS];
    const producer = this.lastFlags; // the flags this instruction finds (INC/DEC keep its CF)
    if (info.flagsW !== 0 && id < F.NO_FLAGS) this.lastFlags = i;
    switch (id) {
      // ALU, register destination (the NO_FLAGS variants skip the lazy-flag stores).
      case F.ADD_RR32: case F.SUB_RR32: case F.CMP_RR32: case F.AND_RR32: case F.OR_RR32: case F.XOR_RR32: case F.TEST_RR32:
      case F.ADD_RI32: case F.SUB_RI32: case F.CMP_RI32: case F.AND_RI32: case F.OR_RI32: case F.XOR_RI32:
      case F.ADD_RR32 + F.NO_FLAGS: case F.SUB_RR32 + F.NO_FLAGS: case F.AND_RR32 + F.NO_FLAGS: case F.OR_RR32 + F.NO_FLAGS: case F.XOR_RR32 + F.NO_FLAGS:
      case F.ADD_RI32 + F.NO_FLAGS: case F.SUB_RI32 + F.NO_FLAGS: case F.AND_RI32 + F.NO_FLAGS: case F.OR_RI32 + F.NO_FLAGS: case F.XOR_RI32 + F.NO_FLAGS:
      case F.CMP_RR32 + F.NO_FLAGS: case F.CMP_RI32 + F.NO_FLAGS: case F.TEST_RR32 + F.NO_FLAGS:
        this.alu(false, id, ra, rs, s);
        return;
      case F.ADD_RR64: case F.SUB_RR64: case F.CMP_RR64: case F.AND_RR64: case F.OR_RR64: case F.XOR_RR64: case F.TEST_RR64:
      case F.ADD_RI64: case F.SUB_RI64: case F.CMP_RI64: case F.AND_RI64: case F.OR_RI64: case F.XOR_RI64:
      case F.ADD_RR64 + F.NO_FLAGS: case F.SUB_RR64 + F.NO_FLAGS: case F.AND_RR64 + F.NO_FLAGS: case F.OR_RR64 + F.NO_FLAGS: case F.XOR_RR64 + F.NO_FLAGS:
      case F.ADD_RI64 + F.NO_FLAGS: case F.SUB_RI64 + F.NO_FLAGS: case F.AND_RI64 + F.NO_FLAGS: case F.OR_RI64 + F.NO_FLAGS: case F.XOR_RI64 + F.NO_FLAGS:
      case F.CMP_RR64 + F.NO_FLAGS: case F.CMP_RI64 + F.NO_FLAGS: case F.TEST_RR64 + F.NO_FLAGS:
        this.alu(true, id, ra, rs, s);
        return;
      case F.INC32: case F.DEC32: case F.INC64: case F.DEC64: {
        // CF survives INC/DEC: fold the previous producer's CF into RFLAGS first (flags.ts keepCF).
        const wide = id === F.INC64 || id === F.DEC64, dec = id === F.DEC32 || id === F.DEC64;
        this.keepCF(producer);
        const [xv, v] = wide ? [u0, u2] : [t0, t2];
        if (wide) this.get64(ra); else this.get32(ra);
        f.localTee(xv);
        if (wide) f.i64Const(1, 0).op(dec ? Op.I64Sub : Op.I64Add); else f.i32Const(1).op(dec ? Op.I32Sub : Op.I32Add);
        f.localTee(v);
        if (wide) this.set64(ra); else this.set32(ra);
        const lop = ((dec ? K_LF_DEC : K_LF_INC) << 2) | (wide ? 3 : 2);
        if (wide) { f.i64Const(1, 0).localSet(u1); this.flags64(lop, xv, u1, v); } else this.flags32(lop, xv, -3, v);
        return;
      }
      case F.INC32 + F.NO_FLAGS: case F.DEC32 + F.NO_FLAGS:
        this.get32(ra); f.i32Const(1).op(id === F.INC32 + F.NO_FLAGS ? Op.I32Add : Op.I32Sub); this.set32(ra);
        return;
      case F.INC64 + F.NO_FLAGS: case F.DEC64 + F.NO_FLAGS:
        this.get64(ra); f.i64Const(1, 0).op(id === F.INC64 + F.NO_FLAGS ? Op.I64Add : Op.I64Sub); this.set64(ra);
        return;
      case F.SHL_RI32: case F.SHR_RI32: case F.SAR_RI32:
      case F.SHL_RI32 + F.NO_FLAGS: case F.SHR_RI32 + F.NO_FLAGS: case F.SAR_RI32 + F.NO_FLAGS: {
        const k = id & ~F.NO_FLAGS;
        const wop = k === F.SHL_RI32 ? Op.I32Shl : k === F.SHR_RI32 ? Op.I32ShrU : Op.I32ShrS;
        this.get32(ra); f.localTee(t0).i32Const(s).op(wop).localTee(t2); this.set32(ra);
        if (id < F.NO_FLAGS) this.flags32(k === F.SHL_RI32 ? W.LF_SHL32 : k === F.SHR_RI32 ? W.LF_SHR32 : W.LF_SAR32, t0, -2 - s, t2);
        return;
      }
      case F.SHL_RI64: case F.SHR_RI64: case F.SAR_RI64:
      case F.SHL_RI64 + F.NO_FLAGS: case F.SHR_RI64 + F.NO_FLAGS: case F.SAR_RI64 + F.NO_FLAGS: {
        const k = id & ~F.NO_FLAGS;
        const wop = k === F.SHL_RI64 ? Op.I64Shl : k === F.SHR_RI64 ? Op.I64ShrU : Op.I64ShrS;
        this.get64(ra); f.localTee(u0).i64Const(s, 0).op(wop).localTee(u2); this.set64(ra);
        if (id < F.NO_FLAGS) { f.i64Const(s, 0).localSet(u1); this.flags64(k === F.SHL_RI64 ? W.LF_SHL64 : k === F.SHR_RI64 ? W.LF_SHR64 : W.LF_SAR64, u0, u1, u2); }
        return;
      }
      // MOV, LEA, MOVSXD.
      case F.MOV_RR32: this.get32(rs); this.set32(ra); return;
      case F.MOV_RR64: this.get64(rs); this.set64(ra); return;
      case F.MOV_RI32: f.i64Const(s, 0); this.set64(ra); return;
      case F.MOV_RI64: f.i64Const(s, x); this.set64(ra); return;
      case F.LEA32: this.get32(rs); f.i32Const(x).op(Op.I32Add); this.set32(ra); return;
      case F.MOVSXD_RR: this.get32(rs); f.op(Op.I64ExtendI32S); this.set64(ra); return;
      // Loads and stores.
      case F.LOAD32: case F.STORE32: case F.LOADZX8_32: {
        const k = id !== F.STORE32 ? READ : WRITE, size = id === F.LOADZX8_32 ? 1 : 4, m = this.mem;
        if (this.r.wide) { this.step(i); return; } // (32-bit addressing is decoded outside 64-bit code only)
        this.get32((s & 0xffff) >> 1); f.i32Const(x).op(Op.I32Add);
        m.seg32(s >>> 16, size);
        m.hit32(k, size);
        f.op(Op.I32And).if();
        m.phys(k);
        if (id === F.STORE32) { this.get32(ra); f.store(Op.I32Store, 0, 0); }
        else { f.load(size === 1 ? Op.I64Load8U : Op.I64Load32U, 0, 0); this.set64(ra); }
        f.else(); this.step(i); f.end();
        return;
      }
      case F.LOAD64_32: case F.LOAD64: case F.STORE64_32: case F.STORE64: case F.LOADZX8_64: {
        const k = id !== F.STORE64_32 && id !== F.STORE64 ? READ : WRITE, m = this.mem;
        if (!this.r.wide) { this.step(i); return; }
        this.get64(rs); f.i64Const(x, x >> 31).op(Op.I64Add).localSet(m.lin64);
        // The interpreter's fast path takes any access up to 8 bytes inside a page with one bound.
        m.hit64(k, id === F.LOADZX8_64 ? 1 : 8);
        f.if();
        m.phys(k);
        if (id === F.STORE64) { this.get64(ra); f.store(Op.I64Store, 0, 0); }
        else if (id === F.STORE64_32) { this.get32(ra); f.store(Op.I32Store, 0, 0); }
        else { f.load(id === F.LOAD64 ? Op.I64Load : id === F.LOADZX8_64 ? Op.I64Load8U : Op.I64Load32U, 0, 0); this.set64(ra); }
        f.else(); this.step(i); f.end();
        return;
      }
      // Stack (flat 32-bit SS, or 64-bit mode), calls and returns.
      case F.PUSH32: case F.CALL32:
        this.push32(i, () => { if (id === F.PUSH32) this.get32(ra); else { this.rip32(); f.i32Const(x).op(Op.I32Add); } });
        if (id === F.CALL32) { this.addRip(false, s); this.branchTo(s); }
        return;
      case F.POP32: case F.RET32:
        this.pop32(i, () => {
          if (id === F.POP32) { this.set64(ra); return; }
          f.localSet(u2);
          f.localGet(this.rip).localSet(this.ripOld); // this block's RIP, for the return points
          if (this.r.wide) f.localGet(u2).localSet(this.rip);
          else { f.localGet(u2).op(Op.I32WrapI64).localSet(this.rip); this.base(); f.i32Const(0).store(Op.I32Store, B_RIP + 4); }
        });
        if (id === F.RET32) this.returnTo();
        return;
      case F.PUSH64: case F.CALL64:
        this.push64(i, () => { if (id === F.PUSH64) this.get64(ra); else { this.rip64(); f.i64Const(x, x >> 31).op(Op.I64Add); } });
        if (id === F.CALL64) { this.addRip(true, s); this.branchTo(s); }
        return;
      case F.POP64: case F.RET64:
        this.pop64(i, () => {
          if (id === F.POP64) { this.set64(ra); return; }
          f.localSet(u2);
          f.localGet(this.rip).localSet(this.ripOld);
          this.setRip64(u2);
        });
        if (id === F.RET64) this.returnTo();
        return;
      // Branches (the last instruction).
      case F.JMP32: case F.JMP64:
        this.addRip(id === F.JMP64, s);
        this.branchTo(s);
        return;
      case F.JCC32: case F.JCC64:
        this.cond(a);
        f.if();
        this.nest = 1;
        this.addRip(id === F.JCC64, s); this.branchTo(s);
        f.else();
        this.addRip(id === F.JCC64, x); this.branchTo(x);
        f.end();
        this.nest = 0;
        return;
    }
    throw new Error(`jit: fast op ${id} is marked inline but has no code generator`);
  }

  /** An ALU op on a register: x (op) y into the destination unless CMP/TEST, then the lazy flags unless NO_FLAGS. */
  private alu(wide: boolean, id: number, ra: number, rs: number, s: number): void {
    const f = this.f, base = id & ~F.NO_FLAGS, kind = ALU_KIND[base], flags = id < F.NO_FLAGS;
    const rr = base <= (wide ? F.TEST_RR64 : F.TEST_RR32) && base >= (wide ? F.ADD_RR64 : F.ADD_RR32);
    const [x, y, v] = wide ? [this.u0, this.u1, this.u2] : [this.t0, this.t1, this.t2];
    const compare = kind === K_CMP || kind === K_TEST;
    if (compare && !flags) return;
    const get = (n: number): void => { if (wide) this.get64(n); else this.get32(n); };
    get(ra); f.localSet(x);
    if (rr) get(rs); else if (wide) f.i64Const(s, s >> 31); else f.i32Const(s);
    f.localSet(y);
    f.localGet(x).localGet(y).op((wide ? ALU_OP64 : ALU_OP32)[kind]).localSet(v);
    if (!compare) { f.localGet(v); if (wide) this.set64(ra); else this.set32(ra); }
    if (!flags) return;
    const logic = kind !== K_ADD && kind !== K_SUB && kind !== K_CMP;
    const op = kind === K_ADD ? (wide ? W.LF_ADD64 : W.LF_ADD32) : logic ? (wide ? W.LF_LOGIC64 : W.LF_LOGIC32) : (wide ? W.LF_SUB64 : W.LF_SUB32);
    if (wide) this.flags64(op, logic ? -1 : x, logic ? -1 : y, v); else this.flags32(op, logic ? -1 : x, logic ? -1 : y, v);
  }

  /**
   * Make CF concrete in the RFLAGS word (INC/DEC keep it): from the producer's operands in
   * locals where this block made the flags (ADD/SUB/CMP/logic), else through the lazy-flag
   * reader on the state record. After INC/DEC it is already there.
   */
  private keepCF(producer: number): void {
    const f = this.f, prod = producer >= 0 ? this.code[producer << 2] : -1;
    if (prod === F.INC32 || prod === F.DEC32 || prod === F.INC64 || prod === F.DEC64) return;
    const kind = prod >= 0 && prod < F.FAST_COUNT ? ALU_KIND[prod] : -1;
    if (kind < 0) {
      if (this.lf) this.flushFlags();
      f.call(IMPORT_KEEPCF);
      return;
    }
    const wide = prod >= F.ADD_RR64 && prod <= F.XOR_RI64;
    const get = (l: number): void => { f.localGet(l); if (!wide) f.op(Op.I32WrapI64); };
    this.base(); this.base();
    f.load(Op.I32Load, B_RFLAGS).i32Const(~1).op(Op.I32And);
    if (kind === K_ADD) { get(this.lfRes); get(this.lfA); f.op(wide ? Op.I64LtU : Op.I32LtU); }
    else if (kind === K_SUB || kind === K_CMP) { get(this.lfA); get(this.lfB); f.op(wide ? Op.I64LtU : Op.I32LtU); }
    else f.i32Const(0);
    f.op(Op.I32Or).store(Op.I32Store, B_RFLAGS);
  }

  /** RIP += off (32-bit: the low half only, as the interpreter does; 64-bit: the full sum). */
  private addRip(wide: boolean, off: number): void {
    const f = this.f;
    if (off === 0) return;
    if (!this.r.wide) { f.localGet(this.rip).i32Const(off).op(Op.I32Add).localSet(this.rip); return; }
    if (wide) { f.localGet(this.rip).i64Const(off, off >> 31).op(Op.I64Add).localSet(this.rip); return; }
    f.localGet(this.rip).i64Const(0, -1).op(Op.I64And);
    f.localGet(this.rip).op(Op.I32WrapI64).i32Const(off).op(Op.I32Add).op(Op.I64ExtendI32U).op(Op.I64Or).localSet(this.rip);
  }

  /** Pushes RIP's low half (i32) / all of RIP (i64), and sets RIP from an i64 local (a 32-bit region takes the low half). */
  private rip32(): void { this.f.localGet(this.rip); if (this.r.wide) this.f.op(Op.I32WrapI64); }
  private rip64(): void { this.f.localGet(this.rip); if (!this.r.wide) this.f.op(Op.I64ExtendI32U); }
  private setRip64(l: number): void { this.f.localGet(l); if (!this.r.wide) this.f.op(Op.I32WrapI64); this.f.localSet(this.rip); }

  /** After an inline RET (RIP set, this block's RIP in ripOld): on to the region's return point it matches, else leave. */
  private returnTo(): void {
    const f = this.f;
    for (const t of this.returns) {
      const delta = this.r.blocks[t].phys - this.b.phys;
      if (this.r.wide) f.localGet(this.rip).localGet(this.ripOld).i64Const(delta, delta >> 31).op(Op.I64Add).op(Op.I64Eq);
      else f.localGet(this.rip).localGet(this.ripOld).i32Const(delta).op(Op.I32Add).op(Op.I32Eq);
      f.if();
      this.nest = 1;
      this.goTo(t, false);
      f.end();
      this.nest = 0;
    }
    this.exit(this.b.n);
  }

  /** PUSH of a 32-bit value (emitted by `value`) on a flat 32-bit stack; else the interpreter. */
  private push32(i: number, value: () => void): void {
    const f = this.f, m = this.mem;
    if (this.r.wide) { this.slow(i); return; }
    this.get32(RSP); f.i32Const(4).op(Op.I32Sub).localTee(this.t0);
    m.ssBaseGet(); f.op(Op.I32Add).localSet(m.lin);
    m.hit32(STACK_WRITE, 4);
    f.if();
    m.phys(STACK_WRITE); value(); f.store(Op.I32Store, 0, 0);
    this.setLow32(RSP, this.t0);
    f.else(); this.slow(i); f.end();
  }

  private pop32(i: number, use: () => void): void {
    const f = this.f, m = this.mem;
    if (this.r.wide) { this.slow(i); return; }
    this.get32(RSP); f.localTee(this.t0);
    m.ssBaseGet(); f.op(Op.I32Add).localSet(m.lin);
    m.hit32(STACK_READ, 4);
    f.if();
    m.phys(STACK_READ); f.load(Op.I64Load32U, 0, 0).localSet(this.u1);
    f.localGet(this.t0).i32Const(4).op(Op.I32Add).localSet(this.t0);
    this.setLow32(RSP, this.t0);
    f.localGet(this.u1); use(); // after RSP: POP ESP keeps the popped value
    f.else(); this.slow(i); f.end();
  }

  /** Register n's low half becomes local t (the high half stays: ESP on a 32-bit stack). */
  private setLow32(n: number, t: number): void {
    const f = this.f;
    this.get64(n); f.i64Const(0, -1).op(Op.I64And).localGet(t).op(Op.I64ExtendI32U).op(Op.I64Or); this.set64(n);
  }

  private push64(i: number, value: () => void): void {
    const f = this.f, m = this.mem;
    if (!this.r.wide) { this.slow(i); return; }
    this.get64(RSP); f.i64Const(8, 0).op(Op.I64Sub).localSet(m.lin64);
    m.hit64(STACK_WRITE, 8);
    f.if();
    m.phys(STACK_WRITE); value(); f.store(Op.I64Store, 0, 0);
    f.localGet(m.lin64); this.set64(RSP);
    f.else(); this.slow(i); f.end();
  }

  private pop64(i: number, use: () => void): void {
    const f = this.f, m = this.mem;
    if (!this.r.wide) { this.slow(i); return; }
    this.get64(RSP); f.localSet(m.lin64);
    m.hit64(STACK_READ, 8);
    f.if();
    m.phys(STACK_READ); f.load(Op.I64Load, 0, 0).localSet(this.u1);
    f.localGet(m.lin64).i64Const(8, 0).op(Op.I64Add); this.set64(RSP);
    f.localGet(this.u1); use(); // after RSP: POP RSP keeps the popped value
    f.else(); this.slow(i); f.end();
  }

  // ---- Conditions: from the flag producer in this block when it is known (cpu/jit/conds.ts), else the lazy-flag reader.

  /** Pushes condition cc (0-15) as an i32 0/1. */
  private cond(cc: number): void {
    const prod = this.lastFlags >= 0 ? this.code[this.lastFlags << 2] : -1;
    if (emitCond(this.f, prod, cc, this.lfRes, this.lfA, this.lfB)) return;
    if (this.lf) this.flushFlags();
    this.f.i32Const(cc).call(IMPORT_COND);
  }
}

/**
 * Whether region r keeps the guest registers in the state record rather than in locals. Locals
 * pay off across many instructions per entry; a region that calls the interpreter (`step`) reloads
 * them all after each such instruction, and on a kernel most entries run one block of ~6
 * instructions and leave (a Linux boot under jit: 23 M entries for 148 M compiled instructions,
 * 9 M steps), where loading and storing every register the region uses costs more than the
 * instructions.
 */
export function registersInMemory(r: RegionCode): boolean {
  return MEMORY_REGS === 'always' || (MEMORY_REGS === 'steps' && r.blocks.some((b) => { for (let i = 0; i < b.n; i++) if (!inline(b.code[i << 2])) return true; return false; }));
}
const MEMORY_REGS: 'always' | 'steps' | 'never' = 'steps';

/** A module of compiled regions: its bytes, function k (export `r${k}`) for region k. */
export function buildModule(regions: RegionCode[], memPages: number, stats: GenStats, debug = false): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder({ debug });
  m.importMemory('e', 'm', memPages);
  m.importFunction('e', 'step', { params: [I32, I32], results: [I32] });
  m.importFunction('e', 'cond', { params: [I32], results: [I32] });
  m.importFunction('e', 'keepcf', { params: [], results: [] });
  if (regions.some((r) => r.chain)) m.importTable('e', 't', 0);
  const type = m.typeIndex(REGION_SIG);
  const fns = regions.map((_, k) => m.addFunction(`r${k}`, REGION_SIG));
  regions.forEach((r, k) => { emitRegion(fns[k], r, stats, type); m.exportFunction(`r${k}`, fns[k].index); });
  return m.encode();
}
