// The interpreter's CPU core: the live register file (a view over the state
// record in guest memory), cached mode, linear-memory access through the TLB,
// and the hooks through which system code (cpu/system, mmu) plugs in.
//
// Extension points (what cpu-system, fpu and kvm build on):
// - Registers: `r32` is an Int32Array over the state record (index = byte
//   offset / 4; GPR n is r32[2n] (low) and r32[2n+1] (high); RIP is r32[RIP/4]).
//   `dv` is a DataView over the same bytes. Write CRs, EFER, segments, MSRs
//   there directly, then call `modeChanged()` (CR0/CR4/EFER/CS/SS/CPL changes)
//   or `segChanged(n)` (a data segment's hidden part changed).
// - Flags: arithmetic flags are lazy (cpu/flags.ts). Read RFLAGS with
//   `getRflags()`, write it with `setRflags(v)`; never read the RFLAGS word raw.
// - Memory: `read8/16/32(lo, hi)` / `write8/16/32(lo, hi, v)` take a linear
//   address as two 32-bit halves and use the current CPL for U/S checks;
//   `readK*`/`writeK*` take an explicit access kind (mmu/tlb.ts ACC_*), for
//   implicit supervisor accesses (descriptor tables, TSS, IDT). A TLB miss calls
//   `mmu.translate(cpu, lo, hi, kind)`, which cpu-system's page walker provides
//   (it fills `tlb` and returns the physical address or throws #PF). Until paging
//   is installed the default translator maps linear = physical (with A20).
// - Faults: throw `CpuFault` (cpu/fault.ts) from anywhere inside an
//   instruction. The run loop (cpu/interp.ts) catches it, restores RIP to the
//   faulting instruction and calls `sys.deliverEvent(...)`.
// - System semantics: `sys` (SystemHooks below) is the table of functions
//   cpu-system implements: event delivery, segment loads, I/O permission,
//   far transfers. Defaults here are real-mode-only stubs.
// - Opcode rows: the table is composed from row arrays (cpu/table.ts
//   `composeTable`); each row names its operands and a builder that returns
//   the specialised executor for one decoded instruction (cpu/decoder.ts Insn).

import { GuestMemory } from '../mmu/memory.js';
import { ACC_EXEC, ACC_USER, ACC_WRITE, PAGE_MASK, Tlb, TLB_BITS, TLB_MASK } from '../mmu/tlb.js';
import type { CpuHost } from '../contracts/backend.js';
import { ARITH_FLAGS, LF_NONE, arithFlags } from './flags.js';
import {
  ATTR_DB, ATTR_L, ATTR_DPL_SHIFT, ATTR_UNUSABLE, CR0, CR0_PE, CS, EFER, EFER_LMA, EVENT_EXCEPTION,
  FLAGS_FIXED, FLAG_VM, GS, RUN_SHUTDOWN, RUN_STATE, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, SS,
  STATE_SIZE, segOffset,
} from './state.js';
import { CpuFault } from './fault.js';
import { M, vcpuViews, type VcpuViews } from './vcpu-layout.js';
import { W } from './words.js';

/** One decoded instruction, specialised: runs it against the CPU. Throws CpuFault. */
export type Exec = (c: Cpu) => void;

/** Word index (into r32) of GPR n's low half. */
export const reg = (n: number): number => n * 2;
/** Word index of a segment register field (SEG_SEL/SEG_ATTR/SEG_LIMIT/SEG_BASE). */
export const segWord = (n: number, field: number): number => (segOffset(n) + field) / 4;

/** Execution modes cached by modeChanged(). */
export const MODE_REAL = 0, MODE_PROT = 1, MODE_VM86 = 2, MODE_LONG64 = 3, MODE_COMPAT = 4;

/** cpu.segMax of a 4 GiB expand-up segment: above any offset + size - 1, so nothing faults (SDM 5.3
 * leaves an access that wraps past a 4 GiB limit to the implementation; this one wraps). */
