// The `jit` backend: the interpreter's run loop, block cache, event delivery and
// self-modifying-code handling, with hot blocks compiled to wasm (cpu/jit/codegen.ts)
// and run in place of execBlock. Blocks are counted per dispatch; at the threshold
// they queue, and the queue is compiled several functions to a module. A compiled
// function takes the vCPU area's base as a parameter, so compiled code serves any vCPU.

import type { CpuHost } from '../../contracts/backend.js';
import { CODE_WRITTEN, overwritten, ripLinear, type Block } from '../blocks.js';
import type { Cpu } from '../cpu.js';
import { execBlock } from '../exec.js';
import { keepCF, testCC } from '../flags.js';
import { InterpBackend, type CpuExtension } from '../interp.js';
import { disassemble } from '../disasm.js';
import { CpuFault } from '../fault.js';
import { buildModule, inline, worthCompiling, type GenStats } from './codegen.js';
import { watText } from './wat.js';
import { codePhys, describeRegion } from './describe.js';
import { later } from './later.js';

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
}

type Compiled = (base: number, passes: number) => number;

/** Compiles queued hot blocks and keeps the bounded code cache with its counters. */
export class JitCompiler {
  readonly threshold: number;
  readonly batch: number;
  readonly maxBlocks: number;
  /** The vCPU whose code is running (the imports act on it). */
  cpu: Cpu;
  dumpAt: number | null;
  onDump: (text: string) => void;
  private readonly debug: boolean;
  readonly all: boolean;
  private queue: Block[] = [];
  /** Compiled blocks, oldest first (eviction order). */
  private live: Block[] = [];
  private readonly gen: GenStats = { inlined: 0, stepped: 0 };
  readonly stats = {
    jitModules: 0, jitBlocks: 0, jitWasmBytes: 0, jitCompileMs: 0, jitInvalidations: 0, jitEvictions: 0,
    jitDeclined: 0, jitRuns: 0, jitExitsFault: 0, jitExitsCodeWrite: 0, jitSteps: 0, jitInsns: 0,
    jitAsyncModules: 0, jitAsyncPending: 0,
  };
  private readonly asyncBytes: number;
  /** Why the last asynchronous compile failed (cpu/jit/later.ts), or undefined. */
  asyncError?: string;

  constructor(cpu: Cpu, private readonly table: InterpBackend['table'], o: JitOptions = {}) {
    this.cpu = cpu;
    this.threshold = o.threshold ?? 40;
    this.batch = o.batch ?? 8;
    this.maxBlocks = o.maxBlocks ?? 16384;
    this.dumpAt = o.dumpAt ?? null;
    this.onDump = o.onDump ?? ((t) => { console.error(t); });
    this.debug = o.debug ?? false;
    this.all = o.all ?? false;
    this.asyncBytes = o.asyncBytes ?? Infinity;
  }

  enqueue(b: Block): void {
    this.queue.push(b);
    if (this.queue.length >= this.batch) this.compile();
  }

  /** Compile every queued block that is still valid into one module. */
  compile(): void {
    const blocks = this.queue.filter((b) => b.valid && b.jit === null);
    this.queue = [];
    if (blocks.length === 0) return;
    const t0 = performance.now();
    const mem = this.cpu.mem.wasm;
    const bytes = buildModule(blocks, mem.buffer.byteLength / 65536, this.gen, this.debug);
    const step = (k: number, i: number): number => {
      const b = blocks[k], c = this.cpu;
      this.stats.jitSteps++;
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
      return 0;
    };
    const cond = (cc: number): number => (testCC(this.cpu.r32, cc) ? 1 : 0);
    const keepcf = (): void => { keepCF(this.cpu.r32); };
    const imports = { e: { m: mem, step, cond, keepcf } };
    if (bytes.length >= this.asyncBytes) {
      later(this, bytes, imports, (inst) => { this.install(inst, blocks, bytes.length, performance.now()); });
      this.stats.jitCompileMs += performance.now() - t0;
      return;
    }
    this.install(new WebAssembly.Instance(new WebAssembly.Module(bytes), imports), blocks, bytes.length, t0);
  }

