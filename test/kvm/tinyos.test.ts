// tinyos, the project's own 64-bit guest, under --accel=kvm with both
// interrupt-controller modes: the shell answers on COM1, the PIT's IRQ 0 ticks
// through the TypeScript 8259 (irqchip=user) or KVM's in-kernel one (kernel).

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { registerNodeBackends } from '../../machine/backends-node.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { kvmSkipReason } from './rig.js';

const PROMPT = 'tinyos> ';

async function waitFor(get: () => string, from: number, text: string, ms = 30_000): Promise<number> {
  const end = Date.now() + ms;
  for (;;) {
    const at = get().indexOf(text, from);
    if (at >= 0) return at + text.length;
    if (Date.now() > end) throw new Error(`no ${JSON.stringify(text)} within ${ms} ms; console tail:\n${get().slice(-800)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.skipIf(kvmSkipReason !== null)('tinyos under KVM', () => {
  for (const irqchip of ['user', 'kernel'] as const) {
    it(`irqchip=${irqchip}: boots to the prompt, 'help' lists commands, 'ticks' counts ~100 PIT interrupts/s, 'poweroff 3' exits with 7`, async () => {
      registerNodeBackends();
      let out = '';
      const m = new Machine({ memory: 64 << 20, accel: 'kvm', irqchip, noReboot: true, onSerial: (b) => { out += String.fromCharCode(b); } });
      const get = (): string => out;
      try {
        m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync('guests/tinyos/tinyos.elf') } }));
        const done = m.run();
        let at = await waitFor(get, 0, PROMPT);
        expect(out).toContain('tinyos 1.0');
        m.serialInput(Buffer.from('help\r'));
        at = await waitFor(get, at, PROMPT);
        expect(out).toMatch(/commands:[\s\S]*ticks/);
        const before = at;
        m.serialInput(Buffer.from('ticks\r'));
        at = await waitFor(get, at, PROMPT);
        const ticks = /ticks: (\d+) timer interrupts/.exec(out.slice(before));
        expect(ticks).not.toBeNull();
        expect(Number(ticks![1])).toBeGreaterThan(50);
        expect(Number(ticks![1])).toBeLessThan(150);
        m.serialInput(Buffer.from('poweroff 3\r'));
        const exit = await done;
        expect(exit.status).toBe(7);
      } finally {
        if (!m.exited) m.powerOff(0, 'test finished');
        m.destroy();
      }
    }, 60_000);
  }
});