export const SEG_MAX_FLAT = 2 ** 33;
/** cpu.segMax that sends every access to the full check (expand-down or unusable segments). */
export const SEG_MAX_SLOW = -1;
/** Cpu.codeKey: the code size's decoding, | CODE_KEY_LIMITED under a CS limit below 4 GiB; CODE_KEYS values in all. */
export const CODE_KEY_16 = 0, CODE_KEY_32 = 1, CODE_KEY_64 = 2, CODE_KEY_LIMITED = 4, CODE_KEYS = 8;
/** Attribute bits S, code and E: an expand-down data segment has S=1, code=0, E=1 (SDM 3.4.5.1). */
export const ATTR_KIND_MASK = 0x1c, ATTR_EXPAND_DOWN = 0x14;
/** Type bits code (3) and W/R (1): a writable data segment is 2 under this mask, an execute-only code segment 8. */
export const ATTR_CODE_RW = 0xa, TYPE_DATA_WRITABLE = 0x2, TYPE_CODE_EXEC_ONLY = 0x8;
/** Added to a segment number for operands.ts segCheck/segFits: the access writes (or reads and writes). */
export const SEG_WRITE = 8;
/** Added to a segment number to index cpu.segMax's read bound. */
export const SEG_READ = 16;

/** Translates linear to physical on a TLB miss (cpu-system's page walker implements it). */
export interface Translator {
  /** Physical address for `kind` (ACC_* bits) at linear lo:hi; fills cpu.tlb; throws CpuFault(#PF/#GP). */
  translate(cpu: Cpu, lo: number, hi: number, kind: number): number;
  /** The TLB was flushed (global: every entry; else all but global ones): the memory model hears of it. */
  flushed?(global: boolean): void;
  /** INVLPG of the page holding lo:hi. */
  invalidated?(lo: number, hi: number): void;
  /** The CPU is going away: stop watching guest memory. */
  detach?(): void;
}

/**
 * System semantics supplied by cpu-system (cpu/system/). The interpreter calls
 * these; they read/write the state record through cpu.r32/cpu.dv.
 */
/** Sees data accesses while DR7 enables a data or I/O breakpoint (cpu/system/debug.ts). */
export interface AccessWatch {
  access(lo: number, hi: number, size: number, kind: number): void;
  port(port: number, size: number): void;
}

export interface SystemHooks {
  /**
   * Deliver an exception, interrupt, NMI or software interrupt. RIP already
   * points where the handler must return (faulting instruction for faults,
   * the next one for traps and INT n). `kind` is an EVENT_* from state.ts.
   * Must itself handle #DF / triple fault (RUN_STATE = RUN_SHUTDOWN).
   */
  deliverEvent(cpu: Cpu, vector: number, kind: number, errorCode: number, hasError: boolean): void;
  /** MOV/POP Sreg, LDS...: load segment `seg` with `selector` (checks, descriptor fetch); then cpu.segChanged/modeChanged. */
  loadSegment(cpu: Cpu, seg: number, selector: number): void;
  /** IN/OUT/INS/OUTS permission (IOPL, TSS I/O bitmap): throw #GP(0) if not allowed. */
  checkIo(cpu: Cpu, port: number, size: number): void;
}

/** Real-mode-only defaults, replaced by cpu-system's implementation. */
export const defaultSystemHooks: SystemHooks = {
  deliverEvent(cpu, vector, kind, errorCode, hasError) {
    cpu.lastEvent = { vector, kind, errorCode, hasError };
    cpu.r32[W.W_RUN] = RUN_SHUTDOWN;
  },
  loadSegment(cpu, seg, selector) {
    // Real mode / VM86: base = selector * 16, the rest of the hidden part is kept.
    const r = cpu.r32;
    r[segWord(seg, SEG_SEL)] = selector & 0xffff;
    r[segWord(seg, SEG_BASE)] = (selector & 0xffff) << 4;
    r[segWord(seg, SEG_BASE) + 1] = 0;
    if (seg === CS || seg === SS) cpu.modeChanged(); else cpu.segChanged(seg);
  },
  checkIo() { /* real mode: always allowed */ },
};

