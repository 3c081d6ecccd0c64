// Micro-benchmarks (npm run bench:micro; the runner hands in the `benchmark` package): the
// JIT's compile time for one block (code generation, and wasm compilation of the module) and
// the software TLB's fast path (a read that hits) against a miss that walks the page tables.

import { EXIT_BUDGET } from '../contracts/backend.js';
import { flatState } from '../cpu/flat.js';
import { createJit } from '../cpu/full.js';
import { buildModule } from '../cpu/jit/codegen.js';
import { regionCode } from '../cpu/jit/region.js';
import { CR0, CR0_PG, CR3, StateView } from '../cpu/state.js';
import { GuestMemory } from '../mmu/memory.js';
import { busHost } from '../machine/bus-host.js';
import { buildPaging, loopsFor } from './interp.js';

/** The slice of benchmark.js this file uses. */
interface Suite {
  add(name: string, fn: () => void): Suite;
  on(event: string, fn: (e: { target: { name: string; hz: number; stats: { rme: number } } }) => void): Suite;
  run(opts?: { async: boolean }): void;
}

const CODE = 0x1000, DATA = 0x100000;

/** A jit backend (that never compiles by itself) on `loop`'s guest, run for a few instructions. */
function setUp(name: string, mode: 32 | 64): { backend: ReturnType<typeof createJit>; mem: GuestMemory; loopAt: number } {
  const loop = loopsFor(1000).find((l) => l.name === name && l.mode === mode)!;
  const mem = new GuestMemory(4 << 20);
  mem.writeBytes(CODE, Uint8Array.from(loop.code));
  const s = new StateView(mem.buffer, mem.stateOffset);
  flatState(s, mode, CODE);
  s.set64(0x20, 0x80000, 0);
  s.set64(CR3, buildPaging(mem, mode), 0);
  s.setU32(CR0, s.u32(CR0) | CR0_PG);
  const backend = createJit(busHost(mem), { threshold: 1 << 30 });
  backend.setState(s.snapshot());
  if (backend.run(20) !== EXIT_BUDGET) throw new Error('micro: the loop guest stopped');
  // The loop body starts after `mov ecx, n` (and `mov esi, DATA` in the mem loop).
  return { backend, mem, loopAt: CODE + (name === 'mem' ? 10 : 5) };
}

export function main(Benchmark: { Suite: new (name: string) => Suite }): void {
  const alu = setUp('alu', 32), mem = setUp('mem', 64);
  const pages = alu.mem.wasm.buffer.byteLength / 65536;
  const aluBlock = alu.backend.cache.lookup(alu.loopAt, 0), memBlock = mem.backend.cache.lookup(mem.loopAt, 0);
  const aluRegion = regionCode([aluBlock], [0]), memRegion = regionCode([memBlock], [0]);
  const stats = { inlined: 0, stepped: 0 };
  const cpu = mem.backend.cpu;
  let sink = 0;
  new Benchmark.Suite('micro')
    .add(`jit: generate one block (32-bit alu loop, ${aluBlock.n} instructions)`, () => { sink ^= buildModule([aluRegion], pages, stats).length; })
    .add(`jit: generate + compile one block (32-bit alu loop, ${aluBlock.n} instructions)`, () => { sink ^= WebAssembly.Module.exports(new WebAssembly.Module(buildModule([aluRegion], pages, stats))).length; })
    .add(`jit: generate + compile one block (64-bit mem loop, ${memBlock.n} instructions)`, () => { sink ^= WebAssembly.Module.exports(new WebAssembly.Module(buildModule([memRegion], pages, stats))).length; })
    .add('tlb: 1000 read32 that hit (4 KiB pages, 64-bit paging)', () => {
      for (let i = 0; i < 1000; i++) sink ^= cpu.read32(DATA + ((i * 4) & 0xfffc), 0);
    })
    .add('tlb: flush + 16 read32 that miss and walk 4 levels', () => {
      cpu.flushTlb(false);
      for (let i = 0; i < 16; i++) sink ^= cpu.read32(DATA + i * 0x1000, 0);
    })
    .on('cycle', (e) => {
      const t = e.target;
      console.log(`${t.name.padEnd(66)} ${(1e6 / t.hz).toFixed(3).padStart(10)} µs/op  ±${t.stats.rme.toFixed(1)}%`);
    })
    .run({ async: false });
  if (sink === 0x7fffffff) console.log(sink);
}
