// -smp N under KVM: one VM with one vCPU fd per vCPU (addon `new Vm({ vcpus })`), whose vCPUs'
// backends take turns on the calling thread, as interp and jit vCPUs do. Each backend gets a view
// of the one native VM that selects its own vCPU fd before a vCPU ioctl, kvm_run page, slice or
// KVM_RUN; the VM goes when the last view is destroyed.
import type { NativeVm } from './addon.js';

export class SharedVm {
  private selected = 0;
  private live = 0;

  constructor(private readonly native: NativeVm, readonly vcpus: number) {}

  /** vCPU `index`'s view of the VM. */
  view(index: number): NativeVm {
    const n = this.native;
    this.live++;
    let gone = false;
    const select = (): void => {
      if (this.selected !== index) { n.select(index); this.selected = index; }
    };
    return {
      checkExtension: (cap) => n.checkExtension(cap),
      mapRam: (slot, gpa, buffer, offset, size, logDirty) => n.mapRam(slot, gpa, buffer, offset, size, logDirty),
      dirtyLog: (slot, bitmap) => n.dirtyLog(slot, bitmap),
      runBuffer: () => { select(); return n.runBuffer(); },
      ioctl: (name, arg) => { select(); return n.ioctl(name, arg); },
      irqLine: (irq, level) => n.irqLine(irq, level),
      startSlice: (ns) => { select(); n.startSlice(ns); },
      endSlice: () => { select(); n.endSlice(); },
      run: (immediate) => { select(); return n.run(immediate); },
      guestNs: () => n.guestNs(),
      select: (i) => n.select(i),
      destroy: () => {
        if (gone) return;
        gone = true;
        if (--this.live === 0) n.destroy();
      },
    };
  }
}
