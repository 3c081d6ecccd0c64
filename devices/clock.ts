// Virtual time for devices. The PIT, RTC, APIC timer and PM timer read `now()`
// (nanoseconds, a double) and tell the timer list when they next need service;
// the machine's run loop calls `Timers.run` at block ends. Two clocks: real
// time (pausable), and a deterministic one derived from instructions retired.

export interface Clock {
  /** Virtual nanoseconds since the machine was created. */
  now(): number;
  /** Continue from virtual time `t` (a restored snapshot's time); absent on clocks that cannot. */
  setNow?(t: number): void;
}

/** A device with time-driven behaviour. */
export interface Timed {
  /** Bring the device up to `now` (raise IRQs that came due); return the next time it needs service, or Infinity. */
  advance(now: number): number;
}

export class Timers {
  private readonly devs: Timed[] = [];
  /** Earliest deadline of any device; the run loop compares against it cheaply. */
  next = Infinity;

  constructor(readonly clock: Clock) {}

  add(dev: Timed): void {
    this.devs.push(dev);
    this.reschedule(dev.advance(this.clock.now()));
  }

  /** A device whose deadline moved earlier (a register write) calls this. */
  reschedule(deadline: number): void {
    if (deadline < this.next) this.next = deadline;
  }

  /** Service every device whose time has come; returns the new earliest deadline. */
  run(now = this.clock.now()): number {
    if (now < this.next) return this.next;
    let next = Infinity;
    for (let i = 0; i < this.devs.length; i++) {
      const d = this.devs[i].advance(now);
      if (d < next) next = d;
    }
    this.next = next;
    return next;
  }
}

/** Host time, pausable (a paused machine's devices see no time pass). */
export class RealtimeClock implements Clock {
  private base = performance.now();
  private pausedAt: number | null = null;
  now(): number {
    return ((this.pausedAt ?? performance.now()) - this.base) * 1e6;
  }
  setNow(t: number): void { this.base = (this.pausedAt ?? performance.now()) - t / 1e6; }
  pause(): void { if (this.pausedAt === null) this.pausedAt = performance.now(); }
  /** Run `fn` with time standing still (what it reads twice is one instant), then go on from where it stopped. */
  hold(fn: () => void): void {
    if (this.pausedAt !== null) { fn(); return; }
    this.pause();
    try { fn(); } finally { this.resume(); }
  }
  resume(): void {
    if (this.pausedAt === null) return;
    this.base += performance.now() - this.pausedAt;
    this.pausedAt = null;
  }
}

/**
 * Host time as the guest lives it (the machine's clock under interp and jit without
 * --deterministic, at any vCPU count): while the guest runs, the clock advances with host time but
 * by at most `maxNsPerInstruction` per instruction `retired` counts since the last reading, so
 * time a busy or descheduled host spends between two guest instructions (a host thread switch, a
 * GC pause, a compile) does not show up in the guest as one instruction taking milliseconds:
 * Linux's PIT calibration of the TSC reads both in a tight loop and gives up when one read takes
 * longer than the others (issue 18 item 5). With several vCPUs taking turns on one host thread,
 * `retired` counts the instructions of the busiest vCPU of each round (the vCPUs of a round run
 * side by side in guest time), so no vCPU sees itself slower than 1e3 / maxNsPerInstruction MIPS
 * whatever the vCPU count and the host's load: with time running on regardless, Linux -smp 2's
 * timer interrupts came faster than its vCPUs could take them (soft lockups). While the guest
 * idles (idle(): every vCPU halted) the clock advances with host time. Time held back is not made
 * up: guest time falls behind host time by what the host lost, as a paused VM's does, and never
 * jumps. `retired` returns null where the backend counts no instructions (KVM): plain host time.
 */
export class PacedClock extends RealtimeClock {
  private last = 0;
  private lastHost = 0;
  private lastRetired: number | null = null;
  private idling = false;
  constructor(private readonly retired: () => number | null, readonly maxNsPerInstruction = PACE_NS_PER_INSTRUCTION) { super(); }
  override now(): number {
    const host = super.now(), n = this.retired();
    if (n !== this.lastRetired) this.idling = false; // the guest runs again
    let step = host - this.lastHost;
    if (n !== null && this.lastRetired !== null && !this.idling) step = Math.min(step, (n - this.lastRetired) * this.maxNsPerInstruction);
    if (step > 0) this.last += step;
    this.lastHost = host;
    this.lastRetired = n;
    return this.last;
  }
  override setNow(t: number): void {
    super.setNow(t);
    this.last = t;
    this.lastHost = super.now();
  }
  /** The guest idles (HLT) from now: host time passes in full until it retires an instruction again. */
  idle(): void {
    this.now();
    this.idling = true;
  }
}

/**
 * The most host time one retired instruction (of the busiest vCPU) may stand for: PacedClock's
 * one rate, a floor of 5 MIPS per vCPU in guest time. Well above what the interpreter takes per
 * instruction on a loaded host, so a busy single-vCPU guest keeps host time, and small enough that
 * a loop of a few dozen instructions sees microseconds, not a host pause.
 */
export const PACE_NS_PER_INSTRUCTION = 200;

/**
 * Deterministic time: `nsPerInstruction` nanoseconds per instruction retired,
 * plus whatever the machine skips while the guest is halted (it jumps to the
 * next timer deadline), so interp/jit runs reproduce bit for bit.
 */
export class InstructionClock implements Clock {
  private skipped = 0;
  constructor(private readonly retired: () => number, readonly nsPerInstruction = 1) {}
  now(): number { return this.retired() * this.nsPerInstruction + this.skipped; }
  setNow(t: number): void { this.skipped += t - this.now(); }
  /** Advance time without retiring instructions (HLT until the next deadline). */
  skipTo(t: number): void { const n = this.now(); if (t > n) this.skipped += t - n; }
}
