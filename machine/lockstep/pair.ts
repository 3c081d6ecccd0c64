// The lockstep oracle without KVM: one guest on two in-process backends (the
// interpreter and the JIT, or any two), each with its own memory. Both run the
// same number of instructions per chunk (`every`, default 1000); after every
// chunk the state records are compared, watched memory ranges too, and all of
// RAM every few chunks. The first difference ends the run. Where the caller
// can checkpoint (bare memory: the random programs) the chunk is bisected to
// the first instruction whose result differs, and that instruction is shown.

import type { Backend, ExitReason } from '../../contracts/backend.js';
import { EXIT_BUDGET, EXIT_ERROR, EXIT_HALT, EXIT_NAMES, EXIT_SHUTDOWN, EXIT_STOP } from '../../contracts/backend.js';
import { RIP, StateView, TSC, type CpuStateBytes } from '../../cpu/state.js';
import type { GuestMemory } from '../../mmu/memory.js';
import { codeSizeOf, describeState, diffMemory, diffStates, disassembleCount, memoryEqual, ripLinear } from './report.js';

export interface PairSide {
  /** How reports call this side ('interp', 'jit', ...). */
  name: string;
  backend: Backend;
  memory: GuestMemory;
}

/**
 * What a backend may offer the oracle beyond the Backend contract: the interpreter's
 * disassembler at the current RIP (paging included), and a JIT's view of the translated
 * region containing a linear address (its wasm text), or null where it has none.
 */
interface Introspection {
  disassembleAtRip?(): string;
  describeRegion?(linear: number): string | null;
}

/** The interrupt gate of a board (see interruptGate): open only for the first instruction of a chunk. */
export interface ChunkGate {
  open(): void;
  close(): void;
}

export interface PairOptions {
  /** Stop after this many instructions (default 1e6). */
  maxInstructions?: number;
  /** Instructions per chunk: the states are compared after every chunk (default 1000). */
  every?: number;
  /**
   * Compare all of RAM every this many chunks, and at the end (0 = never). The default keeps the
   * comparison near a tenth of the run: one chunk in (RAM bytes / 8) instructions' worth.
   */
  fullMemoryEvery?: number;
  /** Compare all of RAM when the guest halts (default true: a program's end; boards halt often and say false). */
  fullMemoryAtHalt?: boolean;
  /** Physical ranges compared after every chunk. */
  watch?: ReadonlyArray<readonly [number, number]>;
  /**
   * The RAM ranges the guest can write (with the state records, a checkpoint): given, a
   * divergent chunk is replayed from its start in halves down to the first instruction that
   * differs. Only for sides without devices whose state a replay would also have to restore.
   */
  checkpoint?: ReadonlyArray<readonly [number, number]>;
  /** Called before every chunk (a board's timers and console input); a string ends the run with it. */
  beforeChunk?: () => string | void;
  /** The largest next chunk (a board's next timer deadline), in instructions. */
  chunkLimit?: () => number;
  /** Both boards' interrupt gates: interrupts are taken only at the start of a chunk. */
  gates?: readonly [ChunkGate, ChunkGate];
  /** State-record byte ranges never compared (default: the TSC). */
  ignore?: ReadonlyArray<readonly [number, number]>;
}

export interface PairDivergence {
  /** Instructions both sides had run with equal results before the window that differs. */
  at: number;
  /** Instructions in the window (1 once bisected to the instruction). */
  window: number;
  /** Linear RIP at the window's start, and its code size. */
  rip: number;
  codeSize: 2 | 4 | 8;
  /** The window's x86 instructions as side A ran them. */
  disassembly: string;
  /** Side B's (else A's) translated code for the window's start, where a backend offers it. */
  translated: string | null;
  /** "field: A x, B y" lines. */
  diffs: string[];
  /** Both states at the window's end. */
  a: CpuStateBytes;
  b: CpuStateBytes;
  /** The whole story, ready to print. */
  report: string;
}

export interface PairResult {
  instructions: number;
  chunks: number;
  /** 'halt', 'max-instructions', 'shutdown', 'stopped', 'divergence', 'error: ...', or the beforeChunk reason. */
  end: string;
  divergence: PairDivergence | null;
}

/** Most instructions of a window listed in a report. */
const MAX_LISTED = 48;

/** Run `n` instructions on a side; with a gate, interrupts are taken before the first only. */
function runChunk(b: Backend, n: number, gate: ChunkGate | undefined): ExitReason {
  if (!gate) return b.run(n);
  gate.open();
  let e: ExitReason;
  try {
    e = b.run(1);
  } finally {
    gate.close();
  }
  return e === EXIT_BUDGET && n > 1 ? b.run(n - 1) : e;
}

