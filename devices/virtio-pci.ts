// virtio 1.x over PCI, the modern transport (virtio spec v1.2, 4.1), and the split
// virtqueue (2.7): what virtio-blk, virtio-console and virtio-rng share.
//
// Emulated: vendor-specific capabilities in configuration space pointing into one memory
// BAR (BAR4, 16 KiB) that holds the common configuration (0x0000), the ISR status
// (0x1000), the device-specific configuration (0x2000) and the notification area
// (0x3000, one dword per queue); 64-bit feature negotiation (VERSION_1, INDIRECT_DESC,
// EVENT_IDX offered by the transport, the rest by the device); the status state machine
// with FEATURES_OK refused for features we did not offer; INTx through the ISR, or MSI-X
// (one vector per queue plus one for configuration changes, table and PBA in BAR4) once
// the driver enables it. Split rings with indirect descriptors and event-index
// suppression in both directions.
// Not emulated: the legacy (0.9) transport, the PCI configuration access capability,
// packed rings.
//
// A guest can hurt only itself: every ring, descriptor and buffer is checked against
// guest RAM; descriptor loops, nested or malformed indirect tables, readable-after-writable
// buffers, an avail index that runs ahead by more than the queue, and bad queue sizes or
// addresses mark the device DEVICE_NEEDS_RESET (with a config interrupt) and stop it until
// the driver resets it. Requests complete synchronously, inside the notify write.

import type { MmioDevice } from './bus.js';
import { IO_COUNTER_STATE, newIoCounters, type IoCounters } from './block.js';
import { MsixTable } from './msix.js';
import { PciFunction } from './pci.js';
import { declareState } from './state.js';
import type { GuestMemory } from '../mmu/memory.js';

export const VIRTIO_VENDOR = 0x1af4;
/** Modern-only devices are 0x1040 + the virtio device type (4.1.2.1). */
export const VIRTIO_MODERN_DEVICE_BASE = 0x1040;

/** Device types (5). */
export const VIRTIO_ID_BLOCK = 2, VIRTIO_ID_CONSOLE = 3, VIRTIO_ID_RNG = 4;

/** Device status bits (2.1). */
export const STATUS_ACKNOWLEDGE = 1;
export const STATUS_DRIVER = 2;
export const STATUS_DRIVER_OK = 4;
export const STATUS_FEATURES_OK = 8;
export const STATUS_NEEDS_RESET = 0x40; // the device hit an error it cannot recover from
export const STATUS_FAILED = 0x80;

/** Transport feature bits (6), as bit numbers. */
export const F_RING_INDIRECT_DESC = 28;
export const F_RING_EVENT_IDX = 29;
export const F_VERSION_1 = 32;

/** Capability structure types (4.1.4). */
export const CAP_COMMON_CFG = 1, CAP_NOTIFY_CFG = 2, CAP_ISR_CFG = 3, CAP_DEVICE_CFG = 4;
const PCI_CAP_VENDOR = 0x09;
const VIRTIO_BAR = 4;

/** BAR4 layout. */
export const BAR_SIZE = 0x4000;
export const COMMON_OFFSET = 0x0000, COMMON_SIZE = 0x38;
export const ISR_OFFSET = 0x1000;
export const DEVICE_OFFSET = 0x2000;
export const NOTIFY_OFFSET = 0x3000;
export const NOTIFY_MULTIPLIER = 4;
/** The MSI-X table (16 bytes a vector) and its pending bits, after the notification area. */
export const MSIX_TABLE_OFFSET = 0x3800, MSIX_PBA_OFFSET = 0x3c00;

