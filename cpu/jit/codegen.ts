// The code generator: one decoded block (cpu/blocks.ts) -> one wasm function
// `(base, passes) -> done` that behaves exactly as execBlock(c, b, b.code, n,
// passes) does. The fast ops listed in cpu/fastops.ts's table as inline are
// emitted as wasm over guest registers held in i64 locals; every other
// instruction (and every slow path: TLB miss, MMIO, segment check, code page)
// calls the `step` import, which runs that one instruction through the
// interpreter's executor after the cached registers and lazy flags are written
// back to the state record. Returns: instructions completed, or ~completed with
// cpu.lastFault/faultIndex set (a fault, or a write to this block's own code).

import type { Block } from '../blocks.js';
import { Fast as F, FAST_INFO, GEN_EXACT, GEN_NOFLAGS } from '../fastops.js';
import { W } from '../words.js';
import { M, V } from '../vcpu-layout.js';
import { FuncBuilder, ModuleBuilder, Op, ValType } from './wasm/index.js';

const I32 = ValType.I32, I64 = ValType.I64;
/** Byte offsets in the state record. */
const B_RIP = W.W_RIP * 4, B_LF_OP = W.LF_OP * 4, B_LF_RES = W.LF_RES * 4, B_LF_A = W.LF_A * 4, B_LF_B = W.LF_B * 4;
const B_SSBASE = W.W_SSBASE * 4, B_RFLAGS = W.W_RFLAGS * 4, RSP = 4;
/** Lazy-flag kinds of INC and DEC (cpu/flags.ts K_INC, K_DEC). */
const K_LF_INC = 6, K_LF_DEC = 7;
const ES_BASE_W = 0x44;
const MODE_B = V.MODE;

/** The imports every generated module takes (besides the memory). */
export const IMPORT_STEP = 0, IMPORT_COND = 1, IMPORT_KEEPCF = 2;

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

/** Emits the function for block `b` (number k in its module) into `f`. */
export function emitBlock(f: FuncBuilder, b: Block, k: number, stats: GenStats): void {
  new BlockGen(f, b, k).emit(stats);
}

class BlockGen {
  private readonly reg = new Int32Array(16).fill(-1);
  private used = 0;
  private written = 0;
  private lf = false;
  private readonly pass: number;
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
  private readonly code: Int32Array;
  /** The last inline op at or before the Jcc that writes flags, if no stepped instruction follows it. */
  private lastFlags = -1;

  constructor(private readonly f: FuncBuilder, private readonly b: Block, private readonly k: number) {
    this.code = b.code;
    for (let i = 0; i < b.n; i++) {
      const id = this.code[i << 2];
      if (!inline(id)) continue;
      const m = regsOf(id, this.code[(i << 2) + 1], this.code[(i << 2) + 2]);
      this.used |= m;
      if (FAST_INFO[id & ~F.NO_FLAGS].writesDst) this.written |= 1 << (this.code[(i << 2) + 1] >> 1);
      if (FAST_INFO[id & ~F.NO_FLAGS].stack) this.written |= 1 << RSP;
      if (FAST_INFO[id & ~F.NO_FLAGS].flagsW !== 0 || FAST_INFO[id & ~F.NO_FLAGS].flagsR !== 0) this.lf = true;
    }
    for (let n = 0; n < 16; n++) if ((this.used & (1 << n)) !== 0) this.reg[n] = f.addLocal(I64);
    this.pass = f.addLocal(I32);
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
  }

  emit(stats: GenStats): void {
    const f = this.f, b = this.b;
    this.reload();
    f.loop();
    for (let i = 0; i < b.n; i++) {
      const id = this.code[i << 2];
      if (inline(id)) { stats.inlined++; this.op(i, id); } else { stats.stepped++; this.step(i); this.lastFlags = -1; }
    }
    this.exit(b.n); // after a block without a branch, or one run by step (inline branches return themselves)
    f.end();
    f.unreachable();
    f.finish();
  }

  // ---- State record <-> locals.

  private base(): void { this.f.localGet(0); }

  /** Write back every register the block's inline code may have changed, and the lazy flags. */
  private flush(): void {
    const f = this.f;
    for (let n = 0; n < 16; n++) if ((this.written & (1 << n)) !== 0) { this.base(); f.localGet(this.reg[n]).store(Op.I64Store, n * 8, 2); }
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
    if (this.lf) {
      this.base(); f.load(Op.I32Load, B_LF_OP).localSet(this.lfOp);
      this.base(); f.load(Op.I64Load, B_LF_RES, 2).localSet(this.lfRes);
      this.base(); f.load(Op.I64Load, B_LF_A, 2).localSet(this.lfA);
      this.base(); f.load(Op.I64Load, B_LF_B, 2).localSet(this.lfB);
    }
  }

