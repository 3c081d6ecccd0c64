// Hardware breakpoints (Intel SDM Vol. 3B 18.2-18.3): DR0-DR3 under DR7 matched
// against instruction addresses, data accesses and I/O ports. The interpreter's
// run loop arms this from the debug registers and steps one instruction at a
// time while any breakpoint is enabled; nothing here runs while DR7 enables none.

import type { AccessWatch, Cpu } from '../cpu.js';
import { ACC_EXEC, ACC_WRITE, PAGE_MASK } from '../../mmu/tlb.js';
import { CR4, CR4_DE, DR0, DR6, DR7 } from '../state.js';
import { W } from '../words.js';

/** DR6 (SDM 18.2.3): B0-B3 breakpoint hits, BD debug-register access (DR7.GD), BS single step, BT task switch. */
export const DR6_B = 0xf, DR6_BD = 1 << 13, DR6_BS = 1 << 14, DR6_BT = 1 << 15;
/** DR7 (SDM 18.2.4): L0/G0..L3/G3 in bits 0-7, GD, then R/W of breakpoint n at bit 16 + 4 * n and LEN at bit 18 + 4 * n. */
export const DR7_ENABLES = 0xff, DR7_GD = 1 << 13;
/** Cpu.heldDebug: INT1 (ICEBP) ran and delivered its #DB; no single-step trap follows it. */
export const HELD_ICEBP = 1 << 16;
/** R/Wn: 00 instruction execution, 01 data writes, 10 I/O (only with CR4.DE; undefined without), 11 data reads or writes. */
const RW_EXEC = 0, RW_WRITE = 1, RW_IO = 2;

const W_DR = [W.W_DR0, W.W_DR0 + 2, W.W_DR0 + 4, W.W_DR0 + 6];

/** LENn -> bytes covered: 00 1, 01 2, 10 8 (Core and later, in every mode), 11 4. */
const LEN_BYTES = [1, 2, 8, 4];

/** The armed breakpoints of one CPU and the hits of the instruction being executed. */
export class Breakpoints implements AccessWatch {
  /** Per breakpoint: range start (aligned down to the length) as lo/hi, and the length. */
  private readonly lo = new Int32Array(4);
  private readonly hi = new Int32Array(4);
  private readonly len = new Int32Array(4);
  /** Which breakpoints (bit n = DRn) are enabled for execution, writes, reads (R/W 11) and I/O. */
  exec = 0;
  private writes = 0;
  private reads = 0;
  private io = 0;
  /** B0-B3 bits for data/I-O matches since the run loop last cleared it (trap-class: reported after the instruction). */
  hits = 0;
  /** Linear pages holding a data breakpoint (the TLB keeps data accesses to them off the fast path). */
  readonly pageLo = new Int32Array(4);
  readonly pageHi = new Int32Array(4);
  pages = 0;
  /** What the arming was computed from: DR0-DR3 (lo, hi), DR7 and CR4.DE. */
  private readonly seen = new Int32Array(10).fill(-1);

  /** Data or I/O breakpoints are enabled (the CPU's access hook must be installed). */
  get watching(): boolean { return (this.writes | this.reads | this.io) !== 0; }

