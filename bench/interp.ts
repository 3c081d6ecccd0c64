// Interpreter benchmark: small guest loops (ALU, load/add/store, call/ret) in
// 32-bit and 64-bit mode with paging on (cpu-system's page walker behind the
// TLB), run on the interp backend; prints MIPS per CPU-second.
// Run with `npm run bench` (bench/interp-run.mjs bundles this file first).

import type { CpuHost } from '../contracts/backend.js';
import { EXIT_HALT } from '../contracts/backend.js';
import { flatState, type FlatMode } from '../cpu/flat.js';
import { createInterpreter, createJit } from '../cpu/full.js';
import { CR0, CR0_PG, CR3, StateView } from '../cpu/state.js';
import { GuestMemory } from '../mmu/memory.js';
import { busHost } from '../machine/bus-host.js';

/**
 * This process's CPU time in ms (user + system). The machine is shared and often
 * oversubscribed; CPU time measures what the code costs when it has a core.
 */
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const CODE = 0x1000;
const DATA = 0x100000;
/** Page tables live here; every loop runs with paging on (4 KiB pages over the first 4 MiB). */
const PAGE_TABLES = 0x200000;
const PTE_PRW = 0x7; // present, writable, user

/** Identity-map the first 4 MiB with 4 KiB pages: 2-level (32-bit) or 4-level (64-bit); returns CR3. */
export function buildPaging(mem: GuestMemory, mode: FlatMode): number {
  const dv = mem.dv;
  const put = (addr: number, lo: number): void => { dv.setUint32(addr, lo, true); };
  if (mode === 32) {
    const pd = PAGE_TABLES, pt = PAGE_TABLES + 0x1000;
    put(pd, pt | PTE_PRW);
    for (let i = 0; i < 1024; i++) put(pt + 4 * i, (i << 12) | PTE_PRW);
    return pd;
  }
  const pml4 = PAGE_TABLES, pdpt = pml4 + 0x1000, pd = pml4 + 0x2000, pt = pml4 + 0x3000;
  put(pml4, pdpt | PTE_PRW);
  put(pdpt, pd | PTE_PRW);
  put(pd, pt | PTE_PRW);
  put(pd + 8, (pt + 0x1000) | PTE_PRW);
  for (let i = 0; i < 1024; i++) put(pt + 8 * i, (i << 12) | PTE_PRW);
  return pml4;
}

/** Little-endian bytes of a 32-bit value. */
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

interface Loop { name: string; mode: FlatMode; code: number[] }

/** Loops end in HLT; ECX/RCX counts iterations. W = REX.W prefix in 64-bit mode. */
export function loopsFor(n: number): Loop[] { return loops(n); }
function loops(n: number): Loop[] {
  const out: Loop[] = [];
  for (const mode of [32, 64] as FlatMode[]) {
    const W = mode === 64 ? [0x48] : [];
    // mov ecx, n; L: add eax,ebx; xor edx,eax; add ebx,3; sub ecx,1; jnz L; hlt
    const alu = [...W, 0x01, 0xd8, ...W, 0x31, 0xc2, ...W, 0x83, 0xc3, 0x03, ...W, 0x83, 0xe9, 0x01];
    out.push({ name: 'alu', mode, code: [0xb9, ...le32(n), ...alu, 0x75, (-(alu.length + 2)) & 0xff, 0xf4] });
    // mov esi, DATA; mov ecx, n; L: mov eax,[rsi]; add eax,ebx; mov [rsi],eax; add esi,4; and esi,DATA|0xfffc; sub ecx,1; jnz L; hlt
    const mem = [...W, 0x8b, 0x06, ...W, 0x01, 0xd8, ...W, 0x89, 0x06, 0x83, 0xc6, 0x04, 0x81, 0xe6, ...le32(DATA | 0xfffc), 0x83, 0xe9, 0x01];
    out.push({ name: 'mem', mode, code: [0xbe, ...le32(DATA), 0xb9, ...le32(n), ...mem, 0x75, (-(mem.length + 2)) & 0xff, 0xf4] });
    // mov ecx, n; L: call F; sub ecx,1; jnz L; hlt; F: add eax,ebx; ret
    const body = [0xe8, ...le32(6), 0x83, 0xe9, 0x01];
    out.push({ name: 'call', mode, code: [0xb9, ...le32(n), ...body, 0x75, (-(body.length + 2)) & 0xff, 0xf4, ...W, 0x01, 0xd8, 0xc3] });
  }
  return out;
}

