// Backends only a Node host has: KVM through the native addon. The CLI and
// Node tests import this module; the browser bundle never does.

import { KvmBackend } from '../accel-kvm/kvm-backend.js';
import { cpuidEntries } from '../cpu/cpuid.js';
import { KvmUnavailable, kvmUnavailableReason } from '../accel-kvm/addon.js';
import { BackendUnavailable, markUnavailable, registerBackend } from './backends.js';

let registered = false;

/** Register the KVM backend (or record why it cannot be used on this host). */
export function registerNodeBackends(): void {
  if (registered) return;
  registered = true;
  const why = kvmUnavailableReason();
  if (why) {
    markUnavailable('kvm', why);
    return;
  }
  registerBackend('kvm', (m, host) => {
    if (m.vcpuCount > 1) {
      throw new BackendUnavailable(`--accel=kvm runs one vCPU in this build (the addon drives a single KVM vCPU); for -smp ${m.vcpuCount} use --accel=interp`);
    }
    let b: KvmBackend;
    try {
      b = new KvmBackend(host, {
        cpuid: cpuidEntries(0),
        irqchip: m.options.irqchip ?? 'user',
        mmioHoles: () => m.bus.mmioHoles(host.memory.ramSize),
        onWarning: (line) => m.options.onMessage?.(`emu: ${line}`), // nested/PVM host, missing CPU features
      });
    } catch (e) {
      if (e instanceof KvmUnavailable) throw new BackendUnavailable(`--accel=kvm: ${e.message}`);
      throw e;
    }
    // In-kernel irqchip: device IRQ lines go to KVM_IRQ_LINE instead of the TypeScript PIC/IOAPIC.
    if (b.irqSink) m.bus.connectIrqs(b.irqSink);
    return b;
  });
}
