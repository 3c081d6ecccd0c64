// Chaining between JIT regions (cpu/jit/chain.ts), measured (npm run bench:chain):
//  1. a guest loop whose every iteration leaves its region four times (a call to another
//     page, an indirect call, and both RETs), under jit with the jump cache and tail calls
//     and without (each region returns to the run loop, which finds the next block);
//  2. what one hop between two wasm functions costs by each way to make it: a tail call
//     through the table (return_call_indirect, what regions do), a nested call_indirect
//     that returns through every frame, and a return to a JS loop that calls the next.
// MIPS and ns are per CPU-second of this process, best of 5, side by side in one run.

import { EXIT_HALT } from '../contracts/backend.js';
import { flatState, type FlatMode } from '../cpu/flat.js';
import { createJit } from '../cpu/full.js';
import { CR0, CR0_PG, CR3, StateView } from '../cpu/state.js';
import { ModuleBuilder, Op, ValType } from '../cpu/jit/wasm/index.js';
import { GuestMemory } from '../mmu/memory.js';
import { busHost } from '../machine/bus-host.js';
import { buildPaging } from './interp.js';

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const le32 = (v: number): string => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
const bytes = (h: string): Uint8Array => Uint8Array.from(h.replace(/\s+/g, '').match(/../g)!.map((x) => parseInt(x, 16)));

const CODE = 0x1000, F1 = 0x4000, F2 = 0x5000;
/** Instructions per iteration: call F1, add, ret, call esi, add, ret, sub, jnz. */
const PER_ITERATION = 8;

/** The loop guest: mov ecx, n; mov esi, F2; L: call F1; call esi; sub ecx, 1; jnz L; hlt (F1: add eax, 3; ret; F2: add ebx, eax; ret). */
function crossLoop(mem: GuestMemory, n: number): void {
  mem.writeBytes(CODE, bytes(`b9${le32(n)} be${le32(F2)} e8${le32(F1 - (CODE + 15))} ffd6 83e901 75f4 f4`));
  mem.writeBytes(F1, bytes('83c003 c3'));
  mem.writeBytes(F2, bytes('01c3 c3'));
}

/** MIPS of the cross-page loop under jit, chained or not (best of 5). */
function guestMips(mode: FlatMode, iterations: number, chain: boolean): { mips: number; chains: number; runs: number } {
  let best = { mips: 0, chains: 0, runs: 0 };
  for (let k = 0; k < 5; k++) {
    const mem = new GuestMemory(4 << 20);
    crossLoop(mem, iterations);
    const s = new StateView(mem.buffer, mem.stateOffset);
    flatState(s, mode, CODE);
    s.set64(0x20, 0x80000, 0);
    s.set64(CR3, buildPaging(mem, mode), 0);
    s.setU32(CR0, s.u32(CR0) | CR0_PG);
    const b = createJit(busHost(mem, undefined, () => performance.now() * 1e6), { chain });
    b.setState(s.snapshot());
    const t0 = cpuMs();
    while (b.run(1_000_000) !== EXIT_HALT);
    const ms = cpuMs() - t0, c = b.counters();
    if (c.instructions !== iterations * PER_ITERATION + 3) throw new Error(`chain bench: ${c.instructions} instructions`);
    const mips = c.instructions / ms / 1000;
    if (mips > best.mips) best = { mips, chains: c.jitChains, runs: c.jitRuns };
  }
  return best;
}

type Hop = (n: number) => number;

/** Two functions in one table, each counting n down and going to the other: by tail call, by nested call, or back to JS. */
function hopModules(): { tail: Hop; nested: Hop; js: Hop } {
  const I32 = ValType.I32, sig = { params: [I32], results: [I32] };
  const m = new ModuleBuilder();
  m.addTable(4, 4);
  const fns = [0, 1, 2, 3].map((k) => m.addFunction(`f${k}`, sig));
  fns.forEach((f, k) => {
    const kind = k >> 1, other = k ^ 1;
    // if n == 0 return 0; n - 1, then to the other function of the pair (js: return n - 1 and let the caller go on)
    f.localGet(0).op(Op.I32Eqz).if().i32Const(0).return().end();
    f.localGet(0).i32Const(1).op(Op.I32Sub);
    if (kind === 0) f.i32Const(other).returnCallIndirect(m.typeIndex(sig));
    else f.i32Const(other).callIndirect(m.typeIndex(sig));
    m.exportFunction(`f${k}`, f.index);
  });
  m.addElements(0, fns.map((f) => f.index));
  const e = m.instantiate().exports as Record<string, Hop>;
  // The JS trampoline calls a function that returns at once (n - 1): the run loop's shape.
  const back = new ModuleBuilder();
  const g = back.addFunction('g', sig);
  g.localGet(0).i32Const(1).op(Op.I32Sub);
  back.exportFunction('g', g.index);
  const gfn = back.instantiate().exports.g as Hop;
  return { tail: e.f0, nested: e.f2, js: (n) => { let v = n; while (v > 0) v = gfn(v); return v; } };
}

/** ns per hop, best of 5 (`depth` hops per call: nested calls must stay within the stack). */
function hopNs(fn: Hop, hops: number, depth: number): number {
  let best = Infinity;
  for (let k = 0; k < 5; k++) {
    const t0 = cpuMs();
    for (let done = 0; done < hops; done += depth) fn(depth);
    best = Math.min(best, ((cpuMs() - t0) * 1e6) / hops);
  }
  return best;
}

export function main(iterations = 2_000_000): void {
  console.log(`cross-page loop (${PER_ITERATION} instructions an iteration, 4 of them leave their region), ${iterations} iterations, MIPS per CPU-second, best of 5:`);
  console.log(`mode   ${['chained', 'run loop', 'ratio', 'chains/it', 'entries'].map((h) => h.padStart(10)).join('')}`);
  for (const mode of [32, 64] as FlatMode[]) {
    guestMips(mode, 20_000, true); guestMips(mode, 20_000, false); // warm up
    const on = guestMips(mode, iterations, true), off = guestMips(mode, iterations, false);
    const cells = [on.mips.toFixed(0), off.mips.toFixed(0), `${(on.mips / off.mips).toFixed(2)}x`, (on.chains / iterations).toFixed(2), `${on.runs}/${off.runs}`];
    console.log(`${`${mode}-bit`.padEnd(7)}${cells.map((c) => c.padStart(10)).join('')}`);
  }
  const h = hopModules(), hops = 4_000_000;
  for (const f of [h.tail, h.nested, h.js]) hopNs(f, 100_000, 1000); // warm up
  console.log('\none hop between two wasm functions, ns per hop (CPU time, best of 5):');
  console.log(`  return_call_indirect (tail, what regions do)   ${hopNs(h.tail, hops, 100_000).toFixed(2).padStart(7)}`);
  console.log(`  call_indirect, returning through every frame   ${hopNs(h.nested, hops, 1000).toFixed(2).padStart(7)}`);
  console.log(`  return to a JS loop that calls the next        ${hopNs(h.js, hops, 100_000).toFixed(2).padStart(7)}`);
}
