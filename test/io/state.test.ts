// The disk controllers' state is declared once (devices/state.ts): saved in the middle of a
// transfer and loaded into fresh devices, they carry on as the originals would.
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../devices/block.js';
import { Bus } from '../../devices/bus.js';
import { ATA_READ, PiixIde } from '../../devices/ide.js';
import { loadState, saveState, stateEntries, undeclaredFields } from '../../devices/state.js';
import { BLK_T_IN, VirtioBlk } from '../../devices/virtio-blk.js';
import { VirtioConsole } from '../../devices/virtio-console.js';
import { GuestMemory } from '../../mmu/memory.js';
import { ideSetup } from './ide-rig.js';
import { TestVirtioDriver } from './virtio-driver.js';

describe('disk device state', () => {
  it('IDE: every field is declared; saved halfway through a PIO read, a fresh controller returns the rest', () => {
    const a = ideSetup();
    expect(undeclaredFields(a.ide)).toEqual([]);
    a.cmd28(ATA_READ, 7, 2);
    const first = a.readWords(100);
    const b = new PiixIde(a.mem, new Bus(), [new MemoryDisk(a.image)]);
    loadState(b, saveState(a.ide));
    const rest = new Uint8Array(824);
    for (let i = 0; i < 412; i++) { const w = b.portRead(0x1f0, 2); rest[2 * i] = w & 0xff; rest[2 * i + 1] = w >> 8; }
    expect([...first, ...rest]).toEqual([...a.image.subarray(7 * 512, 9 * 512)]);
    expect(b.counters.traps).toBe(a.ide.counters.traps + 412);
  });

  it('ATAPI: saved in the middle of a READ(10) (between DRQ blocks) and with a sense pending, a fresh controller goes on', () => {
    const bus = new Bus(), mem = new GuestMemory(2 << 20);
    const iso = new Uint8Array(8 * 2048).map((_, i) => (i * 5 + (i >> 11)) & 0xff);
    const a = new PiixIde(mem, bus, [null, null, { cdrom: new MemoryDisk(iso, true) }]);
    a.attach();
    const packet = (dev: PiixIde, cdb: number[], limit: number): void => {
      dev.portWrite(0x176, 1, 0xa0); dev.portWrite(0x174, 1, limit & 0xff); dev.portWrite(0x175, 1, limit >> 8); dev.portWrite(0x177, 1, 0xa0);
      const p = [...cdb, ...new Array(12 - cdb.length).fill(0)];
      for (let i = 0; i < 12; i += 2) dev.portWrite(0x170, 2, p[i] | (p[i + 1] << 8));
    };
    const words = (dev: PiixIde, n: number): number[] => { const out: number[] = []; for (let i = 0; i < n; i++) { const w = dev.portRead(0x170, 2); out.push(w & 0xff, w >> 8); } return out; };
    packet(a, [0x28, 0, 0, 0, 0, 2, 0, 0, 3], 2048); // three sectors in 2048-byte blocks
    const first = words(a, 1024 + 300);
    const b = new PiixIde(mem, new Bus(), [null, null, { cdrom: new MemoryDisk(iso, true) }]);
    expect(undeclaredFields(a)).toEqual([]);
    loadState(b, saveState(a));
    const rest = words(b, 724);
    expect(b.portRead(0x174, 1) | b.portRead(0x175, 1) << 8).toBe(2048); // the third block
    rest.push(...words(b, 1024));
    expect(b.portRead(0x177, 1) & 0x08).toBe(0);
    expect([...first, ...rest]).toEqual([...iso.subarray(2 * 2048, 5 * 2048)]);
    packet(b, [0x28, 0, 0, 0, 0, 9, 0, 0, 1], 2048); // past the end: CHECK CONDITION
    const c = new PiixIde(mem, new Bus(), [null, null, { cdrom: new MemoryDisk(iso, true) }]);
    loadState(c, saveState(b));
    packet(c, [0x03, 0, 0, 0, 18], 2048);
    const sense = words(c, 9);
    expect([sense[0], sense[2], sense[12]]).toEqual([0x70, 5, 0x21]);
  });

  it('virtio: every field is declared; a transport restored after setup serves the next request', () => {
    const mem = new GuestMemory(4 << 20);
    const image = new Uint8Array(16 * 512).map((_, i) => i & 0xff);
    const a = new VirtioBlk(mem, new MemoryDisk(image));
    expect(undeclaredFields(a.transport)).toEqual([]);
    expect(undeclaredFields(new VirtioConsole(mem, () => {}).transport)).toEqual([]);
    const drv = new TestVirtioDriver(mem, a.transport);
    drv.negotiate();
    drv.setupQueue(0, 8);
    drv.driverOk();
    const b = new VirtioBlk(mem, new MemoryDisk(image));
    loadState(b.transport, saveState(a.transport));
    mem.dv.setUint32(0x200000, BLK_T_IN, true);
    mem.dv.setUint32(0x200008, 2, true);
    drv.post(0, [{ addr: 0x200000, len: 16, write: false }, { addr: 0x210000, len: 512, write: true }, { addr: 0x220000, len: 1, write: true }]);
    b.transport.mmioWrite(0x3000, 2, 0); // the restored device takes the notify
    expect(drv.reap(0)).toEqual([[0, 513]]);
    expect(mem.u8.subarray(0x210000, 0x210200)).toEqual(image.subarray(1024, 1536));
  });

  it('virtio console: host input the guest has not taken yet is saved, and the restored console delivers it', () => {
    const mem = new GuestMemory(4 << 20);
    const a = new VirtioConsole(mem, () => {});
    expect(undeclaredFields(a)).toEqual([]);
    expect(stateEntries([['console', a.transport]]).map(([n]) => n)).toEqual(['console', 'console/msix', 'console/device']);
    a.receive(new TextEncoder().encode('typed before the driver came up'));
    expect(a.pendingInput).toBe(31);
    const b = new VirtioConsole(mem, () => {});
    loadState(b, saveState(a));
    expect(b.pendingInput).toBe(31);
    const drv = new TestVirtioDriver(mem, b.transport);
    drv.negotiate();
    drv.setupQueue(0, 8);
    drv.setupQueue(1, 8);
    drv.driverOk();
    drv.post(0, [{ addr: 0x230000, len: 64, write: true }]);
    drv.notify(0);
    expect(drv.reap(0)).toEqual([[0, 31]]);
    expect(new TextDecoder().decode(mem.u8.subarray(0x230000, 0x230000 + 31))).toBe('typed before the driver came up');
    expect(b.pendingInput).toBe(0);
  });
});
