// The code generator's base (cpu/jit/codegen.ts builds on it): the locals of one region
// function, guest registers and lazy flags between those locals and the state record, and the
// control flow every instruction may need: leave the region, go on to another of its blocks,
// run one instruction through the interpreter (`step`), evaluate a condition.

import type { Block } from '../blocks.js';
import { Fast as F, FAST_INFO, ea64, eaBase, eaIndex, eaSeg } from '../fastops.js';
import { segWord } from '../cpu.js';
import { SEG_BASE } from '../state.js';
import { W } from '../words.js';
import { V } from '../vcpu-layout.js';
import { Access } from './access.js';
import { endsInBranch, inline, type RegionCode } from './region.js';
import { emitCond } from './conds.js';
import { Op, ValType, type FuncBuilder } from './wasm/index.js';

export const I32 = ValType.I32, I64 = ValType.I64;
/** Byte offsets in the state record. */
const B_RIP = W.W_RIP * 4, B_LF_OP = W.LF_OP * 4, B_LF_RES = W.LF_RES * 4, B_LF_A = W.LF_A * 4, B_LF_B = W.LF_B * 4;
export const B_RFLAGS = W.W_RFLAGS * 4, B_RIP_HI = B_RIP + 4, RSP = 4;
/** Lazy-flag kinds of INC and DEC (cpu/flags.ts K_INC, K_DEC). */
export const K_LF_INC = 6, K_LF_DEC = 7;
/** Parameters of a region function (chain.ts REGION_SIG). */
export const P_BASE = 0, P_LIMIT = 1, P_ENTRY = 2, P_DONE = 3;
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
  if (info.fields.includes('a')) m |= 1 << ((a & 0xff) >> 1);
  if (info.fields.includes('M')) { const b = eaBase(a), n = eaIndex(a); if (b < 16) m |= 1 << b; if (n < 16) m |= 1 << n; }
  if (info.fields.includes('r')) m |= 1 << (s >> 1); // source register word
  if (info.fields.includes('m')) m |= 1 << ((s & 0xffff) >> 1); // base register word (| seg << 16)
  if (info.stack) m |= 1 << RSP;
  return m;
}

export interface GenStats { inlined: number; stepped: number }

export class GenBase {
  protected readonly reg = new Int32Array(16).fill(-1);
  /** Guest registers stay in the state record (no locals): see registersInMemory. */
  protected readonly inMemory: boolean;
  /** A value on its way to a register in the state record. */
  protected readonly regTmp: number;
  protected used = 0;
  protected written = 0;
  protected lf = false;
  /** Instructions done (the `done` parameter: those of earlier regions of the chain included). */
  protected readonly doneL = P_DONE;
  /** f.depth inside the block whose end is the chain attempt (0: the region does not chain). */
  protected chainAt = 0;
  protected readonly next: number;
  protected readonly st: number;
  protected readonly t0: number;
  protected readonly t1: number;
  protected readonly t2: number;
  protected readonly u0: number;
  protected readonly u1: number;
  protected readonly u2: number;
  protected readonly lfOp: number;
  protected readonly lfRes: number;
  protected readonly lfA: number;
  protected readonly lfB: number;
  /** RIP (i64 in 64-bit code, else the low half as i32), and its value before a RET. */
  protected readonly rip: number;
  protected readonly ripOld: number;
  /** Memory access: segment bounds and the page test. */
  protected readonly mem: Access;
  /** The block being emitted: its index in the region, the block, its code. */
  protected j = 0;
  protected b: Block;
  protected code: Int32Array;
  /** if/else levels open inside the block being emitted (for branch depths to the loop). */
  protected nest = 0;
  /** The last inline op at or before the Jcc that writes flags, if no stepped instruction follows it. */
  protected lastFlags = -1;
  /** Region index of the block at each physical address. */
  protected readonly at = new Map<number, number>();
  /** Region indices of the blocks a CALL in the region returns to. */
  protected readonly returns: number[] = [];

