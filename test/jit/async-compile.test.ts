// Large modules compile asynchronously (JitOptions.asyncBytes, what the browser worker sets):
// the run loop never waits for WebAssembly.instantiate, the block runs interpreted meanwhile,
// and once the instance is ready the same block runs as wasm with the same result.

import { describe, expect, it } from 'vitest';
import type { CpuHost } from '../../contracts/backend.js';
import { EXIT_HALT } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { FULL_EXTENSIONS } from '../../cpu/full.js';
import { JitBackend } from '../../cpu/jit/backend.js';
import { RAX, RIP, RSP, RUN_RUNNING, RUN_STATE, StateView, gprOffset } from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';

const CODE = 0x1000;
// mov ecx,1000; xor eax,eax; L: add eax,ecx; dec ecx; jnz L; hlt
const LOOP = [0xb9, 0xe8, 0x03, 0x00, 0x00, 0x31, 0xc0, 0x01, 0xc8, 0x49, 0x75, 0xfb, 0xf4];

/** The backend, a view of its live state record, start (a fresh state) and again (RIP back to the start, the code cache kept). */
function jitRig(asyncBytes: number): { backend: JitBackend; state: StateView; start: () => number; again: () => number } {
  const mem = new GuestMemory(2 << 20);
  const host: CpuHost = {
    memory: mem, portRead: () => 0xff, portWrite: () => {},
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 }, now: () => 0, a20Enabled: () => true,
  };
  const backend = new JitBackend(host, [...FULL_EXTENSIONS], { threshold: 1, batch: 1, all: true, asyncBytes });
  const state = new StateView(mem.buffer, mem.stateOffset);
  mem.writeBytes(CODE, Uint8Array.from(LOOP));
  const start = (): number => {
    flatState(state, 32, CODE);
    state.set64(RSP * 8, 0x8000, 0);
    backend.setState(state.snapshot());
    return backend.run(100_000);
  };
  const again = (): number => {
    state.set64(RIP, CODE, 0);
    backend.cpu.r32[RUN_STATE / 4] = RUN_RUNNING;
    return backend.run(100_000);
  };
  return { backend, state, start, again };
}

describe('asynchronous compilation of large modules', () => {
  it('the loop runs interpreted while its module compiles, then as wasm, with the same sum', async () => {
    const { backend, state, start, again } = jitRig(0);
    expect(start()).toBe(EXIT_HALT);
    expect(state.lo(gprOffset(RAX))).toBe(500500);
    let c = backend.counters();
    expect(c.jitAsyncModules).toBeGreaterThan(0);
    expect(c.jitBlocks).toBe(0); // nothing installed yet: the run loop did not wait
    expect(c.jitInsns).toBe(0);
    for (let i = 0; i < 200 && backend.counters().jitAsyncPending > 0; i++) await new Promise((r) => setTimeout(r, 5));
    c = backend.counters();
    expect(c.jitAsyncPending).toBe(0);
    expect(c.jitBlocks).toBeGreaterThan(0);
    expect(backend.jit.asyncError).toBeUndefined();
    state.set64(gprOffset(RAX), 0, 0);
    expect(again()).toBe(EXIT_HALT);
    expect(state.lo(gprOffset(RAX))).toBe(500500);
    expect(state.lo(RIP)).toBe(CODE + LOOP.length);
    expect(backend.counters().jitInsns).toBeGreaterThan(2000); // the loop's 3000 instructions, mostly in wasm
  });

  it('below the size, modules compile at once (the default: no size is large)', () => {
    const { backend, state, start } = jitRig(1 << 30);
    expect(start()).toBe(EXIT_HALT);
    expect(state.lo(gprOffset(RAX))).toBe(500500);
    const c = backend.counters();
    expect(c.jitAsyncModules).toBe(0);
    expect(c.jitBlocks).toBeGreaterThan(0);
    expect(c.jitInsns).toBeGreaterThan(2000);
  });
});
