// The board: one guest memory, one bus, the PC's devices, a virtual clock and a
// CPU backend, plus the run loop that drives them. The CLI, the browser worker
// and the tests all use this class; none of them touches devices directly.

import type { Backend, BackendName, CpuHost, ExitReason, InterruptSource } from '../contracts/backend.js';
import { EXIT_BUDGET, EXIT_ERROR, EXIT_HALT, EXIT_SHUTDOWN, EXIT_STOP } from '../contracts/backend.js';
import { InterpBackend } from '../cpu/interp.js';
import type { JitOptions } from '../cpu/jit/backend.js';
import { STATE_SIZE, StateView } from '../cpu/state.js';
import { recentEvents } from '../cpu/system/context.js';
import { apicIdOf, FLAT_TOPOLOGY, type CpuTopology } from '../cpu/topology.js';
import { Bus } from '../devices/bus.js';
import type { FwCfgFile } from '../devices/fwcfg.js';
import { InstructionClock, PacedClock, RealtimeClock, Timers, type Clock } from '../devices/clock.js';
import { GuestMemory, STATE_RESERVE } from '../mmu/memory.js';
import type { MmuModelName } from '../mmu/model.js';
import { BackendUnavailable, createBackend } from './backends.js';
import type { IoOptions } from './io-devices.js';
import { buildPc, type PcDevices } from './pc.js';
import { SMP_QUANTUM, apResetState, sipiState, type SmpTopology, type Vcpu } from './smp.js';
import { yieldToEventLoop } from './yield.js';

export interface MachineOptions extends IoOptions {
  /** Guest RAM in bytes. */
  memory: number;
  accel: BackendName;
  /** Tuning of the jit backend (threshold, --jit-dump). */
  jit?: JitOptions;
  irqchip?: 'user' | 'kernel';
  /** The memory model behind the TLB miss path of interp and jit (mmu/model.ts): default direct. */
  mmu?: MmuModelName;
  /** Exit instead of rebooting on guest reset or triple fault. */
  noReboot?: boolean;
  /** Derive time from instructions retired (reproducible interp/jit runs). */
  deterministic?: boolean;
  /** Use this clock instead of making one (the lockstep oracle gives both boards one clock). */
  clock?: Clock;
  /** What the CPU sees as its interrupt source, given the board's (the in-process lockstep gates it). */
  wrapInterrupts?: (board: () => InterruptSource) => InterruptSource;
  /** Bytes the guest writes to the first serial port. */
  onSerial?: (byte: number) => void;
  /** Called when the machine stops for good, with the exit status. */
  onExit?: (status: number, reason: string) => void;
  /** vCPUs (-smp): a count, or QEMU's topology; default 1. */
  smp?: number | SmpTopology;
  /** Named blobs for the fw_cfg device (-fw_cfg name=opt/...,file=F|string=S). */
  fwCfg?: FwCfgFile[];
  /** Informational messages (reset, backend switch); default: dropped. */
  onMessage?: (text: string) => void;
}

export interface MachineRunState {
  /** Instructions retired (what --deterministic time is made of). */
  instructions: number;
  /** Virtual time, ns. */
  now: number;
  /** The earliest timer deadline, as the run loop knew it. */
  timersNext: number;
  paused: boolean;
}

/** Why the machine stopped. */
export interface MachineExit {
  status: number;
  reason: string;
}

/** Wall-clock length of one run-loop slice before yielding to the event loop. */
const SLICE_MS = 8;
/** Wall time one backend.run call should take, so timers and input are serviced often. */
const RUN_MS = 1;
/** Bounds of the adaptive instruction budget per backend.run call. */
const MIN_BUDGET = 1_000, MAX_BUDGET = 1_000_000, START_BUDGET = 20_000;
/** Longest a halted guest sleeps before the loop looks around again. */
const MAX_IDLE_MS = 10;

