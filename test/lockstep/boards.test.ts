// `emu --lockstep=A,B` with two in-process backends (machine/lockstep/boards.ts): tinyos
// booted on an interp and a jit board runs to its prompt and through a timer-driven command with every
// chunk compared, interrupts taken at the same instruction on both; a backend that goes
// wrong at one instruction is reported within the chunk that holds it.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Backend, BackendName } from '../../contracts/backend.js';
import { EXIT_BUDGET } from '../../contracts/backend.js';
import { bootRecipe } from '../../machine/boot.js';
import { interruptGate, runBoardPair, type InterruptGate } from '../../machine/lockstep/boards.js';
import { Machine } from '../../machine/machine.js';

const PROMPT = 'tinyos> ';

function tinyos(gate: InterruptGate, out: { text: string }, accel: BackendName = 'interp'): Machine {
  const m = new Machine({
    memory: 64 << 20, accel, noReboot: true, deterministic: true, wrapInterrupts: gate.wrap,
    onSerial: (b) => { out.text += String.fromCharCode(b); },
  });
  m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync('guests/tinyos/tinyos.elf') } }));
  return m;
}

/** Guest RAM nothing uses (tinyos runs in its first few MiB). */
const UNUSED = 0x3000000;

/** `inner`, except that after instruction `at` a byte of unused RAM flips (a deliberately wrong backend). */
function corruptAfter(inner: Backend, memory: Machine['memory'], at: number): Backend {
  let done = false;
  const flip = (): void => {
    memory.u8[UNUSED] ^= 1;
    done = true;
  };
  return {
    name: inner.name,
    run(budget) {
      const n = inner.instructions();
      if (!done && n >= at) flip(); // a halt carried it past `at`: at the first chance
      if (done || n + budget <= at) return inner.run(budget);
      const e = inner.run(at - n);
      if (e !== EXIT_BUDGET) return e;
      flip();
      return inner.run(budget - (at - n));
    },
    requestStop: () => inner.requestStop(),
    getState: () => inner.getState(),
    setState: (s) => inner.setState(s),
    nmi: () => inner.nmi(),
    instructions: () => inner.instructions(),
    counters: () => inner.counters(),
    invalidateCode: () => inner.invalidateCode?.(),
    destroy: () => inner.destroy(),
  };
}

describe('two in-process backends on two boards', () => {
  it('tinyos on interp,jit: to the prompt, then "ticks" (a second of timer interrupts): no divergence, the same console on both', () => {
    const gates = [interruptGate(), interruptGate()] as const;
    const out = [{ text: '' }, { text: '' }];
    const [a, b] = (['interp', 'jit'] as const).map((accel, i) => tinyos(gates[i], out[i], accel));
    try {
      let typed = false;
      const r = runBoardPair(a, b, gates, {
        maxInstructions: 400e6,
        beforeChunk: () => {
          if (!typed && out[0].text.includes(PROMPT)) {
            for (const m of [a, b]) m.serialInput(Buffer.from('ticks\r', 'latin1'));
            typed = true;
          }
          if (typed && out[0].text.split(PROMPT).length > 2) return 'the second prompt';
        },
      });
      if (r.divergence) console.log(r.divergence.report);
      expect(r.divergence).toBeNull();
      expect(r.end).toBe('the second prompt');
      expect(out[0].text).toMatch(/ticks\r?\n.*\d+ timer interrupts/s);
      expect(out[1].text).toBe(out[0].text);
      expect(r.chunks).toBeGreaterThan(100);
      expect(b.backend.counters().jitInsns).toBeGreaterThan(0);
    } finally {
      a.destroy();
      b.destroy();
    }
  }, 300_000);

  it('a backend that flips a bit of RAM after instruction 40,000 is caught by the memory comparison of the chunk holding it, the chunk replayed and listed', () => {
    const gates = [interruptGate(), interruptGate()] as const;
    const out = [{ text: '' }, { text: '' }];
    const [a, b] = [0, 1].map((i) => tinyos(gates[i], out[i]));
    try {
      b.backend = corruptAfter(b.backend, b.memory, 40_000);
      const r = runBoardPair(a, b, gates, { maxInstructions: 200_000, every: 500, fullMemoryEvery: 1 });
      expect(r.end).toBe('divergence');
      const d = r.divergence!;
      expect(d.at).toBeLessThanOrEqual(40_000);
      expect(d.at + d.window).toBeGreaterThan(40_000);
      expect(d.window).toBeLessThanOrEqual(500);
      expect(d.diffs).toEqual(['memory 0x3000000: interp 00, interp 01']);
      expect(d.report).toContain("replayed by interp from the chunk's start");
      expect(d.disassembly.split('\n').length).toBeGreaterThan(8);
    } finally {
      a.destroy();
      b.destroy();
    }
  }, 300_000);
});
