// MSI-X on virtio-pci, driven as Linux's PCI core and virtio_pci_modern drive it: the
// capability, the table and PBA in BAR4, per-queue and config vectors, masking, and INTx
// again when MSI-X is off. Messages go through PciBus.onMsi into a real local APIC.
import { describe, expect, it } from 'vitest';
import { MemoryDisk } from '../../devices/block.js';
import { loadState, saveState, undeclaredFields } from '../../devices/state.js';
import { Lapic } from '../../devices/lapic.js';
import { MSIX_ENABLE, MSIX_FUNCTION_MASK } from '../../devices/msix.js';
import { PciBus } from '../../devices/pci.js';
import { BLK_T_IN, VirtioBlk } from '../../devices/virtio-blk.js';
import { CC_MSIX_CONFIG, CC_QUEUE_MSIX_VECTOR, CC_QUEUE_SELECT, F_RING_EVENT_IDX, MSIX_PBA_OFFSET, MSIX_TABLE_OFFSET, NO_VECTOR, STATUS_NEEDS_RESET } from '../../devices/virtio-pci.js';
import { GuestMemory } from '../../mmu/memory.js';
import { FakeClock } from '../devices/helpers.js';
import { TestVirtioDriver } from './virtio-driver.js';

const REQ = 0x200000, DATA = 0x210000, STATUS = 0x220000;
const MSI_ADDR = 0xfee00000; // destination APIC 0, physical

function setup() {
  const mem = new GuestMemory(4 << 20);
  const image = new Uint8Array(64 * 512).map((_, i) => (i * 5) & 0xff);
  const blk = new VirtioBlk(mem, new MemoryDisk(image));
  const drv = new TestVirtioDriver(mem, blk.transport);
  const lapic = new Lapic({ clock: new FakeClock() });
  lapic.mmioWrite(0xf0, 4, 0x1ff); // software-enable the APIC (SVR)
  const messages: [number, number][] = [];
  const pci = new PciBus(drv.bus);
  pci.onMsi = (lo, hi, data) => { messages.push([lo, data]); return hi === 0 && lapic.deliverMsi(lo, data); };
  pci.add(3, 0, blk.transport.pci);
  // Without EVENT_IDX every completion asks for an interrupt (this driver never moves used_event).
  const [lo, hi] = drv.negotiate();
  drv.negotiate([lo & ~(1 << F_RING_EVENT_IDX), hi]);
  drv.setupQueue(0, 16);
  return { mem, image, blk, drv, lapic, messages, t: blk.transport };
}

/** Post one 512-byte read of sector `s` and notify. */
function read(s: ReturnType<typeof setup>, sector: number): void {
  const { mem, drv } = s;
  mem.dv.setUint32(REQ, BLK_T_IN, true);
  mem.dv.setUint32(REQ + 8, sector, true);
  drv.post(0, [{ addr: REQ, len: 16, write: false }, { addr: DATA, len: 512, write: true }, { addr: STATUS, len: 1, write: true }]);
  drv.notify(0);
}

/** Linux's order: entries programmed (config vector 0, queue 0 vector 1), MSI-X enabled, vectors assigned. */
function useMsix(s: ReturnType<typeof setup>): void {
  s.drv.msixEntry(0, MSI_ADDR, 0x41);
  s.drv.msixEntry(1, MSI_ADDR, 0x42);
  s.drv.msixEnable();
  s.drv.common(CC_MSIX_CONFIG, 2, 0);
  s.drv.common(CC_QUEUE_SELECT, 2, 0);
  s.drv.common(CC_QUEUE_MSIX_VECTOR, 2, 1);
  s.drv.driverOk();
}

const irr = (l: Lapic, v: number): boolean => (l.mmioRead(0x200 + 0x10 * (v >> 5), 4) & (1 << (v & 31))) !== 0;