export class Machine {
  readonly memory: GuestMemory;
  readonly bus = new Bus();
  readonly clock: Clock;
  readonly timers: Timers;
  readonly devices: PcDevices;
  /** The live architectural state record of vCPU 0 (the interpreter's register file). */
  readonly state: StateView;
  /** One per vCPU; vCPU 0 is the bootstrap processor. */
  readonly vcpus: Vcpu[] = [];
  /** Threads per core and cores per package (-smp); each vCPU's APIC ID follows from it (cpu/topology.ts). */
  readonly topology: CpuTopology;
  /** The vCPUs' APIC IDs in index order (local APICs, MADT, MP table, CPUID). */
  readonly apicIds: readonly number[];
  /** The vCPU whose backend is running now (the LAPIC page and device callbacks act for it). */
  currentVcpu = 0;
  /** The bootstrap processor's CPU host. */
  readonly host: CpuHost;
  /** Set by IPIs, NMIs and SIPIs between idle checks: some vCPU has something to do. */
  private kicked = false;

  private a20 = true;
  private exit: MachineExit | null = null;
  private resetRequested = false;
  private paused = false;
  private running = false;
  private wake: (() => void) | null = null;
  private readonly inputQueue: number[] = [];
  private bootRecipe: ((m: Machine) => void) | null = null;
  private booted = false;
  /** Instructions per backend.run call, adapted to the backend's measured speed (about RUN_MS each). */
  private runBudget = START_BUDGET;
  /** Machine-level counters (resets, backend switches, slices). */
  readonly stats = { resets: 0, switches: 0, slices: 0, haltSleeps: 0, smpRounds: 0 };
  /** SMP pacing (pacedInstructions): instructions of the turns before this one, each divided by the vCPUs running in its round. */
  private pacedBase = 0;
  /** vCPUs running (not waiting for SIPI) in this round. */
  private roundVcpus = 1;
  /** The vCPU whose turn it is (SMP rounds) and its instruction count when the turn began. */
  private turn: Vcpu | null = null;
  private turnStart = 0;

  constructor(readonly options: MachineOptions) {
    if (STATE_SIZE !== STATE_RESERVE) throw new Error('cpu/state.ts STATE_SIZE and mmu/memory.ts STATE_RESERVE disagree');
    const smp = options.smp ?? 1;
    this.memory = new GuestMemory(options.memory, typeof smp === 'number' ? smp : smp.cpus);
    this.topology = typeof smp === 'number' ? FLAT_TOPOLOGY : { threads: smp.threads, cores: smp.cores };
    this.apicIds = Array.from({ length: this.memory.vcpuCount }, (_, i) => apicIdOf(i, this.topology));
    this.memory.mmio = this.bus;
    this.state = new StateView(this.memory.buffer, this.memory.stateOffset);
    this.clock = options.clock ?? (options.deterministic
      ? new InstructionClock(() => this.instructions())
      : new PacedClock(() => this.pacedInstructions()));
    this.timers = new Timers(this.clock);
    this.devices = buildPc(this, {
      onSerial: (b) => options.onSerial?.(b),
      onReset: () => this.requestReset(),
      onPowerOff: (status, reason) => this.powerOff(status, reason),
      onA20: (on) => { this.a20 = on; },
    });
    for (let i = 0; i < this.memory.vcpuCount; i++) {
      const host = this.makeHost(i);
      this.vcpus.push({ index: i, host, backend: null as unknown as Backend, waitSipi: i > 0, retiredBefore: 0, hltsBefore: 0, stats: { haltedTurns: 0, inits: 0, sipis: 0 } });
    }
    this.host = this.vcpus[0].host;
    for (const v of this.vcpus) v.backend = createBackend(options.accel, this, v.host);
  }

  private makeHost(i: number): CpuHost {
    const machine = this;
    const lapic = () => machine.devices.lapics[i];
    // The in-process lockstep gates what the CPU sees (one vCPU boards only).
    const interrupts = this.options.wrapInterrupts?.(() => lapic()) ?? null;
    return {
      memory: this.memory,
      vcpu: i,
      portRead: (port, size) => this.bus.portRead(port, size),
      portWrite: (port, size, value) => this.bus.portWrite(port, size, value),
      get interrupts() { return interrupts ?? lapic(); },
      get apic() { return lapic(); },
      get ferr() { return machine.devices.ferr; },
      now: () => this.clock.now(),
      a20Enabled: () => this.a20,
      mmuModel: this.options.mmu,
      topology: { ...this.topology, apicId: this.apicIds[i] },
    };
  }

  /** The bootstrap processor's backend (vCPU 0). */
  get backend(): Backend { return this.vcpus[0].backend; }
  set backend(b: Backend) { this.vcpus[0].backend = b; }

  // ---- vCPU events from the local APICs (SDM 9.4: INIT-SIPI-SIPI).

