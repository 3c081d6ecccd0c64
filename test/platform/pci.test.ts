// PCI configuration mechanism #1 driven the way Linux's direct.c probes it, the chipset
// functions the kernel's scan finds, and BARs sized and mapped the way pci_read_bases does it.
import { describe, expect, it } from 'vitest';
import { Bus } from '../../devices/bus.js';
import { IrqRouter } from '../../devices/irq-router.js';
import { createHostBridge, createIsaBridge } from '../../devices/pci-chipset.js';
import { CMD_INTX_DISABLE, CMD_IO, CMD_MEMORY, PciBus, PciFunction } from '../../devices/pci.js';

function setup() {
  const bus = new Bus();
  const pci = new PciBus(bus);
  bus.registerPorts('pci', 0xcf8, 8, pci);
  pci.add(0, 0, createHostBridge());
  const isa = createIsaBridge();
  pci.add(1, 0, isa.fn);
  const addr = (dev: number, fn: number, reg: number) => (0x80000000 | (dev << 11) | (fn << 8) | reg) >>> 0;
  const cfgRead = (dev: number, fn: number, reg: number, size: 1 | 2 | 4 = 4) => {
    bus.portWrite(0xcf8, 4, addr(dev, fn, reg & ~3));
    return bus.portRead(0xcfc + (reg & 3), size) >>> 0;
  };
  const cfgWrite = (dev: number, fn: number, reg: number, v: number, size: 1 | 2 | 4 = 4) => {
    bus.portWrite(0xcf8, 4, addr(dev, fn, reg & ~3));
    bus.portWrite(0xcfc + (reg & 3), size, v);
  };
  return { bus, pci, isa, cfgRead, cfgWrite };
}

describe('PCI configuration mechanism #1', () => {
  it('guest writes 0x80000000 to 0xCF8 and reads it back (the kernel\'s type-1 sanity check)', () => {
    const { bus } = setup();
    bus.portWrite(0xcf8, 4, 0x80000000);
    expect(bus.portRead(0xcf8, 4) >>> 0).toBe(0x80000000);
  });

  it('00:00.0 is an Intel 440FX host bridge, 00:01.0 a PIIX3 ISA bridge (multi-function)', () => {
    const { cfgRead } = setup();
    expect(cfgRead(0, 0, 0)).toBe(0x12378086);
    expect(cfgRead(0, 0, 8) >>> 8).toBe(0x060000);
    expect(cfgRead(1, 0, 0)).toBe(0x70008086);
    expect(cfgRead(1, 0, 8) >>> 8).toBe(0x060100);
    expect(cfgRead(1, 0, 0x0e, 1)).toBe(0x80);
  });

  it('byte and word reads at every offset of 0xCFC-0xCFF pick the right bytes', () => {
    const { cfgRead } = setup();
    expect(cfgRead(0, 0, 0, 1)).toBe(0x86);
    expect(cfgRead(0, 0, 1, 1)).toBe(0x80);
    expect(cfgRead(0, 0, 2, 2)).toBe(0x1237);
    expect(cfgRead(0, 0, 3, 1)).toBe(0x12);
  });

  it('absent devices, absent functions, other buses and a disabled address read all ones', () => {
    const { bus, cfgRead } = setup();
    expect(cfgRead(5, 0, 0)).toBe(0xffffffff);
    expect(cfgRead(0, 1, 0)).toBe(0xffffffff); // host bridge is single-function
    expect(cfgRead(1, 3, 0, 2)).toBe(0xffff);
    bus.portWrite(0xcf8, 4, 0x80010000); // bus 1
    expect(bus.portRead(0xcfc, 4) >>> 0).toBe(0xffffffff);
    bus.portWrite(0xcf8, 4, 0x00000000); // enable bit clear
    expect(bus.portRead(0xcfc, 2)).toBe(0xffff);
  });

  it('read-only IDs ignore writes; command register keeps only its writable bits', () => {
    const { cfgRead, cfgWrite } = setup();
    cfgWrite(0, 0, 0, 0xdeadbeef);
    expect(cfgRead(0, 0, 0)).toBe(0x12378086);
    cfgWrite(0, 0, 4, 0xffff, 2);
    expect(cfgRead(0, 0, 4, 2)).toBe(0x0507);
  });

  it('PIIX3 PIRQ routing registers read the BIOS defaults and tell the router of changes', () => {
    const { isa, cfgRead, cfgWrite } = setup();
    expect(cfgRead(1, 0, 0x60)).toBe(0x0b0b0a0a);
    let changes = 0;
    isa.onPirqChange = () => changes++;
    cfgWrite(1, 0, 0x61, 0x85, 1);
    expect(isa.pirqToIsa(1)).toBe(-1);
    cfgWrite(1, 0, 0x62, 0x05, 1);
    expect(isa.pirqToIsa(2)).toBe(5);
    expect(changes).toBe(2);
  });

  it('byte write of RST_CPU to 0xCF9 resets the machine', () => {
    const { bus, pci } = setup();
    let resets = 0;
    pci.onReset = () => resets++;
    bus.portWrite(0xcf9, 1, 0x02);
    expect(resets).toBe(0);
    bus.portWrite(0xcf9, 1, 0x06);
    expect(resets).toBe(1);
  });
});

