// The `interp` backend: runs pre-decoded blocks until the budget is spent, HLT,
// shutdown or requestStop. Interrupts, budget and stop requests are looked at
// between blocks only; faults are caught per block and delivered with RIP on
// the faulting instruction. The budget counts retired instructions plus
// cpu.charge (event deliveries, REP string work, runaway decoding), so run(n) returns after
// bounded work even when no instruction retires.

import type { Backend, CpuHost, ExitReason } from '../contracts/backend.js';
import { EXIT_BUDGET, EXIT_HALT, EXIT_SHUTDOWN, EXIT_STOP } from '../contracts/backend.js';
import { BlockCache, Block, CODE_WRITTEN, REP_COND, REP_E } from './blocks.js';
import { Cpu, SEG_MAX_FLAT } from './cpu.js';
import type { SystemHooks, Translator } from './cpu.js';
import { getZF } from './flags.js';
import { execBlock } from './exec.js';
import { BLOCK_END, CpuFault, VEC_DB, VEC_FREEZE, VEC_REP_PAUSE } from './fault.js';
import { Breakpoints, DR6_B, DR6_BS, DR7_ENABLES, HELD_ICEBP, reportDebug } from './system/debug.js';
import { modelCounters } from './system/context.js';
import {
  ARCH_END, EVENT_EXCEPTION, EVENT_HAS_ERROR, EVENT_SOFTINT, EVENT_VALID, FLAG_RF, FLAG_TF, EVENT_EXTINT, EVENT_NMI, FLAG_IF,
  RUN_HALTED, RUN_RUNNING, RUN_SHUTDOWN, SHADOW_MOV_SS, STATE_SIZE, type CpuStateBytes,
} from './state.js';
import type { OpRow, OpTable } from './table.js';
import { composeRows } from './compose.js';
import { disassemble } from './disasm.js';
import { ripLinear as ripLin } from './blocks.js';
import { W } from './words.js';

/** What another area adds to the interpreter: table rows (taking precedence over the integer rows) and hooks. */
export interface CpuExtension {
  rows?: OpRow[];
  /** Called once with the new Cpu: install SystemHooks, the page walker, etc. */
  install?(cpu: Cpu): void;
  /** Bring lazily kept state into the state record before getState copies it (the running TSC). */
  beforeExport?(cpu: Cpu): void;
  /** setState stored a new record: take up what it holds now (the TSC continues from this moment). */
  afterImport?(cpu: Cpu): void;
}

/** events() results besides exit reasons. */
const EV_NONE = -1, EV_DELIVERED = -2;
/** Most passes through a self-looping block between two looks at interrupts and stop requests. */
const MAX_PASSES = 64;
/**
 * Budget units one event delivery costs (cpu.charge): about what delivering an exception
 * costs next to an interpreted instruction (a faulting UD2 through a real-mode, 32-bit or
 * 64-bit gate takes 12-22 us here, an instruction 15-40 ns), so a fault storm ends run(n) in
 * about the time n instructions would take.
 */
export const DELIVERY_COST = 256;
/**
 * Budget units one decoded instruction costs beyond FREE_DECODES + 2 per retired instruction in
 * a run() (cpu.charge): decoding and building an executor takes about as long as running a few
 * dozen. Ordinary code, cold cache or warm, decodes at most about what it retires and is never
 * charged, so run(n) retires exactly n there whatever the cache holds (snapshots restored with
 * an empty cache replay the same); code rewritten just ahead of itself re-decodes a block per
 * instruction, and the charge keeps run(n) bounded.
 */
export const DECODE_COST = 16;
const FREE_DECODES = 4096;
/** Exceptions delivered with no instruction retired in between after which the guest is in a fault storm (counted once). */
const STORM_FAULTS = 1_000;
/** Blocks between two samples of INTR in the common path. */
const IRQ_POLL_BLOCKS = 4;

