// The `jit` backend: the interpreter's run loop, block cache, event delivery and
// self-modifying-code handling, with hot code compiled to wasm (cpu/jit/codegen.ts)
// and run in place of execBlock. Blocks are counted per dispatch; at the threshold a
// block queues, and the queue is compiled several regions to a module: each region
// is the hot block and the blocks of its page it reaches by direct branches
// (cpu/jit/region.ts), entered at any of them. A compiled function takes the vCPU
// area's base as a parameter, so compiled code serves any vCPU. Regions sit in one
// function table, and compiled code goes from one to the next through the vCPU's jump
// cache (cpu/jit/chain.ts), which the run loop fills as it enters them.

import type { CpuHost } from '../../contracts/backend.js';
import { CODE_WRITTEN, overwritten, ripLinear, type Block, type BlockCache, type CompiledRegion } from '../blocks.js';
import { CODE_KEY_LIMITED, type Cpu } from '../cpu.js';
import { execBlock } from '../exec.js';
import { keepCF, testCC } from '../flags.js';
import { InterpBackend, type CpuExtension } from '../interp.js';
import { disassemble } from '../disasm.js';
import { BLOCK_END, CpuFault } from '../fault.js';
import {  } from '../state.js';
import { V } from '../vcpu-layout.js';
import { buildModule, SLOW_STEP, STEP_LEAVE, type GenStats } from './codegen.js';
import { collectRegion, inline, regionCode, worthCompiling, type RegionCode } from './region.js';
import { watText } from './wat.js';
import { codePhys, describeRegion } from './describe.js';
import { later } from './later.js';
import { JumpCache, tailCalls } from './chain.js';
import { RegionTable } from './entry.js';
import { W } from '../words.js';

export interface JitOptions {
  /** Dispatches of a block before it is queued for compilation. */
  threshold?: number;
  /** Blocks compiled together into one module. */
  batch?: number;
  /** Compiled blocks kept before the oldest are evicted. */
  maxBlocks?: number;
  /** Print the x86 and wasm of the block containing this linear (or physical) address when it is compiled. */
  dumpAt?: number | null;
  onDump?: (text: string) => void;
  /** Validate every emitted instruction (tests). */
  debug?: boolean;
  /** Compile every hot block, even those with few instructions inline (tests). */
  all?: boolean;
  /**
   * Modules of at least this many bytes compile asynchronously (WebAssembly.instantiate, off
   * the run loop; the browser worker sets it); their blocks stay interpreted until the code is
   * ready. Default: every module compiles at once.
   */
  asyncBytes?: number;
  /** Chain regions through the jump cache (default: where the engine has wasm tail calls). */
  chain?: boolean;
  /**
   * Modules with no region left that the region table may keep alive (cpu/jit/entry.ts) before
   * it is dropped with all compiled code, once they also outnumber the live ones (default 1024).
   */
  deadModules?: number;
}

/** Most instructions one entry into compiled code runs: events (interrupts, timers, stop requests) wait at most this long. */
export const MAX_REGION_INSNS = 4096;