describe('PCI devices with BARs', () => {
  function withDevice() {
    const s = setup();
    const log: string[] = [];
    const handler = {
      mmioRead: (off: number, size: number) => { log.push(`r${off}/${size}`); return 0x1234; },
      mmioWrite: (off: number, size: number, v: number) => { log.push(`w${off}/${size}=${v.toString(16)}`); },
    };
    const dev = new PciFunction({
      vendorId: 0x1af4, deviceId: 0x1000, classCode: 0x020000, interruptPin: 1,
      bars: [{ kind: 'io', size: 32, handler }, { kind: 'mem32', size: 4096, handler }, null, null, { kind: 'mem64', size: 0x4000, prefetchable: true, handler }],
    });
    s.pci.add(3, 0, dev);
    return { ...s, dev, log };
  }

  it('sizing: all ones written to each BAR reads back the size mask with the type bits', () => {
    const { cfgRead, cfgWrite } = withDevice();
    for (const reg of [0x10, 0x14, 0x20, 0x24]) cfgWrite(3, 0, reg, 0xffffffff);
    expect(cfgRead(3, 0, 0x10)).toBe(0xffffffe1);
    expect(cfgRead(3, 0, 0x14)).toBe(0xfffff000);
    expect(cfgRead(3, 0, 0x18)).toBe(0);
    expect(cfgRead(3, 0, 0x20)).toBe(0xffffc00c);
    expect(cfgRead(3, 0, 0x24)).toBe(0xffffffff);
  });

  it('programmed BARs decode only once the command register enables I/O and memory', () => {
    const { bus, cfgWrite, log } = withDevice();
    cfgWrite(3, 0, 0x10, 0xc040);
    cfgWrite(3, 0, 0x14, 0xfebf0000);
    cfgWrite(3, 0, 0x20, 0xfe000000);
    cfgWrite(3, 0, 0x24, 0);
    expect(bus.portRead(0xc044, 2)).toBe(0xffff);
    cfgWrite(3, 0, 4, CMD_IO | CMD_MEMORY, 2);
    expect(bus.portRead(0xc044, 2)).toBe(0x1234);
    bus.mmioWrite(0xfebf0010, 4, 0xab);
    bus.mmioRead(0xfe000008, 4);
    expect(log).toEqual(['r4/2', 'w16/4=ab', 'r8/4']);
    // Moving a BAR moves the mapping.
    cfgWrite(3, 0, 0x14, 0xfebe0000);
    expect(bus.isMmio(0xfebf0010)).toBe(false);
    expect(bus.isMmio(0xfebe0010)).toBe(true);
  });

  it('a BAR placed over another device stays unmapped instead of crashing the emulator', () => {
    const { bus, dev, cfgWrite } = withDevice();
    bus.registerPorts('uart', 0x3f8, 8, { portRead: () => 0, portWrite: () => {} });
    cfgWrite(3, 0, 0x10, 0x3e0);
    cfgWrite(3, 0, 4, CMD_IO, 2);
    expect(dev.conflicts).toBe(1);
  });

  it('INTA# of slot 3 asserts GSI 19 (swizzle), unless Interrupt Disable is set', () => {
    const { bus, dev, cfgRead, cfgWrite } = withDevice();
    const seen: string[] = [];
    bus.connectIrqs(new IrqRouter(null, { setIrq: (l, v) => seen.push(`${l}:${v ? 1 : 0}`) }));
    expect(dev.gsi).toBe(19);
    dev.setIntx(true);
    expect(cfgRead(3, 0, 6, 2) & 8).toBe(8);
    cfgWrite(3, 0, 4, CMD_INTX_DISABLE, 2);
    dev.setIntx(false);
    expect(seen).toEqual(['19:1', '19:0']);
  });

  it('capabilities are chained from 0x34 and flagged in the status register', () => {
    const { dev, cfgRead } = withDevice();
    const a = dev.addCapability(0x09, new Uint8Array([14, 1, 2]));
    const b = dev.addCapability(0x09, new Uint8Array([14, 3]));
    expect(cfgRead(3, 0, 0x34, 1)).toBe(a);
    expect(cfgRead(3, 0, a, 2)).toBe((b << 8) | 0x09);
    expect(cfgRead(3, 0, b + 1, 1)).toBe(0);
    expect(cfgRead(3, 0, 6, 2) & 0x10).toBe(0x10);
  });
});

describe('PCI reset', () => {
  it('machine reset restores power-on configuration and unmaps BARs; the BIOS PIRQ routes come back', () => {
    const { bus, pci, cfgRead, cfgWrite } = setup();
    const handler = { mmioRead: () => 0x55, mmioWrite: () => {} };
    pci.add(4, 0, new PciFunction({ vendorId: 0x1af4, deviceId: 0x1001, classCode: 0x010000, bars: [{ kind: 'io', size: 64, handler }] }));
    cfgWrite(4, 0, 0x10, 0xc100);
    cfgWrite(4, 0, 4, CMD_IO, 2);
    cfgWrite(1, 0, 0x60, 0x80, 1);
    expect(bus.portRead(0xc100, 1)).toBe(0x55);
    pci.reset();
    expect(bus.portRead(0xc100, 1)).toBe(0xff);
    expect(cfgRead(4, 0, 0x10)).toBe(1);
    expect(cfgRead(4, 0, 4, 2)).toBe(0);
    expect(cfgRead(1, 0, 0x60, 1)).toBe(10);
  });
});