export class InterpBackend implements Backend {
  readonly name: 'interp' | 'jit' = 'interp';
  readonly cpu: Cpu;
  readonly cache: BlockCache;
  /** The composed opcode table (integer rows plus the extensions'). */
  readonly table: OpTable;
  lastError?: string;
  private stop = false;
  private retired = 0;
  private generation = -1;
  private mapEpoch = 0;
  /**
   * codeWrites: blocks ended early because the guest overwrote one of their later instructions;
   * repPauses: REP string instructions paused between chunks; faultStorms: times the guest
   * delivered STORM_FAULTS exceptions in a row with no instruction retired (a handler that faults
   * on its own first instruction), stormFaults: the exceptions delivered in such storms; charged:
   * budget units charged besides retired instructions (REP string elements, event deliveries, decoding).
   */
  private readonly stats = {
    charged: 0, faults: 0, interrupts: 0, halts: 0, runs: 0, freezes: 0, codeWrites: 0, repPauses: 0, faultStorms: 0, stormFaults: 0,
    blockEnds: 0,
  };
  /** Exceptions delivered since an instruction last retired (across run() calls). */
  private faultRun = 0;
  /** Hardware breakpoints, armed from DR0-DR3/DR7 in events(). */
  readonly bp = new Breakpoints();
  /** DR7 enables a breakpoint: every instruction goes through stepOne(). */
  private dbgStep = false;
  /** An STI / MOV SS shadow covers the next instruction boundary: run one instruction (stepOne), then look again. */
  private shadowStep = false;

  /** The block the last runBlock ended in. */
  protected stopped = new Block();
  private readonly beforeExport: ((cpu: Cpu) => void)[];
  private readonly afterImport: ((cpu: Cpu) => void)[];

  constructor(host: CpuHost, extensions: CpuExtension[] = [], hooks?: { sys?: SystemHooks; mmu?: Translator }) {
    this.cpu = new Cpu(host.memory, host, host.vcpu ?? 0);
    this.beforeExport = extensions.flatMap((e) => (e.beforeExport ? [e.beforeExport] : []));
    this.afterImport = extensions.flatMap((e) => (e.afterImport ? [e.afterImport] : []));
    const table = composeRows(extensions.map((e) => e.rows ?? []));
    this.table = table;
    this.cache = new BlockCache(this.cpu, table);
    if (hooks?.sys) this.cpu.sys = hooks.sys;
    if (hooks?.mmu) this.cpu.mmu = hooks.mmu;
    for (const e of extensions) e.install?.(this.cpu);
    this.cpu.modeChanged();
  }

