// tinyos booted in emu's machine: commands typed on the serial console (COM1)
// as a user would, and each command's output checked.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendName } from '../contracts/backend.js';
import { availableBackends } from '../machine/backends.js';
import { bootRecipe } from '../machine/boot.js';
import { Machine } from '../machine/machine.js';

const IMAGE = 'guests/tinyos/tinyos.elf';
const PROMPT = 'tinyos> ';
const RAM = 64 << 20;
const STEP_MS = 60_000;
/** Backends this file boots tinyos on (the KVM engineer adds 'kvm' where /dev/kvm is usable). */
const WANTED: BackendName[] = ['interp', 'jit'];

const ready = availableBackends();
for (const b of WANTED) if (!ready.includes(b)) console.log(`test/tinyos.test.ts: ${b} skipped: backend not available in this build`);

/**
 * The guest's serial console. The machine is stepped synchronously (runSteps) and,
 * with instruction-derived time, a run is the same every time: input arrives at the
 * same instruction because it is typed only when the prompt has been printed.
 */
class Console {
  out = '';
  private seen = 0;

  constructor(readonly machine: Machine) {}

  /** Runs the guest until it prints `text`; returns what it printed since the last wait, before `text`. */
  waitFor(text: string, timeoutMs = STEP_MS): string {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const at = this.out.indexOf(text, this.seen);
      if (at >= 0) {
        const got = this.out.slice(this.seen, at);
        this.seen = at + text.length;
        return got.replace(/\r/g, '');
      }
      const exit = this.machine.exited;
      if (exit || Date.now() > end) {
        const why = exit ? `the machine exited (${exit.reason})` : `${timeoutMs} ms passed`;
        throw new Error(`waiting for ${JSON.stringify(text)}: ${why}; console tail:\n${this.out.slice(-1500)}`);
      }
      this.machine.runSteps(1);
    }
  }

  /** Types a command line and returns its output (the echo removed), once the prompt is back. */
  command(line: string): string {
    this.machine.serialInput(Buffer.from(`${line}\r`, 'latin1'));
    const got = this.waitFor(PROMPT);
    expect(got.startsWith(`${line}\n`), `echo of ${JSON.stringify(line)} in:\n${got}`).toBe(true);
    return got.slice(line.length + 1);
  }
}

/** A fresh machine with tinyos loaded (not yet run) and its console. */
function bootTinyos(accel: BackendName): { machine: Machine; con: Console } {
  let con: Console | null = null;
  const machine = new Machine({
    memory: RAM, accel, noReboot: true, deterministic: accel !== 'kvm', jit: { threshold: 2, batch: 4, all: true },
    onSerial: (b) => { con!.out += String.fromCharCode(b); },
  });
  con = new Console(machine);
  machine.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync(IMAGE) } }));
  return { machine, con };
}

/** Runs the guest until the machine stops (poweroff, reset with noReboot) or the time is up. */
function runUntilExit(machine: Machine): void {
  const end = Date.now() + STEP_MS;
  while (!machine.exited && Date.now() < end) machine.runSteps(1);
}

