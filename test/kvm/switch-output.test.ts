// Ctrl-A b while tinyos prints: its console is driven by the UART's THRE interrupt, so at
// a switch away from KVM an interrupt is often acknowledged at the PIC and injected
// (KVM_INTERRUPT) but not yet delivered. It travels in the state record's PENDING_EVENT
// and the interpreter or JIT delivers it first; dropped, the PIC's in-service bit for
// IRQ 4 would stay set and the guest's output would stall (as CI once saw). Each round
// types 'help' and switches between KVM and the other backend every few characters of its output.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../contracts/backend.js';
import { registerNodeBackends } from '../../machine/backends-node.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { kvmSkipReason } from './rig.js';

const PROMPT = 'tinyos> ';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, done: () => boolean, out: () => string, ms = 30_000): Promise<void> {
  for (const end = Date.now() + ms; !done(); await sleep(1)) {
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms; console tail:\n${out().slice(-600)}`);
  }
}

describe.skipIf(kvmSkipReason !== null)('switching away from KVM while tinyos prints (irqchip=user)', () => {
  for (const to of ['interp', 'jit'] as BackendName[]) {
    it(`kvm -> ${to} every few characters of 'help', 4 rounds: every answer complete, byte for byte`, async () => {
      registerNodeBackends();
      let text = '';
      const out = (): string => text;
      const m = new Machine({ memory: 32 << 20, accel: 'kvm', noReboot: true, onSerial: (b) => { text += String.fromCharCode(b); } });
      try {
        m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync('guests/tinyos/tinyos.elf') } }));
        const done = m.run();
        await until('prompt', () => text.endsWith(PROMPT), out);
        let from = text.length;
        m.serialInput(Buffer.from('help\r'));
        await until('help', () => text.endsWith(PROMPT) && text.length > from + 10, out);
        const answer = text.slice(from);
        // Each round toggles kvm <-> `to` every `step` characters of the answer, ending on kvm.
        let away = 0;
        for (const step of [23, 37, 51, 67]) {
          from = text.length;
          m.serialInput(Buffer.from('help\r'));
          let seen = text.length, quiet = Date.now();
          for (let mark = from + step; !(text.length > from + 10 && text.endsWith(PROMPT)); await sleep(1)) {
            if (text.length !== seen) { seen = text.length; quiet = Date.now(); }
            if (Date.now() - quiet > 20_000) throw new Error(`output stalled under ${m.backend.name} (help, step ${step}); console tail:\n${text.slice(-600)}`);
            if (text.length < mark) continue;
            mark = text.length + step;
            const next = m.backend.name === 'kvm' ? to : 'kvm';
            m.setBackend(next);
            if (next === to) away++;
          }
          expect(text.slice(from)).toBe(answer);
          m.setBackend('kvm');
        }
        expect(away).toBeGreaterThanOrEqual(12);
        m.serialInput(Buffer.from('poweroff 3\r'));
        expect((await done).status).toBe(7);
      } finally {
        if (!m.exited) m.powerOff(0, 'test finished');
        m.destroy();
      }
    }, 240_000);
  }
});