  /** Push pass * n + c: instructions completed when the block stops at index c of this pass. */
  private done(c: number): void {
    const f = this.f;
    if (!this.b.selfLoop) { f.i32Const(c); return; }
    f.localGet(this.pass).i32Const(this.b.n).op(Op.I32Mul).i32Const(c).op(Op.I32Add);
  }

  /** Leave the block having completed index c of this pass. */
  private exit(c: number): void {
    this.flush();
    this.done(c);
    this.f.return();
  }

  /**
   * Instruction i through the interpreter: write back, call step(k, i, pass), leave the block
   * if it reports a fault or a stop (its value - 1 is the index to stop at), reload.
   */
  private step(i: number): void {
    const f = this.f;
    this.flush();
    f.i32Const(this.k).i32Const(i).localGet(this.pass).call(IMPORT_STEP).localTee(this.st);
    f.if();
    f.localGet(this.st).i32Const(1).op(Op.I32Sub);
    if (this.b.selfLoop) f.localGet(this.pass).i32Const(this.b.n).op(Op.I32Mul).op(Op.I32Add);
    f.i32Const(-1).op(Op.I32Xor).return();
    f.end();
    this.reload();
  }

  /** The slow path of inline instruction i: the interpreter runs all of it; a branch (CALL/RET) then leaves. */
  private slow(i: number): void {
    this.step(i);
    if (FAST_INFO[this.code[i << 2] & ~F.NO_FLAGS].ends) this.exit(this.b.n);
  }

  // ---- Registers.

  private get64(n: number): void { this.f.localGet(this.reg[n]); }
  private set64(n: number): void { this.f.localSet(this.reg[n]); }
  private get32(n: number): void { this.f.localGet(this.reg[n]).op(Op.I32WrapI64); }
  /** Pops an i32: the register becomes its zero extension (a 32-bit destination clears bits 63:32). */
  private set32(n: number): void { this.f.op(Op.I64ExtendI32U).localSet(this.reg[n]); }

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

  // ---- Memory: the inline TLB check against the planes in the vCPU area.