  constructor(protected readonly f: FuncBuilder, protected readonly r: RegionCode, protected readonly typeIndex: number) {
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
        if (info.writesDst) this.written |= 1 << ((code[(i << 2) + 1] & 0xff) >> 1);
        if (info.stack) this.written |= 1 << RSP;
        if (info.flagsW !== 0 || info.flagsR !== 0) this.lf = true;
        if (info.stack) stack = r.wide ? 8 : 4;
        if ((id === F.LOAD32 || id === F.STORE32 || id === F.LOADZX8_32) && !segs.includes(code[(i << 2) + 2] >>> 16)) segs.push(code[(i << 2) + 2] >>> 16);
        const a = code[(i << 2) + 1];
        if (info.mem && info.fields.includes('M') && !ea64(a) && !segs.includes(segWord(eaSeg(a), SEG_BASE))) segs.push(segWord(eaSeg(a), SEG_BASE));
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
  protected target(b: Block, off: number): number {
    const o = (b.phys & 0xfff) + off;
    if (o < 0 || o >= 0x1000) return -1;
    return this.at.get((b.phys & ~0xfff) + o) ?? -1;
  }

  // ---- State record <-> locals.

  protected base(): void { this.f.localGet(P_BASE); }

  /** Write back every register the region's inline code may have changed, and the lazy flags. */
  protected flush(): void {
    const f = this.f;
    for (let n = 0; n < 16; n++) if (this.reg[n] >= 0 && (this.written & (1 << n)) !== 0) { this.base(); f.localGet(this.reg[n]).store(Op.I64Store, n * 8, 2); }
    this.base(); f.localGet(this.rip).store(this.r.wide ? Op.I64Store : Op.I32Store, B_RIP, this.r.wide ? 2 : -1);
    if (this.lf) this.flushFlags();
  }

  protected flushFlags(): void {
    const f = this.f;
    this.base(); f.localGet(this.lfOp).store(Op.I32Store, B_LF_OP);
    this.base(); f.localGet(this.lfRes).store(Op.I64Store, B_LF_RES, 2);
    this.base(); f.localGet(this.lfA).store(Op.I64Store, B_LF_A, 2);
    this.base(); f.localGet(this.lfB).store(Op.I64Store, B_LF_B, 2);
  }

  /** (Re)load every register the inline code uses, and the lazy flags. */
  protected reload(): void {
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
  protected noteExit(): void {
    this.base(); this.f.i32Const((this.r.slot << 8) | this.j).store(Op.I32Store, V.JIT_EXIT);
  }

  /** Leave the region having completed c instructions of the current block (all of them: through the chain attempt). */
  protected exit(c: number): void {
    const f = this.f;
    this.flush();
    this.noteExit();
    if (this.chainAt !== 0 && c === this.b.n && endsInBranch(this.b)) { // (RIP is the next block's: a branch set it)
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
  protected goTo(t: number, fall: boolean): void {
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
  protected branchTo(off: number): void {
    const t = this.target(this.b, off);
    if (t >= 0) this.goTo(t, false); else this.exit(this.b.n);
  }

  /**
   * Instruction i through the interpreter: write back, call step(id, i, done) (done: instruction time for what it runs); leave the region if
   * it reports a fault or a stop (its value - 1 is the index to stop at); if it asks to leave
   * (STEP_LEAVE), no further block runs (the limit drops to 0); reload.
   */
  protected step(i: number): void {
    const f = this.f;
    this.flush();
    f.i32Const(this.r.ids[this.j]).i32Const(inline(this.code[i << 2]) ? i | SLOW_STEP : i).localGet(this.doneL).call(IMPORT_STEP).localTee(this.st);
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
  protected slow(i: number): void {
    this.step(i);
    if (FAST_INFO[this.code[i << 2] & ~F.NO_FLAGS].ends) this.exit(this.b.n);
  }

  // ---- Registers.

  protected get64(n: number): void {
    if (this.inMemory) { this.base(); this.f.load(Op.I64Load, n * 8, 2); } else this.f.localGet(this.reg[n]);
  }
  /** Pops an i64 into register n. */
  protected set64(n: number): void {
    if (!this.inMemory) { this.f.localSet(this.reg[n]); return; }
    this.f.localSet(this.regTmp); this.base(); this.f.localGet(this.regTmp).store(Op.I64Store, n * 8, 2);
  }
  protected get32(n: number): void {
    if (this.inMemory) { this.base(); this.f.load(Op.I32Load, n * 8, 2); } else this.f.localGet(this.reg[n]).op(Op.I32WrapI64);
  }
  /** Pops an i32: the register becomes its zero extension (a 32-bit destination clears bits 63:32). */
  protected set32(n: number): void { this.f.op(Op.I64ExtendI32U); this.set64(n); }

  /** Lazy flags of a 32-bit op: kind, then operands and result from i32 locals (-1 = leave as is, -2 - v = constant v). */
  protected flags32(op: number, a: number, bv: number, res: number): void {
    const f = this.f;
    f.i32Const(op).localSet(this.lfOp);
    if (a !== -1) { f.localGet(a).op(Op.I64ExtendI32S).localSet(this.lfA); }
    if (bv <= -2) f.i64Const(-2 - bv, (-2 - bv) >> 31).localSet(this.lfB);
    else if (bv !== -1) f.localGet(bv).op(Op.I64ExtendI32S).localSet(this.lfB);
    f.localGet(res).op(Op.I64ExtendI32S).localSet(this.lfRes);
  }

  protected flags64(op: number, a: number, bv: number, res: number): void {
    const f = this.f;
    f.i32Const(op).localSet(this.lfOp);
    if (a !== -1) f.localGet(a).localSet(this.lfA);
    if (bv !== -1) f.localGet(bv).localSet(this.lfB);
    f.localGet(res).localSet(this.lfRes);
  }

  /** RIP += off (32-bit: the low half only, as the interpreter does; 64-bit: the full sum). */
  protected addRip(wide: boolean, off: number): void {
    const f = this.f;
    if (off === 0) return;
    if (!this.r.wide) { f.localGet(this.rip).i32Const(off).op(Op.I32Add).localSet(this.rip); return; }
    if (wide) { f.localGet(this.rip).i64Const(off, off >> 31).op(Op.I64Add).localSet(this.rip); return; }
    f.localGet(this.rip).i64Const(0, -1).op(Op.I64And);
    f.localGet(this.rip).op(Op.I32WrapI64).i32Const(off).op(Op.I32Add).op(Op.I64ExtendI32U).op(Op.I64Or).localSet(this.rip);
  }

  /** Pushes RIP's low half (i32) / all of RIP (i64), and sets RIP from an i64 local (a 32-bit region takes the low half). */
  protected rip32(): void { this.f.localGet(this.rip); if (this.r.wide) this.f.op(Op.I32WrapI64); }
  protected rip64(): void { this.f.localGet(this.rip); if (!this.r.wide) this.f.op(Op.I64ExtendI32U); }
  protected setRip64(l: number): void { this.f.localGet(l); if (!this.r.wide) this.f.op(Op.I32WrapI64); this.f.localSet(this.rip); }

  /** After an inline RET (RIP set, this block's RIP in ripOld): on to the region's return point it matches, else leave. */
  protected returnTo(): void {
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


  // ---- Conditions: from the flag producer in this block when it is known (cpu/jit/conds.ts), else the lazy-flag reader.

  /** Pushes condition cc (0-15) as an i32 0/1. */
  protected cond(cc: number): void {
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
