// Processor topology as CPUID and the APIC IDs show it (Intel SDM Vol. 3A 9.9,
// "Identifying the topology of logical processors"): an APIC ID is the fields
// package | core | SMT thread, each as wide as its count needs (rounded up to a power
// of two), so -smp sockets=2,cores=3 numbers core 2 of package 1 as 0b1_10.

import type { CpuTopology } from '../contracts/backend.js';

export type { CpuTopology, VcpuTopology } from '../contracts/backend.js';

/** Bits a field of `n` values takes in an APIC ID. */
export function fieldBits(n: number): number {
  let bits = 0;
  while ((1 << bits) < n) bits++;
  return bits;
}

/** Where vCPU `index` sits: vCPUs fill threads, then cores, then packages (sockets). */
export function placeOf(index: number, t: CpuTopology): { socket: number; core: number; thread: number } {
  return { socket: Math.floor(index / (t.threads * t.cores)), core: Math.floor(index / t.threads) % t.cores, thread: index % t.threads };
}

/** The APIC ID of vCPU `index`. */
export function apicIdOf(index: number, t: CpuTopology): number {
  const threadBits = fieldBits(t.threads), coreBits = fieldBits(t.cores);
  const { socket, core, thread } = placeOf(index, t);
  return (socket << (threadBits + coreBits)) | (core << threadBits) | thread;
}

/** A single-core, single-thread package per vCPU: APIC ID = index (boards that give no topology). */
export const FLAT_TOPOLOGY: CpuTopology = { threads: 1, cores: 1 };