  run(budget: number): ExitReason {
    const c = this.cpu, r = c.r32, cache = this.cache, irq = c.host.interrupts;
    this.stats.runs++;
    this.stop = false;
    c.charge = 0;
    const faults0 = this.stats.faults;
    let executed = 0;
    let decodes = cache.decodedInsns + FREE_DECODES; // decoded-instruction count past which decoding is charged
    let prev: Block | null = null;
    let reason: ExitReason = EXIT_BUDGET;
    let seen = c.attention - 1; // forces events() once at entry
    let poll = 1;
    let stepAll = false;
    for (;;) {
      // Budget left: instructions retired and other work charged (deliveries, REP chunks) count.
      const left = budget - executed - c.charge;
      if (left <= 0) break;
      c.inRun = c.blockStart = executed;
      // Between blocks. The common case is one combined test; anything unusual
      // (stop, mode or mapping change, HLT, shutdown, shadow, NMI) goes to events().
      if ((r[W.W_RUN] | r[W.W_SHADOW] | r[W.W_NMI]) !== 0 || c.attention !== seen) {
        seen = c.attention;
        const ev = this.events(prev);
        stepAll = this.dbgStep || this.shadowStep;
        // Instruction breakpoints are checked in events(), before every instruction.
        if (this.bp.exec !== 0) seen = c.attention - 1;
        if (ev >= 0) { reason = ev as ExitReason; break; }
        if (ev === EV_DELIVERED) { prev = null; continue; }
        prev = null;
      } else if (--poll === 0) {
        // INTR is sampled every IRQ_POLL_BLOCKS blocks (and always in events(): HLT, STI, POPF, IRET).
        poll = IRQ_POLL_BLOCKS;
        if ((r[W.W_RFLAGS] & FLAG_IF) !== 0 && irq.hasInterrupt()) {
          this.stats.interrupts++;
          this.deliver(irq.acknowledge() & 0xff, EVENT_EXTINT);
          prev = null;
          continue;
        }
      }
      // Find the block: the previous block's successor links, else the cache.
      let lo: number, hi: number;
      if (c.codeSize === 8) { lo = r[W.W_RIP]; hi = r[W.W_RIP + 1]; } else { lo = (r[W.W_RIP] + r[W.W_CSBASE]) | 0; hi = 0; }
      // (Under a CS limit a link may have been made through another CS base: its block must still fit.)
      let b: Block;
      const flat = c.fetchMax === SEG_MAX_FLAT;
      if (prev !== null && prev.succLo === lo && prev.succHi === hi && prev.epoch === cache.epoch && prev.succ !== null && (flat || cache.withinLimit(prev.succ, lo))) {
        b = prev.succ;
      } else if (prev !== null && prev.succ2Lo === lo && prev.succ2Hi === hi && prev.epoch === cache.epoch && prev.succ2 !== null && (flat || cache.withinLimit(prev.succ2, lo))) {
        b = prev.succ2;
      } else {
        try {
          // Stepping (TF, breakpoints, a shadow) runs one instruction per lookup: decode just that one.
          b = stepAll || (r[W.W_RFLAGS] & FLAG_TF) !== 0 ? cache.lookup(lo, hi, 1) : cache.lookup(lo, hi);
          const excess = cache.decodedInsns - decodes - 2 * executed;
          if (excess > 0) { c.charge += DECODE_COST * excess; decodes += excess; }
        } catch (e) {
          if (!(e instanceof CpuFault)) throw e;
          this.stats.faults++;
          r[W.W_RFLAGS] |= FLAG_RF; // a fault: the pushed RFLAGS has RF set (SDM 18.3.1.1)
          this.deliver(e.vector, EVENT_EXCEPTION, e.errorCode, e.hasError);
          prev = null;
          continue;
        }
        if (prev !== null) {
          if (prev.epoch !== cache.epoch) { prev.succ = null; prev.succ2 = null; prev.epoch = cache.epoch; }
          if (prev.succ === null) { prev.succ = b; prev.succLo = lo; prev.succHi = hi; }
          else { prev.succ2 = b; prev.succ2Lo = lo; prev.succ2Hi = hi; }
        }
      }
      const n = b.n;
      if (n > left || stepAll || (r[W.W_RFLAGS] & (FLAG_TF | FLAG_RF)) !== 0) {
        // Single-stepping (TF) or breakpoints armed: one instruction, then the trap-class #DB conditions.
        if (stepAll || (r[W.W_RFLAGS] & FLAG_TF) !== 0) { executed += this.stepOne(b); prev = null; continue; }
        // RF (after an IRET from a fault handler) covers only the instruction that starts now, and no
        // instruction breakpoint is armed: clear it as the CPU does at the start of that instruction.
        r[W.W_RFLAGS] &= ~FLAG_RF;
      }
      if (n > left) {
        // A partial block (budget ends inside it): exact flags, stop at an instruction boundary.
        const k = left;
        const i = execBlock(c, b, b.exact, k, 1);
        if (i < 0) { executed += ~i; c.inRun = executed; this.advanceRip(b.starts[~i]); this.faulted(); prev = null; continue; }
        executed += i;
        this.advanceRip(b.starts[k]);
        prev = null;
        continue;
      }
      // A tight loop may run several passes at once (bounded: budget, and interrupt latency).
      let passes = 1;
      if (b.selfLoop) passes = left >= MAX_PASSES * n ? MAX_PASSES : (left / n) | 0;
      const done = this.runBlock(b, n, passes, left);
      const e = this.stopped; // b, or the block a compiled region went on to
      if (done < 0) {
        executed += ~done;
        c.inRun = executed;
        this.advanceRip(e.starts[c.faultIndex]);
        this.faulted();
        prev = null;
        continue;
      }
      executed += done;
      if (!e.branch) this.advanceRip(e.len);
      prev = e;
    }
    c.inRun = 0;
    this.retired += executed;
    this.stats.charged += c.charge;
    this.noteStorm(executed, this.stats.faults - faults0);
    return reason;
  }