/** Compiles queued hot blocks' regions and keeps the bounded code cache with its counters. */
export class JitCompiler {
  readonly threshold: number;
  readonly batch: number;
  readonly maxBlocks: number;
  /** The vCPU whose code is running (the imports act on it), and its cpu.attention when compiled code was entered. */
  cpu: Cpu;
  attention = 0;
  /** cpu.charge when compiled code was entered. */
  charge = 0;
  /** cpu.blockStart when compiled code was entered: the run()'s instructions before the region. */
  entered = 0;
  dumpAt: number | null;
  onDump: (text: string) => void;
  private readonly debug: boolean;
  readonly all: boolean;
  private queue: Block[] = [];
  /** Blocks with compiled code, oldest first (eviction order). */
  private live: Block[] = [];
  private readonly gen: GenStats = { inlined: 0, stepped: 0 };
  readonly stats = {
    jitModules: 0, jitRegions: 0, jitBlocks: 0, jitWasmBytes: 0, jitCompileMs: 0, jitInvalidations: 0, jitEvictions: 0,
    jitDeclined: 0, jitRuns: 0, jitExitsFault: 0, jitExitsCodeWrite: 0, jitSteps: 0, jitSlowSteps: 0, jitInsns: 0,
    jitAsyncModules: 0, jitAsyncPending: 0, jitTableDrops: 0,
    // Where interpreted instructions come from (JitBackend.runBlock; see counters()): blocks still below the
    // threshold, the warm-up of those that reached it (threshold - 1 dispatches each, counted when queued),
    // hot blocks waiting in the queue, declined blocks (not worth compiling / the recompile cap), and regions
    // dropped because one of their blocks was invalidated (their blocks heat up again).
    jitColdInsns: 0, jitWarmupInsns: 0, jitQueuedInsns: 0, jitUnworthyInsns: 0, jitCapInsns: 0, jitRegionDrops: 0,
  };
  private readonly asyncBytes: number;
  /** Why the last asynchronous compile failed (cpu/jit/later.ts), or undefined. */
  asyncError?: string;
  /** Whether regions chain (cpu/jit/chain.ts). */
  readonly chain: boolean;
  /** The region functions, entered through one wasm function (regions.go), and each slot's region. */
  regions = new RegionTable();
  slots: (CompiledRegion | undefined)[] = [];
  private readonly deadModules: number;
  /** Modules compiled since the last sweep (dead regions free their slots when swept). */
  private sinceSweep = 0;
  /** Bumped when a region is dropped or a block moves to another region: jump-cache entries go stale. */
  dropGen = 0;
  /** Called for every instruction compiled code runs through `step` (slow: an inline op's slow path); bench/jit-profile.ts's --steps. */
  onStep: ((b: Block, i: number, slow: boolean) => void) | null = null;

  constructor(cpu: Cpu, private readonly table: InterpBackend['table'], private readonly cache: BlockCache, o: JitOptions = {}) {
    this.cpu = cpu;
    this.threshold = o.threshold ?? 40;
    this.batch = o.batch ?? 8;
    this.maxBlocks = o.maxBlocks ?? 16384;
    this.dumpAt = o.dumpAt ?? null;
    this.onDump = o.onDump ?? ((t) => { console.error(t); });
    this.debug = o.debug ?? false;
    this.all = o.all ?? false;
    this.asyncBytes = o.asyncBytes ?? Infinity;
    this.chain = (o.chain ?? true) && tailCalls();
    this.deadModules = o.deadModules ?? 1024;
  }

  enqueue(b: Block): void {
    this.queue.push(b);
    if (this.queue.length >= this.batch) this.compile();
  }

