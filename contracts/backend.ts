// The contract every CPU backend (interp, jit, kvm) fulfils, and what the
// machine hands it. Backends never see devices: only the bus's port/MMIO
// face, guest memory, and a source of external interrupts.

import type { GuestMemory } from '../mmu/memory.js';
import type { MmuModelName } from '../mmu/model.js';
import type { IrqSink } from './irqs.js';

/** A detached copy of the architectural state record (layout: cpu/state.ts). */
export type CpuStateBytes = Uint8Array;

export type BackendName = 'interp' | 'jit' | 'kvm';

/** The shape -smp gives the board: SMT threads per core, cores per package (cpu/topology.ts). */
export interface CpuTopology {
  readonly threads: number;
  readonly cores: number;
}

/** One vCPU's place in the topology (what CPUID leaves 1, 4 and 0xB report). */
export interface VcpuTopology extends CpuTopology {
  readonly apicId: number;
}

/** Why run() returned. */
export const EXIT_BUDGET = 0; // instruction budget or time slice spent
export const EXIT_HALT = 1; // HLT with interrupts that cannot be delivered yet: the machine may sleep to the next timer
export const EXIT_SHUTDOWN = 2; // triple fault (or a shutdown the CPU cannot continue from)
export const EXIT_STOP = 3; // requestStop() was called (a device asked for reset/poweroff, the UI paused, ...)
export const EXIT_ERROR = 4; // the backend could not continue (KVM internal error, failed entry); see lastError
export type ExitReason = typeof EXIT_BUDGET | typeof EXIT_HALT | typeof EXIT_SHUTDOWN | typeof EXIT_STOP | typeof EXIT_ERROR;
export const EXIT_NAMES = ['budget', 'halt', 'shutdown', 'stop', 'error'] as const;

/** The interrupt controller as the CPU sees it: the INTR pin and the INTA cycle. */
export interface InterruptSource {
  /** True if an external interrupt is waiting (INTR asserted). */
  hasInterrupt(): boolean;
  /** The interrupt-acknowledge cycle: returns the vector and moves the request to in-service. */
  acknowledge(): number;
}

/**
 * The local APIC's registers that the CPU reaches without MMIO: IA32_APIC_BASE's
 * enable bit, CR8 (the TPR) and IA32_TSC_DEADLINE. Optional: a board without a local
 * APIC leaves it out and the CPU keeps these in its state record only.
 */
export interface ApicHost {
  /** IA32_APIC_BASE bit 11 (global enable) was written. */
  setHwEnabled(on: boolean): void;
  /** CR8 reads TPR[7:4]; a CR8 write sets TPR[7:4] and clears TPR[3:0] (SDM 10.8.6.1). */
  readCr8(): number;
  writeCr8(v: number): void;
  /** IA32_TSC_DEADLINE in TSC ticks (0 = disarmed or fired); `atNs` is when the TSC reaches it, in host.now() time. */
  readTscDeadline(): number;
  writeTscDeadline(tsc: number, atNs: number): void;
  /** The x2APIC MSRs (SDM 11.12), where the APIC has them; CPUID.1:ECX[21] follows. */
  readonly x2apic?: X2apicHost;
}

/** The x2APIC face of a local APIC: MSRs 0x800-0x8FF while IA32_APIC_BASE.EXTD (bit 10) is set. */
export interface X2apicHost {
  /** IA32_APIC_BASE.EXTD was set or cleared (the CPU checks the transition is legal first). */
  setMode(on: boolean): void;
  /** RDMSR: the low dword, or NaN for #GP (no such register, or write-only). */
  read(msr: number): number;
  /** The high dword of that read (the ICR's destination; 0 for the rest). */
  readHi(msr: number): number;
  /** WRMSR: false for #GP (no such register, read-only, reserved bits set). */
  write(msr: number, lo: number, hi: number): boolean;
}