  /**
   * Runs a whole block (the one seam the jit backend overrides: compiled code in place of
   * execBlock, which may go on through further blocks, at most `left` instructions in all).
   * Sets `stopped` to the block it ended in, with RIP at that block's start (or its branch's
   * target); returns the instructions retired, or ~retired with a fault at faultIndex there.
   */
  protected runBlock(b: Block, n: number, passes: number, left: number): number {
    this.stopped = b;
    return execBlock(this.cpu, b, b.code, n, passes);
  }

  /** Counts fault storms: exceptions delivered back to back with no instruction retired. */
  private noteStorm(executed: number, faults: number): void {
    if (executed !== 0) { this.faultRun = 0; return; }
    if (faults === 0) return;
    const before = this.faultRun;
    this.faultRun += faults;
    if (before < STORM_FAULTS && this.faultRun >= STORM_FAULTS) { this.stats.faultStorms++; this.stats.stormFaults += before; }
    if (this.faultRun >= STORM_FAULTS) this.stats.stormFaults += faults;
  }

  /**
   * The slow path between blocks. Returns an exit reason (>= 0), EV_DELIVERED
   * if an event was delivered, or EV_NONE to go on running. `last` is the block that
   * just ran to its end (null after a partial run, a fault or a delivery).
   */
  private events(last: Block | null): number {
    const c = this.cpu, r = c.r32;
    this.cache.settle(); // after guest writes to decoded code, between blocks
    c.blockEnd = 0;
    if (this.stop) return EXIT_STOP;
    this.armBreakpoints();
    if (c.generation !== this.generation) { this.generation = c.generation; this.cache.clear(); }
    if (c.mapEpoch !== this.mapEpoch) { this.mapEpoch = c.mapEpoch; this.cache.epoch++; }
    if (r[W.W_PENDING_EVENT] !== 0 && this.takePendingEvent()) return EV_DELIVERED;
    const run = r[W.W_RUN];
    if (run === RUN_SHUTDOWN) return EXIT_SHUTDOWN;
    // STI / MOV SS block interrupts at the boundary after them only (SDM STI, 6.8.3): once the
    // instruction that follows has retired (the block ended with it, Block.shadowTail; or a HLT)
    // the window is open now; otherwise that instruction runs alone first (stepOne).
    this.shadowStep = false;
    if (r[W.W_SHADOW] !== 0) {
      if ((last !== null && last.shadowTail) || run === RUN_HALTED) r[W.W_SHADOW] = 0;
      else this.shadowStep = true;
    }
    if (this.shadowStep) { /* interrupts and NMIs held back */ } else if (r[W.W_NMI] !== 0 && r[W.W_NMI_MASKED] === 0) {
      r[W.W_NMI] = 0;
      r[W.W_RUN] = RUN_RUNNING;
      this.deliver(2, EVENT_NMI);
      return EV_DELIVERED;
    }
    const irq = c.host.interrupts;
    if (!this.shadowStep && (r[W.W_RFLAGS] & FLAG_IF) !== 0 && irq.hasInterrupt()) {
      r[W.W_RUN] = RUN_RUNNING;
      this.stats.interrupts++;
      this.deliver(irq.acknowledge() & 0xff, EVENT_EXTINT);
      return EV_DELIVERED;
    }
    if (run === RUN_HALTED) { this.stats.halts++; return EXIT_HALT; }
    // Instruction breakpoints: fault-class #DB before the instruction executes, unless RF is set (SDM 18.3.1.1).
    if (this.bp.exec !== 0 && (r[W.W_RFLAGS] & FLAG_RF) === 0) {
      const hits = this.bp.matchExec(ripLin(c), c.eaHi);
      if (hits !== 0) {
        reportDebug(c, hits, 0);
        this.deliver(VEC_DB, EVENT_EXCEPTION); // RF is pushed as it is (0): the handler sets it to resume
        return EV_DELIVERED;
      }
    }
    return EV_NONE;
  }

