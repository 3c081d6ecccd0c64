import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvmUnavailableReason } from '../../accel-kvm/addon.js';
import { emu } from './run-main.js';

const noKvm = kvmUnavailableReason();
if (noKvm) console.log(`test/cli/lockstep: KVM cases skipped: ${noKvm}`);

describe('emu --lockstep', () => {
  it('a pair without kvm is a usage error in one line', async () => {
    const r = await emu('--lockstep=interp,jit');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('emu: --lockstep=interp,jit: one side must be kvm (the reference CPU), e.g. --lockstep=kvm,interp\n');
  });

  it.skipIf(noKvm !== null)('kvm,interp over a real-mode loop: every instruction compared until the guest exits through isa-debug-exit', async () => {
    // mov cx, 0x400; l: inc ax; loop l; mov al, 1; out 0xf4, al
    const dir = mkdtempSync(join(tmpdir(), 'emu-lockstep-'));
    const f = join(dir, 'loop.bin');
    writeFileSync(f, Buffer.from([0xb9, 0x00, 0x04, 0x40, 0xe2, 0xfd, 0xb0, 0x01, 0xe6, 0xf4]));
    const r = await emu('--lockstep=kvm,interp', '-m', '4M', '-device', `loader,file=${f},addr=0x7c00`);
    expect(r.stderr).toMatch(/lockstep kvm,interp: 2051 instructions compared in [\d.]+ s, ended by the guest's exit \(isa-debug-exit: status 3\)/);
    expect(r.status).toBe(0);
  });
});