for (const accel of WANTED) describe.skipIf(!ready.includes(accel))(`tinyos on ${accel}`, () => {
  let machine: Machine;
  let con: Console;

  beforeAll(() => {
    ({ machine, con } = bootTinyos(accel));
  });

  afterAll(() => machine.destroy());

  it('boots from the multiboot loader into long mode and prints its banner and the prompt', () => {
    const banner = con.waitFor(PROMPT);
    expect(banner).toContain('tinyos 1.0: a small 64-bit teaching OS');
    expect(banner).toMatch(/cpu: long mode, 4-level paging/);
    expect(banner).toMatch(/timer: (8254 PIT channel 0|local APIC timer)/);
    expect(banner).toMatch(/tsc: \d+\.\d{3} MHz/);
  }, STEP_MS);

  it('help lists every command', () => {
    const out = con.command('help');
    for (const c of ['help', 'info', 'bench', 'pf', 'aspace', 'user', 'io', 'ticks', 'fault', 'poweroff', 'reboot']) {
      expect(out).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
  }, STEP_MS);

  it('line editing: Ctrl-U erases the line and Backspace a character before Enter runs it', () => {
    machine.serialInput(Buffer.from('pf oops\x15hepl\x7f\x7flp\r', 'latin1'));
    const out = con.waitFor(PROMPT);
    expect(out).toContain('\b \b'.repeat(7)); // Ctrl-U rubs out the 7 characters of "pf oops"
    expect(out).toMatch(/^commands:$/m); // what ran was "help"
    expect(out).not.toContain('unknown command');
    expect(out).not.toContain('pf: writing');
  }, STEP_MS);

  it('info reports the CPUID vendor and flags, long mode at CPL 0, the multiboot memory map and the TSC', () => {
    const out = con.command('info');
    expect(out).toMatch(/^cpu: vendor \w{12}, max leaf 0x[0-9a-f]+/m);
    expect(out).toMatch(/^ {2}ext:EDX .*\blm\b/m);
    expect(out).toMatch(/^mode: 64-bit long mode, CPL 0, CS 0x8; paging 4-level$/m);
    expect(out).toMatch(/^ {2}0x0000000000100000-0x[0-9a-f]{16} +\d+ KiB {2}available$/m);
    expect(out).toMatch(/^tsc: \d+\.\d{3} MHz/m);
  }, STEP_MS);

  it('pf: a write to an unmapped page raises #PF with CR2 and error code 2; the handler maps it and the write completes', () => {
    const out = con.command('pf');
    expect(out).toContain('pf: writing to 0x0000008000000000, which no page table maps yet');
    expect(out).toContain('*** #PF page fault (vector 14)');
    expect(out).toContain('CR2 0x0000008000000000  error code 0x2 (not present, write, kernel)');
    expect(out).toMatch(/handler: mapped page 0x0000008000000000 -> frame 0x[0-9a-f]+/);
    expect(out).toContain('pf: the write completed; read back 0x736f796e6974 (ok)');
  }, STEP_MS);

  it('aspace: 2 address spaces over 3 rounds: CR3 switches, PTE swaps with INVLPG and an unmap each; every page shows its frame', () => {
    const out = con.command('aspace 2 3');
    expect(out).toContain('aspace: 2 address spaces x 16 pages, 3 rounds: 6 CR3 loads, 192 page checks, 45 PTE swaps, 6 unmaps\n');
    expect(out).toMatch(/^aspace: every page showed the frame its PTE names \(checksum 0x[0-9a-f]+\)$/m);
    expect(con.command('aspace 9')).toContain('aspace: give the number of address spaces (1 to 8, default 4)');
  }, STEP_MS);

  it('user: the ring-3 program makes SYSCALLs that print and return, reads CPL 3, and exits back to ring 0', () => {
    const out = con.command('user');
    expect(out).toContain('entering ring 3: RIP 0x40000000000 RSP 0x40000004000 (CS 0x23, SS 0x1b)');
    expect(out).toContain('hello from ring 3, via SYSCALL');
    expect(out).toContain('syscall 2 getpid() -> 1');
    expect(out).toContain('user code reads CS: CPL = 3');
    expect(out).toContain('back in ring 0: the user program exited with status 42 after 4 system calls');
  }, STEP_MS);

  it('user fault: HLT at CPL 3 is a #GP(0) that ends the program, not the OS', () => {
    const out = con.command('user fault');
    expect(out).toContain('*** user program killed by #GP (vector 13, general protection) in ring 3');
    expect(out).toContain('back in ring 0: the user program was stopped by an exception');
  }, STEP_MS);

  it('fault ud: a kernel #UD is reported with its RIP and the shell carries on', () => {
    const out = con.command('fault ud');
    expect(out).toMatch(/\*\*\* kernel exception #UD \(vector 6, invalid opcode\) in ring 0\n {4}error code 0x0\n {4}RIP 0x0000000000[0-9a-f]{6} {2}CS 0x8/);
    expect(out).toContain('command aborted; back to the shell');
  }, STEP_MS);

  it('fault df: a push onto an unmapped stack, whose #PF cannot be delivered there, is a #DF on the IST1 stack', () => {
    const out = con.command('fault df');
    expect(out).toContain('*** kernel exception #DF (vector 8, double fault) in ring 0');
    expect(out).toMatch(/RSP 0x0000700000001000 {2}SS 0x[0-9a-f]+\n {4}CR2 0x0000700000000ff8/);
    expect(out).toContain('command aborted; back to the shell');
  }, STEP_MS);

  it('ticks: about 100 timer interrupts in one second', () => {
    const out = con.command('ticks');
    const m = /^ticks: (\d+) timer interrupts in (\d+) ms by the TSC from the (PIT|local APIC timer) at 100 Hz/m.exec(out);
    expect(m).not.toBeNull();
    // instruction-derived time is exact; wall-clock time on a busy host coalesces a few ticks
    const slack = machine.options.deterministic ? 5 : 40;
    expect(Number(m![1])).toBeGreaterThanOrEqual(100 - slack);
    expect(Number(m![1])).toBeLessThanOrEqual(100 + slack);
  }, STEP_MS);

  it('io: 10,000 reads of the UART scratch register are timed against memory reads', () => {
    const out = con.command('io');
    expect(out).toMatch(/^io: 10000 reads of port 0x3ff \(16550 scratch register\) took \d+ TSC cycles: \d+\.\d cycles/m);
    expect(out).toMatch(/^io: 10000 reads of memory took \d+ TSC cycles/m);
  }, STEP_MS);

  it('bench 1: three loops, each with its instruction count, TSC cycles, and (when time passed) instructions per second', () => {
    const out = con.command('bench 1');
    expect(out).toContain('bench: 1000 iterations per loop, timed with the TSC\n');
    for (const [name, insns] of [['alu', 10000], ['mem', 7000], ['call', 4000]] as const) {
      const m = new RegExp(`^  ${name} +${insns} instructions in +(\\d+) TSC cycles(?: = \\d+ us, (\\d+\\.\\d) M instructions/s)?$`, 'm').exec(out);
      expect(m, `${name} line in:\n${out}`).not.toBeNull();
      // instructions per second = instructions * TSC rate / cycles, printed whenever the TSC moved
      if (Number(m![1]) > 0) expect(m![2]).toBeDefined();
    }
  }, STEP_MS);

  it('poweroff 7: the write to isa-debug-exit ends the machine with status (7 << 1) | 1 = 15', () => {
    machine.serialInput(Buffer.from('poweroff 7\r', 'latin1'));
    runUntilExit(machine);
    expect(con.out).toContain('poweroff: writing 7 to isa-debug-exit (port 0xf4): exit status 15');
    expect(machine.exited?.status).toBe(15);
  }, STEP_MS);
});

describe.skipIf(!ready.includes('interp'))('tinyos reboot on interp', () => {
  it('reboot: 0xFE to the i8042 pulses the reset line; with noReboot the machine stops (status 0)', () => {
    const { machine, con } = bootTinyos('interp');
    try {
      con.waitFor(PROMPT);
      machine.serialInput(Buffer.from('reboot\r', 'latin1'));
      runUntilExit(machine);
      expect(con.out).toContain('reboot: pulsing the reset line (0xFE to i8042 port 0x64)');
      expect(con.out).not.toContain('forcing a triple fault');
      expect(machine.exited?.status).toBe(0);
      expect(machine.exited?.reason).toMatch(/reset/);
    } finally {
      machine.destroy();
    }
  }, STEP_MS);
});
