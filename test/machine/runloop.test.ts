import { describe, expect, it } from 'vitest';
import { bootRecipe, Machine } from '../../machine/index.js';

/** A real-mode boot sector at 0x7C00 that spins forever with interrupts off: `cli; jmp $`. */
const SPIN = new Uint8Array([0xfa, 0xeb, 0xfe]);
/** Writes 'A' to COM1, then `out 0xf4, al` with AL = 2 (isa-debug-exit -> status 5). */
const HELLO = new Uint8Array([
  0xba, 0xf8, 0x03, // mov dx, 0x3f8
  0xb0, 0x41, // mov al, 'A'
  0xee, // out dx, al
  0xb0, 0x02, // mov al, 2
  0xe6, 0xf4, // out 0xf4, al
  0xf4, // hlt (not reached)
]);

function boot(code: Uint8Array, onSerial?: (b: number) => void): Machine {
  const m = new Machine({ memory: 4 << 20, accel: 'interp', onSerial });
  m.boot(bootRecipe({ raw: [{ file: { name: 'boot.bin', bytes: code }, addr: 0x7c00 }] }));
  return m;
}

describe('run loop', () => {
  it('guest writes to COM1 then isa-debug-exit 2 -> serial "A" and exit status 5', async () => {
    let out = '';
    const m = boot(HELLO, (b) => { out += String.fromCharCode(b); });
    const exit = await m.run();
    expect(out).toBe('A');
    expect(exit).toEqual({ status: 5, reason: 'isa-debug-exit: status 5' });
  });

  it('a byte typed while the guest spins with interrupts off reaches the UART within 50 ms', async () => {
    const m = boot(SPIN);
    const uart = m.devices.uart;
    const receive = uart.receive.bind(uart);
    let typedAt = 0, receivedAt = 0;
    uart.receive = (b: number) => { receivedAt = performance.now(); return receive(b); };
    const done = m.run();
    await new Promise((r) => setTimeout(r, 200)); // let the loop settle into spinning
    typedAt = performance.now();
    m.serialInput([0x61]);
    await new Promise((r) => setTimeout(r, 100));
    m.powerOff(0, 'test over');
    await done;
    expect(receivedAt).toBeGreaterThan(0);
    expect(receivedAt - typedAt).toBeLessThan(50);
    expect(m.instructions()).toBeGreaterThan(10_000); // it really was spinning
  });

  it('guest RESET through the i8042 (0xFE to port 0x64) reloads the guest; with -no-reboot it exits', async () => {
    // mov al, 0xfe; out 0x64, al; jmp $
    const code = new Uint8Array([0xb0, 0xfe, 0xe6, 0x64, 0xeb, 0xfe]);
    const m = new Machine({ memory: 4 << 20, accel: 'interp', noReboot: true });
    m.boot(bootRecipe({ raw: [{ file: { name: 'reset.bin', bytes: code }, addr: 0x7c00 }] }));
    const exit = await m.run();
    expect(exit.reason).toMatch(/reset .*-no-reboot/);
    const m2 = new Machine({ memory: 4 << 20, accel: 'interp' });
    m2.boot(bootRecipe({ raw: [{ file: { name: 'reset.bin', bytes: code }, addr: 0x7c00 }] }));
    m2.runSteps(20);
    expect(m2.stats.resets).toBeGreaterThan(0);
    m2.powerOff(0, 'done');
  });

  it('--deterministic: two runs retire the same instructions and see the same virtual time', () => {
    const runOnce = () => {
      const m = new Machine({ memory: 4 << 20, accel: 'interp', deterministic: true });
      m.boot(bootRecipe({ raw: [{ file: { name: 'spin.bin', bytes: SPIN }, addr: 0x7c00 }] }));
      m.runSteps(10);
      return [m.instructions(), m.clock.now()];
    };
    expect(runOnce()).toEqual(runOnce());
  });
});

describe('the reset button', () => {
  it('powers a machine that exited back on and runs the guest again from the start', async () => {
    let out = '';
    const m = boot(HELLO, (b) => { out += String.fromCharCode(b); });
    expect((await m.run()).status).toBe(5);
    m.reset();
    expect(m.exited).toBeNull();
    expect((await m.run()).status).toBe(5);
    expect(out).toBe('AA');
    expect(m.stats.resets).toBe(1);
  });
});
