// An interrupt another backend had acknowledged at the PIC but not yet delivered when its
// state was taken travels in the state record (PENDING_EVENT; KVM reports it from its
// vcpu_events after KVM_INTERRUPT) and the interpreter and JIT deliver it first thing. If
// it were dropped, the PIC's in-service bit for that line would stay set with no handler
// to EOI it: tinyos's interrupt-driven console (UART THRE, IRQ 4) would fall silent
// mid-output, which a kvm -> interp switch (Ctrl-A b) while tinyos printed once did.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { EVENT_EXTINT, EVENT_VALID, FLAG_IF, INT_SHADOW, PENDING_EVENT, RFLAGS, StateView } from '../../cpu/state.js';

const PROMPT = 'tinyos> ';

function tinyos(): { m: Machine; out: () => string } {
  let text = '';
  const m = new Machine({ memory: 32 << 20, accel: 'interp', deterministic: true, noReboot: true, onSerial: (b) => { text += String.fromCharCode(b); } });
  m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync('guests/tinyos/tinyos.elf') } }));
  return { m, out: () => text };
}

function runUntil(m: Machine, done: () => boolean, steps: number, budget = 20_000): boolean {
  for (let i = 0; i < steps && !done(); i++) m.runSteps(1, budget);
  return done();
}

describe('an acknowledged, undelivered interrupt in the state record', () => {
  it('is delivered by interp, then (after a switch) by jit: tinyos answers \'help\' in full each time', () => {
    const { m, out } = tinyos();
    try {
      expect(runUntil(m, () => out().endsWith(PROMPT), 20_000)).toBe(true);
      m.serialInput(Buffer.from('help\r'));
      expect(runUntil(m, () => out().split(PROMPT).length === 3, 20_000, 500)).toBe(true);
      const expected = out().split(PROMPT)[1];
      let answers = 2;
      for (const to of ['interp', 'jit'] as const) {
        // Idle at the prompt (HLT with IF set), type: the UART raises IRQ 4 at once. As KVM's
        // run loop does before KVM_INTERRUPT for a CPU that can take it: acknowledge it, record
        // it as in flight, and move the state on. Dropped, IRQ 4 would stay in service.
        m.runSteps(100, 2_000);
        m.serialInput(Buffer.from('help\r'));
        const state = m.backend.getState();
        const view = new StateView(state.buffer as ArrayBuffer, state.byteOffset);
        expect(m.host.interrupts.hasInterrupt()).toBe(true);
        expect(view.lo(RFLAGS) & FLAG_IF).toBe(FLAG_IF);
        expect(view.u32(INT_SHADOW)).toBe(0);
        view.setU32(PENDING_EVENT, EVENT_VALID | EVENT_EXTINT | (m.host.interrupts.acknowledge() & 0xff));
        m.backend.setState(state);
        if (to === 'jit') m.setBackend('jit'); // the record moves on as it is
        answers++;
        expect(runUntil(m, () => out().split(PROMPT).length === answers + 1, 20_000, 500)).toBe(true);
        expect(m.backend.name).toBe(to);
        expect(out().split(PROMPT)[answers - 1]).toBe(expected);
        expect(new StateView(m.memory.buffer, m.memory.vcpuOffset(0)).u32(PENDING_EVENT)).toBe(0);
      }
    } finally {
      m.destroy();
    }
  }, 120_000);
});
