// The host KVM's memory model, read from module parameters as /sys/module lays them out.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostMmu } from '../../accel-kvm/host-mmu.js';

const roots: string[] = [];
/** A fake /sys/module with the given module/parameters/name = value files (value null: the module, no parameter). */
function sysModule(files: Record<string, string | null>): string {
  const root = mkdtempSync(join(tmpdir(), 'emu-sysmod-'));
  roots.push(root);
  for (const [path, value] of Object.entries(files)) {
    const [mod, name] = path.split('/');
    mkdirSync(join(root, mod, 'parameters'), { recursive: true });
    if (value !== null) writeFileSync(join(root, mod, 'parameters', name), value);
  }
  return root;
}

afterEach(() => { for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true }); });

describe('host KVM memory model', () => {
  it('kvm_intel ept=Y is EPT, ept=N shadow paging', () => {
    expect(hostMmu(sysModule({ 'kvm_intel/ept': 'Y\n' }))).toBe('ept');
    expect(hostMmu(sysModule({ 'kvm_intel/ept': 'N\n' }))).toBe('shadow');
  });
  it('kvm_amd npt=1 (or Y) is NPT, npt=0 shadow paging', () => {
    expect(hostMmu(sysModule({ 'kvm_amd/npt': '1\n' }))).toBe('npt');
    expect(hostMmu(sysModule({ 'kvm_amd/npt': 'Y\n' }))).toBe('npt');
    expect(hostMmu(sysModule({ 'kvm_amd/npt': '0\n' }))).toBe('shadow');
  });
  it('kvm_pvm shadows; no KVM vendor module at all is unknown', () => {
    expect(hostMmu(sysModule({ 'kvm_pvm/x': null }))).toBe('shadow');
    expect(hostMmu(sysModule({ 'kvm/x': null }))).toBe('unknown');
  });
});