describe('MSI-X on virtio-pci', () => {
  it('has the capability: one vector per queue plus config, table and PBA in BAR4', () => {
    const { drv } = setup();
    expect(drv.msix.cap).not.toBe(0);
    expect(drv.msix.size).toBe(2); // virtio-blk: one queue + config
    expect(drv.msix.table).toBe(MSIX_TABLE_OFFSET | 4);
    expect(drv.msix.pba).toBe(MSIX_PBA_OFFSET | 4);
  });

  it('a completed request sends the queue vector\'s message to the LAPIC; no ISR bit, INTx stays low', () => {
    const s = setup();
    useMsix(s);
    expect(s.drv.common(CC_QUEUE_MSIX_VECTOR, 2)).toBe(1);
    expect(s.drv.common(CC_MSIX_CONFIG, 2)).toBe(0);
    read(s, 5);
    expect(s.drv.reap(0)).toEqual([[0, 513]]);
    expect(s.mem.u8.subarray(DATA, DATA + 512)).toEqual(s.image.subarray(5 * 512, 6 * 512));
    expect(s.messages).toEqual([[MSI_ADDR, 0x42]]);
    expect(irr(s.lapic, 0x42)).toBe(true);
    expect(s.drv.bus.irqLevelOf(s.t.pci.gsi)).toBe(false);
    expect(s.t.isr).toBe(0);
    expect(s.t.counters.msi).toBe(1);
    expect(s.t.counters.interrupts).toBe(1);
  });

  it('a masked vector leaves its pending bit set; unmasking it (or the function) sends the message', () => {
    const s = setup();
    useMsix(s);
    s.drv.msixEntry(1, MSI_ADDR, 0x42, true);
    read(s, 1);
    expect(s.messages).toEqual([]);
    expect(s.drv.msixPending()).toBe(2);
    s.drv.msixEntry(1, MSI_ADDR, 0x43); // unmasked with a new vector: the pending one goes out with it
    expect(s.messages).toEqual([[MSI_ADDR, 0x43]]);
    expect(s.drv.msixPending()).toBe(0);

    s.drv.msixControl(MSIX_ENABLE | MSIX_FUNCTION_MASK);
    read(s, 2);
    expect(s.messages.length).toBe(1);
    expect(s.drv.msixPending()).toBe(2);
    s.drv.msixControl(MSIX_ENABLE);
    expect(s.messages).toEqual([[MSI_ADDR, 0x43], [MSI_ADDR, 0x43]]);
  });

  it('a vector past the table reads back NO_VECTOR; NO_VECTOR means no interrupt at all', () => {
    const s = setup();
    useMsix(s);
    s.drv.common(CC_QUEUE_SELECT, 2, 0);
    // Queue registers are fixed once enabled; a fresh device takes the bad vector.
    s.drv.negotiate([s.t.offered(0) & ~(1 << F_RING_EVENT_IDX), 1]);
    s.drv.common(CC_QUEUE_SELECT, 2, 0);
    s.drv.common(CC_QUEUE_MSIX_VECTOR, 2, 7);
    expect(s.drv.common(CC_QUEUE_MSIX_VECTOR, 2)).toBe(NO_VECTOR);
    s.drv.rings.length = 0;
    s.drv.setupQueue(0, 16);
    s.drv.driverOk();
    read(s, 3);
    expect(s.drv.reap(0).length).toBe(1);
    expect(s.messages).toEqual([]);
    expect(s.drv.bus.irqLevelOf(s.t.pci.gsi)).toBe(false);
    expect(s.t.counters.interrupts).toBe(0);
  });

  it('a driver error goes to the config vector', () => {
    const s = setup();
    useMsix(s);
    const r = s.drv.rings[0];
    s.mem.dv.setUint16(r.avail + 2, 40, true); // avail index far ahead
    s.drv.notify(0);
    expect(s.drv.status & STATUS_NEEDS_RESET).toBe(STATUS_NEEDS_RESET);
    expect(s.messages).toEqual([[MSI_ADDR, 0x41]]);
  });

  it('with MSI-X off (never enabled, or disabled again) interrupts go through the ISR and INTx', () => {
    const s = setup();
    s.drv.driverOk();
    read(s, 4);
    expect(s.messages).toEqual([]);
    expect(s.drv.bus.irqLevelOf(s.t.pci.gsi)).toBe(true);
    expect(s.drv.readIsr()).toBe(1);
    useMsix(s);
    s.drv.msixControl(0);
    read(s, 6);
    expect(s.messages).toEqual([]);
    expect(s.drv.bus.irqLevelOf(s.t.pci.gsi)).toBe(true);
    expect(s.t.counters.msi).toBe(0);
  });

  it('no bus mastering, no message (counted as dropped)', () => {
    const s = setup();
    useMsix(s);
    s.t.pci.writeConfig(4, 2, 0x2); // memory decode only
    read(s, 7);
    expect(s.messages).toEqual([]);
    expect(s.t.msix.dropped).toBe(1);
  });

  it('the table and pending bits are declared state: a restored device sends the pending message on unmask', () => {
    const s = setup();
    expect(undeclaredFields(s.t.msix)).toEqual([]);
    expect(undeclaredFields(s.t)).toEqual([]);
    useMsix(s);
    s.drv.msixEntry(1, MSI_ADDR, 0x42, true);
    read(s, 1);
    const saved = [saveState(s.t), saveState(s.t.msix), saveState(s.t.pci)];
    const s2 = setup();
    loadState(s2.t, saved[0]);
    loadState(s2.t.msix, saved[1]);
    loadState(s2.t.pci, saved[2]); // Message Control (enabled) is in configuration space
    expect(s2.drv.msixPending()).toBe(2);
    s2.drv.msixEntry(1, MSI_ADDR, 0x44);
    expect(s2.messages).toEqual([[MSI_ADDR, 0x44]]);
    expect(irr(s2.lapic, 0x44)).toBe(true);
  });
});
