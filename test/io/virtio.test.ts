// virtio-pci and its devices driven as Linux's virtio_pci_modern / virtio_blk /
// virtio_rng / virtio_console drive them, through configuration space and BAR4.

import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../devices/block.js';
import { BLK_F_FLUSH, BLK_S_IOERR, BLK_S_OK, BLK_S_UNSUPP, BLK_T_FLUSH, BLK_T_GET_ID, BLK_T_IN, BLK_T_OUT, VirtioBlk } from '../../devices/virtio-blk.js';
import { VirtioConsole } from '../../devices/virtio-console.js';
import { CAP_COMMON_CFG, CAP_DEVICE_CFG, CAP_ISR_CFG, CAP_NOTIFY_CFG, F_RING_EVENT_IDX, STATUS_FEATURES_OK, STATUS_NEEDS_RESET } from '../../devices/virtio-pci.js';
import { VirtioRng } from '../../devices/virtio-rng.js';
import { GuestMemory } from '../../mmu/memory.js';
import { TestVirtioDriver } from './virtio-driver.js';

const REQ = 0x200000, DATA = 0x210000, STATUS = 0x220000;

function blkSetup(sectors = 64, readOnly = false) {
  const mem = new GuestMemory(4 << 20);
  const image = new Uint8Array(sectors * 512);
  for (let i = 0; i < image.length; i++) image[i] = (i * 7 + (i >> 9)) & 0xff;
  const disk = new MemoryDisk(image, readOnly);
  const blk = new VirtioBlk(mem, disk);
  blk.transport.pci.gsi = 16;
  const drv = new TestVirtioDriver(mem, blk.transport);
  return { mem, image, disk, blk, drv };
}

function header(mem: GuestMemory, type: number, sector: number): void {
  mem.dv.setUint32(REQ, type, true);
  mem.dv.setUint32(REQ + 4, 0, true);
  mem.dv.setUint32(REQ + 8, sector, true);
  mem.dv.setUint32(REQ + 12, 0, true);
}

describe('virtio-pci modern transport', () => {
  it('lists the common, notify, ISR and device capabilities pointing into BAR4, with the modern IDs', () => {
    const { blk, drv } = blkSetup();
    expect([...drv.caps.keys()].sort()).toEqual([CAP_COMMON_CFG, CAP_NOTIFY_CFG, CAP_ISR_CFG, CAP_DEVICE_CFG]);
    expect(drv.caps.get(CAP_NOTIFY_CFG)!.mult).toBe(4);
    expect(blk.transport.pci.u16(0)).toBe(0x1af4);
    expect(blk.transport.pci.u16(2)).toBe(0x1042);
    expect(blk.transport.pci.config[8]).toBe(1); // revision 1: modern only
  });

  it('offers VERSION_1, INDIRECT_DESC, EVENT_IDX and FLUSH; refuses FEATURES_OK for a legacy driver', () => {
    const { drv } = blkSetup();
    const [lo, hi] = drv.negotiate();
    expect(hi & 1).toBe(1);
    expect(lo & (1 << 28)).not.toBe(0);
    expect(lo & (1 << 29)).not.toBe(0);
    expect(lo & BLK_F_FLUSH).not.toBe(0);
    expect(drv.status & STATUS_FEATURES_OK).toBe(STATUS_FEATURES_OK);
    drv.negotiate([lo, 0]); // no VERSION_1
    expect(drv.status & STATUS_FEATURES_OK).toBe(0);
    drv.negotiate([lo | (1 << 20), 1]); // a feature we never offered
    expect(drv.status & STATUS_FEATURES_OK).toBe(0);
  });
});

