// Backends only a Node host has: KVM through the native addon. The CLI and
// Node tests import this module; the browser bundle never does.

import { KvmBackend } from '../accel-kvm/kvm-backend.js';
import { cpuidEntries } from '../cpu/cpuid.js';
import { KvmUnavailable, explainOpenError, kvmUnavailableReason, loadAddon, type NativeVm } from '../accel-kvm/addon.js';
import { SharedVm } from '../accel-kvm/kvm-shared.js';
import { type BackendBoard, BackendUnavailable, markUnavailable, registerBackend } from './backends.js';

/** A VM with `vcpus` vCPU fds (KVM's in-kernel PIC/IOAPIC/LAPICs with `kernel`). */
function openVm(kernel: boolean, vcpus: number): NativeVm {
  let vm: NativeVm;
  try {
    vm = new (loadAddon().Vm)({ irqchip: kernel, pit: false, vcpus });
  } catch (e) {
    throw explainOpenError(e);
  }
  if (typeof vm.select !== 'function') {
    vm.destroy();
    throw new KvmUnavailable('the KVM addon was built before -smp support (it has one vCPU); rebuild it with node accel-kvm/build.mjs (or npm install)');
  }
  return vm;
}

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
  // -smp N: vCPU 0's backend opens the VM with N vCPU fds, the others' join it (the machine makes them in index order).
  const shared = new WeakMap<BackendBoard, SharedVm>();
  registerBackend('kvm', (m, host) => {
    const index = host.vcpu ?? 0;
    let b: KvmBackend;
    try {
      let vm: SharedVm | undefined;
      if (m.vcpuCount > 1) {
        if (m.options.irqchip === 'kernel') {
          throw new BackendUnavailable(`--accel=kvm -smp ${m.vcpuCount} runs with the TypeScript LAPICs only (KVM's in-kernel ones would start the APs where the machine's round-robin does not see it); use --irqchip=user`);
        }
        if (index === 0) shared.set(m, new SharedVm(openVm(false, m.vcpuCount), m.vcpuCount));
        vm = shared.get(m);
      }
      b = new KvmBackend(host, {
        shared: vm,
        cpuid: cpuidEntries(host.topology?.apicId ?? index),
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
