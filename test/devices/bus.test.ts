import { describe, expect, it } from 'vitest';
import { Bus, type IrqSink, type MmioDevice, type PortDevice } from '../../devices/bus.js';
import { GuestMemory } from '../../mmu/memory.js';

/** A device that records every access and answers reads with a fixed pattern. */
function recorder(answer: number): PortDevice & MmioDevice & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    portRead: (port, size) => { log.push(`in ${port.toString(16)}/${size}`); return answer; },
    portWrite: (port, size, v) => { log.push(`out ${port.toString(16)}/${size}=${v.toString(16)}`); },
    mmioRead: (off, size) => { log.push(`rd +${off.toString(16)}/${size}`); return answer; },
    mmioWrite: (off, size, v) => { log.push(`wr +${off.toString(16)}/${size}=${v.toString(16)}`); },
  };
}

describe('bus', () => {
  it('port I/O goes to the device owning the port, with the absolute port number', () => {
    const bus = new Bus();
    const com1 = recorder(0x60);
    bus.registerPorts('com1', 0x3f8, 8, com1);
    bus.portWrite(0x3f8, 1, 0x41);
    expect(bus.portRead(0x3fd, 1)).toBe(0x60);
    expect(com1.log).toEqual(['out 3f8/1=41', 'in 3fd/1']);
    expect(bus.stats().find((r) => r.name === 'com1')).toMatchObject({ reads: 1, writes: 1 });
  });

  it('a guest probing an unassigned port reads all ones for its width; writes vanish and are counted', () => {
    const bus = new Bus();
    expect(bus.portRead(0x2f8, 1)).toBe(0xff);
    expect(bus.portRead(0x2f8, 2)).toBe(0xffff);
    expect(bus.portRead(0x2f8, 4)).toBe(0xffffffff);
    bus.portWrite(0x2f8, 1, 0);
    expect([bus.unassignedReads, bus.unassignedWrites]).toEqual([3, 1]);
  });

  it('overlapping registrations are refused with both names', () => {
    const bus = new Bus();
    bus.registerPorts('pit', 0x40, 4, recorder(0));
    expect(() => bus.registerPorts('other', 0x43, 2, recorder(0))).toThrow('other: port 0x43 already belongs to pit');
    bus.registerMmio('lapic', 0xfee00000, 0x1000, recorder(0));
    expect(() => bus.registerMmio('hpet', 0xfee00800, 0x400, recorder(0))).toThrow(/overlaps lapic/);
  });

  it('MMIO past RAM is dispatched with the offset inside the mapping; unmapped MMIO reads all ones', () => {
    const bus = new Bus();
    const mem = new GuestMemory(2 << 20);
    mem.mmio = bus;
    const ioapic = recorder(0x11);
    bus.registerMmio('ioapic', 0xfec00000, 0x1000, ioapic);
    mem.write32(0xfec00010, 0x12345678);
    expect(mem.read32(0xfec00000)).toBe(0x11);
    expect(ioapic.log).toEqual(['wr +10/4=12345678', 'rd +0/4']);
    expect(mem.read32(0xd0000000) >>> 0).toBe(0xffffffff);
    expect(bus.isMmio(0xfec00fff)).toBe(true);
    expect(bus.isMmio(0xfec01000)).toBe(false);
  });

  it('IRQ lines: only level changes reach the controller; pulse is an edge; a late controller sees lines already high', () => {
    const bus = new Bus();
    const seen: string[] = [];
    const pic: IrqSink = { setIrq: (line, level) => seen.push(`${line}:${level ? 1 : 0}`) };
    bus.raiseIrq(4); // before any controller is connected
    bus.connectIrqs(pic);
    expect(seen).toEqual(['4:1']);
    bus.raiseIrq(4); // no change
    bus.lowerIrq(4);
    bus.pulseIrq(0);
    expect(seen).toEqual(['4:1', '4:0', '0:1', '0:0']);
    expect(bus.irqLevelOf(0)).toBe(false);
  });
});
