// The KVM backend: the guest runs in hardware-assisted guest mode on the
// machine's own memory; port I/O and MMIO exits come back here and go to the
// same bus the interpreter uses. Interrupts come either from the TypeScript
// PIC (irqchip 'user': injected with KVM_INTERRUPT at interrupt windows) or
// from KVM's in-kernel PIC/IOAPIC/LAPIC (irqchip 'kernel': devices' IRQ lines
// go to KVM_IRQ_LINE through `irqSink`).

import type { Backend, CpuHost, ExitReason } from '../contracts/backend.js';
import { EXIT_BUDGET, EXIT_ERROR, EXIT_HALT, EXIT_SHUTDOWN, EXIT_STOP } from '../contracts/backend.js';
import type { CpuidEntry } from '../contracts/cpuid.js';
import {
  EVENT_VALID, FLAG_IF, INT_SHADOW, PENDING_EVENT, RFLAGS, RUN_HALTED, RUN_SHUTDOWN, RUN_STATE, StateView, resetState,
  type CpuStateBytes,
} from '../cpu/state.js';
import type { MmioHole } from '../contracts/bus.js';
import { GSI_COUNT, ISA_IRQS, isaIrqToGsi, type IrqSink } from '../contracts/irqs.js';
import { explainOpenError, loadAddon, devKvmProblem, KvmUnavailable, type NativeVm } from './addon.js';
import { kvmCpuid, lockFeatureControl, setCpuid } from './kvm-cpuid.js';
import { KvmStateIo } from './kvm-state.js';
import * as K from './kvm-structs.js';
import { DIRTY_WRITTEN } from '../mmu/memory.js';
import { buildSlots, type RamSlot } from './kvm-slots.js';
import { hostMmu, type HostMmu } from './host-mmu.js';
import type { SharedVm } from './kvm-shared.js';

export interface KvmOptions {
  /** The CPU model's leaves (the machine builds them with cpu/cpuid.ts cpuidEntries): the vCPU gets
   *  them with the feature bits this host's KVM lacks removed, so the guest sees the interpreter's CPU. */
  cpuid: CpuidEntry[];
  /** 'user': the TypeScript PIC is the interrupt controller (default); 'kernel': KVM's in-kernel irqchip. */
  irqchip?: 'user' | 'kernel';
  /** With irqchip 'kernel': also KVM's in-kernel PIT (ports 0x40-0x43 never reach the bus). */
  pit?: boolean;
  /** Physical ranges inside RAM that belong to devices (left out of the memory slots), asked each
   *  time the slots are laid out (at start and when A20 flips). Default: none. */
  mmioHoles?: () => ReadonlyArray<MmioHole>;
  /** One-line warnings (CPU features the host lacks; once per process). The nested-KVM warning is
   *  addon.ts nestedKvmWarning(), for the caller to print once. */
  onWarning?: (line: string) => void;
  /** -smp N: the VM all vCPUs' backends share (this one runs vCPU `host.vcpu` of it; vCPU 0's maps
   *  the memory and routes the IRQs). Absent: the backend opens a VM with one vCPU of its own. */
  shared?: SharedVm;
}

/** What KVM_RUN's errors mean for emu. */
const RUN_ERRNO: Record<number, string> = {
  14: 'EFAULT, the guest touched memory KVM could not map (a hole in the RAM slots)',
  8: 'ENOEXEC, the vCPU state is invalid for entry (see the state record)',
  22: 'EINVAL, KVM rejected the vCPU configuration',
  12: 'ENOMEM, the host is out of memory',
};

/** The host-lacks-features warning is the same for every VM: say it once per process. */
let warnedMissing = false;

/** The slice for one single-step (it normally traps within microseconds). */
const STEP_SLICE_NS = 100_000_000;

/** Minimum slice: shorter timer periods cost more in signals than they buy in latency. */
const MIN_SLICE_NS = 20_000;

