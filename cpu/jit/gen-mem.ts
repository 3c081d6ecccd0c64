// Memory fast ops in generated code (cpu/jit/codegen.ts): loads and stores through the inline
// TLB test (cpu/jit/access.ts), and the stack: PUSH/POP/CALL/RET on a flat 32-bit stack or in
// 64-bit mode. Each falls back to the interpreter (`step`) on any slow path.

import { ALU_TEST, EA_NONE, EA_RIP, Fast as F, LOAD_SIGNED, LOAD_TO64, ea64, eaBase, eaIndex, eaScale, eaSeg } from '../fastops.js';
import { ALU_ADD, ALU_AND, ALU_CMP, ALU_SUB } from '../alu.js';
import { W } from '../words.js';
import { segWord } from '../cpu.js';
import { FS, SEG_BASE } from '../state.js';
import { READ, STACK_READ, STACK_WRITE, WRITE } from './access.js';
import { GenBase, B_RIP_HI, RSP } from './gen-base.js';
import { Op } from './wasm/index.js';

/** Loads by LOAD_M shape (size | LOAD_SIGNED | LOAD_TO64) giving an i64; null: an i32 load to zero-extend (sign-extended into 32 bits only). */
const LOAD_OP: Record<number, Op> = {
  1: Op.I64Load8U, 2: Op.I64Load16U, 4: Op.I64Load32U, 8: Op.I64Load,
  [1 | LOAD_TO64]: Op.I64Load8U, [2 | LOAD_TO64]: Op.I64Load16U, [4 | LOAD_TO64]: Op.I64Load32U, [8 | LOAD_TO64]: Op.I64Load,
  [1 | LOAD_SIGNED | LOAD_TO64]: Op.I64Load8S, [2 | LOAD_SIGNED | LOAD_TO64]: Op.I64Load16S, [4 | LOAD_SIGNED | LOAD_TO64]: Op.I64Load32S,
};
const LOAD32_SIGNED: Record<number, Op> = { 1: Op.I32Load8S, 2: Op.I32Load16S };
const STORE_OP: Record<number, Op> = { 1: Op.I64Store8, 2: Op.I64Store16, 4: Op.I64Store32, 8: Op.I64Store };
/** ALU_RM/MR/MI: the memory operand as a sign-extended i32 (1, 2, 4 bytes), its store; the wasm op and lazy-flag kind (<< 2) of each cpu/alu.ts ALU_* (ADC/SBB never come). */
const LOAD_S32: Record<number, Op> = { 1: Op.I32Load8S, 2: Op.I32Load16S, 4: Op.I32Load };
const STORE_32: Record<number, Op> = { 1: Op.I32Store8, 2: Op.I32Store16, 4: Op.I32Store };
export const ALU32 = [Op.I32Add, Op.I32Or, -1, -1, Op.I32And, Op.I32Sub, Op.I32Xor, Op.I32Sub];
const ALU64 = [Op.I64Add, Op.I64Or, -1, -1, Op.I64And, Op.I64Sub, Op.I64Xor, Op.I64Sub];
export const LF_KIND = [W.LF_ADD32 & ~3, W.LF_LOGIC32 & ~3, -1, -1, W.LF_LOGIC32 & ~3, W.LF_SUB32 & ~3, W.LF_LOGIC32 & ~3, W.LF_SUB32 & ~3];

