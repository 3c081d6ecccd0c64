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
import { EXIT_BUDGET, EXIT_HALT, type Backend, type BackendName } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { createInterpreter, createJit } from '../../cpu/full.js';
import { CR3, R15, StateView, TSC, gprOffset } from '../../cpu/state.js';
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
    }, 300_000);
  }
});

const CHURN = 0x10000, RAM = 4 << 20, SUM = 0x30000;
const churn = hasToolchain() ? buildFlat(readFileSync(new URL('./pt-churn.S', import.meta.url), 'utf8'), CHURN) : null;
if (!churn) console.log('test/mmu/models-lockstep: pt-churn cases skipped: no gcc/ld to assemble the guest');

/**
 * pt-churn.S loaded on `cpus` bare `accel` vCPUs over one memory under `model`, each started
 * through a boot table mapping the low 2 MiB with R15 = its index.
 */
function churnWorld(accel: BackendName, model: MmuModelName, cpus = 1): { memory: GuestMemory; vcpus: Backend[] } {
  const memory = new GuestMemory(RAM, cpus);
  const bus = busHost(memory);
  memory.write32(0x1000, 0x2003); memory.write32(0x2000, 0x3003); memory.write32(0x3000, 0x83);
  memory.writeBytes(CHURN, churn!);
  const vcpus: Backend[] = [];
  for (let i = 0; i < cpus; i++) {
    const host = { ...bus, vcpu: i, mmuModel: model };
    const b: Backend = accel === 'jit' ? createJit(host, { threshold: 1, batch: 1, all: true }) : createInterpreter(host);
    const s = StateView.detached();
    flatState(s, 64, CHURN);
    s.set64(CR3, 0x1000, 0);
    s.set64(gprOffset(R15), i, 0);
    b.setState(s.snapshot());
    vcpus.push(b);
  }
  return { memory, vcpus };
}

function churnSide(accel: BackendName, model: MmuModelName): PairSide {
  const w = churnWorld(accel, model);
  return { name: `${accel}:${model}`, backend: w.vcpus[0], memory: w.memory };
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
    }, 180_000);
  }
});

/** Two vCPUs (-smp 2) sharing the tables: each `world` runs them in turns of QUANTUM instructions. */
const QUANTUM = 700;

/** A round: each vCPU not yet halted runs QUANTUM instructions. Returns the vCPUs still running. */
function round(w: { vcpus: Backend[] }, halted: boolean[]): number {
  w.vcpus.forEach((b, i) => {
    if (halted[i]) return;
    const e = b.run(QUANTUM);
    if (e === EXIT_HALT) halted[i] = true;
    else if (e !== EXIT_BUDGET) throw new Error(`vCPU ${i}: exit ${e} (${b.lastError ?? ''})`);
  });
  return halted.filter((h) => !h).length;
}

/** A state record with its TSC (host-defined) cleared, for comparing. */
function stateOf(b: Backend): Buffer {
  const s = Buffer.from(b.getState());
  s.fill(0, TSC, TSC + 8);
  return s;
}

describe.skipIf(!churn)('memory models with two vCPUs (-smp 2): pt-churn on both, sharing page tables', () => {
  for (const [accel, model] of [['interp', 'shadow'], ['interp', 'nested'], ['jit', 'shadow']] as [BackendName, MmuModelName][]) {
    it(`interp:direct against ${accel}:${model}: both vCPUs' states equal after every round of ${QUANTUM} instructions each, RAM every 16 rounds and at the end`, () => {
      const a = churnWorld('interp', 'direct', 2), b = churnWorld(accel, model, 2);
      const ha = [false, false], hb = [false, false];
      try {
        let rounds = 0;
        for (let left = 2; left > 0; rounds++) {
          left = round(a, ha);
          expect(round(b, hb)).toBe(left);
          for (let i = 0; i < 2; i++) {
            expect(b.vcpus[i].instructions(), `vCPU ${i} round ${rounds}`).toBe(a.vcpus[i].instructions());
            expect(stateOf(b.vcpus[i]).equals(stateOf(a.vcpus[i])), `vCPU ${i} state after round ${rounds}`).toBe(true);
          }
          if (rounds % 16 === 0 || left === 0) expect(Buffer.compare(a.memory.u8.subarray(0, RAM), b.memory.u8.subarray(0, RAM)), `RAM after round ${rounds}`).toBe(0);
          expect(rounds).toBeLessThan(2000);
        }
        for (let i = 0; i < 2; i++) {
          expect(a.memory.read32(SUM + 16 * i + 8)).toBe(4000);
          expect(b.memory.read32(SUM + 16 * i)).toBe(a.memory.read32(SUM + 16 * i));
        }
        expect(a.memory.read32(SUM)).not.toBe(a.memory.read32(SUM + 16)); // two seeds, two walks through the pages
        const c = b.vcpus.map((v) => v.counters());
        if (model === 'shadow') {
          // Each vCPU keeps its own shadows; a PT write by either reaches both.
          for (const k of c) expect(k['shadow.ptWriteTraps']).toBeGreaterThan(300);
          for (const k of c) expect(k['shadow.cr3Hits']).toBeGreaterThan(300);
        } else {
          // One second-level table for the VM: the vCPUs see the same violations and pages.
          expect(c[1][`${model}.eptViolations`]).toBe(c[0][`${model}.eptViolations`]);
          expect(c[1][`${model}.eptPages`]).toBe(c[0][`${model}.eptPages`]);
          for (const k of c) expect(k[`${model}.walks`]).toBeGreaterThan(1000);
        }
      } finally {
        for (const v of [...a.vcpus, ...b.vcpus]) v.destroy();
      }
    }, 180_000);
  }
});