describe('virtio-blk', () => {
  it('reads capacity and block size from its config', () => {
    const { drv } = blkSetup(100);
    expect(drv.deviceConfig(0, 4)).toBe(100);
    expect(drv.deviceConfig(4, 4)).toBe(0);
    expect(drv.deviceConfig(0x14, 4)).toBe(512);
  });

  it('reads sectors, writes sectors, flushes: the image changes and INTx rises, ISR read lowers it', () => {
    const { mem, image, disk, blk, drv } = blkSetup();
    drv.negotiate();
    drv.setupQueue(0, 16);
    drv.driverOk();
    header(mem, BLK_T_IN, 3);
    drv.post(0, [{ addr: REQ, len: 16, write: false }, { addr: DATA, len: 1024, write: true }, { addr: STATUS, len: 1, write: true }]);
    drv.notify(0);
    expect(drv.reap(0)).toEqual([[0, 1025]]);
    expect(mem.u8[STATUS]).toBe(BLK_S_OK);
    expect(mem.u8.subarray(DATA, DATA + 1024)).toEqual(image.subarray(3 * 512, 5 * 512));
    expect(drv.bus.irqLevelOf(16)).toBe(true);
    expect(drv.readIsr()).toBe(1);
    expect(drv.bus.irqLevelOf(16)).toBe(false);

    mem.u8.fill(0xab, DATA, DATA + 512);
    header(mem, BLK_T_OUT, 10);
    drv.post(0, [{ addr: REQ, len: 16, write: false }, { addr: DATA, len: 512, write: false }, { addr: STATUS, len: 1, write: true }]);
    drv.notify(0);
    expect(image.subarray(10 * 512, 11 * 512).every((b) => b === 0xab)).toBe(true);
    expect(blk.transport.counters.bytesWritten).toBe(512);
    header(mem, BLK_T_FLUSH, 0);
    drv.post(0, [{ addr: REQ, len: 16, write: false }, { addr: STATUS, len: 1, write: true }]);
    drv.notify(0);
    expect(disk.flushes).toBe(1);
    expect(drv.reap(0).length).toBe(2);
    expect(blk.transport.counters.traps).toBeGreaterThan(0);
  });

  it('goes through indirect descriptor tables', () => {
    const { mem, image, drv } = blkSetup();
    drv.negotiate();
    drv.setupQueue(0, 8);
    drv.driverOk();
    header(mem, BLK_T_IN, 1);
    drv.post(0, [{ addr: REQ, len: 16, write: false }, { addr: DATA, len: 200, write: true }, { addr: DATA + 200, len: 312, write: true }, { addr: STATUS, len: 1, write: true }], 0x230000);
    drv.notify(0);
    expect(drv.reap(0)).toEqual([[0, 513]]);
    expect(mem.u8.subarray(DATA, DATA + 512)).toEqual(image.subarray(512, 1024));
  });

  it('answers IOERR past the end, on a read-only image, for a partial sector; UNSUPP for an unknown type; GET_ID gives the serial', () => {
    const { mem, drv } = blkSetup(8, true);
    drv.negotiate();
    drv.setupQueue(0, 8);
    drv.driverOk();
    const one = (type: number, sector: number, len: number, write: boolean): number => {
      header(mem, type, sector);
      mem.u8[STATUS] = 0xee;
      drv.post(0, [{ addr: REQ, len: 16, write: false }, ...(len ? [{ addr: DATA, len, write }] : []), { addr: STATUS, len: 1, write: true }]);
      drv.notify(0);
      drv.reap(0);
      return mem.u8[STATUS];
    };
    expect(one(BLK_T_IN, 7, 1024, true)).toBe(BLK_S_IOERR);
    expect(one(BLK_T_OUT, 0, 512, false)).toBe(BLK_S_IOERR);
    expect(one(BLK_T_IN, 0, 100, true)).toBe(BLK_S_IOERR);
    expect(one(99, 0, 0, true)).toBe(BLK_S_UNSUPP);
    expect(one(BLK_T_GET_ID, 0, 20, true)).toBe(BLK_S_OK);
    expect(mem.readCString(DATA, 20)).toBe('emu-virtio-blk');
  });

  it('a descriptor loop marks the device DEVICE_NEEDS_RESET with a config interrupt; reset brings it back', () => {
    const { mem, blk, drv } = blkSetup();
    drv.negotiate();
    drv.setupQueue(0, 4);
    drv.driverOk();
    const r = drv.rings[0];
    for (let i = 0; i < 4; i++) {
      const d = r.desc + 16 * i;
      mem.dv.setUint32(d, REQ, true); mem.dv.setUint32(d + 8, 16, true);
      mem.dv.setUint16(d + 12, 1, true); mem.dv.setUint16(d + 14, (i + 1) % 4, true);
    }
    mem.dv.setUint16(r.avail + 4, 0, true);
    mem.dv.setUint16(r.avail + 2, 1, true);
    drv.notify(0);
    expect(drv.status & STATUS_NEEDS_RESET).toBe(STATUS_NEEDS_RESET);
    expect(blk.transport.lastError).toMatch(/loops/);
    expect(drv.readIsr()).toBe(2);
    drv.notify(0); // ignored while broken
    expect(blk.transport.counters.errors).toBe(1);
    drv.negotiate();
    expect(drv.status & STATUS_NEEDS_RESET).toBe(0);
  });

  it('bad queue setups: size not a power of two, rings outside RAM', () => {
    const { drv, blk } = blkSetup();
    drv.negotiate();
    drv.setupQueue(0, 3);
    expect(blk.transport.broken).toBe(true);
    drv.negotiate();
    drv.common(0x16, 2, 0);
    drv.common(0x20, 4, 0x3ffff0); // descriptor table runs off the end of 4 MiB
    drv.common(0x1c, 2, 1);
    expect(blk.transport.lastError).toMatch(/outside guest RAM/);
  });

  it('event index: no interrupt until the used index passes used_event', () => {
    const { mem, drv } = blkSetup();
    drv.negotiate();
    drv.setupQueue(0, 8);
    drv.driverOk();
    const r = drv.rings[0];
    mem.dv.setUint16(r.avail + 4 + 2 * 8, 1, true); // used_event = 1: interrupt when used idx passes 1
    header(mem, BLK_T_FLUSH, 0);
    drv.post(0, [{ addr: REQ, len: 16, write: false }, { addr: STATUS, len: 1, write: true }]);
    drv.notify(0);
    expect(drv.bus.irqLevelOf(16)).toBe(false);
    drv.post(0, [{ addr: REQ, len: 16, write: false }, { addr: STATUS, len: 1, write: true }]);
    drv.notify(0);
    expect(drv.bus.irqLevelOf(16)).toBe(true);
    expect(mem.dv.getUint16(r.used + 4 + 8 * 8, true)).toBe(2); // avail_event: what we have taken
    void F_RING_EVENT_IDX;
  });
});