/**
 * The x87 error pins of the PC/AT compatibility path (CR0.NE=0; Intel SDM Vol. 1 8.7.2 and
 * D.2.1.3): FERR# out of the CPU, which the chipset turns into IRQ13, and IGNNE# into it, which
 * the chipset asserts after a write to port F0h while FERR# is asserted. Optional: a board without
 * it behaves as if IGNNE# were always asserted (a pending exception with NE=0 is ignored).
 */
export interface FerrPins {
  /** FERR# follows FSW.ES: asserted at a waiting x87 instruction, deasserted once ES is clear. */
  setFerr(asserted: boolean): void;
  /** IGNNE#: the CPU ignores a pending x87 exception while this is true. */
  ignne(): boolean;
}

/** What the machine gives a backend. */
export interface CpuHost {
  readonly memory: GuestMemory;
  /** Which vCPU this host serves (its state area in memory, its local APIC); default 0. */
  readonly vcpu?: number;
  portRead(port: number, size: 1 | 2 | 4): number;
  portWrite(port: number, size: 1 | 2 | 4, value: number): void;
  readonly interrupts: InterruptSource;
  /** Virtual time in ns, for RDTSC and the TSC-deadline timer. */
  now(): number;
  /** A20 gate: when false, physical address bit 20 is forced to 0 (real-mode wraparound). */
  a20Enabled(): boolean;
  /** The local APIC, where the board has one (the interpreter routes APIC_BASE, CR8 and TSC_DEADLINE to it). */
  readonly apic?: ApicHost;
  /** FERR#/IGNNE#, where the board routes x87 errors to IRQ13 (the interpreter signals them with CR0.NE=0). */
  readonly ferr?: FerrPins;
  /** The memory model behind the TLB miss path (mmu/model.ts; default direct). KVM uses the host's. */
  readonly mmuModel?: MmuModelName;
  /** This vCPU's APIC ID and the -smp threads/cores shape CPUID reports; default APIC ID = `vcpu`, one per package. */
  readonly topology?: VcpuTopology;
}

export interface Backend {
  readonly name: BackendName;
  /** Run until an exit; `budget` is a number of guest instructions (KVM treats it as a time slice of about that many ns). */
  run(budget: number): ExitReason;
  /** Ask a running backend to return EXIT_STOP at its next opportunity (safe to call from device callbacks). */
  requestStop(): void;
  /** Export the full architectural state (lazy parts materialised). */
  getState(): CpuStateBytes;
  /** Import a full architectural state; caches derived from the old state are dropped. */
  setState(state: CpuStateBytes): void;
  /** Raise NMI. */
  nmi(): void;
  /**
   * A device write by this vCPU made an interrupt deliverable (a TPR lowered through the APIC
   * page, an EOI, a self-IPI): finish the instruction in progress, then look at interrupts before
   * the next one, as hardware does at the next instruction boundary. Backends that sample
   * interrupts at every boundary anyway (KVM) leave it out.
   */
  endBlock?(): void;
  /** Guest instructions retired so far (exact for interp/jit; KVM counts what it can). */
  instructions(): number;
  /** HLT instructions executed so far (not the runs that found the vCPU still halted); KVM: HLT exits (none with the in-kernel irqchip, where KVM keeps halts). */
  hlts?(): number;
  /** Counters for benchmarks and the teaching views (exits by reason, blocks, TLB misses, ...). */
  counters(): Record<string, number>;
  /** Why the last EXIT_ERROR happened. */
  lastError?: string;
  /** Guest physical memory changed behind the backend's back (loader, snapshot restore): drop code caches. */
  invalidateCode?(): void;
  /**
   * A backend whose guest writes RAM without the memory write path (KVM) logs them itself:
   * start/stop the log, and OR the pages written since the last sync into `dirty` (one byte
   * per RAM page, mmu/memory.ts DIRTY_WRITTEN).
   */
  dirtyLog?: { start(): void; sync(dirty: Uint8Array): void; stop(): void };
  /**
   * Where the bus's IRQ lines go while this backend runs, if it brings its own interrupt
   * controllers (KVM's in-kernel irqchip: KVM_IRQ_LINE); absent or null, the board's own
   * PIC/IOAPIC take them.
   */
  readonly irqSink?: IrqSink | null;
  destroy(): void;
}