/** Common configuration registers (4.1.4.3). */
export const CC_DEVICE_FEATURE_SELECT = 0x00;
export const CC_DEVICE_FEATURE = 0x04;
export const CC_DRIVER_FEATURE_SELECT = 0x08;
export const CC_DRIVER_FEATURE = 0x0c;
export const CC_MSIX_CONFIG = 0x10;
export const CC_NUM_QUEUES = 0x12;
export const CC_DEVICE_STATUS = 0x14;
export const CC_CONFIG_GENERATION = 0x15;
export const CC_QUEUE_SELECT = 0x16;
export const CC_QUEUE_SIZE = 0x18;
export const CC_QUEUE_MSIX_VECTOR = 0x1a;
export const CC_QUEUE_ENABLE = 0x1c;
export const CC_QUEUE_NOTIFY_OFF = 0x1e;
export const CC_QUEUE_DESC = 0x20;
export const CC_QUEUE_DRIVER = 0x28;
export const CC_QUEUE_DEVICE = 0x30;
/** A queue or configuration change without an MSI-X vector. */
export const NO_VECTOR = 0xffff;

/** ISR bits (4.1.4.5). */
export const ISR_QUEUE = 1, ISR_CONFIG = 2;

/** Descriptor flags (2.7.5). */
export const DESC_F_NEXT = 1, DESC_F_WRITE = 2, DESC_F_INDIRECT = 4;
/** Avail ring flags: the driver needs no interrupt. Used ring flags: the device needs no notify. */
export const AVAIL_F_NO_INTERRUPT = 1;
export const MAX_QUEUE_SIZE = 32768;

/** A driver error that stops the device until reset (DEVICE_NEEDS_RESET). */
export class VirtioError extends Error {}

/**
 * One request: the descriptor chain the driver made available, flattened into the
 * guest-physical segments the device reads (driver -> device) and writes (device -> driver).
 * Segments are [addr, len] pairs, each already checked to lie in guest RAM.
 */
export interface Chain {
  head: number;
  readable: number[];
  writable: number[];
  readLen: number;
  writeLen: number;
}

/** Copy up to dst.length bytes from the chain's readable part, starting `offset` bytes in; returns bytes copied. */
export function chainRead(mem: GuestMemory, chain: Chain, offset: number, dst: Uint8Array): number {
  return walk(chain.readable, offset, dst.length, (addr, at, n) => dst.set(mem.u8.subarray(addr, addr + n), at));
}

/** Copy src into the chain's writable part from `offset`; returns bytes copied (the rest did not fit). */
export function chainWrite(mem: GuestMemory, chain: Chain, offset: number, src: Uint8Array): number {
  return walk(chain.writable, offset, src.length, (addr, at, n) => dmaWrite(mem, addr, src.subarray(at, at + n)));
}

/** Device writes to RAM tell the code caches about every page they touch. */
export function dmaWrite(mem: GuestMemory, addr: number, src: Uint8Array): void {
  mem.u8.set(src, addr);
  for (let p = addr & ~0xfff; p < addr + src.length; p += 0x1000) mem.noteWrite(Math.max(p, addr), 1);
}

function walk(segs: number[], offset: number, len: number, copy: (addr: number, at: number, n: number) => void): number {
  let at = 0;
  for (let i = 0; i < segs.length && at < len; i += 2) {
    const segLen = segs[i + 1];
    if (offset >= segLen) { offset -= segLen; continue; }
    const n = Math.min(segLen - offset, len - at);
    copy(segs[i] + offset, at, n);
    at += n;
    offset = 0;
  }
  return at;
}

/** A split virtqueue (2.7): descriptor table, available ring (driver area), used ring (device area). */
export class Virtqueue {
  size: number;
  enabled = false;
  desc = 0;
  avail = 0;
  used = 0;
  /** High dwords of the three addresses (anything but 0 is outside our RAM). */
  readonly high = new Uint32Array(3);
  lastAvail = 0;
  usedIdx = 0;
  /** used.idx when we last decided about an interrupt (event-index rule). */
  private signalled = 0;
  eventIdx = false;
  indirect = false;
  /** The MSI-X table entry its used-buffer notifications go to. */
  msixVector = NO_VECTOR;

  /** `maxSize` 0: a queue slot this device does not have. */
  constructor(readonly maxSize: number) {
    this.size = maxSize;
  }