export class MemGen extends GenBase {
  /** Emits memory fast op `id` (instruction i); false if it is not one. */
  protected memOp(i: number, id: number): boolean {
    const f = this.f, p = i << 2, code = this.code;
    const a = code[p + 1], s = code[p + 2], x = code[p + 3], ra = a >> 1, rs = s >> 1;
    const { u2 } = this, reg = (a & 0xff) >> 1; // (the general memory forms: a's low byte is the register word)
    switch (id) {
      // Loads and stores.
      case F.LOAD32: case F.STORE32: case F.LOADZX8_32: {
        const k = id !== F.STORE32 ? READ : WRITE, size = id === F.LOADZX8_32 ? 1 : 4, m = this.mem;
        if (this.r.wide) { this.step(i); return true; } // (32-bit addressing is decoded outside 64-bit code only)
        this.get32((s & 0xffff) >> 1); f.i32Const(x).op(Op.I32Add);
        m.seg32(s >>> 16, size);
        m.hit32(k, size);
        f.op(Op.I32And).if();
        m.phys(k);
        if (id === F.STORE32) { this.get32(ra); f.store(Op.I32Store, 0, 0); }
        else { f.load(size === 1 ? Op.I64Load8U : Op.I64Load32U, 0, 0); this.set64(ra); }
        f.else(); this.step(i); f.end();
        return true;
      }
      case F.LOAD64_32: case F.LOAD64: case F.STORE64_32: case F.STORE64: case F.LOADZX8_64: {
        const k = id !== F.STORE64_32 && id !== F.STORE64 ? READ : WRITE, m = this.mem;
        if (!this.r.wide) { this.step(i); return true; }
        this.get64(rs); f.i64Const(x, x >> 31).op(Op.I64Add).localSet(m.lin64);
        // The interpreter's fast path takes any access up to 8 bytes inside a page with one bound.
        m.hit64(k, id === F.LOADZX8_64 ? 1 : 8);
        f.if();
        m.phys(k);
        if (id === F.STORE64) { this.get64(ra); f.store(Op.I64Store, 0, 0); }
        else if (id === F.STORE64_32) { this.get32(ra); f.store(Op.I32Store, 0, 0); }
        else { f.load(id === F.LOAD64 ? Op.I64Load : id === F.LOADZX8_64 ? Op.I64Load8U : Op.I64Load32U, 0, 0); this.set64(ra); }
        f.else(); this.step(i); f.end();
        return true;
      }
      // General memory operands (descriptor in a's bits 8+, cpu/fastops.ts eaDesc).
      case F.LEA_M32: case F.LEA_M64:
        if (ea64(a) !== this.r.wide) { this.step(i); return true; }
        this.eaPush(a, x);
        if (id === F.LEA_M64) this.set64(reg);
        else { if (this.r.wide) f.op(Op.I32WrapI64); this.set32(reg); }
        return true;
      case F.LOAD_M: case F.STORE_M: case F.STORE_MI: {
        const size = id === F.LOAD_M ? s & 15 : id === F.STORE_M ? s : a & 0xff, k = id === F.LOAD_M ? READ : WRITE;
        if (ea64(a) !== this.r.wide) { this.step(i); return true; }
        this.eaHit(a, x, size, k);
        f.if();
        this.mem.phys(k);
        if (id === F.LOAD_M) {
          const op = LOAD_OP[s];
          if (op !== undefined) { f.load(op, 0, 0); this.set64(reg); } else { f.load(LOAD32_SIGNED[size], 0, 0); this.set32(reg); }
        } else {
          if (id === F.STORE_M) this.get64(reg); else f.i64Const(s, s >> 31);
          f.store(STORE_OP[size], 0, 0);
        }
        f.else(); this.step(i); f.end();
        return true;
      }
      case F.ALU_RM: case F.ALU_MR: case F.ALU_MI: {
        const shape = id === F.ALU_MI ? a & 0xff : s, size = 1 << (shape >> 4);
        const wb = (shape & 7) !== ALU_CMP && (shape & ALU_TEST) === 0, k = id !== F.ALU_RM && wb ? WRITE : READ;
        if (ea64(a) !== this.r.wide) { this.step(i); return true; }
        this.eaHit(a, x, size, k);
        f.if();
        this.aluMem(id, shape, reg, s, k);
        f.else(); this.step(i); f.end();
        return true;
      }
      case F.NOP: return true;
      // Stack (flat 32-bit SS, or 64-bit mode), calls and returns.
      case F.PUSH32: case F.CALL32:
        this.push32(i, () => { if (id === F.PUSH32) this.get32(ra); else { this.rip32(); f.i32Const(x).op(Op.I32Add); } });
        if (id === F.CALL32) { this.addRip(false, s); this.branchTo(s); }
        return true;
      case F.POP32: case F.RET32:
        this.pop32(i, () => {
          if (id === F.POP32) { this.set64(ra); return true; }
          f.localSet(u2);
          f.localGet(this.rip).localSet(this.ripOld); // this block's RIP, for the return points
          if (this.r.wide) f.localGet(u2).localSet(this.rip);
          else { f.localGet(u2).op(Op.I32WrapI64).localSet(this.rip); this.base(); f.i32Const(0).store(Op.I32Store, B_RIP_HI); }
        });
        if (id === F.RET32) this.returnTo();
        return true;
      case F.PUSH64: case F.CALL64:
        this.push64(i, () => { if (id === F.PUSH64) this.get64(ra); else { this.rip64(); f.i64Const(x, x >> 31).op(Op.I64Add); } });
        if (id === F.CALL64) { this.addRip(true, s); this.branchTo(s); }
        return true;
      case F.POP64: case F.RET64:
        this.pop64(i, () => {
          if (id === F.POP64) { this.set64(ra); return true; }
          f.localSet(u2);
          f.localGet(this.rip).localSet(this.ripOld);
          this.setRip64(u2);
        });
        if (id === F.RET64) this.returnTo();
        return true;
    }
    return false;
  }

