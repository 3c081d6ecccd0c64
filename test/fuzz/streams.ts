// Random instruction streams on the interpreter (issue 20): in real mode, 32-bit protected
// mode with and without paging and 64-bit mode, random (and prefix/string-biased) code, IDT
// and registers; every backend.run() call must return within a time bound and must not
// throw. Host exceptions and stalls are reported with the seed that reproduces them.
// `npm run fuzz` runs the long version (bench/fuzz-run.mjs); test/fuzz/streams.test.ts a short one.

import { EXIT_HALT, EXIT_NAMES, EXIT_SHUTDOWN } from '../../contracts/backend.js';
import type { CpuHost } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { createInterpreter } from '../../cpu/full.js';
import type { InterpBackend } from '../../cpu/interp.js';
import {
  CR0, CR0_PG, CR3, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, RFLAGS, RIP, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL,
  StateView, TR, gprOffset, segOffset,
} from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';

export const FUZZ_MODES = ['real', 'prot32', 'paged32', 'long64'] as const;
export type FuzzMode = typeof FUZZ_MODES[number];

export interface FuzzOptions {
  /** First seed; stream i uses seed + i (and mode FUZZ_MODES[(seed + i) % 4] unless `modes` narrows it). */
  seed: number;
  count: number;
  modes?: readonly FuzzMode[];
  /** Budget of each run() call, and how many calls a stream gets. */
  budget?: number;
  runs?: number;
  /** A run() call slower than this is a stall. */
  stallMs?: number;
}

export interface FuzzProblem { seed: number; mode: FuzzMode; what: string }

export interface FuzzReport {
  streams: number;
  runs: number;
  instructions: number;
  faults: number;
  faultStorms: number;
  repPauses: number;
  exits: Record<string, number>;
  slowestRunMs: number;
  slowestSeed: number;
  problems: FuzzProblem[];
}

const RAM = 2 << 20;
const CODE = 0x1000, HANDLERS = 0x3000, GDT = 0x8000, IDT = 0x9000, TSS = 0xa000, PT = 0x20000;
/** Bytes the biased streams favour: prefixes, REX, string ops, 0F, INT/IRET/UD2 pieces, jumps, stack ops. */
const FAVOURED = [
  0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x40, 0x48, 0x41, 0x4f, 0xa4, 0xa5, 0xa6, 0xa7,
  0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0x6c, 0x6d, 0x6e, 0x6f, 0x0f, 0x0b, 0xcd, 0xcc, 0xcf, 0xeb, 0xe9, 0xe8, 0xc3,
  0x50, 0x58, 0x9c, 0x9d, 0xfa, 0xfb, 0xf4, 0x8e, 0xff, 0x00,
];

/** xorshift32 (never 0). */
class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed * 0x9e3779b1 + 0x6d2b79f5) | 0 || 1; }
  next(): number { let x = this.s; x ^= x << 13; x ^= x >>> 17; x ^= x << 5; this.s = x; return x >>> 0; }
  below(n: number): number { return this.next() % n; }
  byte(biased: boolean): number { return biased && this.below(3) === 0 ? FAVOURED[this.below(FAVOURED.length)] : this.next() & 0xff; }
}

interface Rig { b: InterpBackend; mem: GuestMemory; s: StateView }

function rig(): Rig {
  const mem = new GuestMemory(RAM);
  let irq = 0;
  const host: CpuHost = {
    memory: mem,
    portRead: () => 0xffffffff,
    portWrite: () => {},
    // Now and then an external interrupt is pending (vector 0x20-0x2f).
    interrupts: { hasInterrupt: () => (++irq & 0x3ff) === 0, acknowledge: () => 0x20 | (irq & 0xf) },
    now: () => 0,
    a20Enabled: () => true,
  };
  return { b: createInterpreter(host), mem, s: new StateView(mem.buffer, mem.stateOffset) };
}