  reset(): void {
    this.size = this.maxSize;
    this.enabled = false;
    this.desc = this.avail = this.used = 0;
    this.high.fill(0);
    this.lastAvail = this.usedIdx = this.signalled = 0;
    this.msixVector = NO_VECTOR;
  }

  /** Driver set queue_enable: the ring must be well-formed before anything is read from it. */
  validate(m: GuestMemory): void {
    const s = this.size;
    if (s === 0 || s > this.maxSize || (s & (s - 1)) !== 0) throw new VirtioError(`queue size ${s} is not a power of two up to ${this.maxSize}`);
    if (this.high[0] | this.high[1] | this.high[2]) throw new VirtioError('ring address above 4 GiB');
    if ((this.desc & 15) || (this.avail & 1) || (this.used & 3)) throw new VirtioError('misaligned ring');
    if (!m.isRam(this.desc, 16 * s) || !m.isRam(this.avail, 6 + 2 * s) || !m.isRam(this.used, 6 + 8 * s)) throw new VirtioError('ring outside guest RAM');
  }

  /** The next available chain, or null when the driver has made none available. Throws VirtioError for a malformed one. */
  pop(mem: GuestMemory): Chain | null {
    const dv = mem.dv, size = this.size;
    const availIdx = dv.getUint16(this.avail + 2, true);
    if (availIdx === this.lastAvail) return null;
    if (((availIdx - this.lastAvail) & 0xffff) > size) throw new VirtioError(`avail index ${availIdx} is more than ${size} ahead of ${this.lastAvail}`);
    const head = dv.getUint16(this.avail + 4 + 2 * (this.lastAvail & (size - 1)), true);
    if (head >= size) throw new VirtioError(`descriptor ${head} is past the table (${size})`);
    this.lastAvail = (this.lastAvail + 1) & 0xffff;
    // Event index: ask to be notified again as soon as the driver adds anything past what we took.
    if (this.eventIdx) store16(mem, this.used + 4 + 8 * size, this.lastAvail);
    return this.walkChain(mem, head);
  }

  private walkChain(mem: GuestMemory, head: number): Chain {
    const dv = mem.dv, ramSize = mem.ramSize;
    const chain: Chain = { head, readable: [], writable: [], readLen: 0, writeLen: 0 };
    let table = this.desc, tableSize = this.size, i = head, seen = 0, inIndirect = false;
    for (;;) {
      if (++seen > tableSize) throw new VirtioError('descriptor chain loops');
      const d = table + 16 * i;
      const addr = dv.getUint32(d, true), addrHi = dv.getUint32(d + 4, true);
      const len = dv.getUint32(d + 8, true), flags = dv.getUint16(d + 12, true), next = dv.getUint16(d + 14, true);
      if (flags & DESC_F_INDIRECT) {
        if (!this.indirect) throw new VirtioError('indirect descriptor without VIRTIO_F_INDIRECT_DESC');
        if (inIndirect) throw new VirtioError('nested indirect table');
        if (flags & DESC_F_NEXT) throw new VirtioError('indirect descriptor with NEXT');
        if (len === 0 || (len & 15) !== 0) throw new VirtioError(`indirect table of ${len} bytes`);
        if (addrHi !== 0 || addr + len > ramSize) throw new VirtioError('indirect table outside guest RAM');
        table = addr; tableSize = len >>> 4; i = 0; seen = 0; inIndirect = true;
        continue;
      }
      if (addrHi !== 0 || addr + len > ramSize) throw new VirtioError(`buffer 0x${addr.toString(16)}+${len} outside guest RAM`);
      if (flags & DESC_F_WRITE) {
        chain.writable.push(addr, len);
        chain.writeLen += len;
      } else {
        if (chain.writable.length > 0) throw new VirtioError('device-readable buffer after a device-writable one');
        chain.readable.push(addr, len);
        chain.readLen += len;
      }
      if (!(flags & DESC_F_NEXT)) return chain;
      i = next;
      if (i >= tableSize) throw new VirtioError(`next descriptor ${i} is past the table (${tableSize})`);
    }
  }

