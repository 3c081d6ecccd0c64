// Register fast ops in generated code (cpu/jit/codegen.ts): ALU, INC/DEC, shifts, MOV/LEA and
// branches over guest registers, with the lazy flags in locals; memory ops are gen-mem.ts's.

import { ALU_TEST, Fast as F, FAST_INFO } from '../fastops.js';
import { ALU_ADD, ALU_AND, ALU_CMP, ALU_SUB } from '../alu.js';
import { W } from '../words.js';
import { ALU_KIND, ALU_OP32, ALU_OP64, K_ADD, K_CMP, K_SUB, K_TEST } from './conds.js';
import { B_RFLAGS, IMPORT_KEEPCF, K_LF_DEC, K_LF_INC } from './gen-base.js';
import { ALU32, LF_KIND, MemGen } from './gen-mem.js';
import { Op } from './wasm/index.js';

export class OpGen extends MemGen {
  /** Emits inline fast op `id` (instruction i of the current block). */
  protected op(i: number, id: number): void {
    const f = this.f, p = i << 2, code = this.code;
    const a = code[p + 1], s = code[p + 2], x = code[p + 3], ra = a >> 1, rs = s >> 1;
    const { t0, t2, u0, u1, u2 } = this;
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
      case F.ALU_RR8: case F.ALU_RI8: case F.ALU_RR8 + F.NO_FLAGS: case F.ALU_RI8 + F.NO_FLAGS:
        this.aluR8(id, a, s, x);
        return;
      case F.NOT32: this.get32(ra); f.i32Const(-1).op(Op.I32Xor); this.set32(ra); return;
      case F.NOT64: this.get64(ra); f.i64Const(-1, -1).op(Op.I64Xor); this.set64(ra); return;
      case F.CMOV32: case F.CMOV64:
        this.cond(x);
        f.if();
        if (id === F.CMOV64) { this.get64(rs); this.set64(ra); } else { this.get32(rs); this.set32(ra); }
        if (id === F.CMOV32) { f.else(); this.get32(ra); this.set32(ra); } // a 32-bit CMOV clears bits 63:32 either way
        f.end();
        return;
      case F.SETCC_R8: {
        const sh = (a & 1) << 3;
        this.get64(a >> 1); f.i64Const(~(0xff << sh), -1).op(Op.I64And);
        this.cond(x); f.op(Op.I64ExtendI32U);
        if (sh !== 0) f.i64Const(8, 0).op(Op.I64Shl);
        f.op(Op.I64Or); this.set64(a >> 1);
        return;
      }
      // MOV, LEA, MOVSXD.
      case F.MOV_RR32: this.get32(rs); this.set32(ra); return;
      case F.MOV_RR64: this.get64(rs); this.set64(ra); return;
      case F.MOV_RI32: f.i64Const(s, 0); this.set64(ra); return;
      case F.MOV_RI64: f.i64Const(s, x); this.set64(ra); return;
      case F.LEA32: this.get32(rs); f.i32Const(x).op(Op.I32Add); this.set32(ra); return;
      case F.MOVSXD_RR: this.get32(rs); f.op(Op.I64ExtendI32S); this.set64(ra); return;
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
    if (this.memOp(i, id)) return;
    throw new Error(`jit: fast op ${id} is marked inline but has no code generator`);
  }

  /**
   * ALU_RR8/RI8: byte register a (its word, | 1 for AH..BH) op= byte register or immediate b;
   * values sign-extended from 8 bits as cpu/alu.ts alu() keeps them; the other bytes stay.
   */
  private aluR8(id: number, a: number, b: number, shape: number): void {
    const f = this.f, { t0, t1, t2 } = this, rr = (id & ~F.NO_FLAGS) === F.ALU_RR8;
    const op = (shape & ALU_TEST) !== 0 ? ALU_AND : shape & 7, wb = (shape & 7) !== ALU_CMP && (shape & ALU_TEST) === 0;
    const byte = (ref: number): void => { this.get32(ref >> 1); if ((ref & 1) !== 0) f.i32Const(8).op(Op.I32ShrU); f.op(Op.I32Extend8S); };
    byte(a); f.localSet(t0);
    if (rr) byte(b); else f.i32Const((b << 24) >> 24);
    f.localSet(t1);
    f.localGet(t0).localGet(t1).op(ALU32[op]).op(Op.I32Extend8S).localSet(t2);
    if (wb) {
      const sh = (a & 1) << 3;
      this.get64(a >> 1); f.i64Const(~(0xff << sh), -1).op(Op.I64And);
      f.localGet(t2).i32Const(0xff).op(Op.I32And).op(Op.I64ExtendI32U);
      if (sh !== 0) f.i64Const(8, 0).op(Op.I64Shl);
      f.op(Op.I64Or); this.set64(a >> 1);
    }
    const logic = op !== ALU_ADD && op !== ALU_SUB && op !== ALU_CMP;
    if (id < F.NO_FLAGS) this.flags32(LF_KIND[op], logic ? -1 : t0, logic ? -1 : t1, t2);
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
}