  /**
   * An event another backend had accepted but not yet delivered when its state was taken
   * (KVM's vcpu_events: an interrupt acknowledged at the PIC and injected, an exception or NMI
   * mid-delivery). It goes in now, before any other: dropped, an acknowledged interrupt would
   * leave its PIC in-service bit set with no handler to EOI it, and that line and every
   * lower-priority one would stay silent. A software interrupt (INT n, INT3, INTO) is instead
   * run again: RIP is still at its instruction. True if an event was delivered.
   */
  private takePendingEvent(): boolean {
    const r = this.cpu.r32, ev = r[W.W_PENDING_EVENT], error = r[W.W_PENDING_ERROR];
    r[W.W_PENDING_EVENT] = 0;
    r[W.W_PENDING_ERROR] = 0;
    if ((ev & EVENT_VALID) === 0) return false;
    const kind = ev & 0x700, vector = ev & 0xff;
    if (kind === EVENT_SOFTINT || (kind === EVENT_EXCEPTION && (vector === 3 || vector === 4))) return false;
    r[W.W_RUN] = RUN_RUNNING;
    if (kind === EVENT_EXTINT) this.stats.interrupts++;
    this.deliver(vector, kind, error, (ev & EVENT_HAS_ERROR) !== 0);
    return true;
  }

  /**
   * Re-read the debug registers (cheap when unchanged): the instruction and data/I-O
   * breakpoints, the CPU's access watch, and the TLB's watched pages.
   */
  private armBreakpoints(): void {
    const c = this.cpu, bp = this.bp;
    if (bp.arm(c.r32)) { c.tlb.setWatchedPages(bp.pageLo, bp.pageHi, bp.pages); c.flushTlb(true); }
    c.watch = bp.watching ? bp : null;
    this.dbgStep = (c.r32[W.W_DR7] & DR7_ENABLES) !== 0;
  }

