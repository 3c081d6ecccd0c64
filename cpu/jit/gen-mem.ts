// Memory fast ops in generated code (cpu/jit/codegen.ts): loads and stores through the inline
// TLB test (cpu/jit/access.ts), and the stack: PUSH/POP/CALL/RET on a flat 32-bit stack or in
// 64-bit mode. Each falls back to the interpreter (`step`) on any slow path.

import { Fast as F } from '../fastops.js';
import { READ, STACK_READ, STACK_WRITE, WRITE } from './access.js';
import { GenBase, B_RIP_HI, RSP } from './gen-base.js';
import { Op } from './wasm/index.js';

export class MemGen extends GenBase {
  /** Emits memory fast op `id` (instruction i); false if it is not one. */
  protected memOp(i: number, id: number): boolean {
    const f = this.f, p = i << 2, code = this.code;
    const a = code[p + 1], s = code[p + 2], x = code[p + 3], ra = a >> 1, rs = s >> 1;
    const { u2 } = this;
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
