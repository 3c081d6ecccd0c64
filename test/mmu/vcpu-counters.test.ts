// Ctrl-A s (cli/main.ts formatStats) with several vCPUs: the memory model's counters are the
// sums over the vCPUs, each vCPU's share on a line of its own, and the nested model's
// second-level table (one per VM) counted once. The SMP test guest under --mmu=nested, -smp 2.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { formatStats } from '../../cli/main.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { flatVcpuCounters } from '../../mmu/vcpu-counters.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

const SOURCE = readFileSync(new URL('../guests/smp.S', import.meta.url), 'utf8');

describe.skipIf(!hasToolchain())('memory model counters of every vCPU', () => {
  it('-smp 2 under nested: Ctrl-A s sums the vCPUs\' walks, lists each vCPU\'s, counts the shared EPT once', () => {
    const m = new Machine({ memory: 16 << 20, accel: 'interp', mmu: 'nested', deterministic: true, noReboot: true, smp: 2 });
    try {
      m.boot(bootRecipe({ raw: [{ file: { name: 'smp.bin', bytes: buildFlat(SOURCE, 0x8000) }, addr: 0x8000 }] }));
      for (let i = 0; i < 20_000 && m.vcpuInstructions(1) < 2000 && !m.exited; i++) m.runSteps(1); // the AP up and at work
      expect(m.vcpuInstructions(1)).toBeGreaterThanOrEqual(2000);
      const [c0, c1] = m.vcpus.map((v) => v.backend.counters());
      for (const c of [c0, c1]) expect(c['nested.tlbMisses']).toBeGreaterThan(0);
      expect(c1['nested.refs']).not.toBe(c0['nested.refs']); // two vCPUs, two different figures
      expect(c1['nested.eptViolations']).toBe(c0['nested.eptViolations']); // one table: the same figure twice
      const text = formatStats(m).split('\r\n');
      expect(text[0]).toContain('sums over 2 vCPUs');
      expect(text).toContain(`  nested.tlbMisses: ${c0['nested.tlbMisses'] + c1['nested.tlbMisses']}`);
      expect(text).toContain(`  nested.walks: ${c0['nested.walks'] + c1['nested.walks']}`);
      expect(text).toContain(`  nested.eptViolations: ${c0['nested.eptViolations']}`);
      const refsPerWalk = Math.round(((c0['nested.refs'] + c1['nested.refs']) / (c0['nested.walks'] + c1['nested.walks'])) * 100) / 100;
      expect(text).toContain(`  nested.refsPerWalk: ${refsPerWalk}`);
      for (const [i, c] of [c0, c1].entries()) {
        const line = text.find((l) => l.startsWith(`  vCPU ${i}: `)) ?? '';
        expect(line).toContain(`nested.tlbMisses ${c['nested.tlbMisses']}, nested.walks ${c['nested.walks']}`);
        expect(line).not.toContain('eptViolations');
      }
      // The web panel's flat record: the same sums, each share under vcpuN.
      const flat = flatVcpuCounters([c0, c1]);
      expect(flat['nested.walks']).toBe(c0['nested.walks'] + c1['nested.walks']);
      expect(flat['vcpu1.nested.walks']).toBe(c1['nested.walks']);
      expect(flat['vcpu1.nested.eptViolations']).toBeUndefined();
      expect(flat.instructions).toBe(c0.instructions); // not a model counter: vCPU 0's, as before
    } finally {
      m.destroy();
    }
  });

  it('one vCPU: the counters as the backend reports them, no per-vCPU lines', () => {
    const c = { instructions: 5, 'shadow.walks': 3, 'shadow.refsPerWalk': 4 };
    expect(flatVcpuCounters([c])).toEqual(c);
  });
});