  /** NMI for vCPU i (LINT1, ICR, IOAPIC NMI pin). */
  vcpuNmi(i: number): void {
    this.kicked = true;
    this.vcpus[i].backend.nmi();
  }

  /** vCPU i's APIC page write made an interrupt deliverable: its block ends after the writing instruction. */
  vcpuEndBlock(i: number): void {
    this.vcpus[i].backend.endBlock?.();
  }

  /** INIT for vCPU i: an AP goes to wait-for-SIPI with its RESET state; the BSP's INIT is not emulated (no firmware to rerun). */
  vcpuInit(i: number): void {
    const v = this.vcpus[i];
    v.stats.inits++;
    if (i === 0) return;
    this.devices.lapics[i].init();
    v.waitSipi = true;
    this.atOneInstant(() => v.backend.setState(apResetState(v.backend.getState())));
    this.kicked = true;
  }

  /**
   * Run `fn`, which exports a vCPU's TSC and imports it again, with the clock held: a backend
   * keeps TSC = now + offset and re-derives the offset on import, so time passing in between
   * (a loaded host: tens of microseconds) would put this vCPU's TSC behind the others'.
   */
  private atOneInstant(fn: () => void): void {
    if (this.clock instanceof RealtimeClock) this.clock.hold(fn);
    else fn(); // instruction time does not move while no instruction runs
  }

  /** STARTUP for vCPU i: if it waits for SIPI, it starts in real mode at vector << 12; otherwise ignored. */
  vcpuSipi(i: number, vector: number): void {
    const v = this.vcpus[i];
    if (!v.waitSipi) return;
    v.stats.sipis++;
    v.waitSipi = false;
    this.atOneInstant(() => v.backend.setState(sipiState(vector, v.backend.getState())));
    this.kicked = true;
  }

  /** vCPUs this board has (the MADT and fw_cfg list them). */
  get vcpuCount(): number { return this.memory.vcpuCount; }

  // ---- Booting.

  /** Remember how to (re)load the guest, and do it now. Reset runs it again, as firmware would. */
  boot(recipe: (m: Machine) => void): void {
    this.bootRecipe = recipe;
    this.loadGuest();
  }

  private loadGuest(): void {
    if (!this.bootRecipe) return;
    // A fresh WebAssembly.Memory is already zero; clearing it would fault in every page (~3 ms per 1 MiB).
    if (this.booted) this.memory.clearRam();
    this.booted = true;
    this.devices.afterMemoryCleared();
    this.bootRecipe(this);
    this.backend.setState(this.state.snapshot());
    this.backend.invalidateCode?.();
    const aps = this.vcpus.slice(1);
    if (aps.length) this.atOneInstant(() => {
      const bsp = this.backend.getState(); // the APs' TSCs count with the BSP's from here
      for (const v of aps) v.backend.setState(apResetState(bsp, true));
    });
    for (const v of aps) {
      v.waitSipi = true;
      v.backend.invalidateCode?.();
    }
  }

  // ---- Running.

  /** Run until the guest powers off (or the machine is stopped); resolves with the exit. */
  async run(): Promise<MachineExit> {
    this.running = true;
    try {
      while (!this.exit) {
        if (this.paused) {
          await new Promise<void>((resolve) => { this.wake = resolve; });
          continue;
        }
        const idleMs = this.runSlice(SLICE_MS);
        if (this.exit) break;
        if (idleMs > 0) await this.sleep(idleMs);
        else await yieldToEventLoop();
      }
    } finally {
      this.running = false;
    }
    return this.exit;
  }

  /**
   * Run the CPU for about `ms` of wall time (synchronously). Returns how long
   * the caller may sleep before calling again (0 if the guest is busy).
   */
  runSlice(ms: number): number {
    this.stats.slices++;
    const end = performance.now() + ms;
    if (this.vcpus.length > 1) {
      do {
        const idle = this.runRound();
        if (this.exit) return 0;
        if (idle > 0) return idle;
      } while (performance.now() < end);
      return 0;
    }
    do {
      this.feedInput();
      this.timers.run();
      const t0 = performance.now();
      const before = this.backend.instructions();
      const reason = this.backend.run(this.budget());
      this.adaptBudget(this.backend.instructions() - before, performance.now() - t0);
      this.timers.run();
      const idle = this.handleExit(reason);
      if (this.exit) return 0;
      if (idle > 0) return idle;
    } while (performance.now() < end);
    return 0;
  }