  /**
   * One instruction with exact flags, then the trap-class #DB conditions: TF
   * (DR6.BS) and data/I-O breakpoint hits (DR6.B0-B3) combine into one #DB with
   * RIP after the instruction. While data breakpoints are armed a REP string
   * instruction runs one iteration per call (the count set to 1 around it), so a
   * hit traps after the iteration that made it, with RIP still on the instruction
   * and RF set (SDM 18.3.1.1). Returns the instructions (or iterations) retired.
   */
  private stepOne(b: Block): number {
    const c = this.cpu, r = c.r32, bp = this.bp;
    const tf = (r[W.W_RFLAGS] & FLAG_TF) !== 0;
    r[W.W_RFLAGS] &= ~FLAG_RF; // cleared at the start of the instruction, after the instruction-breakpoint check
    if (this.shadowStep) {
      // This instruction is the shadowed one: the window opens after it, unless it sets a shadow itself.
      r[W.W_SHADOW] = 0;
      c.attention++;
    }
    bp.hits = 0;
    let rep = c.watch !== null ? b.rep0 : 0;
    const cLo = r[W.W_RCX], cHi = r[W.W_RCX + 1], as = rep & 0xe;
    if (rep !== 0) {
      const zero = as === 2 ? (cLo & 0xffff) === 0 : as === 4 ? cLo === 0 : (cLo | cHi) === 0;
      if (zero) rep = 0;
      else if (as === 2) r[W.W_RCX] = (cLo & ~0xffff) | 1;
      else { r[W.W_RCX] = 1; if (as === 8) r[W.W_RCX + 1] = 0; }
    }
    c.heldDebug &= DR6_B; // data breakpoints a MOV SS / POP SS hit just before this instruction
    const fn0 = b.fns[0];
    const i = execBlock(c, b, b.exact, 1, 1);
    const held = c.heldDebug;
    c.heldDebug = 0;
    if (i < 0) {
      if (rep !== 0) { r[W.W_RCX] = cLo; r[W.W_RCX + 1] = cHi; }
      this.faulted(); // a fault (e.g. MOV DRn under DR7.GD, #DB with BD) is not held back by the shadow
      return 0;
    }
    let more = false;
    if (rep !== 0) {
      // The count the full instruction would have left: one less than before (in the address size).
      if (as === 2) r[W.W_RCX] = (cLo & ~0xffff) | ((cLo - 1) & 0xffff);
      else if (as === 4) r[W.W_RCX] = (cLo - 1) | 0;
      else { r[W.W_RCX] = (cLo - 1) | 0; r[W.W_RCX + 1] = cLo === 0 ? (cHi - 1) | 0 : cHi; }
      const left = as === 2 ? ((cLo - 1) & 0xffff) !== 0 : as === 4 ? cLo !== 1 : cLo !== 1 || cHi !== 0;
      more = left && !((rep & REP_COND) !== 0 && getZF(r) !== ((rep & REP_E) !== 0));
    }
    // An iteration that overwrote the instruction itself replaced its executor (BlockCache
    // markWritten): it still completes as decoded (a REP string op is a closure, fast id 0).
    // The next dispatch (RIP still on it) gets this block back from the cache (BlockCache.hold).
    if (more) { b.fns[0] = fn0; this.cache.hold(b, ripLin(c), c.eaHi); }
    if (more) r[W.W_RFLAGS] |= FLAG_RF; // between iterations: an event now pushes RF = 1, and the instruction breakpoint stays quiet
    else if (b.n > 1) this.advanceRip(b.starts[1]);
    else if (!b.branch) this.advanceRip(b.len);
    // A MOV SS / POP SS holds its debug traps back until after the next instruction (SDM 6.8.3):
    // its single step is dropped, its data breakpoint hits come with that instruction's #DB.
    if ((r[W.W_SHADOW] & SHADOW_MOV_SS) !== 0) { c.heldDebug = bp.hits | (held & DR6_B); return 1; }
    const hits = bp.hits | (held & DR6_B), step = tf && !more && (held & HELD_ICEBP) === 0;
    if (hits !== 0 || step) {
      reportDebug(c, hits, step ? DR6_BS : 0);
      this.deliver(VEC_DB, EVENT_EXCEPTION);
    }
    return 1;
  }

  /**
   * Deliver the fault that stopped the last execBlock (RIP already on the faulting instruction);
   * nothing to deliver if the block stopped before an instruction the guest overwrote.
   */
  private faulted(): void {
    const e = this.cpu.lastFault!;
    if (e === CODE_WRITTEN) { this.stats.codeWrites++; return; }
    if (e === BLOCK_END) { this.stats.blockEnds++; return; }
    if (e.vector === VEC_REP_PAUSE) {
      // Between two iterations: an event delivered now pushes RF = 1 (SDM 18.3.1.1), and the
      // instruction goes on when the handler returns to it.
      this.stats.repPauses++;
      this.cpu.r32[W.W_RFLAGS] |= FLAG_RF;
      return;
    }
    if (e.vector === VEC_FREEZE) { this.cpu.r32[W.W_RUN] = RUN_HALTED; this.stats.freezes++; return; }
    this.stats.faults++;
    this.cpu.r32[W.W_RFLAGS] |= FLAG_RF; // fault-class: the pushed RFLAGS has RF set (SDM 18.3.1.1)
    this.deliver(e.vector, EVENT_EXCEPTION, e.errorCode, e.hasError);
  }

