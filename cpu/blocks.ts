// Pre-decoded basic blocks: decoded once into arrays of specialised
// executors, cached by physical address and Cpu.codeKey (the code size's
// decoding), so a mode switch selects other entries and drops none; dropped
// when the guest writes to a page they came from (GuestMemory.codePages, this
// vCPU's bit, and codeWriteHooks) or on Cpu.generation (setState, another CS limit). A write to
// the running block's own bytes ahead of the running instruction stops it there
// (self-modifying code).

import type { Cpu, Exec } from './cpu.js';
import { CODE_KEYS, SEG_MAX_FLAT, segWord } from './cpu.js';
import { W } from './words.js';
import { decode, Insn } from './decoder.js';
import { CpuFault, VEC_GP } from './fault.js';
import { limitedBranch } from './ops-ctl.js';
import { CS, SEG_BASE } from './state.js';
import { F_LOCK, F_SHADOW, F_STOP, K_JCC, K_JMP, OpTable } from './table.js';
import { branchKind, isBranch, repShape } from './facts.js';
import type { OpRow } from './insn.js';
import { Fast, elideDeadFlags } from './fastops.js';
import { TLB_BITS } from '../mmu/tlb.js';

/** Longest block in instructions (bounds the budget overshoot and the decode work per miss). */
export const MAX_BLOCK_INSNS = 64;
/** An instruction byte past the CS limit (cpu.fetchMax). */
const CS_LIMIT_GP = new CpuFault(VEC_GP, 0, true);

export class Block {
  /** The cache key, (codeKey, phys): the Cpu.codeKey it was decoded under and the physical address of its first byte. */
  codeKey = 0;
  phys = 0;
  /** The pages the bytes lie on (page1 = -1: one page). */
  page0 = 0;
  page1 = -1;
  /** Executors, and each instruction's start offset from the block's start RIP. */
  fns: Exec[] = [];
  starts: number[] = [];
  /** Each instruction's row: its facts (control-transfer kind, REP shape...), read through cpu/facts.ts. */
  rows: OpRow[] = [];
  /** Per instruction: fast-op id (0 = run fns[i]) and three fields (cpu/fastops.ts), dead flags elided. */
  code = new Int32Array(0);
  /** The same without the dead-flag rewrite: exact flags after every instruction (partial runs, TF). */
  exact = new Int32Array(0);
  /** Bytes covered. */
  len = 0;
  /** The last instruction sets RIP itself (its row is a branch: cpu/facts.ts isBranch); otherwise the loop adds `len`. */
  branch = false;
  /** The last instruction is a direct branch whose taken target is this block's start (a tight loop). */
  selfLoop = false;
  /**
   * The last instruction follows an F_SHADOW row (STI, MOV SS, POP SS) and sets no shadow itself:
   * once the block has run to its end, an interrupt shadow those left has expired (cpu/interp.ts).
   */
  shadowTail = false;
  valid = true;
  /** Linear address the block was entered at, per successor slot, with the cache epoch they were made in. */
  succLo = 0;
  succHi = 0;
  succ: Block | null = null;
  succ2Lo = 0;
  succ2Hi = 0;
  succ2: Block | null = null;
  epoch = 0;
  /** Instruction count (fns.length, kept as a field for the hot loop). */
  n = 0;
  /**
   * The first instruction's REP shape (cpu/facts.ts repShape: its address size | REP_COND |
   * REP_E for a REP/REPE/REPNE string instruction; else 0). The run loop
   * steps such an instruction one iteration at a time while data breakpoints are armed.
   */
  rep0 = 0;
  /** Dispatches counted by the JIT backend (cpu/jit/backend.ts) until it compiles the block. */
  heat = 0;
  /** The compiled region (cpu/jit/) this block enters, and its entry number there; null: not compiled. */
  jit: CompiledRegion | null = null;
  jitEntry = 0;
}

/**
 * Blocks of one page compiled to one wasm function (cpu/jit/codegen.ts): run(base, limit, entry, 0)
 * starts at blocks[entry] and may go on through the others (and other regions: cpu/jit/chain.ts);
 * see there for what it returns.
 */
export interface CompiledRegion {
  run: (base: number, limit: number, entry: number, done: number) => number;
  blocks: Block[];
  /** The BlockCache epoch at which every block was last seen valid. */
  epoch: number;
  /** Its slot in the JIT's table of region functions (cpu/jit/entry.ts), -1 once dropped; how many blocks enter it (at 0 the slot is freed). */
  slot: number;
  refs: number;
}