  /** Compile the region of every queued block that is still valid and has no code into one module. */
  compile(): void {
    const entries = this.queue.filter((b) => b.valid && b.jit === null);
    this.queue = [];
    if (entries.length === 0) return;
    if (++this.sinceSweep >= SWEEP_MODULES) { this.sinceSweep = 0; this.sweep(); }
    if (this.regions.worthDropping(this.deadModules)) this.dropTable();
    const t0 = performance.now();
    const regions: RegionCode[] = [], all: Block[] = [], taken = new Set<Block>();
    for (const e of entries) {
      if (taken.has(e)) continue; // a block of a region earlier in this batch: it enters that one
      const blocks = collectRegion(this.cache, e, this.all, this.chain);
      for (const b of blocks) taken.add(b);
      regions.push(regionCode(blocks, blocks.map((b) => all.push(b) - 1), this.slot(), this.chain));
    }
    const mem = this.cpu.mem.wasm;
    const bytes = buildModule(regions, mem.buffer.byteLength / 65536, this.gen, this.debug);
    const step = (g: number, i: number, done: number): number => {
      const b = all[g], c = this.cpu;
      this.stats.jitSteps++;
      const slow = i >= SLOW_STEP;
      if (slow) { i -= SLOW_STEP; this.stats.jitSlowSteps++; }
      if (this.onStep !== null) this.onStep(b, i, slow);
      // Instruction time: the region's instructions before this block (done) and this block's before i.
      c.inRun = c.blockStart = this.entered + done + i;
      const r = execBlock(c, b, b.code, i + 1, 1, i);
      if (r < 0) return c.faultIndex + 1;
      if (!b.valid && i + 1 < b.n && this.written(b)) {
        // The instruction wrote over this block's own code: stop after it (the compiled code has
        // the old bytes; the interpreter would stop before the first overwritten instruction it
        // reaches, in this pass or a later one), and the run loop decodes the new bytes.
        c.lastFault = CODE_WRITTEN;
        c.faultIndex = i + 1;
        this.stats.jitExitsCodeWrite++;
        return i + 2;
      }
      if (c.blockEnd !== 0 && i + 1 < b.n) {
        // A device asked for the block to end after this instruction (an MMIO write): stop here.
        c.lastFault = BLOCK_END;
        c.faultIndex = i + 1;
        return i + 2;
      }
      // Something the run loop looks at between blocks (a write to code, a mode change, a shadow, HLT, an NMI,
      // work charged to the budget): leave at the block's end.
      const w = c.r32;
      return c.attention !== this.attention || c.charge !== this.charge || (w[W.W_RUN] | w[W.W_SHADOW] | w[W.W_NMI]) !== 0 ? STEP_LEAVE : 0;
    };
    const cond = (cc: number): number => (testCC(this.cpu.r32, cc) ? 1 : 0);
    const keepcf = (): void => { keepCF(this.cpu.r32); };
    const table = this.regions;
    const imports = { e: { m: mem, step, cond, keepcf, t: table.table } };
    if (bytes.length >= this.asyncBytes) {
      later(this, bytes, imports, (inst) => {
        // Compiled against a table dropped meanwhile: its slots are gone; the blocks heat up again.
        if (table !== this.regions) for (const b of all) b.heat = 0;
        else this.install(inst, regions, all.length, bytes.length, performance.now());
      });
      this.stats.jitCompileMs += performance.now() - t0;
      return;
    }
    this.install(new WebAssembly.Instance(new WebAssembly.Module(bytes), imports), regions, all.length, bytes.length, t0);
  }

  /**
   * Give the blocks of a compiled module's regions their code (those still valid and without
   * code: a block keeps the region it had), and count it. Each region checks its blocks at
   * its first entry (revalidate).
   */
  private install(inst: WebAssembly.Instance, regions: RegionCode[], blocks: number, size: number, t0: number): void {
    const life = this.regions.module();
    regions.forEach((r, k) => {
      const run = inst.exports[`r${k}`] as CompiledRegion['run'];
      const region: CompiledRegion = { run, blocks: r.blocks, epoch: -1, slot: r.slot, refs: 0 };
      this.regions.put(r.slot, run, life);
      this.slots[r.slot] = region;
      r.blocks.forEach((b, e) => {
        if (!b.valid) return;
        if (b.jit !== null) {
          // A block in several regions enters the larger (it stays in wasm longer).
          if (b.jit.blocks.length >= r.blocks.length) return;
          this.release(b);
        } else this.live.push(b);
        b.jit = region;
        b.jitEntry = e;
        region.refs++;
      });
      if (region.refs === 0) this.freeSlot(region);
    });
    this.stats.jitModules++;
    this.stats.jitRegions += regions.length;
    this.stats.jitBlocks += blocks;
    this.stats.jitWasmBytes += size;
    this.stats.jitCompileMs += performance.now() - t0;
    if (this.dumpAt !== null) for (const r of regions) if (r.blocks.some((b) => this.covers(b))) this.onDump(this.dump(r.blocks[0]));
    if (this.live.length > this.maxBlocks) this.evict();
  }