/** No devices: ports read all ones, time is the host's. */
const host = (memory: GuestMemory): CpuHost => busHost(memory, undefined, () => performance.now() * 1e6);

/** Run one loop; returns { instructions, ms }. */
export function runLoop(l: Loop, accel: 'interp' | 'jit' = 'interp'): { instructions: number; ms: number; wallMs: number; state: Uint8Array } {
  const mem = new GuestMemory(4 << 20);
  mem.writeBytes(CODE, Uint8Array.from(l.code));
  const s = new StateView(mem.buffer, mem.stateOffset);
  flatState(s, l.mode, CODE);
  s.set64(0x020 /* RSP */, 0x80000, 0);
  s.set64(CR3, buildPaging(mem, l.mode), 0);
  s.setU32(CR0, s.u32(CR0) | CR0_PG);
  const b = accel === 'jit' ? createJit(host(mem)) : createInterpreter(host(mem));
  b.setState(s.snapshot());
  const t0 = cpuMs(), w0 = performance.now();
  let exit;
  do exit = b.run(1_000_000); while (exit !== EXIT_HALT);
  const ms = cpuMs() - t0, wallMs = performance.now() - w0;
  if (process.env.JIT_COUNTERS) console.log(JSON.stringify(b.counters()));
  if (b.cpu.lastEvent !== null || b.counters().faults !== 0) throw new Error(`${l.mode}-bit ${l.name} loop faulted`);
  return { instructions: b.instructions(), ms, wallMs, state: b.getState() };
}

/** REP MOVSB of REP_BYTES (1.5 MiB) from DATA to REP_DST (up to the end of the 4 MiB), `rounds` times (EBX counts): the bulk page-copy path. */
const REP_BYTES = 0x180000, REP_DST = 0x280000;
function repLoop(rounds: number, mode: FlatMode): Loop {
  // mov ebx, rounds; L: mov esi, DATA; mov edi, REP_DST; mov ecx, REP_BYTES; rep movsb; sub ebx, 1; jnz L; hlt
  const body = [0xbe, ...le32(DATA), 0xbf, ...le32(REP_DST), 0xb9, ...le32(REP_BYTES), 0xf3, 0xa4, 0x83, 0xeb, 0x01];
  return { name: 'rep movsb', mode, code: [0xbb, ...le32(rounds), ...body, 0x75, (-(body.length + 2)) & 0xff, 0xf4] };
}

/** Prints the table; returns MIPS per loop ('32-bit alu', ...) and backend, for the side-by-side table. */
export function main(iterations = 5_000_000, accels: ('interp' | 'jit')[] = ['interp', 'jit']): Map<string, number[]> {
  const figures = new Map<string, number[]>();
  console.log('paging on; MIPS per CPU-second (this process\'s CPU time, so a busy shared machine does not skew it); best of 5');
  // Warm up every loop first, so V8 has seen all of them before anything is timed (steady state).
  for (let k = 0; k < 2; k++) for (const l of loops(200_000)) for (const a of accels) runLoop(l, a);
  console.log(`loop        ${accels.map((a) => a.padStart(9)).join(' ')}`);
  for (const l of loops(iterations)) {
    const mips = accels.map((a) => {
      const best = [0, 1, 2, 3, 4].map(() => runLoop(l, a)).reduce((x, y) => (y.ms < x.ms ? y : x));
      return best.instructions / best.ms / 1000;
    });
    figures.set(`${l.mode}-bit ${l.name}`, mips);
    console.log(`${l.mode}-bit ${l.name.padEnd(5)} ${mips.map((m) => m.toFixed(1).padStart(9)).join(' ')}`);
  }
  for (const mode of [32, 64] as FlatMode[]) {
    const rounds = Math.max(1, Math.round(iterations / 2500));
    const cols = accels.map((a) => {
      runLoop(repLoop(2, mode), a);
      const best = [0, 1, 2].map(() => runLoop(repLoop(rounds, mode), a)).reduce((x, y) => (y.ms < x.ms ? y : x));
      return `${((rounds * REP_BYTES) / 1e6 / (best.ms / 1000)).toFixed(0).padStart(9)}`;
    });
    console.log(`${mode}-bit rep movsb ${REP_BYTES >> 10} KiB, MB/s ${cols.join(' ')}`);
  }
  return figures;
}