  /** Pushes the i32 condition "lin (in t1, 32-bit: high half 0) hits the plane at `plane` for `size` bytes". */
  private tlbHit32(plane: number, size: number): void {
    const f = this.f;
    // t2 = TLB index
    f.localGet(this.t1).i32Const(12).op(Op.I32ShrU).i32Const(4095).op(Op.I32And).localSet(this.t2);
    this.base(); f.load(Op.I32Load, MODE_B + plane * 4);
    f.localGet(this.t2).op(Op.I32Add).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_TAGS);
    f.localGet(this.t1).i32Const(-4096).op(Op.I32And).op(Op.I32Eq);
    f.localGet(this.t2).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_HI).op(Op.I32Eqz).op(Op.I32And);
    if (size > 1) f.localGet(this.t1).i32Const(0xfff).op(Op.I32And).i32Const(0x1000 - size).op(Op.I32LeU).op(Op.I32And);
  }

  /** Pushes the physical address of lin (t1) through TLB index t2. */
  private phys32(): void {
    const f = this.f;
    f.localGet(this.t2).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_PHYS);
    f.localGet(this.t1).i32Const(0xfff).op(Op.I32And).op(Op.I32Or);
  }

  /**
   * 64-bit linear address in u0 (lo in t1, hi in t0): pushes "canonical and hits the plane".
   * The TLB index goes to t2.
   */
  private tlbHit64(plane: number, size: number): void {
    const f = this.f;
    f.localGet(this.u0).op(Op.I32WrapI64).localSet(this.t1);
    f.localGet(this.u0).i64Const(32, 0).op(Op.I64ShrU).op(Op.I32WrapI64).localSet(this.t0);
    f.localGet(this.t1).i32Const(12).op(Op.I32ShrU).localGet(this.t0).op(Op.I32Xor).i32Const(4095).op(Op.I32And).localSet(this.t2);
    this.base(); f.load(Op.I32Load, MODE_B + plane * 4);
    f.localGet(this.t2).op(Op.I32Add).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_TAGS);
    f.localGet(this.t1).i32Const(-4096).op(Op.I32And).op(Op.I32Eq);
    f.localGet(this.t2).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_HI).localGet(this.t0).op(Op.I32Eq).op(Op.I32And);
    // Canonical: bits 63:47 all equal (the hit test alone would accept a tag filled for it, which never happens; kept explicit).
    f.localGet(this.t0).i32Const(16).op(Op.I32Shl).i32Const(16).op(Op.I32ShrS).localGet(this.t0).op(Op.I32Eq).op(Op.I32And);
    if (size > 1) f.localGet(this.t1).i32Const(0xfff).op(Op.I32And).i32Const(0x1000 - size).op(Op.I32LeU).op(Op.I32And);
  }

  /** 32-bit [base + disp] + segment base (LOAD32/STORE32/LOADZX8_32): offset in t0, linear in t1; pushes the segment bound test. */
  private seg32(s: number, disp: number, size: number): void {
    const f = this.f, sbw = s >>> 16, seg = (sbw - ES_BASE_W) >> 3;
    this.get32((s & 0xffff) >> 1); f.i32Const(disp).op(Op.I32Add).localSet(this.t0);
    f.localGet(this.t0); this.base(); f.load(Op.I32Load, sbw * 4).op(Op.I32Add).localSet(this.t1);
    f.localGet(this.t0).op(Op.F64ConvertI32U);
    if (size > 1) f.f64Const(size - 1).op(Op.F64Add);
    this.base(); f.load(Op.F64Load, V.SEG_MAX + seg * 8).op(Op.F64Le);
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
      // MOV, LEA, MOVSXD.
      case F.MOV_RR32: this.get32(rs); this.set32(ra); return;
      case F.MOV_RR64: this.get64(rs); this.set64(ra); return;
      case F.MOV_RI32: f.i64Const(s, 0); this.set64(ra); return;
      case F.MOV_RI64: f.i64Const(s, x); this.set64(ra); return;
      case F.LEA32: this.get32(rs); f.i32Const(x).op(Op.I32Add); this.set32(ra); return;
      case F.MOVSXD_RR: this.get32(rs); f.op(Op.I64ExtendI32S); this.set64(ra); return;
      // Loads and stores.
      case F.LOAD32: case F.STORE32: case F.LOADZX8_32: {
        const load = id !== F.STORE32, size = id === F.LOADZX8_32 ? 1 : 4;
        this.seg32(s, x, size);
        this.tlbHit32(load ? M.PLANE_R : M.PLANE_W, size);
        f.op(Op.I32And).if();
        if (id === F.STORE32) { this.phys32(); this.get32(ra); f.store(Op.I32Store, 0, 0); }
        else { this.phys32(); f.load(size === 1 ? Op.I64Load8U : Op.I64Load32U, 0, 0); this.set64(ra); }
        f.else(); this.step(i); f.end();
        return;
      }
      case F.LOAD64_32: case F.LOAD64: case F.STORE64_32: case F.STORE64: case F.LOADZX8_64: {
        const load = id !== F.STORE64_32 && id !== F.STORE64;
        const size = id === F.LOADZX8_64 ? 1 : id === F.LOAD64 || id === F.STORE64 ? 8 : 4;
        this.get64(rs); f.i64Const(x, x >> 31).op(Op.I64Add).localSet(u0);
        // The interpreter's fast path takes any access up to 8 bytes inside a page with one bound.
        this.tlbHit64(load ? M.PLANE_R : M.PLANE_W, size === 1 ? 1 : 8);
        f.if();
        this.phys64(t1, t2);
        if (id === F.STORE64) { this.get64(ra); f.store(Op.I64Store, 0, 0); }
        else if (id === F.STORE64_32) { this.get32(ra); f.store(Op.I32Store, 0, 0); }
        else { f.load(id === F.LOAD64 ? Op.I64Load : id === F.LOADZX8_64 ? Op.I64Load8U : Op.I64Load32U, 0, 0); this.set64(ra); }
        f.else(); this.step(i); f.end();
        return;
      }
      // Stack (flat 32-bit SS, or 64-bit mode), calls and returns.
      case F.PUSH32: case F.CALL32:
        this.push32(i, () => { if (id === F.PUSH32) this.get32(ra); else { this.base(); f.load(Op.I32Load, B_RIP).i32Const(x).op(Op.I32Add); } });
        if (id === F.CALL32) { this.base(); this.base(); f.load(Op.I32Load, B_RIP).i32Const(s).op(Op.I32Add).store(Op.I32Store, B_RIP); this.exit(this.b.n); }
        return;
      case F.POP32: case F.RET32:
        this.pop32(i, () => {
          if (id === F.POP32) this.set64(ra);
          else { f.localSet(u2); this.base(); f.localGet(u2).store(Op.I64Store, B_RIP, 2); }
        });
        if (id === F.RET32) this.exit(this.b.n);
        return;
      case F.PUSH64: case F.CALL64:
        this.push64(i, () => { if (id === F.PUSH64) this.get64(ra); else { this.base(); f.load(Op.I64Load, B_RIP, 2).i64Const(x, x >> 31).op(Op.I64Add); } });
        if (id === F.CALL64) { this.base(); this.base(); f.load(Op.I64Load, B_RIP, 2).i64Const(s, s >> 31).op(Op.I64Add).store(Op.I64Store, B_RIP, 2); this.exit(this.b.n); }
        return;
      case F.POP64: case F.RET64:
        this.pop64(i, () => {
          if (id === F.POP64) this.set64(ra);
          else { f.localSet(u2); this.base(); f.localGet(u2).store(Op.I64Store, B_RIP, 2); }
        });
        if (id === F.RET64) this.exit(this.b.n);
        return;
      // Branches (the last instruction).
      case F.JMP32: case F.JMP64:
        if (this.b.selfLoop) { this.backEdge(); return; }
        this.addRip(id === F.JMP64, s);
        this.exit(this.b.n);
        return;
      case F.JCC32: case F.JCC64:
        this.cond(a);
        f.if();
        if (this.b.selfLoop) this.backEdge(); else { this.addRip(id === F.JCC64, s); this.exit(this.b.n); }
        f.else();
        this.addRip(id === F.JCC64, x); this.exit(this.b.n);
        f.end();
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

  /** Pushes the physical address for linear lo (local lo) at TLB index (local t). */
  private phys64(lo: number, t: number): void {
    const f = this.f;
    f.localGet(t).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_PHYS);
    f.localGet(lo).i32Const(0xfff).op(Op.I32And).op(Op.I32Or);
  }

  /** RIP += off (32-bit: the low half only, as the interpreter does; 64-bit: the full sum). */
  private addRip(wide: boolean, off: number): void {
    const f = this.f;
    this.base();
    if (wide) { this.base(); f.load(Op.I64Load, B_RIP, 2).i64Const(off, off >> 31).op(Op.I64Add).store(Op.I64Store, B_RIP, 2); }
    else { this.base(); f.load(Op.I32Load, B_RIP).i32Const(off).op(Op.I32Add).store(Op.I32Store, B_RIP); }
  }

  /** A self-loop's taken branch: another pass while the caller's pass count allows, else leave (RIP stays on the start). */
  private backEdge(): void {
    const f = this.f;
    f.localGet(this.pass).i32Const(1).op(Op.I32Add).localTee(this.pass).localGet(1).op(Op.I32LtU);
    f.brIf(this.depthToLoop());
    this.exit(0);
  }

  /** Branch depth from the current position to the block's loop (one if/else level inside it for Jcc). */
  private depthToLoop(): number { return this.code[(this.b.n - 1) << 2] === F.JCC32 || this.code[(this.b.n - 1) << 2] === F.JCC64 ? 1 : 0; }

  /** PUSH of a 32-bit value (emitted by `value`) on a flat 32-bit stack; else the interpreter. */
  private push32(i: number, value: () => void): void {
    const f = this.f;
    this.get32(RSP); f.i32Const(4).op(Op.I32Sub).localSet(this.t0);
    f.localGet(this.t0); this.base(); f.load(Op.I32Load, B_SSBASE).op(Op.I32Add).localSet(this.t1);
    this.tlbHit32(M.PLANE_W, 4);
    this.base(); f.load(Op.I32Load, MODE_B + M.STACK_FLAT32 * 4).i32Const(4).op(Op.I32Eq).op(Op.I32And);
    f.if();
    this.phys32(); value(); f.store(Op.I32Store, 0, 0);
    this.setLow32(RSP, this.t0);
    f.else(); this.slow(i); f.end();
  }

  private pop32(i: number, use: () => void): void {
    const f = this.f;
    this.get32(RSP); f.localSet(this.t0);
    f.localGet(this.t0); this.base(); f.load(Op.I32Load, B_SSBASE).op(Op.I32Add).localSet(this.t1);
    this.tlbHit32(M.PLANE_R, 4);
    this.base(); f.load(Op.I32Load, MODE_B + M.STACK_FLAT32 * 4).i32Const(4).op(Op.I32Eq).op(Op.I32And);
    f.if();
    this.phys32(); f.load(Op.I64Load32U, 0, 0).localSet(this.u1);
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
    const f = this.f;
    this.get64(RSP); f.i64Const(8, 0).op(Op.I64Sub).localSet(this.u0);
    this.tlbHit64(M.PLANE_W, 8);
    this.base(); f.load(Op.I32Load, MODE_B + M.STACK_SIZE * 4).i32Const(8).op(Op.I32Eq).op(Op.I32And);
    f.if();
    this.phys64(this.t1, this.t2); value(); f.store(Op.I64Store, 0, 0);
    f.localGet(this.u0); this.set64(RSP);
    f.else(); this.slow(i); f.end();
  }

  private pop64(i: number, use: () => void): void {
    const f = this.f;
    this.get64(RSP); f.localSet(this.u0);
    this.tlbHit64(M.PLANE_R, 8);
    this.base(); f.load(Op.I32Load, MODE_B + M.STACK_SIZE * 4).i32Const(8).op(Op.I32Eq).op(Op.I32And);
    f.if();
    this.phys64(this.t1, this.t2); f.load(Op.I64Load, 0, 0).localSet(this.u1);
    f.localGet(this.u0).i64Const(8, 0).op(Op.I64Add); this.set64(RSP);
    f.localGet(this.u1); use(); // after RSP: POP RSP keeps the popped value
    f.else(); this.slow(i); f.end();
  }

  // ---- Conditions: from the flag producer in this block when it is known, else the lazy-flag reader.

  /** Pushes condition cc (0-15) as an i32 0/1. */
  private cond(cc: number): void {
    const f = this.f;
    const prod = this.lastFlags >= 0 ? this.code[this.lastFlags << 2] : -1;
    const neg = (cc & 1) !== 0, base = cc & ~1;
    const wide = (prod >= F.ADD_RR64 && prod <= F.XOR_RI64) || prod === F.INC64 || prod === F.DEC64;
    const kind = prod >= 0 && prod < F.FAST_COUNT ? ALU_KIND[prod] : -1;
    const sub = kind === K_SUB || kind === K_CMP;
    const logic = kind === K_AND || kind === K_OR || kind === K_XOR || kind === K_TEST;
    const res = (): void => { f.localGet(this.lfRes); if (!wide) f.op(Op.I32WrapI64); };
    const zero = (): void => { if (wide) f.i64Const(0, 0); else f.i32Const(0); };
    const cmp = (op32: Op, op64: Op): void => { f.op(wide ? op64 : op32); };
    const incdec = prod === F.INC32 || prod === F.DEC32 || prod === F.INC64 || prod === F.DEC64;
    if ((kind >= 0 || incdec) && (base === 4 || base === 8)) {
      // ZF and SF come from the result for every kind.
      res(); zero(); cmp(base === 4 ? (neg ? Op.I32Ne : Op.I32Eq) : (neg ? Op.I32GeS : Op.I32LtS), base === 4 ? (neg ? Op.I64Ne : Op.I64Eq) : (neg ? Op.I64GeS : Op.I64LtS));
      return;
    }
    if (sub && base !== 0 && base !== 10) {
      const a = (): void => { f.localGet(this.lfA); if (!wide) f.op(Op.I32WrapI64); };
      const b = (): void => { f.localGet(this.lfB); if (!wide) f.op(Op.I32WrapI64); };
      a(); b();
      const ops32: Record<number, Op> = { 2: Op.I32LtU, 3: Op.I32GeU, 6: Op.I32LeU, 7: Op.I32GtU, 12: Op.I32LtS, 13: Op.I32GeS, 14: Op.I32LeS, 15: Op.I32GtS };
      const ops64: Record<number, Op> = { 2: Op.I64LtU, 3: Op.I64GeU, 6: Op.I64LeU, 7: Op.I64GtU, 12: Op.I64LtS, 13: Op.I64GeS, 14: Op.I64LeS, 15: Op.I64GtS };
      cmp(ops32[cc], ops64[cc]);
      return;
    }
    if (logic && base !== 10) {
      // CF = OF = 0: B/O never, BE is ZF, L is SF, LE is ZF | SF.
      if (base === 0 || base === 2) { f.i32Const(neg ? 1 : 0); return; }
      res(); zero();
      const ops32: Record<number, Op> = { 6: Op.I32Eq, 7: Op.I32Ne, 12: Op.I32LtS, 13: Op.I32GeS, 14: Op.I32LeS, 15: Op.I32GtS };
      const ops64: Record<number, Op> = { 6: Op.I64Eq, 7: Op.I64Ne, 12: Op.I64LtS, 13: Op.I64GeS, 14: Op.I64LeS, 15: Op.I64GtS };
      cmp(ops32[cc], ops64[cc]);
      return;
    }
    if (this.lf) this.flushFlags();
    f.i32Const(cc).call(IMPORT_COND);
  }
}