  /** Give the blocks of a compiled module their functions (those still valid and without code), and count it. */
  private install(inst: WebAssembly.Instance, blocks: Block[], size: number, t0: number): void {
    blocks.forEach((b, k) => { if (b.valid && b.jit === null) { b.jit = inst.exports[`b${k}`] as Compiled; this.live.push(b); } });
    this.stats.jitModules++;
    this.stats.jitBlocks += blocks.length;
    this.stats.jitWasmBytes += size;
    this.stats.jitCompileMs += performance.now() - t0;
    if (this.dumpAt !== null) for (const b of blocks) if (this.covers(b)) this.onDump(this.dump(b));
    if (this.live.length > this.maxBlocks) this.evict();
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
    for (let k = 0; k < n; k++) { const b = this.live[k]; b.jit = null; b.heat = 0; }
    this.live = this.live.slice(n);
    this.stats.jitEvictions += n;
  }

  /** Forget compiled blocks the block cache has dropped (guest writes, flushes): they are invalidations. */
  sweep(): void {
    const keep = this.live.filter((b) => b.valid);
    this.stats.jitInvalidations += this.live.length - keep.length;
    this.live = keep;
  }

  get cached(): number { return this.live.length; }
  /** The compiled blocks, oldest first (describe.ts looks a guest address up in them). */
  get compiled(): readonly Block[] { return this.live; }
  get inlinedInsns(): number { return this.gen.inlined; }
  get steppedInsns(): number { return this.gen.stepped; }

  /** Linear start addresses of blocks seen at the threshold, for --jit-dump. */
  readonly starts = new WeakMap<Block, number>();

  private covers(b: Block): boolean {
    const at = this.dumpAt!, lin = this.starts.get(b);
    return (at >= b.phys && at < b.phys + b.len) || (lin !== undefined && at >= lin && at < lin + b.len);
  }

  /** The block's x86 instructions (each marked inline or through the interpreter) and the wasm text it became. */
  dump(b: Block, linear?: number): string {
    const c = this.cpu, lin = linear ?? this.starts.get(b) ?? b.phys;
    const lines = [`jit: block at ${hex(lin)} (physical ${hex(b.phys)}), ${b.n} instructions, ${b.len} bytes${b.selfLoop ? ', loops on itself' : ''}`];
    for (let i = 0; i < b.n; i++) {
      const at = (lin + b.starts[i]) >>> 0;
      let text: string;
      try {
        text = disassemble(this.table, (k) => c.mem.read8(b.phys + b.starts[i] + k), c.codeSize, at, 0).text;
      } catch (e) {
        if (!(e instanceof CpuFault)) throw e;
        text = '(unreadable)';
      }
      lines.push(`  ${hex(at)}  ${text.padEnd(36)} ${inline(b.code[i << 2]) ? 'inline' : 'interpreter (step)'}`);
    }
    lines.push(watText(buildModule([b], c.mem.wasm.buffer.byteLength / 65536, { inlined: 0, stepped: 0 }), 0));
    return lines.join('\n');
  }
}

/** Heat of a block the JIT declined: it never reaches the threshold again. */
const NEVER = -(2 ** 30);

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

export class JitBackend extends InterpBackend {
  override readonly name = 'jit' as const;
  readonly jit: JitCompiler;

  constructor(host: CpuHost, extensions: CpuExtension[] = [], options: JitOptions = {}) {
    super(host, extensions);
    this.jit = new JitCompiler(this.cpu, this.table, options);
  }

  protected override runBlock(b: Block, n: number, passes: number): number {
    const j = this.jit;
    let fn = b.jit;
    if (fn === null) {
      const heat = ++b.heat;
      if (heat === j.threshold) {
        if (j.dumpAt !== null) j.starts.set(b, ripLinear(this.cpu));
        if (j.all || worthCompiling(b)) j.enqueue(b);
        else { b.heat = NEVER; j.stats.jitDeclined++; }
      } else if (heat === j.threshold * 4) j.compile(); // still waiting for a full batch: compile what is queued
      fn = b.jit;
      if (fn === null) return execBlock(this.cpu, b, b.code, n, passes);
    }
    j.cpu = this.cpu;
    const done = fn(this.cpu.base, passes);
    j.stats.jitRuns++;
    if (done < 0) { j.stats.jitExitsFault++; j.stats.jitInsns += ~done; } else j.stats.jitInsns += done;
    return done;
  }

  override counters(): Record<string, number> {
    const j = this.jit;
    j.sweep();
    const all = this.instructions();
    return {
      ...super.counters(),
      ...j.stats,
      jitCompileMs: Math.round(j.stats.jitCompileMs * 10) / 10,
      jitBlocksCached: j.cached,
      jitInlineInsns: j.inlinedInsns,
      jitSteppedInsns: j.steppedInsns,
      jitSharePct: all === 0 ? 0 : Math.round((1000 * j.stats.jitInsns) / all) / 10,
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