export { REP_COND, REP_E } from './facts.js';

const LOCK_UD = new CpuFault(6);

/**
 * What execBlock leaves in cpu.lastFault when it reaches an instruction the guest overwrote
 * while the block ran: not an exception, the run loop goes on at that instruction with
 * freshly decoded bytes, as the SDM (Vol. 3A 11.6) has a write to a code byte seen by the
 * very next fetch of it.
 */
export const CODE_WRITTEN = new CpuFault(-2);
/** The executor that replaces an overwritten instruction (run as Fast.FAST_NONE): it ends the block before it. */
const WRITTEN: Exec = () => { throw CODE_WRITTEN; };
/** Whether a guest write replaced instruction k of b (with the executor that ends the block before it). */
export const overwritten = (b: Block, k: number): boolean => b.fns[k] === WRITTEN;

export class BlockCache {
  /** The blocks by physical address, one map per Cpu.codeKey. */
  private readonly maps: Map<number, Block>[] = Array.from({ length: CODE_KEYS }, () => new Map<number, Block>());
  private readonly pages = new Map<number, Block[]>();
  private readonly insn = new Insn();
  /**
   * Bumped whenever links between blocks may have gone stale (flushes, invalidations). A mode
   * change needs no bump: the run loop follows links only between blocks with no mode change
   * (cpu.attention) in between, so a block's successors were all looked up under its own codeKey.
   */
  epoch = 1;
  /**
   * Blocks dropped by guest writes since the run loop last looked (settle()), by page: one of
   * them may be running, so their pages stay marked in codePages and later writes still reach
   * their instructions.
   */
  private readonly dropped = new Map<number, Block[]>();
  // Counters.
  decoded = 0;
  /** Instructions in the blocks decoded. */
  decodedInsns = 0;
  hits = 0;
  invalidations = 0;
  /** Times the whole cache was dropped (clear()). */
  clears = 0;
  /** Times a guest write overlapped a decoded block's instructions (they became WRITTEN). */
  overwrites = 0;
  /** A block the next lookup at heldLo:heldHi returns instead of the cache's (see hold()). */
  held: Block | null = null;
  private heldLo = 0;
  private heldHi = 0;
  /** This vCPU's bit in GuestMemory.codePages. */
  private readonly bit: number;
  private readonly hook = (page: number, addr: number, len: number): void => this.invalidatePage(page, addr, len);

  /** Stop hearing guest writes (the backend goes away), unless a newer cache of this vCPU took over. */
  detach(): void {
    const hooks = this.cpu.mem.codeWriteHooks;
    if (hooks[this.cpu.index] === this.hook) hooks[this.cpu.index] = null;
  }

  constructor(private readonly cpu: Cpu, private readonly table: OpTable) {
    this.bit = 1 << cpu.index;
    cpu.mem.codeWriteHooks[cpu.index] = this.hook;
  }

  /** Drop everything (setState, another CS limit, loader wrote memory). */
  clear(): void {
    this.clears++;
    this.held = null;
    for (const map of this.maps) {
      for (const b of map.values()) b.valid = false;
      map.clear();
    }
    for (const p of this.pages.keys()) this.cpu.mem.codePages[p] &= ~this.bit;
    this.pages.clear();
    this.settle();
    this.epoch++;
  }

  /**
   * Between blocks (the run loop's slow path, which invalidatePage asks for through
   * cpu.attention): no dropped block is running any more, so their pages need no marking
   * unless blocks were decoded there since.
   */
  settle(): void {
    if (this.dropped.size === 0) return;
    for (const p of this.dropped.keys()) if (!this.pages.has(p)) this.cpu.mem.codePages[p] &= ~this.bit;
    this.dropped.clear();
  }