  /**
   * Run a fixed number of backend calls synchronously (tests, benchmarks). `budget`
   * overrides the per-call budget (instructions; for KVM, a slice in ns).
   */
  runSteps(steps: number, budget?: number): void {
    for (let i = 0; i < steps && !this.exit; i++) {
      if (this.vcpus.length > 1) { this.runRound(budget); continue; }
      this.feedInput();
      this.timers.run();
      this.handleExit(this.backend.run(budget ?? this.budget()));
    }
  }

  /**
   * One round of the SMP run loop: every vCPU that is not waiting for SIPI runs up to a
   * quantum, in index order (deterministic). Returns how long the caller may sleep (all
   * halted, nothing pending), else 0.
   */
  private runRound(budget?: number): number {
    this.stats.smpRounds++;
    this.feedInput();
    this.timers.run();
    this.kicked = false;
    let allHalted = true;
    const t0 = performance.now();
    let executed = 0;
    this.roundVcpus = 0;
    for (const v of this.vcpus) if (!v.waitSipi) this.roundVcpus++;
    for (const v of this.vcpus) {
      if (v.waitSipi) continue;
      this.currentVcpu = v.index;
      const before = v.backend.instructions();
      this.turn = v;
      this.turnStart = before;
      const reason = v.backend.run(budget ?? Math.min(this.budget(), SMP_QUANTUM));
      this.turn = null;
      const ran = v.backend.instructions() - before;
      this.pacedBase += ran / this.roundVcpus;
      executed += ran;
      this.currentVcpu = 0;
      this.timers.run();
      if (reason === EXIT_HALT) { v.stats.haltedTurns++; continue; }
      allHalted = false;
      if (reason === EXIT_BUDGET || reason === EXIT_STOP) {
        if (this.resetRequested) return this.handleExit(reason);
        continue;
      }
      this.currentVcpu = v.index;
      this.handleExit(reason); // shutdown or error: reset or power off, whichever vCPU it was
      this.currentVcpu = 0;
      return 0;
    }
    this.adaptBudget(executed, performance.now() - t0);
    if (this.resetRequested) return this.handleExit(EXIT_STOP);
    if (!allHalted || this.kicked) return 0;
    for (const v of this.vcpus) if (!v.waitSipi && v.host.interrupts.hasInterrupt()) return 0;
    return this.handleExit(EXIT_HALT);
  }

  /**
   * What the PacedClock paces by: one vCPU's instructions retired; with several, every vCPU's,
   * each divided by the vCPUs running in its round (their turns run side by side in guest time),
   * so no running vCPU sees itself slower than 1e3 / PACE_NS_PER_INSTRUCTION MIPS whatever their
   * number; null under KVM (no instruction count: plain host time).
   */
  private pacedInstructions(): number | null {
    if ((this.vcpus[0]?.backend?.name ?? 'kvm') === 'kvm') return null;
    if (this.vcpus.length === 1) return this.instructions();
    return this.turn === null ? this.pacedBase : this.pacedBase + (this.turn.backend.instructions() - this.turnStart) / this.roundVcpus;
  }

  private budget(): number {
    if (this.backend.name === 'kvm') return RUN_MS * 1e6; // KVM takes a time slice in ns
    if (!(this.clock instanceof InstructionClock)) return this.runBudget;
    // Deterministic time: stop exactly at the next timer deadline (a fixed cap keeps runs reproducible).
    const ahead = this.timers.next - this.clock.now();
    return ahead <= 0 ? 1 : Math.max(1, Math.min(START_BUDGET, Math.ceil(ahead / this.clock.nsPerInstruction)));
  }

  /** Steer the budget towards RUN_MS of wall time per call (halts and early stops say nothing about speed). */
  private adaptBudget(executed: number, ms: number): void {
    if (executed < this.runBudget / 2 || ms <= 0) return;
    const ideal = (executed / ms) * RUN_MS;
    const next = this.runBudget + (ideal - this.runBudget) / 4;
    this.runBudget = Math.round(Math.min(MAX_BUDGET, Math.max(MIN_BUDGET, next)));
  }