  /** Return a chain to the driver with `written` bytes of its writable part filled. */
  push(mem: GuestMemory, chain: Chain, written: number): void {
    const slot = this.used + 4 + 8 * (this.usedIdx & (this.size - 1));
    store32(mem, slot, chain.head);
    store32(mem, slot + 4, written);
    this.usedIdx = (this.usedIdx + 1) & 0xffff;
    store16(mem, this.used + 2, this.usedIdx);
  }

  /** After a batch of pushes: does the driver want an interrupt for them (2.7.7, 2.7.10)? */
  needsInterrupt(mem: GuestMemory): boolean {
    const old = this.signalled, now = this.usedIdx;
    if (old === now) return false;
    this.signalled = now;
    const dv = mem.dv;
    if (this.eventIdx) {
      const usedEvent = dv.getUint16(this.avail + 4 + 2 * this.size, true);
      return ((now - usedEvent - 1) & 0xffff) < ((now - old) & 0xffff);
    }
    return (dv.getUint16(this.avail, true) & AVAIL_F_NO_INTERRUPT) === 0;
  }
}

function store16(mem: GuestMemory, addr: number, v: number): void { mem.dv.setUint16(addr, v, true); mem.noteWrite(addr, 2); }
function store32(mem: GuestMemory, addr: number, v: number): void { mem.dv.setUint32(addr, v, true); mem.noteWrite(addr, 4); }

/** Queue slots every transport has (the most any of our devices uses); the device's own count is num_queues. */
export const MAX_QUEUES = 2;
const QUEUE_STATE = {
  size: 'u16', enabled: 'bool', desc: 'u32', avail: 'u32', used: 'u32', high: ['u32', 3], lastAvail: 'u16', usedIdx: 'u16',
  signalled: 'u16', eventIdx: 'bool', indirect: 'bool', maxSize: 'u16', msixVector: 'u16',
} as const;


/** What a virtio device type supplies; the transport does the rest. */
export interface VirtioDeviceModel {
  readonly name: string;
  readonly deviceType: number;
  /** PCI class code (0xCCSSPP). */
  readonly classCode: number;
  /** Device feature bits 0-31 (the transport adds its own). */
  readonly features: number;
  /** Maximum size of each queue. */
  readonly queueSizes: number[];
  configRead(offset: number, size: 1 | 2 | 4): number;
  configWrite(offset: number, size: 1 | 2 | 4, value: number): void;
  /** The driver notified queue q (DRIVER_OK, queue enabled). Throw VirtioError for a driver error. */
  notify(q: number): void;
  /** The driver reset the device. */
  reset(): void;
}

/** A virtio device on PCI: configuration space, BAR4 registers, queues, ISR and INTx. */
export class VirtioPci implements MmioDevice {
  static {
    declareState(VirtioPci, {
      fields: {
        status: 'u8', isr: 'u8', msixConfig: 'u16', deviceFeatureSelect: 'u32', driverFeatureSelect: 'u32', driverFeatures: ['u32', 2], queueSelect: 'u16',
        queues: [QUEUE_STATE, MAX_QUEUES], counters: IO_COUNTER_STATE,
      },
      // lastError is a diagnostic for the stats view and tests, not device state.
      wiring: ['mem', 'device', 'pci', 'msix', 'lastError', 'queueCount'],
      parts: (t) => [['msix', t.msix], ['device', t.device]],
    });
  }

  readonly pci: PciFunction;
  readonly msix: MsixTable;
  readonly queues: Virtqueue[];
  readonly queueCount: number;
  readonly counters: IoCounters = newIoCounters();
  status = 0;
  isr = 0;
  /** The MSI-X table entry configuration-change interrupts go to. */
  msixConfig = NO_VECTOR;
  /** What set DEVICE_NEEDS_RESET last (for the stats view and tests). */
  lastError: string | null = null;
  private deviceFeatureSelect = 0;
  private driverFeatureSelect = 0;
  private readonly driverFeatures = new Uint32Array(2);
  private queueSelect = 0;