  /**
   * A write to physical [addr, addr + len) lands on `page`, which holds decoded code: in every
   * block there, and in those dropped from it since the run loop last looked, the instructions
   * the write overlaps become WRITTEN, so the block running now (whichever it is) stops before
   * any of them it has yet to run. Then the page's blocks are dropped. Without a range the whole
   * page counts as written.
   */
  invalidatePage(page: number, addr = page * 4096, len = 4096): void {
    const gone = this.dropped.get(page);
    if (gone !== undefined) for (const b of gone) this.markWritten(b, addr, len);
    const list = this.pages.get(page);
    if (!list) {
      if (gone === undefined) this.cpu.mem.codePages[page] &= ~this.bit;
      return;
    }
    this.pages.delete(page);
    for (const b of list) {
      if (!b.valid) continue; // dropped through its other page: marked above if it is on this one
      this.markWritten(b, addr, len);
      b.valid = false;
      this.invalidations++;
      const map = this.maps[b.codeKey];
      if (map.get(b.phys) === b) map.delete(b.phys);
      this.keepDropped(b.page0, b);
      if (b.page1 >= 0) this.keepDropped(b.page1, b);
    }
    this.epoch++;
    this.cpu.attention++; // the run loop calls settle() before the next block
  }

  private keepDropped(page: number, b: Block): void {
    const list = this.dropped.get(page);
    if (list === undefined) this.dropped.set(page, [b]); else list.push(b);
  }

  /**
   * The instructions of b whose bytes overlap physical [addr, addr + len) become the
   * WRITTEN executor (in both code arrays); the dead-flag rewrite is undone first, since
   * the block may now end before the instruction that made an earlier one's flags dead.
   * The instruction doing the write has already been dispatched: replacing it only matters
   * to a later pass of a self-looping block.
   */
  private markWritten(b: Block, addr: number, len: number): void {
    const head = Math.min(b.len, 0x1000 - (b.phys & 0xfff)); // bytes on page0; the rest on page1
    let from = Math.max(addr - b.phys, 0), to = Math.min(addr + len - b.phys, head);
    if (b.page1 >= 0) {
      const base = b.page1 * 4096 - head; // block offset o lies at base + o for o >= head
      const f1 = Math.max(addr - base, head), t1 = Math.min(addr + len - base, b.len);
      if (f1 < t1) { if (from >= to) from = f1; to = t1; } // (page0 part, if any, lies below: one span)
    }
    if (from >= to) return;
    this.overwrites++;
    const code = b.code, exact = b.exact, starts = b.starts;
    code.set(exact); // exact carries the replacements made so far
    for (let k = 0; k < b.n; k++) {
      const end = k + 1 < b.n ? starts[k + 1] : b.len;
      if (starts[k] < to && end > from) { b.fns[k] = WRITTEN; code[k << 2] = Fast.FAST_NONE; exact[k << 2] = Fast.FAST_NONE; }
    }
  }

  /**
   * Have the next lookup at lo:hi return b, even if it was dropped: b starts with a REP string
   * instruction that the run loop steps one iteration at a time (data breakpoints armed) and has
   * iterations left, which finish as decoded even if earlier ones overwrote it. The run loop
   * clears `held` when it delivers an event (the instruction is fetched again after it).
   */
  hold(b: Block, lo: number, hi: number): void {
    this.held = b;
    this.heldLo = lo;
    this.heldHi = hi;
  }

  /**
   * The block starting at linear address lo:hi (RIP + CS base) in the current mode (the key is
   * the physical address and cpu.codeKey); decodes it on a miss, at most `max` instructions (the
   * run loop asks for one while it steps instruction by instruction). Throws CpuFault.
   */
  lookup(lo: number, hi: number, max = MAX_BLOCK_INSNS): Block {
    const c = this.cpu;
    if (this.held !== null) {
      const h = this.held;
      this.held = null;
      if (lo === this.heldLo && hi === this.heldHi) return h;
    }
    const phys = c.translate(lo, hi, c.planeX >> TLB_BITS);
    const b = this.maps[c.codeKey].get(phys);
    if (b !== undefined && (c.fetchMax === SEG_MAX_FLAT || this.withinLimit(b, lo))) { this.hits++; return b; }
    return this.build(lo, hi, phys, max);
  }

  /**
   * Under a CS limit, whether all of b's bytes lie within it from linear address lo: the same bytes
   * reached through another CS base run at another offset, and a block decoded at a lower one may
   * run past the limit here (its last instructions must #GP instead). Decoded again if not; the
   * run loop asks it too before it follows a block's successor link (same linear address, but
   * maybe through another CS base).
   */
  withinLimit(b: Block, lo: number): boolean {
    const eip = (lo - this.cpu.r32[segWord(CS, SEG_BASE)]) >>> 0;
    return eip + b.len - 1 <= this.cpu.fetchMax;
  }