// ALU kinds of the RR/RI fast ops, and their wasm operations.
const K_ADD = 0, K_OR = 1, K_AND = 2, K_SUB = 3, K_XOR = 4, K_CMP = 5, K_TEST = 6;
const ALU_OP32 = [Op.I32Add, Op.I32Or, Op.I32And, Op.I32Sub, Op.I32Xor, Op.I32Sub, Op.I32And];
const ALU_OP64 = [Op.I64Add, Op.I64Or, Op.I64And, Op.I64Sub, Op.I64Xor, Op.I64Sub, Op.I64And];
const ALU_KIND: number[] = [];
{
  const set = (ids: number[], kinds: number[]): void => { ids.forEach((id, n) => { ALU_KIND[id] = kinds[n]; }); };
  set([F.ADD_RR32, F.OR_RR32, F.AND_RR32, F.SUB_RR32, F.XOR_RR32, F.CMP_RR32, F.TEST_RR32], [K_ADD, K_OR, K_AND, K_SUB, K_XOR, K_CMP, K_TEST]);
  set([F.ADD_RI32, F.OR_RI32, F.AND_RI32, F.SUB_RI32, F.XOR_RI32, F.CMP_RI32], [K_ADD, K_OR, K_AND, K_SUB, K_XOR, K_CMP]);
  set([F.ADD_RR64, F.SUB_RR64, F.CMP_RR64, F.AND_RR64, F.OR_RR64, F.XOR_RR64, F.TEST_RR64], [K_ADD, K_SUB, K_CMP, K_AND, K_OR, K_XOR, K_TEST]);
  set([F.ADD_RI64, F.SUB_RI64, F.CMP_RI64, F.AND_RI64, F.OR_RI64, F.XOR_RI64], [K_ADD, K_SUB, K_CMP, K_AND, K_OR, K_XOR]);
  for (let id = 0; id < F.FAST_COUNT; id++) if (ALU_KIND[id] === undefined) ALU_KIND[id] = -1;
}