  /**
   * Whether every block of region r is still valid (checked once per block-cache epoch); if
   * not, the region is dropped: its blocks are interpreted and heat up again.
   */
  revalidate(r: CompiledRegion): boolean {
    if (r.blocks.every((b) => b.valid)) { r.epoch = this.cache.epoch; return true; }
    this.stats.jitRegionDrops++;
    for (const b of r.blocks) if (b.jit === r) { this.release(b); b.heat = 0; }
    return false;
  }

  /**
   * Drop the region table and every compiled region (their blocks are interpreted and heat up
   * again): the table was keeping more dead modules alive than live ones (cpu/jit/entry.ts), and
   * with it they all become garbage. Recompiles after this do not count toward MAX_COMPILES.
   */
  private dropTable(): void {
    for (const b of this.live) if (b.jit !== null) { b.jit = null; b.heat = 0; }
    this.live = [];
    this.regions = new RegionTable();
    this.slots = [];
    this.compiledAt.clear();
    this.dropGen++;
    this.stats.jitTableDrops++;
  }

  /** A table slot for a region about to be compiled. */
  private slot(): number {
    return this.regions.reserve();
  }

  /** b no longer enters its region; the region's slot is freed when no block enters it. */
  private release(b: Block): void {
    const r = b.jit!;
    b.jit = null;
    this.dropGen++;
    if (--r.refs === 0) this.freeSlot(r);
  }

  /** Free r's table slot (its module can then be collected). */
  private freeSlot(r: CompiledRegion): void {
    if (r.slot < 0 || this.slots[r.slot] !== r) return;
    this.regions.release(r.slot);
    this.slots[r.slot] = undefined;
    r.slot = -1;
    this.dropGen++;
  }

  private written(b: Block): boolean {
    for (let k = 0; k < b.n; k++) if (overwritten(b, k)) return true;
    return false;
  }

  /** Drop dropped blocks from the list; then, while over the bound, the oldest quarter's code. */
  private evict(): void {
    this.sweep();
    if (this.live.length <= this.maxBlocks) return;
    const n = this.live.length >> 2;
    for (let k = 0; k < n; k++) { const b = this.live[k]; if (b.jit !== null) this.release(b); b.heat = 0; }
    this.live = this.live.slice(n);
    this.stats.jitEvictions += n;
  }

  /** Forget compiled blocks the block cache has dropped (guest writes, flushes): they are invalidations. */
  sweep(): void {
    const keep = this.live.filter((b) => b.valid && b.jit !== null);
    for (const b of this.live) {
      if (b.valid) continue;
      this.stats.jitInvalidations++;
      if (b.jit !== null) this.release(b);
    }
    this.live = keep;
  }

  get cached(): number { return this.live.length; }
  /** The compiled blocks, oldest first (describe.ts looks a guest address up in them). */
  get compiled(): readonly Block[] { return this.live; }
  get inlinedInsns(): number { return this.gen.inlined; }
  get steppedInsns(): number { return this.gen.stepped; }

  /**
   * Whether code at b's physical address has been compiled fewer than MAX_COMPILES times. Code
   * that the guest keeps rewriting (a loop storing into its own page) is decoded afresh after
   * every write; compiling each new copy would build one wasm module per pass, each dead by the
   * next (their memory comes back when dropTable drops the table, but the compile time does not),
   * so such code stays interpreted instead.
   */
  firstCompiles(b: Block): boolean {
    const k = (this.compiledAt.get(b.phys) ?? 0) + 1;
    this.compiledAt.set(b.phys, k);
    return k <= MAX_COMPILES;
  }
  private readonly compiledAt = new Map<number, number>();

  /** Instructions interpreted per declined block (bench/jit-profile's JIT_TOP=N lists the top N); null: not kept. */
  top: Map<Block, number> | null = null;
  /** Linear start addresses of blocks seen at the threshold, for --jit-dump. */
  readonly starts = new WeakMap<Block, number>();

  private covers(b: Block): boolean {
    const at = this.dumpAt!, lin = this.starts.get(b);
    return (at >= b.phys && at < b.phys + b.len) || (lin !== undefined && at >= lin && at < lin + b.len);
  }

