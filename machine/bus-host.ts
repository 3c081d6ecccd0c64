// A CpuHost with a bus but no board: benchmarks and tests that run a backend
// on bare memory (random programs, exit round trips) make one here.

import type { CpuHost } from '../contracts/backend.js';
import { Bus } from '../devices/bus.js';
import type { GuestMemory } from '../mmu/memory.js';

/** Ports and MMIO go to `bus` (absent hardware reads all ones), no interrupts, time from `now`. */
export function busHost(memory: GuestMemory, bus = new Bus(), now: () => number = () => 0): CpuHost {
  memory.mmio = bus;
  return {
    memory,
    portRead: (p, s) => bus.portRead(p, s),
    portWrite: (p, s, v) => bus.portWrite(p, s, v),
    interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    now,
    a20Enabled: () => true,
  };
}