/** The differences between the sides now: exits, instruction counts, state records, watched memory. */
function compare(A: PairSide, B: PairSide, ea: ExitReason, eb: ExitReason, na: number, nb: number,
  sa: StateView, sb: StateView, opts: PairOptions, fullMemory: boolean): string[] {
  const diffs: string[] = [];
  if (ea !== eb) diffs.push(`exit: ${A.name} ${EXIT_NAMES[ea]}, ${B.name} ${EXIT_NAMES[eb]}`);
  if (na !== nb) diffs.push(`instructions retired: ${A.name} ${na}, ${B.name} ${nb}`);
  sa.u8.set(A.backend.getState());
  sb.u8.set(B.backend.getState());
  for (const [off, len] of opts.ignore ?? [[TSC, 8]]) { sa.u8.fill(0, off, off + len); sb.u8.fill(0, off, off + len); }
  diffs.push(...diffStates(sa, sb, A.name, B.name));
  for (const [start, len] of opts.watch ?? []) if (diffs.length === 0) diffs.push(...diffMemory(A.memory, B.memory, start, len, A.name, B.name));
  if (diffs.length === 0 && fullMemory && !memoryEqual(A.memory, B.memory)) {
    diffs.push(...diffMemory(A.memory, B.memory, 0, A.memory.ramSize, A.name, B.name));
  }
  return diffs;
}

/** One instruction of side A at its RIP, as text: its own disassembler if it has one, else the bytes at the linear RIP read physically. */
function describeAt(side: PairSide, s: StateView): string {
  const rip = ripLinear(s);
  const own = (side.backend as Introspection).disassembleAtRip;
  if (own) return `${rip.toString(16).padStart(8, '0')}: ${own.call(side.backend)}`;
  const bytes = side.memory.u8.slice(rip, Math.min(rip + 15, side.memory.ramSize));
  return disassembleCount(bytes, codeSizeOf(s), rip, 1);
}

/** The instructions side A runs from its current state, `n` of them (one run(1) each), as a listing. */
function trace(side: PairSide, n: number): string {
  const s = StateView.detached(), lines: string[] = [];
  let skipped = 0;
  for (let i = 0; i < n; i++) {
    s.u8.set(side.backend.getState());
    if (i < 8 || i >= n - (MAX_LISTED - 8)) lines.push(describeAt(side, s));
    else if (skipped++ === 0) lines.push('...');
    if (side.backend.run(1) !== EXIT_BUDGET) break;
  }
  return lines.join('\n    ');
}

/** The first translated region either side can show for `linear` (B first: the side under test). */
function translatedAt(A: PairSide, B: PairSide, linear: number): string | null {
  for (const side of [B, A]) {
    const text = (side.backend as Introspection).describeRegion?.(linear);
    if (text) return text.startsWith(`${side.name}:`) ? text : `${side.name}: ${text}`;
  }
  return null;
}

interface Checkpoint { state: CpuStateBytes; ranges: Uint8Array[] }

function save(A: PairSide, ranges: ReadonlyArray<readonly [number, number]>): Checkpoint {
  return { state: A.backend.getState(), ranges: ranges.map(([s, n]) => A.memory.u8.slice(s, s + n)) };
}

function restore(cp: Checkpoint, sides: PairSide[], ranges: ReadonlyArray<readonly [number, number]>): void {
  for (const side of sides) {
    ranges.forEach(([s], i) => side.memory.u8.set(cp.ranges[i], s));
    side.backend.setState(cp.state);
    side.backend.invalidateCode?.();
  }
}

/**
 * Run A and B together from the states they hold now (the caller made them equal: the same
 * guest loaded into both memories, or two boards booted from the same recipe).
 */
export function runPair(A: PairSide, B: PairSide, opts: PairOptions = {}): PairResult {
  const max = opts.maxInstructions ?? 1e6, every = Math.max(1, opts.every ?? 1000);
  const fullEvery = opts.fullMemoryEvery ?? Math.max(1, Math.ceil(A.memory.ramSize / 8 / every));
  const sa = StateView.detached(), sb = StateView.detached(), start = StateView.detached();
  const [ga, gb] = opts.gates ?? [undefined, undefined];
  let done = 0, chunks = 0, end = 'max-instructions';
  let divergence: PairDivergence | null = null;
  // The sides must start equal: a difference here is the caller's, reported as at instruction 0.
  let diffs = compare(A, B, EXIT_BUDGET, EXIT_BUDGET, 0, 0, sa, sb, opts, false);
  let k = 0;
  start.u8.set(A.backend.getState());
  while (diffs.length === 0 && done < max) {
    const stop = opts.beforeChunk?.();
    if (stop) { end = stop; break; }
    k = Math.max(1, Math.min(every, max - done, opts.chunkLimit?.() ?? Infinity));
    start.u8.set(A.backend.getState());
    const cp = opts.checkpoint ? save(A, opts.checkpoint) : null;
    const ia = A.backend.instructions(), ib = B.backend.instructions();
    const ea = runChunk(A.backend, k, ga), eb = runChunk(B.backend, k, gb);
    const na = A.backend.instructions() - ia, nb = B.backend.instructions() - ib;
    chunks++;
    const last = done + na >= max || (ea !== EXIT_BUDGET && (ea !== EXIT_HALT || (opts.fullMemoryAtHalt ?? true)));
    diffs = compare(A, B, ea, eb, na, nb, sa, sb, opts, fullEvery > 0 && (chunks % fullEvery === 0 || last));
    if (diffs.length > 0) {
      divergence = cp ? bisect(A, B, cp, k, done, opts, start) : reportWindow(A, B, start, done, k, diffs, sa, sb, true);
      end = 'divergence';
      break;
    }
    done += na;
    if (ea === EXIT_ERROR) { end = `error: ${A.name}: ${A.backend.lastError ?? 'unknown'}`; break; }
    if (ea === EXIT_HALT) { end = 'halt'; break; }
    if (ea === EXIT_SHUTDOWN) { end = 'shutdown'; break; }
    if (ea === EXIT_STOP) { end = 'stopped'; break; }
  }
  if (diffs.length > 0 && !divergence) {
    divergence = reportWindow(A, B, start, 0, 0, diffs, sa, sb, false);
    end = 'divergence';
  }
  return { instructions: done, chunks, end, divergence };
}