/** Tag-plane bits of the write kinds (ACC_WRITE, ACC_WRITE|ACC_USER): slow on code pages. */
const WRITE_KINDS_MASK = (1 << ACC_WRITE) | (1 << (ACC_WRITE | ACC_USER));

/** Linear = physical (paging off), A20 applied; used until cpu-system installs its walker. */
export const identityTranslator: Translator = {
  translate(cpu, lo, hi, _kind) {
    const phys = (lo & cpu.a20Mask) >>> 0;
    const ram = phys < cpu.mem.ramSize;
    const code = ram && (cpu.mem.codePages[phys >>> 12] | cpu.mem.dirtyPages[phys >>> 12]) !== 0;
    // Every kind allowed; MMIO always slow; writes to code pages slow (so the code cache hears of them).
    cpu.tlb.fill(lo, hi, phys, 0xff, ram ? (code ? WRITE_KINDS_MASK : 0) : 0xff, false, PAGE_MASK);
    return phys;
  },
};

export class Cpu {
  readonly mem: GuestMemory;
  readonly host: CpuHost;
  /** The live state record, as 32-bit words. */
  readonly r32: Int32Array;
  /** The live state record, byte-addressed (offsets from cpu/state.ts). */
  readonly dv: DataView;
  /** Guest RAM as a DataView (fast paths after a TLB hit). */
  readonly ram: DataView;
  readonly ramU8: Uint8Array;
  readonly tlb: Tlb;
  /** This vCPU's hot data in guest memory (cpu/vcpu-layout.ts): what compiled code reads. */
  readonly views: VcpuViews;
  // TLB planes, cached here so the fast path is two loads and two compares.
  readonly tlbTags: Int32Array;
  readonly tlbHi: Int32Array;
  readonly tlbPhys: Uint32Array;

  mmu: Translator = identityTranslator;
  sys: SystemHooks = defaultSystemHooks;

