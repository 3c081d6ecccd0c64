// The board's vCPUs: one backend per vCPU, each with its own state area in guest
// memory (GuestMemory.vcpuOffset) and its own local APIC, sharing memory and bus.
// Application processors start in wait-for-SIPI and come up through the INIT-SIPI
// sequence (Intel SDM Vol. 3A 9.4, MultiProcessor initialization); the machine's
// run loop (machine.ts) gives every runnable vCPU a bounded turn in index order.

import type { Backend, CpuHost } from '../contracts/backend.js';
import { APIC_BASE, CS, RIP, SEG_BASE, SEG_SEL, STATE_SIZE, StateView, TSC, resetState, segOffset, type CpuStateBytes } from '../cpu/state.js';

/** Instructions one vCPU runs per turn at most when several are runnable (interrupt and IPI latency). */
export const SMP_QUANTUM = 5_000;

/** IA32_APIC_BASE of an application processor after RESET/INIT: enabled, not the BSP (bit 8 clear). */
const APIC_BASE_AP = 0xfee00800;

export interface Vcpu {
  readonly index: number;
  readonly host: CpuHost;
  backend: Backend;
  /** Waiting for a STARTUP IPI: not run at all (an AP after RESET or INIT). */
  waitSipi: boolean;
  /** Instructions retired by backends this vCPU was switched away from. */
  retiredBefore: number;
  readonly stats: { halts: number; inits: number; sipis: number };
}

/**
 * The state an application processor holds after RESET or INIT (SDM 9.1.1), with the BSP flag
 * clear. `apicBase`: IA32_APIC_BASE (INIT keeps it, x2APIC mode included: SDM 11.12.5.1). `tsc` is its time-stamp counter now: INIT leaves the TSC alone (SDM Table 9-1), and
 * every processor's counts from the same power-on, so an AP never starts from 0 while the
 * BSP's has run on (Linux calls that a TSC warp and drops the TSC as its clock).
 */
export function apResetState(tsc: number, apicBase = APIC_BASE_AP): CpuStateBytes {
  const s = new StateView(new ArrayBuffer(STATE_SIZE), 0);
  resetState(s);
  s.set64(APIC_BASE, apicBase, 0);
  s.setNum64(TSC, tsc);
  return s.snapshot();
}

/** The TSC a backend's vCPU reads now (its exported state record). */
export function tscOf(b: Backend): number {
  return new StateView(b.getState().buffer).num64(TSC);
}

/** What INIT leaves of a running vCPU's state: its TSC and IA32_APIC_BASE (low half; the base stays below 4 GiB). */
export function initState(b: Backend): CpuStateBytes {
  const s = new StateView(b.getState().buffer);
  return apResetState(s.num64(TSC), s.lo(APIC_BASE));
}

/** A waiting AP's state after a STARTUP IPI with `vector`: its TSC and IA32_APIC_BASE kept. */
export function startupState(b: Backend, vector: number): CpuStateBytes {
  const s = new StateView(b.getState().buffer);
  return sipiState(vector, s.num64(TSC), s.lo(APIC_BASE));
}

/** A STARTUP IPI with vector VV: real mode at VV00:0000, i.e. physical VV000 (SDM 9.4.4.1). */
export function sipiState(vector: number, tsc: number, apicBase = APIC_BASE_AP): CpuStateBytes {
  const bytes = apResetState(tsc, apicBase);
  const s = new StateView(bytes.buffer as ArrayBuffer, bytes.byteOffset);
  const cs = segOffset(CS);
  s.setU32(cs + SEG_SEL, (vector & 0xff) << 8);
  s.set64(cs + SEG_BASE, (vector & 0xff) << 12, 0);
  s.set64(RIP, 0, 0);
  return s.snapshot();
}

/** -smp's topology: QEMU's cpus=N,sockets=S,cores=C,threads=T. */
export interface SmpTopology {
  cpus: number;
  sockets: number;
  cores: number;
  threads: number;
}
