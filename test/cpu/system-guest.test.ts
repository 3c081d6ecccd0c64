// The 64-bit multiboot test guest (system-guest64.S) on the interpreter and the
// real PC: long mode with 4-level paging, #UD, #GP, #PF (CR2 and error codes),
// PIT timer interrupts through the 8259, INT 0x80 and SYSCALL from ring 3;
// the guest reports in a text buffer in its memory.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { buildElf, buildFlat, hasToolchain } from './system-build.js';


/** Where the guest keeps its report (NUL-terminated text lines). */
const REPORT = 0x7000;

/** Boot the image and run until the guest reports DONE (or stops); returns the report text. */
function runGuest(image: Uint8Array, accel: 'interp' | 'jit', maxSteps = 4000): { text: string; machine: Machine } {
  const machine = new Machine({ memory: 16 << 20, accel, deterministic: true, noReboot: true, jit: JIT_EAGER });
  machine.boot(bootRecipe({ kernel: { name: 'system-guest64', bytes: image } }));
  const report = (): string => machine.memory.readCString(REPORT);
  for (let i = 0; i < maxSteps && !report().includes('DONE') && !machine.exited; i++) machine.runSteps(1);
  return { text: report(), machine };
}

/** Under jit, compile every block at its second dispatch, a few to a module. */
const JIT_EAGER = { threshold: 2, batch: 4, all: true };

for (const accel of ['interp', 'jit'] as const) describe.skipIf(!hasToolchain())(`the cpu-system multiboot test guest (${accel})`, () => {
  const image = buildElf(readFileSync(new URL('./system-guest64.S', import.meta.url), 'utf8'), 0x100000);
  const { text, machine } = runGuest(image, accel);
  const lines = text.split('\n');

  it('guest enters long mode from multiboot through 4-level paging', () => {
    expect(lines[0]).toBe('LONG');
    expect(machine.exited).toBeNull();
  });

  it('guest executes UD2 -> #UD handler runs once and returns past it', () => {
    expect(lines).toContain('UD 1');
  });

  it('guest loads a selector past the GDT limit into DS -> #GP with the selector as error code', () => {
    expect(lines).toContain('GP 1234');
  });

  it('the #UD and #GP handlers run exactly once each (they log every trap)', () => {
    const traps = lines.filter((l) => l.startsWith('#'));
    expect(traps.length).toBe(2);
    expect(traps[0]).toMatch(/^#UD at [0-9a-f]+$/);
    expect(traps[1]).toMatch(/^#GP at [0-9a-f]+ 1234$/);
  });

  it('guest reads an unmapped page -> #PF, CR2 = address, error code 0; the handler maps it and the read retries', () => {
    expect(lines).toContain('PF 400008 0 1234abcd');
  });

  it('guest writes a read-only page with CR0.WP -> #PF error code P|W, retried after the fix', () => {
    expect(lines).toContain('PF 800010 3 55');
  });

  it('guest calls into an execute-disable page -> #PF error code P|I/D, retried after the fix', () => {
    expect(lines).toContain('PF a00000 11');
  });

  it('PIT channel 0 through the 8259 wakes HLT with IRQ0 at vector 0x20, three times', () => {
    expect(lines).toContain('TIMER');
  });

  it('ring 3 INT 0x80 through a DPL-3 gate switches to the TSS RSP0 stack and pushes the user CS/SS', () => {
    expect(lines).toContain('INT80 2b 23 1');
  });

  it('ring 3 SYSCALL enters LSTAR at CS 0x08 and SYSRET returns 43 to CS 0x2b', () => {
    // sys_result = 42 + 1 (hex 2b), kernel CS 8, user CS after SYSRET 0x2b.
    expect(lines).toContain('SYSCALL 2b 8 2b');
  });

  it('guest reports DONE', () => {
    expect(text.endsWith('DONE\n')).toBe(true);
  });
});

for (const accel of ['interp', 'jit'] as const) describe.skipIf(!hasToolchain())(`the real-mode boot guest (${accel})`, () => {
  const image = buildFlat(readFileSync(new URL('./system-boot16.S', import.meta.url), 'utf8'), 0x7c00);
  const machine = new Machine({ memory: 16 << 20, accel, deterministic: true, noReboot: true, jit: JIT_EAGER });
  machine.boot(bootRecipe({ raw: [{ file: { name: 'system-boot16', bytes: image }, addr: 0x7c00 }] }));
  const report = (): string => machine.memory.readCString(0x6000);
  for (let i = 0; i < 200 && !report().includes('LONG64') && !machine.exited; i++) machine.runSteps(1);
  const lines = report().split('\n');

  it('INT 0x30 in real mode runs the IVT handler and IRET returns', () => {
    expect(lines.slice(0, 2)).toEqual(['INT30', 'REAL']);
  });

  // emu does not enforce data-segment limits, so this checks the real-mode reload of DS
  // (base 0, cached descriptor kept) and a 32-bit address from 16-bit code.
  it('after a protected-mode detour, real-mode DS reaches 2 MiB with an addr32 store (unreal mode)', () => {
    expect(lines[2]).toBe('UNREAL');
    expect(machine.memory.read32(0x200000) >>> 0).toBe(0x600dcafe);
  });

  it('real -> protected -> compatibility -> 64-bit mode', () => {
    expect(lines.slice(3, 6)).toEqual(['PM32', 'COMPAT', 'LONG64']);
  });
});