  constructor(readonly mem: GuestMemory, readonly device: VirtioDeviceModel) {
    if (device.queueSizes.length > MAX_QUEUES) throw new Error(`${device.name}: more than ${MAX_QUEUES} queues`);
    this.queueCount = device.queueSizes.length;
    this.queues = Array.from({ length: MAX_QUEUES }, (_, i) => new Virtqueue(device.queueSizes[i] ?? 0));
    this.pci = new PciFunction({
      vendorId: VIRTIO_VENDOR, deviceId: VIRTIO_MODERN_DEVICE_BASE + device.deviceType, classCode: device.classCode,
      revision: 1, subsystemVendorId: VIRTIO_VENDOR, subsystemId: 0x40 + device.deviceType, interruptPin: 1,
      bars: [null, null, null, null, { kind: 'mem32', size: BAR_SIZE, handler: this }],
    });
    this.addCap(CAP_COMMON_CFG, COMMON_OFFSET, COMMON_SIZE);
    this.addCap(CAP_NOTIFY_CFG, NOTIFY_OFFSET, NOTIFY_MULTIPLIER * this.queueCount, NOTIFY_MULTIPLIER);
    this.addCap(CAP_ISR_CFG, ISR_OFFSET, 1);
    this.addCap(CAP_DEVICE_CFG, DEVICE_OFFSET, 0x100);
    this.msix = new MsixTable(this.pci, this.queueCount + 1, VIRTIO_BAR, MSIX_TABLE_OFFSET, MSIX_PBA_OFFSET);
    this.pci.onConfigWrite = () => this.msixControlWritten();
  }

  /** MSI-X enabled: INTx goes quiet; a cleared function mask sends what was pending. */
  private msixControlWritten(): void {
    if (this.msix.enabled) this.pci.setIntx(false);
    this.msix.configWritten();
  }

  /** virtio_pci_cap (4.1.4): cap_len, cfg_type, bar, id, padding, offset, length [, notify multiplier]. */
  private addCap(type: number, offset: number, length: number, multiplier?: number): void {
    const body = new Uint8Array(multiplier === undefined ? 14 : 18);
    const dv = new DataView(body.buffer);
    body[0] = body.length + 2;
    body[1] = type;
    body[2] = VIRTIO_BAR;
    dv.setUint32(6, offset, true);
    dv.setUint32(10, length, true);
    if (multiplier !== undefined) dv.setUint32(14, multiplier, true);
    this.pci.addCapability(PCI_CAP_VENDOR, body);
  }

  /** Both feature words we offer. */
  offered(word: number): number {
    if (word === 0) return (this.device.features | (1 << F_RING_INDIRECT_DESC) | (1 << F_RING_EVENT_IDX)) >>> 0;
    return word === 1 ? 1 << (F_VERSION_1 - 32) : 0;
  }

  negotiated(bit: number): boolean {
    return (this.driverFeatures[bit >>> 5] & (1 << (bit & 31))) !== 0;
  }