  /** Returns a sleep time in ms if the guest is idle. */
  private handleExit(reason: ExitReason): number {
    if (this.resetRequested) {
      this.resetRequested = false;
      this.doReset('the guest asked for a reset');
      return 0;
    }
    switch (reason) {
      case EXIT_BUDGET:
      case EXIT_STOP:
        return 0;
      case EXIT_HALT: {
        if (this.vcpus.length === 1 && this.devices.interrupts.hasInterrupt()) return 0;
        const next = this.timers.next;
        if (this.clock instanceof InstructionClock) {
          if (next === Infinity) { this.powerOff(0, 'the guest halted with no timer armed'); return 0; }
          this.clock.skipTo(next);
          return 0;
        }
        this.stats.haltSleeps++;
        if (this.clock instanceof PacedClock) this.clock.idle();
        const ms = next === Infinity ? MAX_IDLE_MS : (next - this.clock.now()) / 1e6;
        return ms <= 0 ? 0 : Math.min(ms, MAX_IDLE_MS);
      }
      case EXIT_SHUTDOWN: {
        const detail = this.shutdownDetail();
        if (this.options.noReboot) this.powerOff(1, `the guest triple-faulted (shutdown)${detail}`);
        else this.doReset(`the guest triple-faulted${detail}; resetting`);
        return 0;
      }
      case EXIT_ERROR:
      default:
        const failed = this.vcpus[this.currentVcpu].backend; // under -smp, the vCPU whose turn it was
        this.powerOff(1, `the ${failed.name} backend stopped${this.vcpus.length > 1 ? ` on vCPU ${this.currentVcpu}` : ''}: ${failed.lastError ?? 'unknown error'}`);
        return 0;
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => { this.wake = null; resolve(); }, ms);
      this.wake = () => { clearTimeout(t); this.wake = null; resolve(); };
    });
  }

  // ---- Events from devices and the host.

  requestReset(): void {
    this.resetRequested = true;
    for (const v of this.vcpus) v.backend.requestStop();
  }

  /** A guest-initiated reset (or a triple fault); -no-reboot turns it into an exit. */
  private doReset(why: string, byUser = false): void {
    if (this.options.noReboot && !byUser) {
      this.powerOff(0, `${why} (-no-reboot: exiting)`);
      return;
    }
    this.stats.resets++;
    this.options.onMessage?.(`emu: ${why}`);
    this.devices.reset();
    this.a20 = true;
    this.loadGuest();
  }

  /** What the CPU was doing when it shut down (the interpreter keeps its last events). */
  private shutdownDetail(): string {
    const b = this.vcpus[this.currentVcpu].backend;
    if (!(b instanceof InterpBackend)) return '';
    const events = recentEvents(b.cpu).slice(-3).join('; ');
    return ` at ${b.disassembleAtRip()}${events ? ` after ${events}` : ''}`;
  }

  powerOff(status: number, reason: string): void {
    if (this.exit) return;
    this.exit = { status, reason };
    for (const v of this.vcpus) v.backend.requestStop();
    this.wake?.();
    this.options.onExit?.(status, reason);
  }

  get exited(): MachineExit | null { return this.exit; }

  /** Bytes typed on the console: queued and fed to the UART as its FIFO has room. */
  serialInput(bytes: Iterable<number>): void {
    for (const b of bytes) this.inputQueue.push(b & 0xff);
    if (!this.paused) this.feedInput(); // a paused guest (an incoming snapshot) takes its input when it runs
    this.wake?.();
  }

  /** Bytes for the virtio console (hvc0); a paused guest takes them when it runs. */
  virtioConsoleInput(bytes: Iterable<number>): void {
    this.devices.io.virtioConsole?.receive(bytes, this.paused);
    this.wake?.();
  }

  /** Move queued console bytes into the UART as its FIFO has room (the run loop does this each slice). */
  feedInput(): void {
    const q = this.inputQueue;
    let n = 0;
    while (n < q.length && this.devices.uart.rxSpace() > 0) this.devices.uart.receive(q[n++]);
    if (n > 0) q.splice(0, n);
  }

  pause(): void {
    this.paused = true;
    for (const v of this.vcpus) v.backend.requestStop();
    if (this.clock instanceof RealtimeClock) this.clock.pause();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.clock instanceof RealtimeClock) this.clock.resume();
    this.devices.io.virtioConsole?.flushInput();
    this.wake?.();
  }

  get isPaused(): boolean { return this.paused; }
  get isRunning(): boolean { return this.running; }

  /** Reset as if the reset button were pressed. */
  /**
   * The reset button: reboots the guest, whatever -no-reboot says, and powers a
   * machine that had stopped back on (call run() again to drive it).
   */
  reset(): void {
    this.exit = null;
    this.resetRequested = false;
    this.doReset('reset', true);
  }

  // ---- Backends.

  /** Move the running guest to another backend: state through the state record, memory shared. */
  setBackend(name: BackendName): void {
    if (name === this.backend.name) return;
    if (this.options.irqchip === 'kernel' && (name === 'kvm' || this.backend.name === 'kvm')) {
      // KVM's in-kernel PIC/IOAPIC/LAPIC state has no counterpart in the state record.
      throw new BackendUnavailable(`cannot switch between ${this.backend.name} and ${name} with --irqchip=kernel (the in-kernel interrupt controllers' state does not move); use --irqchip=user`);
    }
    // Device IRQ lines go to the TypeScript controllers unless the new backend claims them (KVM's in-kernel irqchip).
    this.bus.connectIrqs(this.devices.router);
    const next: Backend[] = [];
    try {
      for (const v of this.vcpus) next.push(createBackend(name, this, v.host));
    } catch (e) {
      for (const b of next) b.destroy();
      for (const v of this.vcpus) v.backend.invalidateCode?.();
      this.reconnectIrqs();
      throw e;
    }
    for (const v of this.vcpus) {
      const state = v.backend.getState();
      v.retiredBefore += v.backend.instructions();
      v.hltsBefore += v.backend.hlts?.() ?? 0;
      v.backend.destroy();
      const b = next[v.index];
      b.setState(state);
      v.backend = b;
    }
    this.stats.switches++;
    this.options.onMessage?.(`emu: now running on ${name}`);
  }

  /** Give the IRQ lines back to whichever controller the current backend uses. */
  private reconnectIrqs(): void {
    this.bus.connectIrqs(this.backend.irqSink ?? this.devices.router);
  }

  /** What a snapshot keeps of the machine itself, beside the CPU, RAM and devices. */
  runState(): MachineRunState {
    return { instructions: this.instructions(), now: this.clock.now(), timersNext: this.timers.next, paused: this.paused };
  }

  /** Continue from a snapshot: its retired-instruction count and virtual time (devices and RAM are loaded already). */
  restoreRunState(s: MachineRunState): void {
    if (!this.clock.setNow) throw new Error('this machine\'s clock cannot be set back to a snapshot\'s time');
    // The count lands on vCPU 0 (snapshots carry one CPU state; see machine/snapshot.ts).
    const bsp = this.vcpus[0];
    bsp.retiredBefore += s.instructions - this.instructions();
    this.clock.setNow(s.now);
    this.timers.next = s.timersNext;
    this.a20 = this.devices.a20();
    this.backend.invalidateCode?.();
  }

  /** Instructions retired since the machine was created, across backend switches. */
  instructions(): number {
    let n = 0;
    for (const v of this.vcpus) n += this.vcpuInstructions(v.index);
    return n;
  }

  /** Instructions vCPU i retired, across backend switches. */
  vcpuInstructions(i: number): number {
    const v = this.vcpus[i];
    return v.retiredBefore + (v.backend ? v.backend.instructions() : 0);
  }

  /**
   * Per-vCPU scheduling counters (the SMP teaching view): instructions, HLTs executed (halts; the
   * SMP turns that ended halted: haltedTurns), IPIs, INIT/SIPI.
   */
  vcpuCounters(): { vcpu: number; instructions: number; halts: number; haltedTurns: number; ipisSent: number; ipisReceived: number; inits: number; sipis: number; waitingForSipi: boolean }[] {
    return this.vcpus.map((v) => {
      const ls = this.devices.lapics[v.index].stats;
      return {
        vcpu: v.index, instructions: this.vcpuInstructions(v.index), halts: v.hltsBefore + (v.backend.hlts?.() ?? 0), haltedTurns: v.stats.haltedTurns,
        ipisSent: ls.ipisSent, ipisReceived: ls.ipisReceived, inits: v.stats.inits, sipis: v.stats.sipis, waitingForSipi: v.waitSipi,
      };
    });
  }

  destroy(): void {
    for (const v of this.vcpus) v.backend.destroy();
  }
}
