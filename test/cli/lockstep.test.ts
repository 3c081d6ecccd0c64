import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvmUnavailableReason } from '../../accel-kvm/addon.js';
import { emu, emuTyping } from './run-main.js';

const noKvm = kvmUnavailableReason();
if (noKvm) console.log(`test/cli/lockstep: KVM cases skipped: ${noKvm}`);

describe('emu --lockstep', () => {
  it('kvm,kvm is a usage error in one line', async () => {
    const r = await emu('--lockstep=kvm,kvm');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('emu: --lockstep needs two backends, e.g. --lockstep=kvm,interp or --lockstep=interp,jit\n');
  });

  it('interp,interp over a real-mode loop: two boards compared every 100 instructions until the guest exits through isa-debug-exit', async () => {
    // mov cx, 0x400; l: inc ax; loop l; mov al, 1; out 0xf4, al
    const dir = mkdtempSync(join(tmpdir(), 'emu-lockstep-'));
    const f = join(dir, 'loop.bin');
    writeFileSync(f, Buffer.from([0xb9, 0x00, 0x04, 0x40, 0xe2, 0xfd, 0xb0, 0x01, 0xe6, 0xf4]));
    const r = await emu('--lockstep=interp,interp', '--lockstep-every=100', '-m', '4M', '-device', `loader,file=${f},addr=0x7c00`);
    expect(r.stderr).toMatch(/lockstep interp,interp: 2\d{3} instructions compared in [\d.]+ s \(2\d comparisons\), ended by the guest's exit \(isa-debug-exit: status 3\)/);
    expect(r.status).toBe(0);
  });

  it('--lockstep-max ends a run after that many instructions (the real-mode loop would exit after ~2000)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-lockstep-'));
    const f = join(dir, 'loop.bin');
    writeFileSync(f, Buffer.from([0xb9, 0x00, 0x04, 0x40, 0xe2, 0xfd, 0xb0, 0x01, 0xe6, 0xf4]));
    const r = await emu('--lockstep=interp,jit', '--lockstep-every=100', '--lockstep-max=1000', '-m', '4M', '-device', `loader,file=${f},addr=0x7c00`);
    expect(r.stderr).toMatch(/lockstep interp,jit: 1000 instructions compared in [\d.]+ s \(10 comparisons\), ended by max-instructions/);
    expect(r.status).toBe(0);
  });

  it('interp:direct,interp:nested: tinyos runs "aspace 2 1" on a direct and a nested board compared every 50,000 instructions, no divergence', async () => {
    const r = await emuTyping('aspace 2 1\rpoweroff 1\r', '--lockstep=interp:direct,interp:nested', '--lockstep-every=50000', '-m', '64M', '-kernel', 'guests/tinyos/tinyos.elf');
    expect(r.stdout).toContain('aspace: every page showed the frame its PTE names');
    expect(r.stdout).toContain('poweroff: writing 1 to isa-debug-exit');
    expect(r.stderr).toMatch(/lockstep interp:direct,interp:nested: \d{6,7} instructions compared in [\d.]+ s \(\d+ comparisons\), ended by /);
    expect(r.stderr).not.toContain('divergence');
    expect(r.status).toBe(0);
  }, 120_000);

  it.skipIf(noKvm !== null)('kvm,interp over a real-mode loop: every instruction compared until the guest exits through isa-debug-exit', async () => {
    // mov cx, 0x400; l: inc ax; loop l; mov al, 1; out 0xf4, al
    const dir = mkdtempSync(join(tmpdir(), 'emu-lockstep-'));
    const f = join(dir, 'loop.bin');
    writeFileSync(f, Buffer.from([0xb9, 0x00, 0x04, 0x40, 0xe2, 0xfd, 0xb0, 0x01, 0xe6, 0xf4]));
    const r = await emu('--lockstep=kvm,interp', '-m', '4M', '-device', `loader,file=${f},addr=0x7c00`);
    expect(r.stderr).toMatch(/lockstep kvm,interp: 2051 instructions compared in [\d.]+ s, ended by the guest's exit \(isa-debug-exit: status 3\)/);
    expect(r.status).toBe(0);
  });

  it.skipIf(noKvm !== null)('kvm,interp with console input: typed bytes reach both boards\' UARTs at the same instruction; the guest echoes them', async () => {
    // a real-mode echo loop: poll LSR, read RBR, 'q' leaves through isa-debug-exit, else send it back plus one
    const dir = mkdtempSync(join(tmpdir(), 'emu-lockstep-'));
    const f = join(dir, 'echo.bin');
    writeFileSync(f, Buffer.from([
      0xba, 0xfd, 0x03, 0xec, 0xa8, 0x01, 0x74, 0xf8, //  wait: mov dx, 0x3fd; in al, dx; test al, 1; jz wait
      0xba, 0xf8, 0x03, 0xec, 0x3c, 0x71, 0x74, 0x04, //  mov dx, 0x3f8; in al, dx; cmp al, 'q'; je done
      0x40, 0xee, 0xeb, 0xec, //                          inc ax; out dx, al; jmp wait
      0xe6, 0xf4, //                                      done: out 0xf4, al
    ]));
    const r = await emuTyping('abcq', '--lockstep=kvm,interp', '-m', '4M', '-device', `loader,file=${f},addr=0x7c00`);
    expect(r.stdout).toBe('bcd');
    expect(r.stderr).toMatch(/lockstep kvm,interp: \d+ instructions compared in [\d.]+ s, ended by the guest's exit \(isa-debug-exit: status 227\)/);
    expect(r.status).toBe(0);
  });

  it.skipIf(noKvm !== null)('kvm,interp: Ctrl-A x stops the run with its summary, status 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-lockstep-'));
    const f = join(dir, 'spin.bin');
    writeFileSync(f, Buffer.from([0x40, 0xeb, 0xfd])); // l: inc ax; jmp l
    const r = await emuTyping('\x01x', '--lockstep=kvm,interp', '-m', '4M', '-device', `loader,file=${f},addr=0x7c00`);
    expect(r.stderr).toMatch(/lockstep kvm,interp: \d+ instructions compared in [\d.]+ s, ended by quit from the console \(Ctrl-A x\)/);
    expect(r.status).toBe(0);
  });
});