/**
 * A divergent chunk of `k` instructions from checkpoint `cp`: replay both sides from it for
 * half as many instructions, and so on, down to the first instruction after which they differ.
 * A backend may behave differently under a smaller budget (a region not entered whole): if the
 * narrowed window no longer reproduces, the whole chunk is reported.
 */
function bisect(A: PairSide, B: PairSide, cp: Checkpoint, k: number, done: number, opts: PairOptions, start: StateView): PairDivergence {
  const sa = StateView.detached(), sb = StateView.detached(), ranges = opts.checkpoint ?? [];
  const differsAfter = (n: number): string[] => {
    restore(cp, [A, B], ranges);
    if (n === 0) return [];
    const ia = A.backend.instructions(), ib = B.backend.instructions();
    const ea = A.backend.run(n), eb = B.backend.run(n);
    return compare(A, B, ea, eb, A.backend.instructions() - ia, B.backend.instructions() - ib, sa, sb, opts, true);
  };
  let lo = 0, hi = k;
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (differsAfter(mid).length > 0) hi = mid; else lo = mid;
  }
  let diffs = differsAfter(hi);
  if (diffs.length === 0) {
    lo = 0; hi = k;
    diffs = differsAfter(k);
  }
  // Side A from the window's start: the state before, then the instructions of the window.
  restore(cp, [A, B], ranges);
  if (lo > 0) A.backend.run(lo);
  const before = StateView.detached();
  before.u8.set(A.backend.getState());
  const listing = trace(A, hi - lo);
  // Both sides' states at the window's end, as compared.
  differsAfter(hi);
  return divergenceOf(A, B, before, done + lo, hi - lo, listing, diffs, sa, sb, start, true);
}

/** A window that could not be narrowed (no checkpoint): A replays its path from the chunk's start to list it. */
function reportWindow(A: PairSide, B: PairSide, start: StateView, done: number, k: number, diffs: string[],
  sa: StateView, sb: StateView, replay: boolean): PairDivergence {
  const a = sa.snapshot(), b = sb.snapshot();
  let listing = describeAt(A, start);
  if (replay && k > 0) {
    A.backend.setState(start.snapshot());
    listing = `(replayed by ${A.name} from the chunk's start over memory as the chunk left it)\n    ${trace(A, k)}`;
  }
  sa.u8.set(a);
  sb.u8.set(b);
  return divergenceOf(A, B, start, done, k, listing, diffs, sa, sb, start, false);
}

function divergenceOf(A: PairSide, B: PairSide, before: StateView, at: number, window: number, disassembly: string,
  diffs: string[], sa: StateView, sb: StateView, chunkStart: StateView, narrowed: boolean): PairDivergence {
  const rip = ripLinear(before), codeSize = codeSizeOf(before);
  const translated = translatedAt(A, B, ripLinear(before)) ?? translatedAt(A, B, ripLinear(chunkStart));
  const where = window === 0 ? 'before the first instruction (the sides were loaded differently)'
    : window === 1 ? `at instruction ${at + 1}, rip ${before.hex64(RIP)}`
    : `within instructions ${at + 1}-${at + window}${narrowed ? ' (the window does not narrow further)' : ''}, from rip ${before.hex64(RIP)}`;
  const report = [
    `lockstep ${A.name},${B.name}: divergence after ${at} matching instructions, ${where} (${codeSize * 8}-bit code)`,
    `  ${window === 1 ? 'instruction' : 'instructions'}:\n    ${disassembly}`,
    ...(translated ? [`  translated code holding the window's first instruction:\n${translated.replace(/^/gm, '    ')}`] : []),
    ...diffs.map((d) => `  ${d}`),
    'state before:', describeState(before),
    `${A.name} after:`, describeState(sa),
    `${B.name} after:`, describeState(sb),
  ].join('\n');
  return { at, window, rip, codeSize, disassembly, translated, diffs, a: sa.snapshot(), b: sb.snapshot(), report };
}
