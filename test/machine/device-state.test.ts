// The whole board's devices saved in the middle of random guest traffic (ports,
// LAPIC/IOAPIC/HPET MMIO, interrupt acknowledges, host input, time passing) and
// loaded into a fresh board: from then on both boards answer every access the same.

import { describe, expect, it } from 'vitest';
import { StateMismatch, undeclaredFields } from '../../devices/state.js';
import { deviceEntries, loadDevices, saveDevices } from '../../machine/device-state.js';
import { Machine } from '../../machine/machine.js';
import { FakeClock } from '../devices/helpers.js';

const PORTS = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1, 0x40, 0x41, 0x42, 0x43, 0x61, 0x70, 0x71, 0x60, 0x64, 0x92,
  0x3f8, 0x3f9, 0x3fa, 0x3fb, 0x3fc, 0x3fd, 0x3fe, 0x3ff, 0x600, 0x601, 0x602, 0x603, 0x604, 0x605, 0x608, 0x609, 0x60a, 0x60b,
  0xcf8, 0xcfc, 0xcfd, 0xcfe, 0xcff, 0xcf9, 0xf0, 0x80];
/** MMIO registers worth poking: LAPIC (TPR, EOI, LDR, SVR, ESR, ICR, LVTs, timer), IOAPIC (index, data), HPET. */
const MMIO = [0xfee00080, 0xfee000b0, 0xfee000d0, 0xfee000f0, 0xfee00280, 0xfee00300, 0xfee00310, 0xfee00320, 0xfee00350,
  0xfee00360, 0xfee00370, 0xfee00380, 0xfee00390, 0xfee003e0, 0xfec00000, 0xfec00010,
  0xfed00000, 0xfed00010, 0xfed00020, 0xfed000f0, 0xfed00100, 0xfed00108, 0xfed00120, 0xfed00140];

function board(): { m: Machine; clock: FakeClock; serial: number[] } {
  const clock = new FakeClock();
  const serial: number[] = [];
  const m = new Machine({ memory: 16 << 20, accel: 'interp', clock, onSerial: (b) => serial.push(b) });
  return { m, clock, serial };
}

function step(b: ReturnType<typeof board>, r: number, r2: number, out: number[]): void {
  const { m, clock } = b;
  const k = (r >>> 24) % 100;
  if (k < 45) {
    const port = PORTS[r % PORTS.length];
    const size = port === 0xcf8 || port === 0x608 ? 4 : 1;
    if ((r >>> 8) & 1) out.push(m.bus.portRead(port, size));
    else m.bus.portWrite(port, size, port === 0xcf8 ? (0x80000000 | (r2 & 0x0000fffc)) >>> 0 : (r >>> 16) & 0xff);
  } else if (k < 75) {
    const addr = MMIO[r % MMIO.length];
    // Keep the IOAPIC index in range and leave the LAPIC enabled often enough to see interrupts.
    if ((r >>> 8) & 1) out.push(m.bus.mmioRead(addr, 4));
    else m.bus.mmioWrite(addr, 4, addr === 0xfec00000 ? 0x10 + (r2 % 48) : addr === 0xfee000f0 ? 0x100 | (r2 & 0xff) : r2);
  } else if (k < 85) clock.tick((r & 0xffff) * 100);
  else if (k < 90) out.push(m.timers.run());
  else if (k < 95 && m.devices.interrupts.hasInterrupt()) out.push(m.devices.interrupts.acknowledge());
  else if (k < 97) m.devices.uart.receive(r & 0xff);
  else m.devices.i8042.keyboardInput(r & 0xff);
  out.push(m.devices.interrupts.hasInterrupt() ? 1 : 0);
}

describe('board device state', () => {
  it('every device on the board declares every field it has', () => {
    const { m } = board();
    const entries = deviceEntries(m);
    expect(entries.map(([n]) => n)).toEqual(expect.arrayContaining(['bus', 'irq-router', 'pic-master', 'uart', 'pit', 'lapic/cpu0', 'lapic/apic-bus', 'ioapic', 'hpet', 'rtc', 'acpi-pm', 'i8042-data', 'port92', 'ferr', 'debug-exit', 'pci-config', 'pci-config/00.0', 'pci-config/01.0']));
    for (const [, dev] of entries) expect(undeclaredFields(dev)).toEqual([]);
    m.destroy();
  });

  it('saved mid-traffic into a fresh board -> same reads, interrupts, serial output and state afterwards', () => {
    let seed = 0xc0ffee;
    const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let round = 0; round < 3; round++) {
      const a = board();
      for (let i = 0; i < 4000; i++) step(a, rnd(), rnd(), []);
      const b = board();
      b.clock.t = a.clock.t;
      loadDevices(b.m, saveDevices(a.m));
      b.m.timers.next = a.m.timers.next;
      const serialBefore = a.serial.length;
      const outA: number[] = [], outB: number[] = [];
      for (let i = 0; i < 4000; i++) { const r = rnd(), r2 = rnd(); step(a, r, r2, outA); step(b, r, r2, outB); }
      expect(outB).toEqual(outA);
      expect(b.serial).toEqual(a.serial.slice(serialBefore));
      expect(saveDevices(b.m)).toEqual(saveDevices(a.m));
      a.m.destroy(); b.m.destroy();
    }
  });

  it('a blob of another layout or a device the board lacks -> StateMismatch, nothing loaded', () => {
    const a = board(), b = board();
    a.m.bus.portWrite(0x21, 1, 0x5a);
    const blobs = saveDevices(a.m);
    const before = saveDevices(b.m);
    const foreign = blobs.map((x) => (x.name === 'uart' ? { ...x, layout: x.layout + ',extra:u8' } : x));
    expect(() => loadDevices(b.m, foreign)).toThrow(/uart.*another version/);
    expect(() => loadDevices(b.m, [...blobs, { name: 'virtio-9p', layout: '', bytes: new Uint8Array() }])).toThrow(StateMismatch);
    expect(() => loadDevices(b.m, blobs.slice(1))).toThrow(/no state for device "bus"/);
    expect(saveDevices(b.m)).toEqual(before);
  });
});
