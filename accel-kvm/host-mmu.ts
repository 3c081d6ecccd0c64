// Which memory virtualization the host's KVM uses, from its module parameters:
// kvm_intel's `ept` (Y/N) and kvm_amd's `npt` (1/0 or Y/N); without them the MMU
// shadows the guest's page tables. kvm_pvm (a KVM for hosts that are themselves
// guests, without VT-x/AMD-V) always shadows. The KVM backend's counters name it
// as `hostMmu.<ept|npt|shadow|unknown>: 1`, beside emu's own --mmu models.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type HostMmu = 'ept' | 'npt' | 'shadow' | 'unknown';

const on = (text: string): boolean => /^(y|1)/i.test(text.trim());

/** Read /sys/module (or `root`) and say which model the host's KVM uses. */
export function hostMmu(root = '/sys/module'): HostMmu {
  const param = (mod: string, name: string): string | null => {
    const p = join(root, mod, 'parameters', name);
    try { return existsSync(p) ? readFileSync(p, 'utf8') : null; } catch { return null; }
  };
  const ept = param('kvm_intel', 'ept');
  if (ept !== null) return on(ept) ? 'ept' : 'shadow';
  const npt = param('kvm_amd', 'npt');
  if (npt !== null) return on(npt) ? 'npt' : 'shadow';
  if (existsSync(join(root, 'kvm_pvm'))) return 'shadow';
  return 'unknown';
}
