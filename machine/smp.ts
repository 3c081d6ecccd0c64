// The board's vCPUs: one backend per vCPU, each with its own state area in guest
// memory (GuestMemory.vcpuOffset) and its own local APIC, sharing memory and bus.
// Application processors start in wait-for-SIPI and come up through the INIT-SIPI
// sequence (Intel SDM Vol. 3A 9.4, MultiProcessor initialization); the machine's
// run loop (machine.ts) gives every runnable vCPU a bounded turn in index order.

import type { Backend, CpuHost } from '../contracts/backend.js';
import {
  APIC_BASE, CS, MTRR_DEF_TYPE, MTRR_VAR, MTRR_VAR_COUNT, PAT, RIP, SEG_BASE, SEG_SEL, STATE_SIZE, StateView, TSC, resetState, segOffset, type CpuStateBytes,
} from '../cpu/state.js';

/** Instructions one vCPU runs per turn at most when several are runnable (interrupt and IPI latency). */
export const SMP_QUANTUM = 5_000;

/** IA32_APIC_BASE of an application processor after RESET/INIT: enabled, not the BSP (bit 8 clear). */
const APIC_BASE_AP = 0xfee00800, APIC_BASE_BSP = 1 << 8;

export interface Vcpu {
  readonly index: number;
  readonly host: CpuHost;
  backend: Backend;
  /** Waiting for a STARTUP IPI: not run at all (an AP after RESET or INIT). */
  waitSipi: boolean;
  /** Instructions retired by backends this vCPU was switched away from. */
  retiredBefore: number;
  /** HLTs executed under backends this vCPU was switched away from. */
  hltsBefore: number;
  /** haltedTurns: SMP turns that ended with the vCPU halted (a halted vCPU's turn is short); inits, sipis: INIT and STARTUP IPIs taken. */
  readonly stats: { haltedTurns: number; inits: number; sipis: number };
}

/**
 * What INIT leaves alone (SDM Table 9-1), as [offset, length] in the state record: the TSC,
 * IA32_PAT, IA32_APIC_BASE (x2APIC mode included, SDM 11.12.5.1) and the MTRRs. The TSC
 * matters most: every processor's counts from the same power-on, so an AP must not start
 * from 0 while the BSP's has run on (Linux calls that a TSC warp and drops the TSC clock).
 */
const KEPT_BY_INIT: readonly (readonly [number, number])[] = [
  [TSC, 8], [PAT, 8], [MTRR_DEF_TYPE, MTRR_VAR + MTRR_VAR_COUNT * 16 - MTRR_DEF_TYPE], [APIC_BASE, 8],
];

/**
 * The state an application processor holds after RESET or INIT (SDM 9.1.1), with the BSP flag
 * clear; `kept` (a state record) gives what INIT keeps: the AP's own at INIT, the BSP's at
 * power-on (`powerOn`: firmware programs every CPU's MTRRs and PAT alike, the TSCs start
 * together; IA32_APIC_BASE is then the AP's default).
 */
export function apResetState(kept?: CpuStateBytes, powerOn = false): CpuStateBytes {
  const s = new StateView(new ArrayBuffer(STATE_SIZE), 0);
  resetState(s);
  if (kept) for (const [off, len] of KEPT_BY_INIT) s.u8.set(kept.subarray(off, off + len), off);
  if (powerOn || !kept) s.set64(APIC_BASE, APIC_BASE_AP, 0); // not the BSP's: each APIC starts at the default base
  s.setU32(APIC_BASE, s.lo(APIC_BASE) & ~APIC_BASE_BSP);
  return s.snapshot();
}

/** The TSC a backend's vCPU reads now (its exported state record). */
export function tscOf(b: Backend): number {
  return new StateView(b.getState().buffer).num64(TSC);
}

/** A STARTUP IPI with vector VV: real mode at VV00:0000, i.e. physical VV000 (SDM 9.4.4.1); `kept` as for apResetState. */
export function sipiState(vector: number, kept?: CpuStateBytes): CpuStateBytes {
  const bytes = apResetState(kept);
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
