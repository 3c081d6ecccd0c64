// The memory model's counters of a machine with several vCPUs. Each vCPU's backend reports
// its own model's counters (its TLB misses, walks and references; under shadow its own
// shadows, traps and CR3 loads), but the nested model's second-level table is one per
// memory, shared by every vCPU (mmu/nested.ts), so its counters are the VM's. Ctrl-A s and
// the web panel show the sums over the vCPUs under the usual keys and each vCPU's share
// under `vcpuN.<key>`.
import { MMU_MODELS } from './model.js';

/** Counters of the shared second-level table: every vCPU reports the same figure, counted once. */
const VM_WIDE = new Set(['eptRefs', 'eptViolations', 'eptMmioExits', 'eptPages', 'eptLeaves4k', 'eptLeaves2m', 'refsSavedBy2m']);

/** `<model>.<name>` -> name, or null for a key that is not a memory model's. */
function modelKey(key: string): string | null {
  const dot = key.indexOf('.');
  return dot > 0 && (MMU_MODELS as readonly string[]).includes(key.slice(0, dot)) ? key.slice(dot + 1) : null;
}

/** A per-vCPU figure worth a row of its own (not a VM-wide one, not a histogram bucket). */
function perVcpuKey(name: string): boolean {
  return !VM_WIDE.has(name) && !name.startsWith('walksWith');
}

export interface VcpuModelCounters {
  /** vCPU 0's counters with each model counter replaced by its sum over the vCPUs (VM-wide ones once). */
  totals: Record<string, number>;
  /** Each vCPU's own model counters (no VM-wide ones, no histogram), in vCPU order; empty for one vCPU. */
  perVcpu: Record<string, number>[];
}

/** Combine the backends' counters, vCPU 0 first. */
export function combineVcpuCounters(all: Record<string, number>[]): VcpuModelCounters {
  const totals: Record<string, number> = { ...all[0] };
  if (all.length < 2) return { totals, perVcpu: [] };
  const perVcpu = all.map(() => ({} as Record<string, number>));
  for (const key of Object.keys(totals)) {
    const name = modelKey(key);
    if (name === null || VM_WIDE.has(name)) continue;
    let sum = 0;
    all.forEach((c, i) => {
      const v = c[key] ?? 0;
      sum += v;
      if (perVcpuKey(name)) perVcpu[i][key] = v;
    });
    totals[key] = sum;
  }
  for (const key of Object.keys(totals)) { // an average is not a sum: refs over walks of the whole machine
    if (!key.endsWith('.refsPerWalk')) continue;
    const model = key.slice(0, key.indexOf('.')), walks = totals[`${model}.walks`] ?? 0;
    totals[key] = walks === 0 ? 0 : Math.round(((totals[`${model}.refs`] ?? 0) / walks) * 100) / 100;
  }
  return { totals, perVcpu };
}

/** The combined counters as one flat record: the totals, then `vcpuN.<key>` for each vCPU's share. */
export function flatVcpuCounters(all: Record<string, number>[]): Record<string, number> {
  const { totals, perVcpu } = combineVcpuCounters(all);
  const out = { ...totals };
  perVcpu.forEach((c, i) => { for (const [k, v] of Object.entries(c)) out[`vcpu${i}.${k}`] = v; });
  return out;
}