  /**
   * Re-read DR0-DR3/DR7/CR4.DE if any changed since the last call; returns true
   * if the data-breakpoint pages changed (the caller flushes the TLB).
   */
  arm(r: Int32Array): boolean {
    const s = this.seen;
    const cr4de = r[W.W_CR4] & CR4_DE;
    let same = r[W.W_DR7] === s[8] && cr4de === s[9];
    for (let n = 0; n < 4 && same; n++) same = r[W_DR[n]] === s[2 * n] && r[W_DR[n] + 1] === s[2 * n + 1];
    if (same) return false;
    for (let n = 0; n < 4; n++) { s[2 * n] = r[W_DR[n]]; s[2 * n + 1] = r[W_DR[n] + 1]; }
    s[8] = r[W.W_DR7]; s[9] = cr4de;
    const dr7 = r[W.W_DR7];
    const oldPages = this.pageSignature();
    this.exec = 0; this.writes = 0; this.reads = 0; this.io = 0; this.pages = 0;
    for (let n = 0; n < 4; n++) {
      if (((dr7 >>> (2 * n)) & 3) === 0) continue; // neither Ln nor Gn (LE/GE are ignored, as on P6 and later)
      const rw = (dr7 >>> (16 + 4 * n)) & 3, bytes = LEN_BYTES[(dr7 >>> (18 + 4 * n)) & 3];
      const bit = 1 << n;
      if (rw === RW_EXEC) {
        // Instruction breakpoints need LEN 00 (SDM 18.2.5); other lengths are undefined: match the first byte.
        this.exec |= bit; this.lo[n] = r[W_DR[n]]; this.hi[n] = r[W_DR[n] + 1]; this.len[n] = 1;
        continue;
      }
      if (rw === RW_IO && cr4de === 0) continue; // undefined without CR4.DE: never matches here
      this.lo[n] = r[W_DR[n]] & -bytes; this.hi[n] = r[W_DR[n] + 1]; this.len[n] = bytes;
      if (rw === RW_IO) { this.io |= bit; continue; }
      this.writes |= bit;
      if (rw !== RW_WRITE) this.reads |= bit;
      this.addPage(this.lo[n] & PAGE_MASK, this.hi[n]);
    }
    return this.pageSignature() !== oldPages;
  }

  private addPage(lo: number, hi: number): void {
    for (let k = 0; k < this.pages; k++) if (this.pageLo[k] === lo && this.pageHi[k] === hi) return;
    this.pageLo[this.pages] = lo; this.pageHi[this.pages] = hi; this.pages++;
  }

  /** A string that identifies the watched page set (only computed when the registers change). */
  private pageSignature(): string {
    let s = '';
    for (let k = 0; k < this.pages; k++) s += `${this.pageHi[k]}:${this.pageLo[k]},`;
    return s;
  }

  /** B bits of the enabled instruction breakpoints at linear address lo:hi. */
  matchExec(lo: number, hi: number): number {
    let m = 0;
    for (let n = 0; n < 4; n++) if ((this.exec & (1 << n)) !== 0 && this.lo[n] === lo && this.hi[n] === hi) m |= 1 << n;
    return m;
  }

  /** Data access of `size` bytes at linear lo:hi (Cpu.readSlow/writeSlow): any overlap with a watched range counts. */
  access(lo: number, hi: number, size: number, kind: number): void {
    if ((kind & ACC_EXEC) !== 0) return; // instruction fetch, not a data access
    const set = (kind & ACC_WRITE) !== 0 ? this.writes : this.reads;
    if (set === 0) return;
    const a = lo >>> 0;
    for (let n = 0; n < 4; n++) {
      if ((set & (1 << n)) === 0 || this.hi[n] !== hi) continue;
      const b = this.lo[n] >>> 0;
      if (a < b + this.len[n] && b < a + size) this.hits |= 1 << n;
    }
  }

  /** IN/OUT/INS/OUTS of `size` bytes at `port` (R/W 10 with CR4.DE): any overlap counts. */
  port(port: number, size: number): void {
    if (this.io === 0) return;
    for (let n = 0; n < 4; n++) {
      if ((this.io & (1 << n)) === 0) continue;
      const b = this.lo[n] & 0xffff;
      if (port < b + this.len[n] && b < port + size) this.hits |= 1 << n;
    }
  }
}

/**
 * Record a debug exception's causes in DR6 before #DB is delivered: B0-B3 are
 * replaced by `b` when a breakpoint matched (SDM 18.2.3: "certain debug
 * exceptions may clear bits 0-3"), BD/BS/BT accumulate (never cleared by the CPU).
 */
export function reportDebug(c: Cpu, b: number, extra: number): void {
  const r = c.r32;
  r[W.W_DR6] = (b !== 0 ? (r[W.W_DR6] & ~DR6_B) | b : r[W.W_DR6]) | extra;
}