  /**
   * ALU_RM/MR/MI after a true hit test: x op y, where x is the register (RM) or the memory operand
   * and y the memory operand (RM), the register (MR) or the immediate (MI); the result back unless
   * CMP/TEST; the lazy flags as cpu/alu.ts alu()/alu64() leave them (8/16-bit values sign-extended).
   */
  private aluMem(id: number, shape: number, reg: number, imm: number, k: number): void {
    const f = this.f, m = this.mem, size = 1 << (shape >> 4), wide = size === 8;
    const test = (shape & ALU_TEST) !== 0, op = test ? ALU_AND : shape & 7, wb = (shape & 7) !== ALU_CMP && !test;
    const [xl, yl, vl] = wide ? [this.u0, this.u1, this.u2] : [this.t0, this.t1, this.t2];
    const narrow = (): void => { if (size === 1) f.op(Op.I32Extend8S); else if (size === 2) f.op(Op.I32Extend16S); };
    const mem = (): void => { m.phys(k); f.load(wide ? Op.I64Load : LOAD_S32[size], 0, 0); };
    const regv = (): void => { if (wide) this.get64(reg); else { this.get32(reg); narrow(); } };
    if (id === F.ALU_RM) { regv(); f.localSet(xl); mem(); f.localSet(yl); }
    else {
      mem(); f.localSet(xl);
      if (id === F.ALU_MR) regv(); else if (wide) f.i64Const(imm, imm >> 31); else { f.i32Const(imm); narrow(); }
      f.localSet(yl);
    }
    f.localGet(xl).localGet(yl).op((wide ? ALU64 : ALU32)[op]);
    if (!wide) narrow();
    f.localSet(vl);
    if (wb && id === F.ALU_RM) { f.localGet(vl); if (wide) this.set64(reg); else this.set32(reg); }
    else if (wb) { m.phys(k); f.localGet(vl); f.store(wide ? Op.I64Store : STORE_32[size], 0, 0); }
    const lop = LF_KIND[op] | (size === 1 ? 0 : size === 2 ? 1 : size === 4 ? 2 : 3), logic = op !== ALU_ADD && op !== ALU_SUB && op !== ALU_CMP;
    if (wide) this.flags64(lop, logic ? -1 : xl, logic ? -1 : yl, vl); else this.flags32(lop, logic ? -1 : xl, logic ? -1 : yl, vl);
  }

  /** Pushes the effective address (no segment base) of descriptor a and displacement x: i32 (32-bit addressing) or i64. */
  private eaPush(a: number, x: number): void {
    const f = this.f, b = eaBase(a), n = eaIndex(a), s = eaScale(a);
    if (!ea64(a)) {
      f.i32Const(x);
      if (b !== EA_NONE) { this.get32(b); f.op(Op.I32Add); }
      if (n !== EA_NONE) { this.get32(n); if (s !== 0) f.i32Const(s).op(Op.I32Shl); f.op(Op.I32Add); }
      return;
    }
    f.i64Const(x, x >> 31);
    if (b === EA_RIP) f.localGet(this.rip).op(Op.I64Add); // the block's RIP (x counts from it)
    else if (b !== EA_NONE) { this.get64(b); f.op(Op.I64Add); }
    if (n !== EA_NONE) { this.get64(n); if (s !== 0) f.i64Const(s, 0).op(Op.I64Shl); f.op(Op.I64Add); }
  }

  /**
   * Pushes "the `size`-byte access of kind k through descriptor a may go inline": the segment
   * bound (32-bit) and the page test (cpu/jit/access.ts), with the linear address in the Access's
   * locals for phys(). Anything else (a limit, a non-canonical address, a TLB miss) is the step's.
   */
  private eaHit(a: number, x: number, size: number, k: number): void {
    const f = this.f, m = this.mem, seg = eaSeg(a);
    this.eaPush(a, x);
    if (!ea64(a)) {
      m.seg32(segWord(seg, SEG_BASE), size);
      m.hit32(k, size);
      f.op(Op.I32And);
      return;
    }
    if (seg >= FS) { this.base(); f.load(Op.I64Load, segWord(seg, SEG_BASE) * 4, 2).op(Op.I64Add); }
    f.localSet(m.lin64);
    m.hit64(k, size);
  }

  /** PUSH of a 32-bit value (emitted by `value`) on a flat 32-bit stack; else the interpreter. */
  protected push32(i: number, value: () => void): void {
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

  protected pop32(i: number, use: () => void): void {
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
  protected setLow32(n: number, t: number): void {
    const f = this.f;
    this.get64(n); f.i64Const(0, -1).op(Op.I64And).localGet(t).op(Op.I64ExtendI32U).op(Op.I64Or); this.set64(n);
  }

  protected push64(i: number, value: () => void): void {
    const f = this.f, m = this.mem;
    if (!this.r.wide) { this.slow(i); return; }
    this.get64(RSP); f.i64Const(8, 0).op(Op.I64Sub).localSet(m.lin64);
    m.hit64(STACK_WRITE, 8);
    f.if();
    m.phys(STACK_WRITE); value(); f.store(Op.I64Store, 0, 0);
    f.localGet(m.lin64); this.set64(RSP);
    f.else(); this.slow(i); f.end();
  }

  protected pop64(i: number, use: () => void): void {
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
}
