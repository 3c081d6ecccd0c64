// Port-I/O exit round trip under --accel=kvm: a real-mode guest loop
// (OUT 0x80, AL; DEC ECX; JNZ) whose every OUT leaves the guest, goes through
// the TypeScript backend and the bus to a device, and back into KVM_RUN.
// bench/kvm-exit-run.mjs runs this beside the same loop in C (bench/kvm-exit.c).

import { EXIT_HALT } from '../contracts/backend.js';
import { StateView } from '../cpu/state.js';
import { Bus } from '../devices/bus.js';
import { GuestMemory } from '../mmu/memory.js';
import { busHost } from '../machine/bus-host.js';
import { realModeEntryState } from '../machine/entry.js';
import { KvmBackend } from '../accel-kvm/kvm-backend.js';
import { cpuidEntries } from '../cpu/cpuid.js';
export { nestedKvmWarning } from '../accel-kvm/addon.js';

/** Run `n` OUT exits; returns ns per exit round trip. */
export function kvmExitRoundTrip(n: number): { exits: number; nsPerExit: number; outsideKvmNsPerExit: number } {
  const memory = new GuestMemory(2 << 20);
  const bus = new Bus();
  let writes = 0;
  bus.registerPorts('post', 0x80, 1, { portRead: () => 0xff, portWrite: () => { writes++; } });
  const kvm = new KvmBackend(busHost(memory, bus), { cpuid: cpuidEntries(0) });
  try {
    memory.writeBytes(0x1000, new Uint8Array([0x66, 0xb9, n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24,
      0xe6, 0x80, 0x66, 0x49, 0x75, 0xfa, 0xf4]));
    const s = StateView.detached();
    realModeEntryState(s, 0x1000);
    kvm.setState(s.snapshot());
    const t0 = process.hrtime.bigint();
    while (kvm.run(1e9) !== EXIT_HALT) { /* slices end every second; keep going */ }
    const ns = Number(process.hrtime.bigint() - t0);
    if (writes !== n) throw new Error(`expected ${n} port writes, saw ${writes}`);
    return { exits: writes, nsPerExit: ns / writes, outsideKvmNsPerExit: kvm.counters().exitHandlingNs / writes };
  } finally {
    kvm.destroy();
  }
}
