// Guest memory access in generated code (cpu/jit/codegen.ts): the segment bound, then the
// page. The page test first asks a one-entry cache per access kind (data read, data write,
// stack read, stack write) held in locals: the last linear page that hit the TLB for that
// kind and its physical page's distance from it, so a hit is one subtraction and compare
// (32-bit) and the host address one add. On a miss it asks the TLB in the vCPU area (tag
// plane, high half, physical page) and refills the cache from a hit; the stack's entries
// only while the stack is the kind inline code handles. What the test reads from the vCPU
// area and the state record (segment bases and bounds, the stack's shape) lives in locals
// too, loaded with the registers: only an instruction run by the interpreter (`step`)
// changes those, or the TLB, and the registers are reloaded after each, which also empties
// the cache.

import { M, V } from '../vcpu-layout.js';
import { W } from '../words.js';
import { Op, ValType, type FuncBuilder } from './wasm/index.js';

const I32 = ValType.I32, I64 = ValType.I64, F64 = ValType.F64;
const B_SSBASE = W.W_SSBASE * 4;
const ES_BASE_W = 0x44;
/** Access kinds, each with its TLB plane and its cache entry: data reads and writes, and the stack's (filled only while the stack is the kind inline code handles). */
export const READ = 0, WRITE = 1, STACK_READ = 2, STACK_WRITE = 3;
const PLANE = [M.PLANE_R, M.PLANE_W, M.PLANE_R, M.PLANE_W];
/**
 * A cached linear page no address has: the cache is empty. 32-bit code tests a linear address
 * zero-extended to 64 bits, lin - page <= 4096 - size (in the page, not crossing it), which
 * 2^32 never passes; 64-bit code compares page numbers, and 1 is no page's.
 */
const EMPTY32 = [0, 1] as const, EMPTY64 = [1, 0] as const;

export class Access {
  /** 32-bit linear address (set by the caller for hit32, by seg32), its 64-bit form (hit64), the TLB index. */
  readonly lin: number;
  readonly lin64: number;
  private readonly idx: number;
  private readonly hi: number;
  /** Per access kind: the cached linear page (i64) and the physical page's distance from it (i32, wrapping). */
  private readonly cacheLin: number[] = [];
  private readonly delta: number[] = [];
  /** Segment base / bound (f64) locals by segment number (ES..GS), for the segments the region uses. */
  private readonly segBase = new Map<number, number>();
  private readonly segMax = new Map<number, number>();
  private readonly ssBase: number;
  private readonly stackOk: number;

  /** `segs`: the segment-base words (W) the region's segmented accesses use; `stack`: 4 or 8 if it pushes or pops, else 0. */
  constructor(private readonly f: FuncBuilder, private readonly wide: boolean, segs: number[], private readonly stack: number) {
    const kinds = stack !== 0 ? 4 : 2;
    this.lin = f.addLocal(I32);
    this.idx = f.addLocal(I32);
    this.hi = f.addLocal(I32);
    for (let k = 0; k < kinds; k++) this.delta.push(f.addLocal(I32));
    this.ssBase = f.addLocal(I32);
    this.stackOk = f.addLocal(I32);
    for (const w of segs) this.segBase.set(w, f.addLocal(I32));
    this.lin64 = f.addLocal(I64);
    for (let k = 0; k < kinds; k++) this.cacheLin.push(f.addLocal(I64));
    for (const w of segs) this.segMax.set(w, f.addLocal(F64));
  }

  private base(): void { this.f.localGet(0); }

  /** (Re)load what the tests read, and empty the page cache. */
  reload(): void {
    const f = this.f;
    for (const [w, l] of this.segBase) {
      this.base(); f.load(Op.I32Load, w * 4).localSet(l);
      this.base(); f.load(Op.F64Load, V.SEG_MAX + ((w - ES_BASE_W) >> 3) * 8).localSet(this.segMax.get(w)!);
    }
    if (this.stack !== 0) {
      if (this.stack === 4) { this.base(); f.load(Op.I32Load, B_SSBASE).localSet(this.ssBase); }
      this.base(); f.load(Op.I32Load, V.MODE + (this.stack === 4 ? M.STACK_FLAT32 : M.STACK_SIZE) * 4).i32Const(this.stack).op(Op.I32Eq).localSet(this.stackOk);
    }
    const [lo, hi] = this.wide ? EMPTY64 : EMPTY32;
    for (const l of this.cacheLin) f.i64Const(lo, hi).localSet(l);
  }

  /** Segmented 32-bit access of `size` bytes at offset (i32 on the stack) in segment-base word sbw: lin = offset + base; pushes the bound test. */
  seg32(sbw: number, size: number): void {
    const f = this.f, off = this.idx; // idx is free until the page test
    f.localTee(off).localGet(this.segBase.get(sbw)!).op(Op.I32Add).localSet(this.lin);
    f.localGet(off).op(Op.F64ConvertI32U);
    if (size > 1) f.f64Const(size - 1).op(Op.F64Add);
    f.localGet(this.segMax.get(sbw)!).op(Op.F64Le);
  }