  /** RIP += k in the current code size. */
  private advanceRip(k: number): void {
    const r = this.cpu.r32, cs = this.cpu.codeSize;
    if (cs === 8) {
      const sum = (r[W.W_RIP] >>> 0) + k;
      r[W.W_RIP] = sum | 0;
      if (sum > 0xffffffff) r[W.W_RIP + 1] = (r[W.W_RIP + 1] + 1) | 0;
    } else if (cs === 4) r[W.W_RIP] = (r[W.W_RIP] + k) | 0;
    else r[W.W_RIP] = (r[W.W_RIP] + k) & 0xffff;
  }

  private deliver(vector: number, kind: number, errorCode = 0, hasError = false): void {
    const c = this.cpu;
    c.charge += DELIVERY_COST;
    this.cache.held = null; // a held REP instruction is fetched again when the handler returns to it
    try {
      c.sys.deliverEvent(c, vector, kind, errorCode, hasError);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      // Delivery itself faulted and the hook did not handle it: treat as a shutdown.
      c.r32[W.W_RUN] = RUN_SHUTDOWN;
    }
  }

  requestStop(): void { this.stop = true; this.cpu.attention++; }

  /**
   * A device write made an interrupt deliverable (a TPR lowered through the APIC page): the
   * block ends after the instruction in progress and the run loop samples INTR before the next
   * (cpu.blockEnd; counter blockEnds when that cut a block short).
   */
  endBlock(): void { this.cpu.blockEnd = 1; this.cpu.attention++; }

  /** Intel-syntax text of the instruction at the current RIP (or '(unreadable)' if fetching it faults). */
  disassembleAtRip(): string {
    const c = this.cpu;
    const lo = ripLin(c), hi = c.eaHi;
    try {
      return disassemble(this.table, (k) => c.fetch8((lo + k) | 0, hi), c.codeSize, c.r32[W.W_RIP], c.r32[W.W_RIP + 1]).text;
    } catch (e) {
      if (e instanceof CpuFault) return '(unreadable)';
      throw e;
    }
  }

  getState(): CpuStateBytes {
    this.cpu.getRflags();
    for (const f of this.beforeExport) f(this.cpu);
    const out = new Uint8Array(STATE_SIZE);
    out.set(new Uint8Array(this.cpu.mem.buffer, this.cpu.base, ARCH_END));
    return out;
  }

  setState(state: CpuStateBytes): void {
    const c = this.cpu;
    new Uint8Array(c.mem.buffer, c.base, STATE_SIZE).set(state.subarray(0, ARCH_END));
    c.setRflags(c.r32[W.W_RFLAGS]);
    c.flushTlb(true);
    c.generation++;
    c.modeChanged();
    this.cache.clear();
    for (const f of this.afterImport) f(c);
  }

  nmi(): void { this.cpu.r32[W.W_NMI] = 1; this.cpu.attention++; }
  /** Exact between blocks, also while run() is on the stack (devices reading an instruction-derived clock). */
  instructions(): number { return this.retired + this.cpu.inRun; }
  hlts(): number { return this.cpu.hlts; }
  invalidateCode(): void { this.cache.clear(); this.cpu.flushTlb(true); }

  counters(): Record<string, number> {
    return {
      instructions: this.retired,
      blocksDecoded: this.cache.decoded,
      insnsDecoded: this.cache.decodedInsns,
      blockCacheHits: this.cache.hits,
      blockInvalidations: this.cache.invalidations,
      blockCacheClears: this.cache.clears,
      blockOverwrites: this.cache.overwrites,
      blocksCached: this.cache.size,
      tlbFills: this.cpu.tlb.fills,
      tlbFlushes: this.cpu.tlb.flushes,
      ...this.stats,
      ...modelCounters(this.cpu),
    };
  }

  destroy(): void {
    this.cache.detach();
    this.cpu.mmu.detach?.();
    this.cache.clear();
  }
}