/**
 * Whether compiling b pays: each instruction the interpreter runs from compiled code costs a
 * write-back, a call out and a reload on top of the interpreter's own work, and each entry a
 * JS-to-wasm call, so a block is compiled only if its inline instructions outweigh that (or it
 * loops on itself, and stays inside wasm for many passes).
 */
export function worthCompiling(b: Block): boolean {
  let inlined = 0, stepped = 0;
  for (let i = 0; i < b.n; i++) if (inline(b.code[i << 2])) inlined++; else stepped++;
  if (b.selfLoop) return inlined > stepped;
  return stepped === 0 ? inlined >= 1 : inlined >= 4 * stepped;
}

/** Whether the generator emits fast op `id` (a NO_FLAGS variant included) inline. */
export function inline(id: number): boolean {
  if (id === F.FAST_NONE) return false;
  const info = FAST_INFO[id & ~F.NO_FLAGS];
  return info !== undefined && (info.gen & (id < F.NO_FLAGS ? GEN_EXACT : GEN_NOFLAGS)) !== 0;
}

/** A module of compiled blocks: its bytes and the blocks, function k for block k. */
export function buildModule(blocks: Block[], memPages: number, stats: GenStats, debug = false): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder({ debug });
  m.importMemory('e', 'm', memPages);
  m.importFunction('e', 'step', { params: [I32, I32, I32], results: [I32] });
  m.importFunction('e', 'cond', { params: [I32], results: [I32] });
  m.importFunction('e', 'keepcf', { params: [], results: [] });
  const fns = blocks.map((_, k) => m.addFunction(`b${k}`, { params: [I32, I32], results: [I32] }));
  blocks.forEach((b, k) => { emitBlock(fns[k], b, k, stats); m.exportFunction(`b${k}`, fns[k].index); });
  return m.encode();
}
