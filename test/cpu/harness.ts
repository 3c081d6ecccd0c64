// Test harness for the interpreter: run hand-encoded code in a flat 16-, 32-
// or 64-bit mode until HLT, then inspect registers, flags and memory.

import type { CpuHost } from '../../contracts/backend.js';
import { EXIT_HALT } from '../../contracts/backend.js';
import type { Cpu } from '../../cpu/cpu.js';
import { flatState, type FlatMode } from '../../cpu/flat.js';
import { InterpBackend, type CpuExtension } from '../../cpu/interp.js';
import { JitBackend } from '../../cpu/jit/backend.js';
import { RFLAGS, RSP, RUN_RUNNING, RUN_STATE, StateView, gprOffset } from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';

/** `npm run test:jit` runs every Rig test under the jit backend (EMU_TEST_ACCEL=jit). */
const DEFAULT_ACCEL = process.env.EMU_TEST_ACCEL === 'jit' ? 'jit' : 'interp';

export const CODE = 0x1000;
export const STACK_TOP = 0x80000;

/** Bytes from a hex string ("01 d8 f4" or "01d8f4"). */
export function hex(s: string): Uint8Array {
  const t = s.replace(/\s+/g, '');
  const out = new Uint8Array(t.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(t.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export interface Ports { reads: [number, number][]; writes: [number, number, number][]; value: number }

export class Rig {
  readonly mem: GuestMemory;
  readonly backend: InterpBackend;
  readonly cpu: Cpu;
  readonly state: StateView;
  readonly ports: Ports = { reads: [], writes: [], value: 0xff };

  /** accel 'jit': every block is compiled to wasm at its first dispatch (threshold 1, one block per module). */
  constructor(readonly mode: FlatMode, extensions: CpuExtension[] = [], accel: 'interp' | 'jit' = DEFAULT_ACCEL) {
    this.mem = new GuestMemory(4 << 20);
    const ports = this.ports;
    const host: CpuHost = {
      memory: this.mem,
      portRead: (port, size) => { ports.reads.push([port, size]); return ports.value; },
      portWrite: (port, size, value) => { ports.writes.push([port, size, value]); },
      interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
      now: () => 0,
      a20Enabled: () => true,
    };
    this.backend = accel === 'jit' ? new JitBackend(host, extensions, { threshold: 1, batch: 1, debug: true, all: true }) : new InterpBackend(host, extensions);
    this.cpu = this.backend.cpu;
    this.state = new StateView(this.mem.buffer, this.mem.stateOffset);
    this.reset();
  }

  /** Flat state for the mode, RIP at CODE, RSP at STACK_TOP. */
  reset(): void {
    flatState(this.state, this.mode, CODE);
    this.state.set64(RSP * 8, STACK_TOP, 0);
    this.backend.setState(this.state.snapshot());
  }

  /** Load code at CODE (HLT appended), run until HLT (or `limit` instructions); returns the exit reason. */
  run(code: Uint8Array | string, limit = 100_000): number {
    const bytes = typeof code === 'string' ? hex(code) : code;
    const withHlt = new Uint8Array(bytes.length + 1);
    withHlt.set(bytes);
    withHlt[bytes.length] = 0xf4;
    this.mem.writeBytes(CODE, withHlt);
    this.state.set64(0x80, CODE, 0);
    this.cpu.r32[RUN_STATE / 4] = RUN_RUNNING;
    let exit = this.backend.run(limit);
    if (exit !== EXIT_HALT) exit = this.backend.run(limit);
    return exit;
  }

  /** GPR n as an unsigned 64-bit value (as a hex string, for exact comparisons). */
  reg64(n: number): string { return this.state.hex64(gprOffset(n)); }
  /** Low 32 bits of GPR n, unsigned. */
  reg32(n: number): number { return this.state.lo(gprOffset(n)); }
  set(n: number, lo: number, hi = 0): void { this.state.set64(gprOffset(n), lo >>> 0, hi >>> 0); }
  /** Set a 64-bit register from a 16-digit hex string. */
  setHex(n: number, h: string): void {
    const t = h.padStart(16, '0');
    this.set(n, parseInt(t.slice(8), 16), parseInt(t.slice(0, 8), 16));
  }
  flags(): number { return this.cpu.getRflags(); }
  setFlags(v: number): void { this.cpu.setRflags(v); }
  rip(): number { return this.state.lo(0x80); }
  rflagsWord(): number { return this.state.lo(RFLAGS); }
}