  // ---- Cached mode (recomputed by modeChanged()).
  mode = MODE_REAL;
  cpl = 0;
  /** Default operand/address size of the code segment in bytes: 2, 4 or 8 (64-bit mode). */
  codeSize = 2;
  /** Stack address size from SS.B (2 or 4), or 8 in 64-bit mode. */
  stackSize = 2;
  /** 4 while the stack is 32-bit on a 4 GiB expand-up SS (the fast push/pop need no limit check), else 0. */
  stackFlat32 = 0;
  /** Offsets (<< TLB_BITS) of the read and write tag planes for the current CPL. */
  planeR = 0;
  planeW = ACC_WRITE << TLB_BITS;
  planeX = ACC_EXEC << TLB_BITS;
  /** 0xffffffff, or ~(1 << 20) with the A20 gate closed. */
  a20Mask = -1;
  /**
   * Bumped whenever decoded code must be dropped: setState, or a CS limit below 4 GiB other than
   * the one limited code was decoded under. A change of code size or mode does not bump it:
   * decoded (and translated) code is keyed by `codeKey` as well as by physical address.
   */
  generation = 0;
  /**
   * Which decoding of the bytes at a physical address the current mode needs, the second half of
   * the key of decoded blocks (BlockCache) and translated code: CODE_KEY_16/32/64 by code size,
   * plus CODE_KEY_LIMITED while the CS limit is below 4 GiB (fetchMax, which cuts blocks and
   * checks branch targets; real mode's 64 KiB included). Nothing else a decoder or builder reads
   * depends on the mode, so code decoded under one key is right for every mode with that key.
   */
  codeKey = CODE_KEY_16 | CODE_KEY_LIMITED;
  /** The CS limit that code under a CODE_KEY_LIMITED key was decoded for. */
  private keyedFetchMax = 0xffff;
  /**
   * Bumped by anything the run loop must look at between blocks (mode change,
   * TLB flush, stop request): one compare covers them all in the common path.
   */
  attention = 0;
  /**
   * A device asked for the block to end after the instruction in progress (endBlock(): a TPR
   * write through the APIC page made an interrupt deliverable). execBlock looks at it only after
   * instructions that may have reached MMIO (closures, the store fast ops' slow paths), so RAM
   * accesses pay nothing; the run loop clears it between blocks (the request bumps attention).
   */
  blockEnd = 0;
  /**
   * Per segment register ES..GS, outside 64-bit mode: the highest offset the last byte of an
   * access may have and pass with one compare (`off + size - 1 > segMax[seg]` sends the access to
   * operands.ts segCheck, the full SDM 5.3-5.5 check, which faults or lets it through). Expand-up:
   * the limit (SEG_MAX_FLAT for 4 GiB); expand-down, or unusable in protected mode: SEG_MAX_SLOW.
   * The type check is folded in (protected/compatibility mode): segMax[seg] bounds any access, so
   * it is SEG_MAX_SLOW unless the segment is writable data; segMax[seg + SEG_READ] bounds reads
   * only (eaFn's loads), SEG_MAX_SLOW for execute-only code. An access sent to segCheck that is
   * allowed (a read through read-only data) just takes the slow path; one that is not raises #GP(0).
   * Derived from the state record by modeChanged()/segChanged(n).
   */
  readonly segMax: Float64Array;
  /**
   * The highest EIP an instruction byte may have (CS limit, SDM 5.3): SEG_MAX_FLAT in 64-bit mode
   * or with a 4 GiB CS. Decoded blocks depend on it, so a change bumps `generation`.
   */
  fetchMax = SEG_MAX_FLAT;
  /** Listeners for modeChanged (the interpreter drops decoded blocks when the code size changes). */
  onModeChange: (() => void) | null = null;
  /** Set by the run loop while a data/I-O breakpoint is enabled; pages it watches stay off the TLB fast path. */
  watch: AccessWatch | null = null;

  /** High half of the last 64-bit read (read64 returns the low half). */
  hi = 0;
  /** High half of the last effective address computed (0 outside 64-bit mode). */
  eaHi = 0;
  /** High half of the last 64-bit ALU result. */
  resHi = 0;
  /**
   * Work done by the run() in progress besides one unit per retired instruction: event
   * deliveries, REP string iterations and runaway decoding add to it, and it counts toward the run budget, so
   * run(n) returns after bounded work whatever the guest does. The run loop zeroes it.
   */
  charge = 0;
  /**
   * Instruction time inside a run(): `inRun` is the instructions the run() in progress has
   * retired before the running instruction, as the instruction clock and every other reader of
   * the backend's instruction count see it. The run loop sets it (and `blockStart`, the count
   * before the running block's first instruction) between blocks; cpu/exec.ts sets it before
   * each instruction that can reach a device or a clock (an executor, a memory slow path), and
   * the JIT's step import before the instruction it runs, so a read of the TSC, PIT, PM timer,
   * HPET or APIC timer sees the count as if every instruction had been stepped, whatever blocks,
   * passes or compiled regions the instructions ran in. 0 outside run().
   */
  inRun = 0;
  blockStart = 0;
  /** The fault that stopped the last block (cpu/exec.ts). */
  lastFault: CpuFault | null = null;
  /** Index in its block of the instruction that raised lastFault. */
  faultIndex = 0;
  /**
   * Debug exceptions held for one instruction (SDM Vol. 3A 6.8.3): the DR6 B0-B3 bits of data
   * breakpoints that a MOV SS / POP SS hit, reported after the instruction in its shadow (the
   * run loop's stepOne); INT1 reports them with its own #DB and sets HELD_ICEBP.
   */
  heldDebug = 0;
  /** HLT instructions executed (the SMP counters' halts; a JS field, not state: a backend switch carries the sum on). */
  hlts = 0;
  /** The last event the default delivery stub saw (tests, error messages). */
  lastEvent: { vector: number; kind: number; errorCode: number; hasError: boolean } | null = null;