describe('virtio-rng and virtio-console', () => {
  it('virtio-rng fills the posted buffer', () => {
    const mem = new GuestMemory(4 << 20);
    const rng = new VirtioRng(mem, (b) => b.fill(0x5a));
    const drv = new TestVirtioDriver(mem, rng.transport);
    drv.negotiate();
    drv.setupQueue(0, 8);
    drv.driverOk();
    drv.post(0, [{ addr: DATA, len: 64, write: true }]);
    drv.notify(0);
    expect(drv.reap(0)).toEqual([[0, 64]]);
    expect(mem.u8.subarray(DATA, DATA + 64).every((b) => b === 0x5a)).toBe(true);
  });

  it('virtio-console sends guest output to the host and host input into receive buffers', () => {
    const mem = new GuestMemory(4 << 20);
    const out: number[] = [];
    const con = new VirtioConsole(mem, (b) => out.push(...b));
    const drv = new TestVirtioDriver(mem, con.transport);
    drv.negotiate();
    drv.setupQueue(0, 8);
    drv.setupQueue(1, 8);
    drv.driverOk();
    con.receive([0x68, 0x69]); // before any receive buffer: kept
    drv.post(0, [{ addr: DATA, len: 16, write: true }]);
    drv.notify(0);
    expect(drv.reap(0)).toEqual([[0, 2]]);
    expect(mem.readCString(DATA, 2)).toBe('hi');
    mem.writeBytes(STATUS, new TextEncoder().encode('hello'));
    drv.post(1, [{ addr: STATUS, len: 5, write: false }]);
    drv.notify(1);
    expect(String.fromCharCode(...out)).toBe('hello');
    expect(drv.deviceConfig(0, 2)).toBe(80);
  });
});