  /** The x86 instructions of b's region (each marked inline or through the interpreter) and the wasm text it became. */
  dump(b: Block, linear?: number): string {
    const c = this.cpu, lin0 = linear ?? this.starts.get(b) ?? b.phys;
    const blocks = b.jit?.blocks ?? collectRegion(this.cache, b, this.all, this.chain);
    const lines = [`jit: block at ${hex(lin0)} (physical ${hex(b.phys)}), ${b.n} instructions, ${b.len} bytes, in a region of ${blocks.length} block${blocks.length > 1 ? 's' : ''}:`];
    for (const [k, rb] of blocks.entries()) {
      const lin = (lin0 + rb.phys - b.phys) >>> 0;
      lines.push(` block ${k} at ${hex(lin)} (physical ${hex(rb.phys)}), ${rb.n} instructions, ${rb.len} bytes`);
      for (let i = 0; i < rb.n; i++) {
        const at = (lin + rb.starts[i]) >>> 0;
        let text: string;
        try {
          text = disassemble(this.table, (k) => c.mem.read8(rb.phys + rb.starts[i] + k), c.codeSize, at, 0).text;
        } catch (e) {
          if (!(e instanceof CpuFault)) throw e;
          text = '(unreadable)';
        }
        lines.push(`  ${hex(at)}  ${text.padEnd(36)} ${inline(rb.code[i << 2]) ? 'inline' : 'interpreter (step)'}`);
      }
    }
    const code = regionCode(blocks, blocks.map((_, k) => k), b.jit?.slot ?? 0, this.chain);
    lines.push(watText(buildModule([code], c.mem.wasm.buffer.byteLength / 65536, { inlined: 0, stepped: 0 }), 0));
    return lines.join('\n');
  }
}

/**
 * Heat of a block the JIT declined (it never reaches the threshold again): not worth compiling,
 * or compiled MAX_COMPILES times already. Each dispatch adds one; the two ranges stay apart for
 * 2^29 dispatches.
 */
const NEVER_UNWORTHY = -(2 ** 30), NEVER_CAP = -(2 ** 29);
/**
 * Compiles of the code at one physical address before it stays interpreted (JitCompiler.firstCompiles):
 * code rewritten after every pass would otherwise cost a compile per pass for nothing (the dead
 * modules themselves are freed by dropTable).
 */