  /** Which vCPU this is; its area in guest memory starts at `base`. */
  readonly index: number;
  /** Byte offset of this vCPU's area (state record first) in guest memory. */
  readonly base: number;

  constructor(mem: GuestMemory, host: CpuHost, index = 0) {
    this.mem = mem;
    this.host = host;
    this.index = index;
    this.base = mem.vcpuOffset(index);
    this.r32 = new Int32Array(mem.buffer, this.base, STATE_SIZE / 4);
    this.dv = new DataView(mem.buffer, this.base, STATE_SIZE);
    this.ram = mem.dv;
    this.ramU8 = mem.u8;
    this.views = vcpuViews(mem.buffer, this.base);
    this.segMax = this.views.segMax.fill(SEG_MAX_SLOW);
    this.tlb = new Tlb({ tags: this.views.tlbTags, hiTag: this.views.tlbHi, phys: this.views.tlbPhys });
    this.tlbTags = this.tlb.tags;
    this.tlbHi = this.tlb.hiTag;
    this.tlbPhys = this.tlb.phys;
  }

  // ---- Flags.

  getRflags(): number {
    const r = this.r32;
    if (r[W.LF_OP] !== LF_NONE) {
      r[W.W_RFLAGS] = (r[W.W_RFLAGS] & ~ARITH_FLAGS) | arithFlags(r);
      r[W.LF_OP] = LF_NONE;
    }
    return r[W.W_RFLAGS] | FLAGS_FIXED;
  }

  setRflags(v: number): void {
    const r = this.r32;
    r[W.W_RFLAGS] = (v & 0x3f7fd5) | FLAGS_FIXED;
    r[W.LF_OP] = LF_NONE;
  }

  // ---- Mode.

  /** Recompute cached mode after CR0/CR4/EFER/CS/SS/RFLAGS.VM changes; drops mode-dependent caches. */
  modeChanged(): void {
    const r = this.r32, dv = this.dv;
    const cr0 = dv.getUint32(CR0, true), efer = dv.getUint32(EFER, true);
    const csAttr = r[segWord(CS, SEG_ATTR)], ssAttr = r[segWord(SS, SEG_ATTR)];
    const vm = (r[W.W_RFLAGS] & FLAG_VM) !== 0;
    if ((cr0 & CR0_PE) === 0) {
      this.mode = MODE_REAL; this.cpl = 0;
    } else if (vm && (efer & EFER_LMA) === 0) {
      this.mode = MODE_VM86; this.cpl = 3;
    } else {
      this.cpl = (ssAttr >> ATTR_DPL_SHIFT) & 3;
      this.mode = (efer & EFER_LMA) !== 0 ? ((csAttr & ATTR_L) !== 0 ? MODE_LONG64 : MODE_COMPAT) : MODE_PROT;
    }
    if (this.mode === MODE_LONG64) { this.codeSize = 8; this.stackSize = 8; } else {
      this.codeSize = this.mode !== MODE_VM86 && this.mode !== MODE_REAL && (csAttr & ATTR_DB) !== 0 ? 4 : 2;
      if (this.mode === MODE_REAL) this.codeSize = (csAttr & ATTR_DB) !== 0 ? 4 : 2; // big real mode keeps D
      this.stackSize = (ssAttr & ATTR_DB) !== 0 ? 4 : 2;
    }
    const user = this.cpl === 3 ? ACC_USER : 0;
    this.planeR = user << TLB_BITS;
    this.planeW = (user | ACC_WRITE) << TLB_BITS;
    this.planeX = (user | ACC_EXEC) << TLB_BITS;
    this.a20Mask = this.host.a20Enabled() ? -1 : ~(1 << 20);
    for (let n = 0; n <= GS; n++) this.segChanged(n);
    const csLimit = r[segWord(CS, SEG_LIMIT)] >>> 0;
    this.fetchMax = this.mode === MODE_LONG64 || csLimit === 0xffffffff ? SEG_MAX_FLAT : csLimit;
    const limited = this.fetchMax < SEG_MAX_FLAT;
    this.codeKey = (this.codeSize === 8 ? CODE_KEY_64 : this.codeSize === 4 ? CODE_KEY_32 : CODE_KEY_16) | (limited ? CODE_KEY_LIMITED : 0);
    // Limited code also depends on the limit's value: another limit drops it (rare: real mode is always 64 KiB).
    if (limited && this.fetchMax !== this.keyedFetchMax) { this.keyedFetchMax = this.fetchMax; this.generation++; }
    this.publishMode();
    this.attention++;
    if (this.onModeChange) this.onModeChange();
  }