export class KvmBackend implements Backend {
  readonly name = 'kvm' as const;
  lastError?: string;
  /** With irqchip 'kernel': connect this to the bus (bus.connectIrqs) so device IRQ lines reach KVM. */
  readonly irqSink: IrqSink | null;
  readonly irqchip: 'user' | 'kernel';
  /** The CPUID leaves the vCPU was given (model intersected with the host). */
  readonly cpuid: CpuidEntry[];

  private readonly vm: NativeVm;
  /** This backend sets the VM's memory slots and IRQ routes (vCPU 0's, or a VM of its own). */
  private readonly ownsVm: boolean;
  private readonly run8: Uint8Array;
  private readonly runDv: DataView;
  private readonly io: KvmStateIo;
  private readonly shadow = StateView.detached();
  private readonly intBuf = new Uint8Array(4);
  private slots: RamSlot[] = [];
  private holes: () => ReadonlyArray<MmioHole> = () => [];
  private a20 = true;
  private stopRequested = false;
  private nmiQueued = false;
  private halted = false;
  private haltIf = false;
  private shutdown = false;
  private destroyed = false;
  private singleStep = false;
  private stepped = false; // the last single-step ended in its debug trap
  private steps = 0;
  private readonly exitCounts = new Float64Array(64);
  /** The host KVM's memory virtualization (EPT, NPT or shadow paging), read once. */
  private readonly hostMmu: HostMmu = hostMmu();
  private totalNs = 0;

  constructor(private readonly host: CpuHost, opts: KvmOptions) {
    const addon = loadAddon();
    const problem = devKvmProblem();
    if (problem) throw new KvmUnavailable(problem);
    this.irqchip = opts.irqchip ?? 'user';
    const kernel = this.irqchip === 'kernel';
    this.ownsVm = !opts.shared || (host.vcpu ?? 0) === 0;
    try {
      this.vm = opts.shared ? opts.shared.view(host.vcpu ?? 0) : new addon.Vm({ irqchip: kernel, pit: kernel && opts.pit === true });
    } catch (e) {
      throw explainOpenError(e);
    }
    try {
      for (const [cap, name] of [[K.CAP_USER_MEMORY, 'KVM_CAP_USER_MEMORY'], [K.CAP_VCPU_EVENTS, 'KVM_CAP_VCPU_EVENTS'],
        [K.CAP_DEBUGREGS, 'KVM_CAP_DEBUGREGS'], [K.CAP_IMMEDIATE_EXIT, 'KVM_CAP_IMMEDIATE_EXIT'],
        [K.CAP_MP_STATE, 'KVM_CAP_MP_STATE']] as const) {
        if (this.vm.checkExtension(cap) <= 0) {
          throw new KvmUnavailable(`this host's KVM lacks ${name}, which emu needs; use --accel=interp or --accel=jit`);
        }
      }
      const buf = this.vm.runBuffer();
      this.run8 = new Uint8Array(buf);
      this.runDv = new DataView(buf);
      const { entries, missing } = kvmCpuid(this.vm, opts.cpuid);
      this.cpuid = entries;
      if (missing.length > 0 && !warnedMissing) {
        warnedMissing = true;
        opts.onWarning?.(`warning: this host's KVM lacks CPU features emu's model has (${missing.join('; ')}); the guest will not see them`);
      }
      setCpuid(this.vm, entries);
      lockFeatureControl(this.vm);
      this.io = new KvmStateIo(this.vm, kernel);
      if (opts.mmioHoles) this.holes = opts.mmioHoles;
      this.mapMemory(this.holes());
      if (kernel && this.ownsVm) this.routeIrqs();
      // After destroy() (a switch to another backend) a late IRQ edge is dropped, not thrown at the device.
      this.irqSink = kernel ? { setIrq: (line, level) => { if (!this.destroyed) this.vm.irqLine(line, level); } } : null;
      // Start from the architectural reset state, as the interpreter does.
      resetState(this.shadow);
      this.io.write(this.shadow);
    } catch (e) {
      this.vm.destroy();
      throw e;
    }
  }