/** Fill guest memory and state for one stream. */
function setUp(g: Rig, mode: FuzzMode, rng: Rng): void {
  const { mem, s } = g, u8 = mem.u8;
  u8.fill(0, 0, RAM);
  const biased = rng.below(2) === 0;
  for (let i = 0; i < 512; i++) u8[CODE + i] = rng.byte(biased);
  for (let i = 0; i < 0x1000; i++) u8[HANDLERS + i] = rng.byte(biased);
  const bits = mode === 'real' ? 16 : mode === 'long64' ? 64 : 32;
  flatState(s, bits, CODE);
  if (mode === 'real') {
    // IVT: every vector into the handler page (or, sometimes, anywhere).
    for (let v = 0; v < 256; v++) mem.write32(v * 4, rng.below(4) === 0 ? rng.next() : HANDLERS + rng.below(0x1000));
  } else {
    const code = bits === 64 ? 0x00af9a00 : 0x00cf9a00;
    [0, 0, 0xffff, code, 0xffff, 0x00cf9200, (TSS << 16) | 0x67, 0x8900, 0, 0].forEach((v, i) => mem.write32(GDT + 4 * i, v));
    s.set64(GDTR_BASE, GDT, 0); s.setU32(GDTR_LIMIT, 39);
    s.set64(IDTR_BASE, IDT, 0); s.setU32(IDTR_LIMIT, bits === 64 ? 0xfff : 0x7ff);
    const tr = segOffset(TR);
    s.setU32(tr + SEG_SEL, 0x18); s.setU32(tr + SEG_ATTR, 0x8b); s.setU32(tr + SEG_LIMIT, 0x67); s.set64(tr + SEG_BASE, TSS, 0);
    for (let i = 0; i < 0x68; i += 4) mem.write32(TSS + i, rng.below(2) === 0 ? 0x70000 : rng.next());
    const size = bits === 64 ? 16 : 8;
    for (let v = 0; v < 256; v++) {
      const a = IDT + v * size;
      if (rng.below(8) === 0) { for (let k = 0; k < size; k += 4) mem.write32(a + k, rng.next()); continue; }
      const target = HANDLERS + rng.below(0x1000);
      mem.write32(a, (0x08 << 16) | target);
      mem.write32(a + 4, (rng.below(2) === 0 ? 0x8e00 : 0x8f00) | (bits === 64 ? rng.below(8) : 0));
    }
    if (mode === 'paged32') {
      mem.write32(PT - 0x1000 + 0, PT | 7); // page directory at PT - 0x1000
      for (let i = 0; i < 512; i++) mem.write32(PT + 4 * i, (i << 12) | (rng.below(16) === 0 ? 5 : 7));
      s.set64(CR3, PT - 0x1000, 0);
      s.setU32(CR0, s.u32(CR0) | CR0_PG);
    }
    if (mode === 'long64') {
      mem.write32(PT, (PT + 0x1000) | 7); mem.write32(PT + 0x1000, (PT + 0x2000) | 7);
      for (let i = 0; i < 512; i++) mem.write32(PT + 0x2000 + 8 * i, (i << 21) | 0xe7);
      s.set64(CR3, PT, 0);
    }
  }
  // Registers: random, with counts and pointers that make string instructions long.
  for (let n = 0; n < 16; n++) {
    const pick = rng.below(4);
    const lo = pick === 0 ? 0xffffffff : pick === 1 ? rng.below(0x100000) : rng.next();
    s.set64(gprOffset(n), lo, bits === 64 && rng.below(4) === 0 ? rng.next() : 0);
  }
  s.set64(gprOffset(4), rng.below(2) === 0 ? 0x80000 : rng.next() & ~3, 0); // RSP
  s.set64(RFLAGS, 2 | (rng.below(2) === 0 ? 0x200 : 0) | (rng.below(8) === 0 ? 0x400 : 0), 0); // IF, DF sometimes
  s.set64(RIP, CODE, 0);
  g.b.setState(s.snapshot());
}

/** A new rig for `mode`, warmed up by one untimed stream (V8 compiles the interpreter's paths on first use). */
function warmRig(rigs: Map<FuzzMode, Rig>, mode: FuzzMode, budget: number): Rig {
  const g = rig();
  setUp(g, mode, new Rng(-1));
  for (let k = 0; k < 4 && g.b.run(budget) !== EXIT_SHUTDOWN; k++);
  rigs.set(mode, g);
  return g;
}

/** Run `count` streams; never throws for what a stream does (that is reported). */
export function fuzz(o: FuzzOptions): FuzzReport {
  const budget = o.budget ?? 20_000, runs = o.runs ?? 8, stallMs = o.stallMs ?? 2_000;
  const modes = o.modes ?? FUZZ_MODES;
  const rigs = new Map<FuzzMode, Rig>();
  const report: FuzzReport = {
    streams: 0, runs: 0, instructions: 0, faults: 0, faultStorms: 0, repPauses: 0, exits: {}, slowestRunMs: 0, slowestSeed: 0, problems: [],
  };
  for (let i = 0; i < o.count; i++) {
    const seed = o.seed + i, mode = modes[seed % modes.length];
    let g = rigs.get(mode);
    if (g === undefined) g = warmRig(rigs, mode, budget);
    const before = g.b.counters();
    try {
      setUp(g, mode, new Rng(seed));
      for (let k = 0; k < runs; k++) {
        const t0 = performance.now();
        const exit = g.b.run(budget);
        const ms = performance.now() - t0;
        report.runs++;
        if (ms > report.slowestRunMs) { report.slowestRunMs = ms; report.slowestSeed = seed; }
        if (ms > stallMs) report.problems.push({ seed, mode, what: `run(${budget}) took ${ms.toFixed(0)} ms` });
        report.exits[EXIT_NAMES[exit]] = (report.exits[EXIT_NAMES[exit]] ?? 0) + 1;
        if (exit === EXIT_SHUTDOWN || exit === EXIT_HALT) break;
      }
    } catch (e) {
      report.problems.push({ seed, mode, what: `host exception: ${e instanceof Error ? e.stack ?? e.message : String(e)}` });
      rigs.delete(mode); // its state may be half-updated
    }
    const after = g.b.counters();
    report.instructions += after.instructions - before.instructions;
    report.faults += after.faults - before.faults;
    report.faultStorms += after.faultStorms - before.faultStorms;
    report.repPauses += after.repPauses - before.repPauses;
    report.streams++;
  }
  return report;
}

/** One line per figure, then one per problem (seed first, so it can be rerun with --seed N --count 1). */
export function formatReport(r: FuzzReport): string {
  const exits = Object.entries(r.exits).map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    `${r.streams} streams, ${r.runs} run() calls (${exits}), ${r.instructions} instructions, ${r.faults} exceptions,` +
      ` ${r.faultStorms} fault storms, ${r.repPauses} REP pauses; slowest run() ${r.slowestRunMs.toFixed(1)} ms (seed ${r.slowestSeed});` +
      ` ${r.problems.length} problems`,
  ];
  for (const p of r.problems) lines.push(`seed ${p.seed} (${p.mode}): ${p.what}`);
  return lines.join('\n');
}