  /** A data segment register's hidden part changed (base/limit/attributes). */
  segChanged(n: number): void {
    if (n > GS) return;
    const bound = this.segMaxOf(n);
    const attr = this.r32[segWord(n, SEG_ATTR)] & ATTR_CODE_RW;
    // Types are checked in protected and compatibility mode only (SDM 5.5; 64-bit mode checks none).
    const typed = this.mode === MODE_PROT || this.mode === MODE_COMPAT;
    this.segMax[n] = typed && attr !== TYPE_DATA_WRITABLE ? SEG_MAX_SLOW : bound;
    this.segMax[n + SEG_READ] = typed && attr === TYPE_CODE_EXEC_ONLY ? SEG_MAX_SLOW : bound;
    if (n === SS) {
      this.stackFlat32 = this.stackSize === 4 && this.segMax[SS] === SEG_MAX_FLAT ? 4 : 0;
      this.views.mode[M.STACK_FLAT32] = this.stackFlat32;
    }
  }

  /**
   * Write the mode fields into this vCPU's area (cpu/vcpu-layout.ts), where compiled code reads
   * them; the properties above are the interpreter's copies, set only by modeChanged/segChanged.
   */
  private publishMode(): void {
    const m = this.views.mode;
    m[M.PLANE_R] = this.planeR; m[M.PLANE_W] = this.planeW; m[M.PLANE_X] = this.planeX;
    m[M.CPL] = this.cpl; m[M.CODE_SIZE] = this.codeSize; m[M.STACK_SIZE] = this.stackSize;
    m[M.STACK_FLAT32] = this.stackFlat32; m[M.MODE] = this.mode;
    this.views.fetchMax[0] = this.fetchMax;
  }

  /** The limit part of segMax for segment n from its hidden part and the current mode. */
  private segMaxOf(n: number): number {
    const r = this.r32;
    const attr = r[segWord(n, SEG_ATTR)], limit = r[segWord(n, SEG_LIMIT)] >>> 0;
    // Real and v8086 mode have no null selectors: a stale "unusable" bit means nothing there.
    if ((attr & ATTR_UNUSABLE) !== 0 && this.mode !== MODE_REAL && this.mode !== MODE_VM86) return SEG_MAX_SLOW;
    if ((attr & ATTR_KIND_MASK) === ATTR_EXPAND_DOWN) return SEG_MAX_SLOW;
    return limit === 0xffffffff ? SEG_MAX_FLAT : limit;
  }

  /** Drop TLB entries (MOV CR3: global=false keeps global pages; CR0/CR4 writes: global=true). */
  flushTlb(global: boolean): void { this.tlb.flush(global); this.mmu.flushed?.(global); this.mapEpoch++; this.attention++; }
  /** INVLPG. */
  invlpg(lo: number, hi: number): void { this.tlb.invalidate(lo, hi); this.mmu.invalidated?.(lo, hi); this.mapEpoch++; this.attention++; }
  /** Bumped by every TLB flush: links between decoded blocks by linear address must be re-checked. */
  mapEpoch = 0;