  // ---- Memory.

  /** Register guest RAM (the WebAssembly.Memory buffer itself) as KVM memory slots. */
  private mapMemory(holes: ReadonlyArray<MmioHole>): void {
    const mem = this.host.memory;
    this.a20 = this.host.a20Enabled();
    if (!this.ownsVm) return;
    const next = buildSlots(mem.ramSize, holes, this.a20);
    // Delete slots that change, then add the new ones (KVM cannot move a slot in place).
    for (let i = 0; i < this.slots.length; i++) {
      const old = this.slots[i], now = next[i];
      if (!now || now.gpa !== old.gpa || now.size !== old.size || now.offset !== old.offset) {
        this.vm.mapRam(i, old.gpa, mem.buffer, 0, 0);
      }
    }
    for (let i = 0; i < next.length; i++) {
      const old = this.slots[i], now = next[i];
      if (!old || now.gpa !== old.gpa || now.size !== old.size || now.offset !== old.offset) {
        this.vm.mapRam(i, now.gpa, mem.buffer, now.offset, now.size, this.logDirty);
      }
    }
    this.slots = next;
  }

  /** KVM_MEM_LOG_DIRTY_PAGES on every slot while a migration runs (the guest's writes bypass the TLB). */
  private logDirty = false;

  readonly dirtyLog = {
    start: (): void => this.setDirtyLog(true),
    stop: (): void => this.setDirtyLog(false),
    sync: (dirty: Uint8Array): void => {
      if (!this.logDirty) return;
      for (let i = 0; i < this.slots.length; i++) {
        const slot = this.slots[i];
        const pages = slot.size / 4096;
        const bits = new Uint8Array(Math.ceil(pages / 64) * 8);
        this.vm.dirtyLog(i, bits);
        const first = slot.offset / 4096; // the buffer's page: what dirtyPages indexes
        for (let b = 0; b < bits.length; b++) {
          if (bits[b] === 0) continue;
          for (let k = 0; k < 8; k++) if (bits[b] & (1 << k)) dirty[first + b * 8 + k] |= DIRTY_WRITTEN;
        }
      }
    },
  };

  private setDirtyLog(on: boolean): void {
    if (on === this.logDirty) return;
    this.logDirty = on;
    const mem = this.host.memory;
    // Changing only a slot's flags is allowed in place (KVM_SET_USER_MEMORY_REGION, same range).
    this.slots.forEach((s, i) => this.vm.mapRam(i, s.gpa, mem.buffer, s.offset, s.size, on));
  }

  /**
   * In-kernel irqchip wiring, the same as devices/irq-router.ts does in TypeScript: bus line n
   * (n < 16, an ISA IRQ) reaches 8259 input n and IOAPIC pin isaIrqToGsi(n) (IRQ0 -> pin 2, the
   * override the MADT declares); lines 16-23 (PCI GSIs) reach the IOAPIC only.
   */
  private routeIrqs(): void {
    if (this.vm.checkExtension(K.CAP_IRQ_ROUTING) <= 0) return; // KVM's default: line n -> PIC n, IOAPIC n
    const entries: Array<[number, number, number]> = [];
    for (let line = 0; line < GSI_COUNT; line++) {
      if (line < ISA_IRQS) entries.push([line, line < 8 ? K.IRQCHIP_PIC_MASTER : K.IRQCHIP_PIC_SLAVE, line & 7]);
      entries.push([line, K.IRQCHIP_IOAPIC, isaIrqToGsi(line)]);
    }
    const buf = new Uint8Array(8 + entries.length * K.ROUTING_ENTRY_SIZE);
    const dv = new DataView(buf.buffer);
    dv.setUint32(0, entries.length, true);
    entries.forEach(([gsi, chip, pin], i) => {
      const o = 8 + i * K.ROUTING_ENTRY_SIZE;
      dv.setUint32(o, gsi, true);
      dv.setUint32(o + 4, K.IRQ_ROUTING_IRQCHIP, true);
      dv.setUint32(o + 16, chip, true);
      dv.setUint32(o + 20, pin, true);
    });
    this.vm.ioctl('SET_GSI_ROUTING', buf);
  }

