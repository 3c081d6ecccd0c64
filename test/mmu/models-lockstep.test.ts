// A lockstep run of one memory model against another (machine/lockstep/boards.ts with two
// boards that differ only in --mmu): tinyos boots on a direct board and on a shadow or nested
// one, both run `aspace` (address spaces, CR3 switches, PTE swaps with INVLPG, unmaps) in
// chunks of equal instruction counts with interrupts at the same instructions; the state
// records are compared after every chunk and all of RAM (the guest's page tables with the
// A/D bits each model set) every few chunks and at the end. Halts sleep both boards to their
// next timer (a board pair must advance time, not step a halted CPU).
// And a bare paging-heavy guest (pt-churn.S) on interp and jit under every model against the
// interpreter under direct, compared every 500 instructions with all of RAM, a divergence
// bisected to its instruction.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Backend, BackendName } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { createInterpreter } from '../../cpu/full.js';
import { JitBackend } from '../../cpu/jit/backend.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import { CR3, StateView } from '../../cpu/state.js';
import { busHost } from '../../machine/bus-host.js';
import { bootRecipe } from '../../machine/boot.js';
import { interruptGate, runBoardPair, type InterruptGate } from '../../machine/lockstep/boards.js';
import { runPair, type PairSide } from '../../machine/lockstep/pair.js';
import { Machine } from '../../machine/machine.js';
import { GuestMemory } from '../../mmu/memory.js';
import type { MmuModelName } from '../../mmu/model.js';
import { hasToolchain, buildFlat } from '../cpu/system-build.js';

const PROMPT = 'tinyos> ';

function tinyos(mmu: MmuModelName, gate: InterruptGate, out: { text: string }): Machine {
  const m = new Machine({
    memory: 64 << 20, accel: 'interp', mmu, noReboot: true, deterministic: true, wrapInterrupts: gate.wrap,
    onSerial: (b) => { out.text += String.fromCharCode(b); },
  });
  m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync('guests/tinyos/tinyos.elf') } }));
  return m;
}

describe('lockstep of memory models: tinyos aspace', () => {
  for (const model of ['shadow', 'nested'] as const) {
    it(`direct against ${model}: boot, "aspace 3 2", the next prompt; equal state every chunk and equal RAM`, () => {
      const gates = [interruptGate(), interruptGate()] as const;
      const out = [{ text: '' }, { text: '' }];
      const a = tinyos('direct', gates[0], out[0]), b = tinyos(model, gates[1], out[1]);
      try {
        let typed = false;
        const r = runBoardPair(a, b, gates, {
          maxInstructions: 200e6, every: 20_000,
          beforeChunk: () => {
            if (!typed && out[0].text.includes(PROMPT)) {
              for (const m of [a, b]) m.serialInput(Buffer.from('aspace 3 2\r', 'latin1'));
              typed = true;
            }
            if (typed && out[0].text.split(PROMPT).length > 2) return 'the second prompt';
          },
        });
        if (r.divergence) console.log(r.divergence.report);
        expect(r.divergence).toBeNull();
        expect(r.end).toBe('the second prompt');
        expect(out[0].text).toContain('aspace: every page showed the frame its PTE names');
        expect(out[1].text).toBe(out[0].text);
        // The models did their own work on the same guest.
        const c = b.backend.counters();
        if (model === 'shadow') expect(c['shadow.ptWriteTraps']).toBeGreaterThan(100);
        else expect(c['nested.eptViolations']).toBeGreaterThan(50);
        // The pair compared RAM on the way; once more here, the last chunk included.
        expect(Buffer.compare(a.memory.u8.subarray(0, a.memory.ramSize), b.memory.u8.subarray(0, b.memory.ramSize))).toBe(0);
      } finally {
        a.destroy();
        b.destroy();
      }
    }, 180_000);
  }
});

const CHURN = 0x10000, RAM = 4 << 20, SUM = 0x30000;
const churn = hasToolchain() ? buildFlat(readFileSync(new URL('./pt-churn.S', import.meta.url), 'utf8'), CHURN) : null;
if (!churn) console.log('test/mmu/models-lockstep: pt-churn cases skipped: no gcc/ld to assemble the guest');

/** pt-churn.S loaded on a bare `accel` CPU under `model`, started through a boot table mapping the low 2 MiB. */
function churnSide(accel: BackendName, model: MmuModelName): PairSide {
  const memory = new GuestMemory(RAM);
  const host = { ...busHost(memory), mmuModel: model };
  const backend: Backend = accel === 'jit' ? new JitBackend(host, [SYSTEM_EXTENSION], { threshold: 1, batch: 1, all: true }) : createInterpreter(host);
  memory.write32(0x1000, 0x2003); memory.write32(0x2000, 0x3003); memory.write32(0x3000, 0x83);
  memory.writeBytes(CHURN, churn!);
  const s = StateView.detached();
  flatState(s, 64, CHURN);
  s.set64(CR3, 0x1000, 0);
  backend.setState(s.snapshot());
  return { name: `${accel}:${model}`, backend, memory };
}

describe.skipIf(!churn)('lockstep of memory models: a page-table churning guest', () => {
  const cases: [BackendName, MmuModelName][] = [['interp', 'shadow'], ['interp', 'nested'], ['interp', 'nested-2m'], ['jit', 'shadow'], ['jit', 'nested']];
  for (const [accel, model] of cases) {
    it(`interp:direct against ${accel}:${model}: 4000 passes of CR3 switches, PTE/PDE rewrites, INVLPG, reads and writes`, () => {
      const a = churnSide('interp', 'direct'), b = churnSide(accel, model);
      try {
        const r = runPair(a, b, { every: 2000, fullMemoryEvery: 1, checkpoint: [[0, RAM]], maxInstructions: 2e6 });
        if (r.divergence) console.log(r.divergence.report);
        expect(r.divergence).toBeNull();
        expect(r.end).toBe('halt');
        expect(a.memory.read32(SUM + 8)).toBe(4000);
        expect(r.instructions).toBeGreaterThan(100_000);
        // Both saw the same sums; and the model under test worked for it.
        expect(b.memory.read32(SUM)).toBe(a.memory.read32(SUM));
        const c = b.backend.counters();
        if (model === 'shadow') {
          expect(c['shadow.ptWriteTraps']).toBeGreaterThan(500);
          expect(c['shadow.cr3Hits']).toBeGreaterThan(500);
        } else if (model !== 'direct') {
          expect(c[`${model}.walks`]).toBeGreaterThan(1000);
          expect(c[`${model}.eptViolations`]).toBeGreaterThan(0);
        }
        if (accel === 'jit') expect(c.jitInsns).toBeGreaterThan(0);
      } finally {
        a.backend.destroy();
        b.backend.destroy();
      }
    }, 60_000);
  }
});