  /** Pushes SS.base (32-bit stacks). */
  ssBaseGet(): void { this.f.localGet(this.ssBase); }

  /** Pushes "lin (32-bit, high half 0) may be accessed for `size` bytes of kind k" (the page test, and no page crossing). */
  hit32(k: number, size: number): void {
    const f = this.f, lin = this.lin;
    f.localGet(lin).op(Op.I64ExtendI32U).localGet(this.cacheLin[k]).op(Op.I64Sub).i64Const(0x1000 - size, 0).op(Op.I64LeU);
    f.if(I32);
    f.i32Const(1);
    f.else();
    f.localGet(lin).i32Const(12).op(Op.I32ShrU).i32Const(4095).op(Op.I32And).localSet(this.idx);
    this.tag(k);
    f.localGet(lin).i32Const(-4096).op(Op.I32And).op(Op.I32Eq);
    f.localGet(this.idx).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_HI).op(Op.I32Eqz).op(Op.I32And);
    this.fill(k, size, () => { f.localGet(lin).i32Const(-4096).op(Op.I32And); }, () => { f.op(Op.I64ExtendI32U); });
    f.end();
  }

  /** The same for a 64-bit linear address in lin64 (canonical; lin gets its low half). */
  hit64(k: number, size: number): void {
    const f = this.f, lin = this.lin, hi = this.hi;
    f.localGet(this.lin64).op(Op.I32WrapI64).localSet(lin);
    f.localGet(this.lin64).i64Const(-4096, -1).op(Op.I64And).localGet(this.cacheLin[k]).op(Op.I64Eq);
    this.inPage(size);
    f.if(I32);
    f.i32Const(1);
    f.else();
    f.localGet(this.lin64).i64Const(32, 0).op(Op.I64ShrU).op(Op.I32WrapI64).localSet(hi);
    f.localGet(lin).i32Const(12).op(Op.I32ShrU).localGet(hi).op(Op.I32Xor).i32Const(4095).op(Op.I32And).localSet(this.idx);
    this.tag(k);
    f.localGet(lin).i32Const(-4096).op(Op.I32And).op(Op.I32Eq);
    f.localGet(this.idx).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_HI).localGet(hi).op(Op.I32Eq).op(Op.I32And);
    // Canonical: bits 63:47 all equal (the hit test alone would accept a tag filled for it, which never happens; kept explicit).
    f.localGet(hi).i32Const(16).op(Op.I32Shl).i32Const(16).op(Op.I32ShrS).localGet(hi).op(Op.I32Eq).op(Op.I32And);
    this.fill(k, size, () => { f.localGet(this.lin64).i64Const(-4096, -1).op(Op.I64And); }, () => {});
    f.end();
  }

  /** Pushes the physical address of lin through kind k's cache entry (after a true hit test). */
  phys(k: number): void {
    this.f.localGet(this.lin).localGet(this.delta[k]).op(Op.I32Add);
  }

  /** Pushes the tag at TLB index idx in kind k's plane. */
  private tag(k: number): void {
    const f = this.f;
    this.base(); f.load(Op.I32Load, V.MODE + PLANE[k] * 4);
    f.localGet(this.idx).op(Op.I32Add).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_TAGS);
  }

  /**
   * With the TLB hit test on the stack: on a hit (and, for the stack's kinds, a stack inline code
   * handles), kind k's cache takes this page (`page` pushes it, `widen` makes it i64) and its
   * physical page; pushes the test, with "no page crossing" for `size` bytes.
   */
  private fill(k: number, size: number, page: () => void, widen: () => void): void {
    const f = this.f;
    if (k >= STACK_READ) f.localGet(this.stackOk).op(Op.I32And);
    f.if(I32);
    f.localGet(this.idx).i32Const(2).op(Op.I32Shl);
    this.base(); f.op(Op.I32Add).load(Op.I32Load, V.TLB_PHYS);
    f.localGet(this.lin).i32Const(-4096).op(Op.I32And).op(Op.I32Sub).localSet(this.delta[k]);
    page(); widen(); f.localSet(this.cacheLin[k]);
    f.i32Const(1);
    this.inPage(size);
    f.else();
    f.i32Const(0);
    f.end();
  }

  /** ANDs "the access does not cross the page" into the test on the stack. */
  private inPage(size: number): void {
    if (size > 1) this.f.localGet(this.lin).i32Const(0xfff).op(Op.I32And).i32Const(0x1000 - size).op(Op.I32LeU).op(Op.I32And);
  }
}