  // ---- Running.

  run(budget: number): ExitReason {
    if (this.destroyed) return this.fail('the KVM backend was destroyed');
    if (this.stopRequested) {
      this.stopRequested = false;
      return EXIT_STOP;
    }
    if (this.shutdown) return EXIT_SHUTDOWN;
    if (this.host.a20Enabled() !== this.a20) this.mapMemory(this.holes());
    if (this.halted && !this.wakeFromHalt()) return EXIT_HALT;
    const t0 = performance.now();
    this.vm.startSlice(Math.max(MIN_SLICE_NS, budget));
    let reason: ExitReason;
    try {
      reason = this.loop();
    } finally {
      this.vm.endSlice();
      this.totalNs += (performance.now() - t0) * 1e6;
    }
    return reason;
  }

  private loop(): ExitReason {
    const user = this.irqSink === null;
    const run8 = this.run8;
    for (;;) {
      if (user) this.injectInterrupts();
      const rc = this.vm.run(false);
      if (rc === 1) {
        this.exitCounts[K.EXIT_INTR]++;
        if (this.stopRequested) return this.takeStop();
        return !user && this.kernelHalted() ? EXIT_HALT : EXIT_BUDGET;
      }
      if (rc < 0) return this.fail(`KVM_RUN failed: ${RUN_ERRNO[-rc] ?? `errno ${-rc}`}`);
      const exit = this.runDv.getUint32(K.RUN_EXIT_REASON, true);
      this.exitCounts[exit & 63]++;
      switch (exit) {
        case K.EXIT_IO:
          this.handleIo();
          break;
        case K.EXIT_MMIO:
          this.handleMmio();
          break;
        case K.EXIT_IRQ_WINDOW_OPEN:
        case K.EXIT_INTR:
          break;
        case K.EXIT_HLT:
          // Only with the user irqchip: RIP is already past HLT.
          this.halted = true;
          this.haltIf = run8[K.RUN_IF_FLAG] !== 0;
          if (!this.wakeFromHalt()) return EXIT_HALT;
          break;
        case K.EXIT_DEBUG:
          if (this.singleStep) {
            this.stepped = true;
            return EXIT_BUDGET;
          }
          break;
        case K.EXIT_SHUTDOWN:
          this.shutdown = true;
          return EXIT_SHUTDOWN;
        case K.EXIT_SYSTEM_EVENT: {
          const type = this.runDv.getUint32(K.SYSEVENT_TYPE, true);
          this.lastError = `KVM system event: ${K.SYSTEM_EVENT_NAMES[type] ?? type}`;
          this.shutdown = true;
          return EXIT_SHUTDOWN;
        }
        case K.EXIT_FAIL_ENTRY:
          return this.fail(`KVM could not enter the guest (hardware entry failure reason 0x${this.hex64(K.FAIL_REASON)}): the CPU state is invalid for VM entry`);
        case K.EXIT_INTERNAL_ERROR: {
          const sub = this.runDv.getUint32(K.INTERNAL_SUBERROR, true);
          if (sub === K.INTERNAL_EMULATION && this.runDv.getUint32(K.INTERNAL_NDATA, true) >= 3 && (this.run8[K.INTERNAL_DATA] & 1) !== 0) {
            // data: flags (bit 0: instruction bytes follow), then insn_size and up to 15 bytes.
            const size = Math.min(this.run8[K.INTERNAL_DATA + 8], 15);
            const bytes = [...this.run8.subarray(K.INTERNAL_DATA + 9, K.INTERNAL_DATA + 9 + size)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
            return this.fail(`KVM could not emulate the guest instruction at ${bytes} (emulation failure)`);
          }
          const n = Math.min(this.runDv.getUint32(K.INTERNAL_NDATA, true), 4);
          const data = Array.from({ length: n }, (_, i) => '0x' + this.hex64(K.INTERNAL_DATA + i * 8)).join(' ');
          return this.fail(`KVM internal error: ${K.INTERNAL_SUBERROR_NAMES[sub] ?? `suberror ${sub}`}${data ? ` (${data})` : ''}`);
        }
        default:
          return this.fail(`unexpected KVM exit ${K.KVM_EXIT_NAMES[exit] ?? exit}`);
      }
      if (this.singleStep && (exit === K.EXIT_IO || exit === K.EXIT_MMIO)) {
        // Finish the I/O instruction without running on: completing it by a normal entry lets some
        // hosts (kvm_pvm) execute the next instruction before the single-step trap.
        this.vm.run(true);
        this.stepped = true;
        return EXIT_BUDGET;
      }
      if (this.stopRequested) {
        // Re-enter once with immediate_exit so a pending IN/MMIO read completes and the state is consistent.
        this.vm.run(true);
        return this.takeStop();
      }
    }
  }

  private takeStop(): ExitReason {
    this.stopRequested = false;
    return EXIT_STOP;
  }

  private fail(msg: string): ExitReason {
    this.lastError = msg;
    return EXIT_ERROR;
  }

  private hex64(off: number): string {
    return this.runDv.getUint32(off + 4, true).toString(16) + this.runDv.getUint32(off, true).toString(16).padStart(8, '0');
  }

  /** Port I/O exit: `count` items of `size` bytes at data_offset in the shared page (string I/O has count > 1). */
  private handleIo(): void {
    const dv = this.runDv;
    const out = this.run8[K.IO_DIRECTION] === K.IO_OUT;
    const size = this.run8[K.IO_SIZE] as 1 | 2 | 4;
    const port = dv.getUint16(K.IO_PORT, true);
    const count = dv.getUint32(K.IO_COUNT, true);
    const base = dv.getUint32(K.IO_DATA_OFFSET, true);
    if ((size !== 1 && size !== 2 && size !== 4) || base + count * size > this.run8.length) return;
    const host = this.host;
    for (let i = 0, at = base; i < count; i++, at += size) {
      if (out) {
        host.portWrite(port, size, size === 1 ? dv.getUint8(at) : size === 2 ? dv.getUint16(at, true) : dv.getUint32(at, true));
      } else {
        const v = host.portRead(port, size);
        if (size === 1) dv.setUint8(at, v);
        else if (size === 2) dv.setUint16(at, v, true);
        else dv.setUint32(at, v >>> 0, true);
      }
    }
  }

  /** MMIO exit: an access to guest-physical memory no slot covers; the bus's MMIO face serves it. */
  private handleMmio(): void {
    const dv = this.runDv;
    const lo = dv.getUint32(K.MMIO_PHYS, true), hi = dv.getUint32(K.MMIO_PHYS + 4, true);
    const len = dv.getUint32(K.MMIO_LEN, true);
    const write = this.run8[K.MMIO_IS_WRITE] !== 0;
    const mmio = this.host.memory.mmio;
    if (len > 8) return;
    // Above 4 GiB nothing is mapped: reads see all ones, writes vanish.
    if (hi !== 0 || mmio === null) {
      if (!write) this.run8.fill(0xff, K.MMIO_DATA, K.MMIO_DATA + 8);
      return;
    }
    if (len === 1 || len === 2 || len === 4) {
      if (write) {
        mmio.mmioWrite(lo, len, len === 1 ? dv.getUint8(K.MMIO_DATA) : len === 2 ? dv.getUint16(K.MMIO_DATA, true) : dv.getUint32(K.MMIO_DATA, true));
      } else {
        const v = mmio.mmioRead(lo, len);
        if (len === 1) dv.setUint8(K.MMIO_DATA, v);
        else if (len === 2) dv.setUint16(K.MMIO_DATA, v, true);
        else dv.setUint32(K.MMIO_DATA, v >>> 0, true);
      }
      return;
    }
    if (len === 8 && (lo & 3) === 0) {
      // A 64-bit access (MOVQ, a 64-bit MOV): two dword accesses, low first.
      if (write) {
        mmio.mmioWrite(lo, 4, dv.getUint32(K.MMIO_DATA, true));
        mmio.mmioWrite(lo + 4, 4, dv.getUint32(K.MMIO_DATA + 4, true));
      } else {
        dv.setUint32(K.MMIO_DATA, mmio.mmioRead(lo, 4) >>> 0, true);
        dv.setUint32(K.MMIO_DATA + 4, mmio.mmioRead(lo + 4, 4) >>> 0, true);
      }
      return;
    }
    for (let i = 0; i < len; i++) {
      if (write) mmio.mmioWrite(lo + i, 1, this.run8[K.MMIO_DATA + i]);
      else this.run8[K.MMIO_DATA + i] = mmio.mmioRead(lo + i, 1);
    }
  }

  // ---- Interrupts.

  /** User irqchip: inject what the PIC has when the guest can take it, else ask KVM for the window. */
  private injectInterrupts(): void {
    const run8 = this.run8;
    if (this.nmiQueued) {
      this.nmiQueued = false;
      this.vm.ioctl('NMI');
    }
    const src = this.host.interrupts;
    if (!src.hasInterrupt()) {
      run8[K.RUN_REQUEST_INTERRUPT_WINDOW] = 0;
      return;
    }
    if (run8[K.RUN_READY_FOR_INTERRUPT] !== 0 || (this.singleStep && this.interruptibleNow())) {
      this.intBuf[0] = src.acknowledge() & 0xff;
      this.vm.ioctl('INTERRUPT', this.intBuf);
      run8[K.RUN_READY_FOR_INTERRUPT] = 0; // one per entry: the next comes after the next exit says ready
      run8[K.RUN_REQUEST_INTERRUPT_WINDOW] = 0;
    } else {
      run8[K.RUN_REQUEST_INTERRUPT_WINDOW] = 1;
    }
  }

  /**
   * From the vCPU state: IF set, no interrupt shadow, no event in flight. Used when single-stepping,
   * where an interrupt must go in at this very boundary (the interpreter takes it there) and a host
   * may report the interrupt window late.
   */
  private interruptibleNow(): boolean {
    const s = new StateView(this.getState().buffer);
    return (s.lo(RFLAGS) & FLAG_IF) !== 0 && s.u32(INT_SHADOW) === 0 && (s.u32(PENDING_EVENT) & EVENT_VALID) === 0;
  }

  /** A halted vCPU (user irqchip) wakes for an NMI, or an interrupt when IF was set at HLT. */
  private wakeFromHalt(): boolean {
    if (this.irqSink !== null) {
      this.halted = false; // the in-kernel irqchip keeps HLT in the kernel
      return true;
    }
    if (this.nmiQueued || (this.haltIf && this.host.interrupts.hasInterrupt())) {
      this.halted = false;
      return true;
    }
    return false;
  }

  private readonly mpBuf = new Uint8Array(4);
  private kernelHalted(): boolean {
    this.vm.ioctl('GET_MP_STATE', this.mpBuf);
    return this.mpBuf[0] === K.MP_STATE_HALTED;
  }

  requestStop(): void {
    this.stopRequested = true;
  }

  nmi(): void {
    if (this.irqSink !== null) this.vm.ioctl('NMI');
    else this.nmiQueued = true;
  }

  // ---- State.

  getState(): CpuStateBytes {
    this.io.read(this.shadow, { halted: this.halted, shutdown: this.shutdown });
    return this.shadow.snapshot();
  }

  setState(state: CpuStateBytes): void {
    this.shadow.u8.set(state.subarray(0, this.shadow.u8.length));
    this.io.write(this.shadow);
    const runState = this.shadow.u32(RUN_STATE);
    this.shutdown = runState === RUN_SHUTDOWN;
    this.halted = runState === RUN_HALTED && this.irqSink === null;
    this.haltIf = (this.shadow.lo(RFLAGS) & FLAG_IF) !== 0;
    // kvm_run's "ready for injection" described the old state; ask again after the next exit.
    this.run8[K.RUN_READY_FOR_INTERRUPT] = 0;
  }

  /** In-kernel LAPIC state (irqchip 'kernel'), opaque: for snapshots beside the state record. */
  getLapic(): Uint8Array | null {
    if (this.irqSink === null) return null;
    const blob = new Uint8Array(K.LAPIC_SIZE);
    this.vm.ioctl('GET_LAPIC', blob);
    return blob;
  }

  setLapic(blob: Uint8Array): void {
    if (this.irqSink !== null) this.vm.ioctl('SET_LAPIC', blob);
  }

  // ---- Single-stepping (the lockstep oracle).

  /** Turn KVM_GUESTDBG_SINGLESTEP on or off: with it, run() returns after each guest instruction. */
  setSingleStep(on: boolean): void {
    const dbg = new Uint8Array(K.GUEST_DEBUG_SIZE);
    new DataView(dbg.buffer).setUint32(0, on ? K.GUESTDBG_ENABLE | K.GUESTDBG_SINGLESTEP : 0, true);
    this.vm.ioctl('SET_GUEST_DEBUG', dbg);
    this.singleStep = on;
  }

  /**
   * Execute one instruction (single-step must be on). Returns the exit reason.
   * `isHlt`: the instruction is HLT. KVM reports the single-step trap instead of
   * the HLT exit then, so the backend records the halt itself. `continuing`: another
   * iteration of the same REP string instruction (not counted as an instruction).
   */
  step(isHlt = false, continuing = false): ExitReason {
    if (!continuing) this.steps++; // a REP instruction's further iterations are the same instruction
    // A slice that ends before the trap (the host descheduled us) executed nothing: enter again.
    this.stepped = false;
    let r = this.run(STEP_SLICE_NS);
    for (let tries = 0; r === EXIT_BUDGET && !this.stepped && tries < 100; tries++) r = this.run(STEP_SLICE_NS);
    if (isHlt && r === EXIT_BUDGET && this.irqSink === null) {
      this.halted = true;
      this.haltIf = this.run8[K.RUN_IF_FLAG] !== 0;
      return EXIT_HALT;
    }
    return r;
  }

  // ---- Counters.

  /** Single-stepped instructions (the only ones KVM lets us count). */
  instructions(): number {
    return this.steps;
  }

  /** KVM_EXIT_HLT exits: the HLTs with the user irqchip; with the in-kernel one KVM keeps halts to itself (0). */
  hlts(): number {
    return this.exitCounts[K.EXIT_HLT];
  }

  /** Halted by an earlier HLT and not yet woken (user irqchip): what getState's run_state says, without the register reads. */
  isHalted(): boolean {
    return this.halted;
  }

  /**
   * Forget a halt the host reported for a single-stepped instruction that is not HLT (kvm_pvm
   * reports KVM_EXIT_HLT after an IRET back past a HLT that an interrupt had woken).
   */
  cancelHalt(): void {
    this.halted = false;
  }

  /** The lockstep saw one step execute `n` more instructions (a late trap): count them. */
  countExtra(n: number): void {
    this.steps += n;
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.exitCounts.length; i++) {
      if (this.exitCounts[i] > 0) out[`exit.${K.KVM_EXIT_NAMES[i] ?? i}`] = this.exitCounts[i];
    }
    const guest = this.destroyed ? 0 : this.vm.guestNs();
    out.guestNs = guest;
    out.exitHandlingNs = Math.max(0, this.totalNs - guest);
    out[`hostMmu.${this.hostMmu}`] = 1;
    return out;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.vm.destroy();
  }
}