const MAX_COMPILES = 16;
/** Modules compiled between two sweeps of the compiled blocks (invalidated ones free their slots). */
const SWEEP_MODULES = 64;

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export class JitBackend extends InterpBackend {
  override readonly name = 'jit' as const;
  readonly jit: JitCompiler;
  /** V.JIT_EXIT of this vCPU's area: where compiled code stopped (table slot << 8 | block). */
  private readonly exitBlock: Int32Array;
  private readonly jumps: JumpCache;
  /** The chain epoch (cpu/jit/chain.ts), and what it was bumped for last. */
  private chainEpoch = 1;
  private seenAttention = -1;
  private seenCache = -1;
  private seenGen = -1;

  constructor(host: CpuHost, extensions: CpuExtension[] = [], options: JitOptions = {}) {
    super(host, extensions);
    this.jit = new JitCompiler(this.cpu, this.table, this.cache, options);
    this.exitBlock = new Int32Array(this.cpu.mem.buffer, this.cpu.base + V.JIT_EXIT, 1);
    this.jumps = new JumpCache(this.cpu.mem.buffer, this.cpu.base);
  }

  protected override runBlock(b: Block, n: number, passes: number, left: number): number {
    const j = this.jit, c = this.cpu;
    let r = b.jit;
    if (r !== null && r.epoch !== this.cache.epoch && !j.revalidate(r)) r = null;
    if (r === null) {
      const heat = ++b.heat;
      if (heat === j.threshold) {
        if (j.dumpAt !== null) j.starts.set(b, ripLinear(c));
        if (!(j.all || worthCompiling(b, j.chain))) { b.heat = NEVER_UNWORTHY; j.stats.jitDeclined++; }
        else if (!j.firstCompiles(b)) { b.heat = NEVER_CAP; j.stats.jitDeclined++; }
        else { j.stats.jitWarmupInsns += (heat - 1) * n * passes; j.enqueue(b); } // (as if each dispatch ran as many passes)
      } else if (heat === j.threshold * 4) j.compile(); // still waiting for a full batch: compile what is queued
      r = b.jit;
      if (r === null) {
        this.stopped = b;
        const done = execBlock(c, b, b.code, n, passes), k = done < 0 ? ~done : done, s = j.stats, h = b.heat;
        if (h > 0) { if (h < j.threshold) s.jitColdInsns += k; else s.jitQueuedInsns += k; }
        else if (h < NEVER_CAP) { s.jitUnworthyInsns += k; if (j.top !== null) j.top.set(b, (j.top.get(b) ?? 0) + k); } else s.jitCapInsns += k;
        return done;
      }
    }
    j.cpu = c;
    j.attention = c.attention;
    j.charge = c.charge;
    j.entered = c.blockStart;
    if (j.chain) this.fillJump(r, b);
    const done = j.regions.go(r.slot, c.base, left < MAX_REGION_INSNS ? left : MAX_REGION_INSNS, b.jitEntry);
    const x = this.exitBlock[0];
    this.stopped = (j.slots[x >>> 8] ?? r).blocks[x & 0xff];
    j.stats.jitRuns++;
    if (done < 0) { j.stats.jitExitsFault++; j.stats.jitInsns += ~done; } else j.stats.jitInsns += done;
    return done;
  }
  /** Before entering region r at block b: the chain epoch (bumped if entries may have gone stale), and b's jump-cache entry. */
  private fillJump(r: CompiledRegion, b: Block): void {
    const c = this.cpu, j = this.jit;
    if (c.attention !== this.seenAttention || this.cache.epoch !== this.seenCache || j.dropGen !== this.seenGen) {
      this.seenAttention = c.attention; this.seenCache = this.cache.epoch; this.seenGen = j.dropGen;
      this.chainEpoch = (this.chainEpoch + 1) | 0 || 1;
    }
    if (this.bp.exec !== 0) { this.jumps.epoch = 0; return; }
    this.jumps.epoch = this.chainEpoch;
    const w = c.r32;
    if (c.codeSize === 8) this.jumps.fill(w[W.W_RIP], w[W.W_RIP + 1], this.chainEpoch, r.slot, b.jitEntry);
    else if ((c.codeKey & CODE_KEY_LIMITED) === 0) this.jumps.fill((w[W.W_RIP] + w[W.W_CSBASE]) | 0, 0, this.chainEpoch, r.slot, b.jitEntry);
  }

  override counters(): Record<string, number> {
    const j = this.jit, s = j.stats;
    j.sweep();
    const all = this.instructions();
    return {
      ...super.counters(),
      ...j.stats,
      jitCompileMs: Math.round(j.stats.jitCompileMs * 10) / 10,
      jitBlocksCached: j.cached,
      jitRegionsLive: j.regions.size,
      jitInlineInsns: j.inlinedInsns,
      jitSteppedInsns: j.steppedInsns,
      jitSharePct: all === 0 ? 0 : Math.round((1000 * j.stats.jitInsns) / all) / 10,
      // Interpreted outside runBlock: partial blocks where the budget ends, and instructions stepped one by one (TF, shadows).
      jitOutsideInsns: all - j.stats.jitInsns - s.jitColdInsns - s.jitQueuedInsns - s.jitUnworthyInsns - s.jitCapInsns,
      jitChains: this.jumps.chains[0],
    };
  }

  /** The translated region holding linear address `linear` (x86 beside wasm text), for lockstep reports. */
  describeRegion(linear: number): string | null {
    const phys = codePhys(this.cpu, linear);
    return phys === null ? null : describeRegion(this.jit, this.cpu, phys, linear);
  }

  override setState(state: Parameters<InterpBackend['setState']>[0]): void {
    super.setState(state);
    this.jit.sweep();
  }
}
