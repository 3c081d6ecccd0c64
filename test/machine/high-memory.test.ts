// Guest RAM past 2 GiB (issue 18 item 1): physical addresses are unsigned 32-bit numbers,
// never results of 32-bit bitwise operators (which are signed): the TLB's physical pages
// (a Uint32Array, offsets added), the ACPI tables at the top of RAM, the bulk REP copy.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { createInterpreter } from '../../cpu/full.js';
import { CR3, RSP, StateView, gprOffset } from '../../cpu/state.js';
import { GuestMemory } from '../../mmu/memory.js';
import { hex } from '../cpu/harness.js';
import { spawn } from 'node:child_process';

describe('guest RAM above 2 GiB', () => {
  it('a 64-bit guest with 3 GiB stores, loads and REP MOVSBs across 2 GiB through the TLB fast paths', () => {
    const mem = new GuestMemory(3 * 2 ** 30);
    const b = createInterpreter({
      memory: mem, portRead: () => 0xff, portWrite: () => {}, now: () => 0, a20Enabled: () => true,
      interrupts: { hasInterrupt: () => false, acknowledge: () => 0 },
    });
    const s = new StateView(mem.buffer, mem.stateOffset);
    flatState(s, 64, 0x1000);
    // 0-4 GiB identity-mapped with 2 MiB pages (PML4 0x10000, PDPT 0x11000, four PDs from 0x12000).
    mem.write32(0x10000, 0x11007);
    for (let g = 0; g < 4; g++) {
      mem.write32(0x11000 + 8 * g, (0x12000 + 0x1000 * g) | 7);
      for (let i = 0; i < 512; i++) mem.write32(0x12000 + 0x1000 * g + 8 * i, ((g * 512 + i) * 0x200000 + 0xe7) >>> 0);
    }
    s.set64(CR3, 0x10000, 0);
    s.set64(gprOffset(RSP), 0xbfff0000, 0); // the stack near the top of RAM too
    // mov eax, 0x9abcdef0; mov edx, 0x80000000; mov [rdx], eax; mov ebx, [rdx]; mov ecx, 0xbffffffc; mov [rcx], ebx;
    // push rbx; pop rdx; mov esi, 0x7ffff000; mov edi, 0xa0000ffd; mov ecx, 0x3000; rep movsb; hlt
    mem.writeBytes(0x1000, hex('b8f0debc9a ba00000080 8902 8b1a b9fcffffbf 8919 53 5a' +
      'be00f0ff7f bffd0f00a0 b900300000 f3a4 f4'));
    for (let i = 0; i < 0x3000; i++) mem.write8(0x7ffff000 + i, i * 31);
    b.setState(s.snapshot());
    const exit = b.run(100_000);
    expect(b.cpu.lastEvent).toBeNull();
    expect(exit).toBe(EXIT_HALT);
    expect(b.counters().faults).toBe(0);
    expect(mem.read32(0x80000000) >>> 0).toBe(0x9abcdef0);
    expect(mem.read32(0xbffffffc) >>> 0).toBe(0x9abcdef0);
    expect(s.lo(gprOffset(2))).toBe(0x9abcdef0); // RDX, through the stack at 0xbffefff8
    // The source crosses 2 GiB, where the guest stored 0x9abcdef0 first.
    for (const i of [0, 0xfff, 0x2003, 0x2fff]) expect(mem.read8(0xa0000ffd + i)).toBe((i * 31) & 0xff);
    expect([0, 1, 2, 3].map((i) => mem.read8(0xa0001ffd + i))).toEqual([0xf0, 0xde, 0xbc, 0x9a]);
  });

  for (const size of ['3G', '2049M']) {
    it(`tinyos boots with -m ${size}: its memory map reaches the top of RAM, and poweroff works`, async () => {
      const r = await tinyos(['-m', size, '--accel=interp', '-nographic'], ['info', 'poweroff 3']);
      expect(r.out).not.toContain('emu:');
      expect(r.status).toBe(7);
      const top = size === '3G' ? 0xc0000000 : 2049 * 0x100000;
      expect(r.out.toLowerCase()).toContain(`-0x${(top - 1).toString(16).padStart(16, '0')}`); // the last available byte or ACPI table
    }, 120_000);
  }
});

/** Spawn bin/emu.js and type each command at a tinyos prompt; resolves with the exit status and output. */
function tinyos(args: string[], commands: string[]): Promise<{ status: number; out: string }> {
  const child = spawn(process.execPath, ['bin/emu.js', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let prompts = 0;
  const feed = (d: Buffer): void => {
    out += d;
    const seen = out.split('tinyos> ').length - 1;
    while (prompts < seen) { const c = commands[prompts++]; if (c !== undefined) child.stdin.write(`${c}\r`); }
  };
  child.stdout.on('data', feed);
  child.stderr.on('data', (d) => { out += d; });
  return new Promise((resolve) => child.on('exit', (code) => resolve({ status: code ?? -1, out })));
}