  private build(lo: number, hi: number, phys: number, max: number): Block {
    const c = this.cpu;
    const b = new Block();
    b.codeKey = c.codeKey;
    b.phys = phys;
    b.page0 = phys >>> 12;
    // Every byte of an instruction must lie within the CS limit (SDM 5.3; cpu.fetchMax): an
    // instruction that crosses it faults #GP(0) at its start; branches past it fault at the branch.
    const fetchMax = c.fetchMax, eip0 = (lo - c.r32[segWord(CS, SEG_BASE)]) >>> 0;
    const fetch = (off: number): number => {
      if (eip0 + off > fetchMax) throw CS_LIMIT_GP;
      const a = (lo + off) | 0;
      return c.fetch8(a, (a >>> 0) < (lo >>> 0) ? (hi + 1) | 0 : hi);
    };
    const d = this.insn;
    const codeSize = c.codeSize;
    let off = 0;
    const ops: number[] = [];
    const pageEnd = 0x1000 - (lo & 0xfff);
    let shadowed = false; // the next instruction runs in an STI / MOV SS shadow: the block ends after it
    for (;;) {
      try {
        decode(this.table, fetch, off, codeSize, d);
        if (d.lock && ((d.row.flags & F_LOCK) === 0 || !d.isMem)) throw LOCK_UD;
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        if (b.n === 0) throw e; // the fault belongs to the first instruction: raise it now
        break; // end the block before it; it faults when reached
      }
      d.ripLo = (lo + off) | 0;
      d.ripHi = hi;
      if (b.n === 0) b.rep0 = repShape(d);
      const fn = d.row.build(d), limited = fetchMax < SEG_MAX_FLAT ? limitedBranch(d, fetchMax) : null;
      if (limited !== null) d.fastId = 0;
      b.fns.push(limited ?? fn);
      b.starts.push(off);
      b.rows.push(d.row);
      ops.push(d.fastId, d.f1, d.f2, d.f3);
      b.n++;
      off += d.len;
      const f = d.row.flags;
      const tail = shadowed && (f & F_SHADOW) === 0;
      b.shadowTail = tail;
      if (isBranch(d.row)) {
        b.branch = true;
        // A direct Jcc/JMP to the block's start (its fast op's field 2: the target offset). A loop
        // through a shadow would run its passes without looking at the window it opens.
        const kind = branchKind(d.row);
        b.selfLoop = (kind === K_JCC || kind === K_JMP) && d.fastId !== Fast.FAST_NONE && d.f2 === 0 && !shadowed;
        break;
      }
      if (tail) break;
      if ((f & F_SHADOW) !== 0) shadowed = true;
      if ((f & F_STOP) !== 0 || b.n >= max || off >= pageEnd) break;
    }
    b.len = off;
    b.exact = Int32Array.from(ops);
    b.code = Int32Array.from(ops);
    elideDeadFlags(b.code, b.n);
    if (off > pageEnd) {
      const p1 = c.translate((lo + off - 1) | 0, hi, c.planeX >> TLB_BITS);
      b.page1 = p1 >>> 12;
    }
    this.decoded++;
    this.decodedInsns += b.n;
    // Only RAM-backed code is cached (and write-protected through codePages).
    const mem = c.mem;
    if (phys + off <= mem.ramSize && (b.page1 < 0 || b.page1 * 4096 < mem.ramSize)) {
      this.maps[b.codeKey].set(phys, b);
      this.track(b.page0, b);
      if (b.page1 >= 0) this.track(b.page1, b);
    }
    return b;
  }

  private track(page: number, b: Block): void {
    let list = this.pages.get(page);
    if (!list) {
      list = [];
      this.pages.set(page, list);
      this.cpu.mem.codePages[page] |= this.bit;
      this.cpu.tlb.protectCodePage(page);
    }
    list.push(b);
  }

  /** The block decoded at physical address phys under codeKey, if cached. */
  peek(codeKey: number, phys: number): Block | undefined { return this.maps[codeKey].get(phys); }

  get size(): number {
    let n = 0;
    for (const map of this.maps) n += map.size;
    return n;
  }
}

/** Linear address of RIP (CS base added outside 64-bit mode); high half in cpu.eaHi. */
export function ripLinear(c: Cpu): number {
  const r = c.r32;
  if (c.codeSize === 8) { c.eaHi = r[W.W_RIP + 1]; return r[W.W_RIP]; }
  c.eaHi = 0;
  return (r[W.W_RIP] + r[segWord(CS, SEG_BASE)]) | 0;
}