  // ---- Linear memory, current privilege. Fast path: TLB hit on a RAM page, access inside the page.

  read8(lo: number, hi: number): number {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeR | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi) {
      return this.ramU8[this.tlbPhys[i] + (lo & 0xfff)];
    }
    return this.readSlow(lo, hi, 1, this.planeR >> TLB_BITS);
  }
  read16(lo: number, hi: number): number {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeR | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi && (lo & 0xfff) <= 0xffe) {
      return this.ram.getUint16(this.tlbPhys[i] + (lo & 0xfff), true);
    }
    return this.readSlow(lo, hi, 2, this.planeR >> TLB_BITS);
  }
  read32(lo: number, hi: number): number {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeR | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi && (lo & 0xfff) <= 0xffc) {
      return this.ram.getInt32(this.tlbPhys[i] + (lo & 0xfff), true);
    }
    return this.readSlow(lo, hi, 4, this.planeR >> TLB_BITS);
  }
  /** 64-bit read: returns the low half, leaves the high half in `this.hi`. */
  read64(lo: number, hi: number): number {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeR | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi && (lo & 0xfff) <= 0xff8) {
      const p = this.tlbPhys[i] + (lo & 0xfff);
      this.hi = this.ram.getInt32(p + 4, true);
      return this.ram.getInt32(p, true);
    }
    const l = this.readSlow(lo, hi, 4, this.planeR >> TLB_BITS);
    const nlo = (lo + 4) | 0;
    this.hi = this.readSlow(nlo, nlo >>> 0 < 4 ? (hi + 1) | 0 : hi, 4, this.planeR >> TLB_BITS);
    return l;
  }
  write8(lo: number, hi: number, v: number): void {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeW | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi) {
      this.ramU8[this.tlbPhys[i] + (lo & 0xfff)] = v;
      return;
    }
    this.writeSlow(lo, hi, 1, v, this.planeW >> TLB_BITS);
  }
  write16(lo: number, hi: number, v: number): void {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeW | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi && (lo & 0xfff) <= 0xffe) {
      this.ram.setUint16(this.tlbPhys[i] + (lo & 0xfff), v, true);
      return;
    }
    this.writeSlow(lo, hi, 2, v, this.planeW >> TLB_BITS);
  }
  write32(lo: number, hi: number, v: number): void {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeW | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi && (lo & 0xfff) <= 0xffc) {
      this.ram.setInt32(this.tlbPhys[i] + (lo & 0xfff), v, true);
      return;
    }
    this.writeSlow(lo, hi, 4, v, this.planeW >> TLB_BITS);
  }
  write64(lo: number, hi: number, vLo: number, vHi: number): void {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeW | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi && (lo & 0xfff) <= 0xff8) {
      const p = this.tlbPhys[i] + (lo & 0xfff);
      this.ram.setInt32(p, vLo, true);
      this.ram.setInt32(p + 4, vHi, true);
      return;
    }
    // Check both halves are writable before changing either (a fault must leave memory untouched).
    const nlo = (lo + 4) | 0, nhi = nlo >>> 0 < 4 ? (hi + 1) | 0 : hi;
    this.translate(lo, hi, this.planeW >> TLB_BITS);
    this.translate((lo + 7) | 0, (lo >>> 0) + 7 > 0xffffffff ? (hi + 1) | 0 : hi, this.planeW >> TLB_BITS);
    this.writeSlow(lo, hi, 4, vLo, this.planeW >> TLB_BITS);
    this.writeSlow(nlo, nhi, 4, vHi, this.planeW >> TLB_BITS);
  }

  // ---- Explicit access kind (system code: descriptor tables, TSS, IDT are supervisor accesses).

  readK(lo: number, hi: number, size: 1 | 2 | 4, kind: number): number { return this.readSlow(lo, hi, size, kind); }
  writeK(lo: number, hi: number, size: 1 | 2 | 4, v: number, kind: number): void { this.writeSlow(lo, hi, size, v, kind); }

  /** Instruction fetch of one byte (decoder). */
  fetch8(lo: number, hi: number): number {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    if (this.tlbTags[this.planeX | i] === (lo & PAGE_MASK) && this.tlbHi[i] === hi) {
      return this.ramU8[this.tlbPhys[i] + (lo & 0xfff)];
    }
    return this.readSlow(lo, hi, 1, this.planeX >> TLB_BITS);
  }

  /** Linear -> physical for one access kind (TLB, then the page walker). */
  translate(lo: number, hi: number, kind: number): number {
    const i = ((lo >>> 12) ^ hi) & TLB_MASK;
    const t = this.tlbTags[(kind << TLB_BITS) | i];
    if ((t & PAGE_MASK) === (lo & PAGE_MASK) && (t & 2) === 0 && this.tlbHi[i] === hi) {
      return (this.tlbPhys[i] + (lo & 0xfff)) >>> 0;
    }
    return this.mmu.translate(this, lo, hi, kind);
  }

  readSlow(lo: number, hi: number, size: number, kind: number): number {
    if (this.watch !== null) this.watch.access(lo, hi, size, kind);
    if ((lo & 0xfff) > 0x1000 - size) {
      // Crosses a page: byte by byte, each through its own translation.
      let v = 0;
      for (let k = 0; k < size; k++) {
        const a = (lo + k) | 0;
        const h = (a >>> 0) < (lo >>> 0) ? (hi + 1) | 0 : hi;
        v |= this.mem.read8(this.translate(a, h, kind)) << (8 * k);
      }
      return size === 2 ? v & 0xffff : v;
    }
    const p = this.translate(lo, hi, kind);
    return size === 1 ? this.mem.read8(p) : size === 2 ? this.mem.read16(p) : this.mem.read32(p);
  }

  writeSlow(lo: number, hi: number, size: number, v: number, kind: number): void {
    if (this.watch !== null) this.watch.access(lo, hi, size, kind);
    if ((lo & 0xfff) > 0x1000 - size) {
      const lo2 = (lo + size - 1) | 0;
      const p1 = this.translate(lo, hi, kind);
      const p2 = this.translate(lo2, (lo2 >>> 0) < (lo >>> 0) ? (hi + 1) | 0 : hi, kind);
      const split = 0x1000 - (lo & 0xfff);
      for (let k = 0; k < size; k++) {
        this.mem.write8(k < split ? p1 + k : (p2 & PAGE_MASK) + (k - split), (v >>> (8 * k)) & 0xff);
      }
      return;
    }
    const p = this.translate(lo, hi, kind);
    if (size === 1) this.mem.write8(p, v & 0xff); else if (size === 2) this.mem.write16(p, v & 0xffff); else this.mem.write32(p, v);
  }

  // ---- Faults.

  /** Raise an exception from inside an instruction. */
  fault(vector: number, errorCode = 0, hasError = false): never {
    throw new CpuFault(vector, errorCode, hasError);
  }

  /** Deliver an event now (RIP must already be the return address). */
  deliver(vector: number, kind = EVENT_EXCEPTION, errorCode = 0, hasError = false): void {
    this.sys.deliverEvent(this, vector, kind, errorCode, hasError);
  }

  /** Segment base (low half) and limit, for segmented accesses outside 64-bit mode. */
  segBase(seg: number): number { return this.r32[segWord(seg, SEG_BASE)]; }
  segLimit(seg: number): number { return this.r32[segWord(seg, SEG_LIMIT)] >>> 0; }
}