  private get selected(): Virtqueue | null { return this.queueSelect < this.queueCount ? this.queues[this.queueSelect] : null; }

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    this.counters.traps++;
    if (offset < COMMON_SIZE) return this.commonRead(offset, size);
    if (offset === ISR_OFFSET) {
      const v = this.isr; // reading the ISR acknowledges the interrupt (4.1.4.5.1)
      this.isr = 0;
      this.pci.setIntx(false);
      return v;
    }
    if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + 0x100) return this.device.configRead(offset - DEVICE_OFFSET, size);
    if (this.msix.covers(offset)) return this.msix.read(offset, size);
    return 0;
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    this.counters.traps++;
    if (offset < COMMON_SIZE) this.commonWrite(offset, size, value);
    else if (offset >= DEVICE_OFFSET && offset < DEVICE_OFFSET + 0x100) this.device.configWrite(offset - DEVICE_OFFSET, size, value);
    else if (offset >= NOTIFY_OFFSET && offset < NOTIFY_OFFSET + NOTIFY_MULTIPLIER * this.queueCount) this.notify((offset - NOTIFY_OFFSET) / NOTIFY_MULTIPLIER | 0);
    else if (this.msix.covers(offset)) this.msix.write(offset, size, value);
  }

  private commonRead(offset: number, size: number): number {
    const q = this.selected;
    switch (offset) {
      case CC_DEVICE_FEATURE_SELECT: return this.deviceFeatureSelect;
      case CC_DEVICE_FEATURE: return this.offered(this.deviceFeatureSelect);
      case CC_DRIVER_FEATURE_SELECT: return this.driverFeatureSelect;
      case CC_DRIVER_FEATURE: return this.driverFeatureSelect < 2 ? this.driverFeatures[this.driverFeatureSelect] : 0;
      case CC_MSIX_CONFIG: return this.msixConfig;
      case CC_NUM_QUEUES: return this.queueCount;
      case CC_DEVICE_STATUS: return size === 1 ? this.status : this.status; // config_generation (0) is the high byte
      case CC_CONFIG_GENERATION: return 0;
      case CC_QUEUE_SELECT: return this.queueSelect;
      case CC_QUEUE_SIZE: return q ? q.size : 0;
      case CC_QUEUE_MSIX_VECTOR: return q ? q.msixVector : NO_VECTOR;
      case CC_QUEUE_ENABLE: return q?.enabled ? 1 : 0;
      case CC_QUEUE_NOTIFY_OFF: return q ? this.queueSelect : 0;
      case CC_QUEUE_DESC: return q ? q.desc : 0;
      case CC_QUEUE_DESC + 4: return q ? q.high[0] : 0;
      case CC_QUEUE_DRIVER: return q ? q.avail : 0;
      case CC_QUEUE_DRIVER + 4: return q ? q.high[1] : 0;
      case CC_QUEUE_DEVICE: return q ? q.used : 0;
      case CC_QUEUE_DEVICE + 4: return q ? q.high[2] : 0;
      default: return 0;
    }
  }

  private commonWrite(offset: number, size: number, value: number): void {
    const q = this.selected;
    // Queue registers are writable only while the queue is off (4.1.4.3.2); we ignore them after.
    const qw = q !== null && !q.enabled;
    switch (offset) {
      case CC_DEVICE_FEATURE_SELECT: this.deviceFeatureSelect = value >>> 0; break;
      case CC_DRIVER_FEATURE_SELECT: this.driverFeatureSelect = value >>> 0; break;
      case CC_DRIVER_FEATURE:
        if (this.driverFeatureSelect < 2 && !(this.status & STATUS_FEATURES_OK)) this.driverFeatures[this.driverFeatureSelect] = value >>> 0;
        break;
      case CC_DEVICE_STATUS: this.writeStatus(value & 0xff); break;
      case CC_MSIX_CONFIG: this.msixConfig = this.vectorOrNone(value); break;
      case CC_QUEUE_SELECT: this.queueSelect = value & 0xffff; break;
      case CC_QUEUE_MSIX_VECTOR: if (q) q.msixVector = this.vectorOrNone(value); break;
      case CC_QUEUE_SIZE: if (qw) q.size = value & 0xffff; break;
      case CC_QUEUE_ENABLE:
        if (qw && (value & 1)) this.enableQueue(q);
        break;
      case CC_QUEUE_DESC: if (qw) q.desc = value >>> 0; break;
      case CC_QUEUE_DESC + 4: if (qw) q.high[0] = value; break;
      case CC_QUEUE_DRIVER: if (qw) q.avail = value >>> 0; break;
      case CC_QUEUE_DRIVER + 4: if (qw) q.high[1] = value; break;
      case CC_QUEUE_DEVICE: if (qw) q.used = value >>> 0; break;
      case CC_QUEUE_DEVICE + 4: if (qw) q.high[2] = value; break;
      default: break; // read-only fields
    }
    void size;
  }

  /** A vector the table has, or NO_VECTOR: the driver reads it back to see the mapping failed (4.1.4.3). */
  private vectorOrNone(value: number): number {
    const v = value & 0xffff;
    return v < this.msix.count ? v : NO_VECTOR;
  }

  private writeStatus(v: number): void {
    if (v === 0) { this.resetDevice(); return; }
    if ((v & STATUS_FEATURES_OK) && !(this.status & STATUS_FEATURES_OK)) {
      // Accept only a subset of what we offered, and only a VERSION_1 driver (no legacy interface here).
      const ok = (this.driverFeatures[0] & ~this.offered(0)) === 0 && (this.driverFeatures[1] & ~this.offered(1)) === 0 && this.negotiated(F_VERSION_1);
      if (!ok) v &= ~STATUS_FEATURES_OK;
      for (const q of this.queues) {
        q.eventIdx = this.negotiated(F_RING_EVENT_IDX);
        q.indirect = this.negotiated(F_RING_INDIRECT_DESC);
      }
    }
    this.status = (v & ~STATUS_NEEDS_RESET) | (this.status & STATUS_NEEDS_RESET);
  }

  private enableQueue(q: Virtqueue): void {
    try {
      q.validate(this.mem);
      q.enabled = true;
    } catch (e) {
      this.fail(e);
    }
  }

  private notify(index: number): void {
    const q = index < this.queueCount ? this.queues[index] : null;
    if (!q || !q.enabled || !(this.status & STATUS_DRIVER_OK) || (this.status & STATUS_NEEDS_RESET)) return;
    try {
      this.device.notify(index);
    } catch (e) {
      this.fail(e);
    }
  }

  /** A device calls this after pushing a batch to queue q: interrupt if the driver wants one. */
  finish(q: number): void {
    if (this.queues[q].needsInterrupt(this.mem)) this.interrupt(ISR_QUEUE, this.queues[q].msixVector);
  }

  /** MSI-X when the driver enabled it (the queue's or the config vector; none for NO_VECTOR), else the ISR and INTx (4.1.5.3-4). */
  private interrupt(bits: number, vector: number): void {
    if (this.msix.enabled) {
      if (vector === NO_VECTOR) return;
      this.counters.interrupts++;
      this.counters.msi++;
      this.msix.signal(vector);
      return;
    }
    this.isr |= bits;
    this.counters.interrupts++;
    this.pci.setIntx(true);
  }

  /** A driver error (or a VirtioError from the device): DEVICE_NEEDS_RESET and a config interrupt. */
  fail(e: unknown): void {
    if (!(e instanceof VirtioError)) throw e;
    this.counters.errors++;
    this.lastError = e.message;
    if (this.status & STATUS_NEEDS_RESET) return;
    this.status |= STATUS_NEEDS_RESET;
    this.interrupt(ISR_CONFIG, this.msixConfig);
  }

  get broken(): boolean { return (this.status & STATUS_NEEDS_RESET) !== 0; }
  get driverOk(): boolean { return (this.status & STATUS_DRIVER_OK) !== 0 && !this.broken; }

  /** Machine reset: the device, and the MSI-X table back to all vectors masked. */
  reset(): void {
    this.resetDevice();
    this.msix.reset();
  }

  /** Device reset (status 0): queues off, features and vectors forgotten, INTx low. */
  private resetDevice(): void {
    this.status = 0;
    this.isr = 0;
    this.msixConfig = NO_VECTOR;
    this.deviceFeatureSelect = this.driverFeatureSelect = this.queueSelect = 0;
    this.driverFeatures.fill(0);
    for (const q of this.queues) q.reset();
    this.pci.setIntx(false);
    this.device.reset();
  }
}
