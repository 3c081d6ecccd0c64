// A small virtio 1.x driver for tests, doing what Linux's virtio_pci_modern and
// virtio_ring do: find the capabilities in configuration space, negotiate features,
// lay out split rings in guest RAM, post descriptor chains and reap the used ring.

import { Bus } from '../../devices/bus.js';
import { MSIX_ENABLE, MSIX_VECTOR_MASKED, PCI_CAP_MSIX } from '../../devices/msix.js';
import { PCI_BAR0, PCI_CAP_PTR, type PciFunction } from '../../devices/pci.js';
import {
  CAP_COMMON_CFG, CAP_DEVICE_CFG, CAP_ISR_CFG, CAP_NOTIFY_CFG, CC_DEVICE_FEATURE, CC_DEVICE_FEATURE_SELECT, CC_DEVICE_STATUS,
  CC_DRIVER_FEATURE, CC_DRIVER_FEATURE_SELECT, CC_QUEUE_DESC, CC_QUEUE_DEVICE, CC_QUEUE_DRIVER, CC_QUEUE_ENABLE, CC_QUEUE_NOTIFY_OFF,
  CC_QUEUE_SELECT, CC_QUEUE_SIZE, DESC_F_INDIRECT, DESC_F_NEXT, DESC_F_WRITE, STATUS_ACKNOWLEDGE, STATUS_DRIVER, STATUS_DRIVER_OK,
  STATUS_FEATURES_OK, type VirtioPci,
} from '../../devices/virtio-pci.js';
import type { GuestMemory } from '../../mmu/memory.js';

export interface Buf { addr: number; len: number; write: boolean }

export class TestVirtioDriver {
  readonly caps = new Map<number, { offset: number; mult: number }>();
  /** The MSI-X capability: where it sits, its table size, and table/PBA offsets in BAR4 (0 if absent). */
  readonly msix = { cap: 0, size: 0, table: 0, pba: 0 };
  readonly rings: { desc: number; avail: number; used: number; size: number; lastUsed: number; nextDesc: number; availIdx: number }[] = [];
  private readonly base = 0xfeb00000;
  readonly bus = new Bus();

  constructor(readonly mem: GuestMemory, readonly t: VirtioPci, private ringArea = 0x100000) {
    const f: PciFunction = t.pci;
    f.bus = this.bus;
    f.writeConfig(PCI_BAR0 + 16, 4, this.base);
    f.writeConfig(4, 2, 0x6);
    // Walk the capability list as virtio_pci_find_capability does.
    for (let p = f.config[PCI_CAP_PTR]; p !== 0; p = f.config[p + 1]) {
      if (f.config[p] === PCI_CAP_MSIX) {
        Object.assign(this.msix, { cap: p, size: (f.u16(p + 2) & 0x7ff) + 1, table: f.u32(p + 4), pba: f.u32(p + 8) });
      }
      if (f.config[p] !== 0x09) continue;
      const type = f.config[p + 3], offset = f.u32(p + 8);
      this.caps.set(type, { offset, mult: type === CAP_NOTIFY_CFG ? f.u32(p + 16) : 0 });
    }
  }

  common(off: number, size: 1 | 2 | 4, v?: number): number {
    const a = this.base + this.caps.get(CAP_COMMON_CFG)!.offset + off;
    if (v === undefined) return this.bus.mmioRead(a, size);
    this.bus.mmioWrite(a, size, v);
    return 0;
  }
  deviceConfig(off: number, size: 1 | 2 | 4): number { return this.bus.mmioRead(this.base + this.caps.get(CAP_DEVICE_CFG)!.offset + off, size); }
  readIsr(): number { return this.bus.mmioRead(this.base + this.caps.get(CAP_ISR_CFG)!.offset, 1); }
  get status(): number { return this.common(CC_DEVICE_STATUS, 1); }

  /** Reset, ACKNOWLEDGE, DRIVER, features (all offered, or `want`), FEATURES_OK; returns the offered 64 bits as [lo, hi]. */
  negotiate(want?: [number, number]): [number, number] {
    this.common(CC_DEVICE_STATUS, 1, 0);
    this.common(CC_DEVICE_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    const offered: [number, number] = [0, 0];
    for (let w = 0; w < 2; w++) {
      this.common(CC_DEVICE_FEATURE_SELECT, 4, w);
      offered[w] = this.common(CC_DEVICE_FEATURE, 4) >>> 0;
      this.common(CC_DRIVER_FEATURE_SELECT, 4, w);
      this.common(CC_DRIVER_FEATURE, 4, want ? want[w] : offered[w]);
    }
    this.common(CC_DEVICE_STATUS, 1, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
    return offered;
  }

  /** Lay out queue q with `size` entries at the next free ring area and enable it. */
  setupQueue(q: number, size: number): void {
    this.common(CC_QUEUE_SELECT, 2, q);
    this.common(CC_QUEUE_SIZE, 2, size);
    const desc = this.ringArea, avail = desc + 16 * size, used = (avail + 6 + 2 * size + 3) & ~3;
    this.ringArea = (used + 6 + 8 * size + 0xfff) & ~0xfff;
    this.common(CC_QUEUE_DESC, 4, desc);
    this.common(CC_QUEUE_DRIVER, 4, avail);
    this.common(CC_QUEUE_DEVICE, 4, used);
    this.common(CC_QUEUE_ENABLE, 2, 1);
    this.rings[q] = { desc, avail, used, size, lastUsed: 0, nextDesc: 0, availIdx: 0 };
  }

  /** As Linux's msix_capability_init: program entry v with (address, data), unmasked unless `masked`. */
  msixEntry(v: number, address: number, data: number, masked = false): void {
    const e = this.base + (this.msix.table & ~7) + 16 * v;
    this.bus.mmioWrite(e, 4, address);
    this.bus.mmioWrite(e + 4, 4, 0);
    this.bus.mmioWrite(e + 8, 4, data);
    this.bus.mmioWrite(e + 12, 4, masked ? MSIX_VECTOR_MASKED : 0);
  }
  msixPending(): number { return this.bus.mmioRead(this.base + (this.msix.pba & ~7), 4); }
  /** Write Message Control (enable, function mask). */
  msixControl(bits: number): void { this.t.pci.writeConfig(this.msix.cap + 2, 2, bits); }
  msixEnable(): void { this.msixControl(MSIX_ENABLE); }

  driverOk(): void { this.common(CC_DEVICE_STATUS, 1, this.status | STATUS_DRIVER_OK); }

  /** Post one chain (direct, or through an indirect table at `indirectAt`) without notifying. */
  post(q: number, bufs: Buf[], indirectAt?: number): number {
    const r = this.rings[q], dv = this.mem.dv;
    const head = r.nextDesc;
    const put = (table: number, i: number, b: Buf, last: boolean, next: number): void => {
      const d = table + 16 * i;
      dv.setUint32(d, b.addr, true); dv.setUint32(d + 4, 0, true); dv.setUint32(d + 8, b.len, true);
      dv.setUint16(d + 12, (b.write ? DESC_F_WRITE : 0) | (last ? 0 : DESC_F_NEXT), true);
      dv.setUint16(d + 14, next, true);
    };
    if (indirectAt !== undefined) {
      bufs.forEach((b, i) => put(indirectAt, i, b, i === bufs.length - 1, i + 1));
      const d = r.desc + 16 * head;
      dv.setUint32(d, indirectAt, true); dv.setUint32(d + 4, 0, true); dv.setUint32(d + 8, 16 * bufs.length, true);
      dv.setUint16(d + 12, DESC_F_INDIRECT, true);
      r.nextDesc = (head + 1) % r.size;
    } else {
      bufs.forEach((b, i) => put(r.desc, (head + i) % r.size, b, i === bufs.length - 1, (head + i + 1) % r.size));
      r.nextDesc = (head + bufs.length) % r.size;
    }
    dv.setUint16(r.avail + 4 + 2 * (r.availIdx % r.size), head, true);
    r.availIdx = (r.availIdx + 1) & 0xffff;
    dv.setUint16(r.avail + 2, r.availIdx, true);
    return head;
  }

  notify(q: number): void {
    this.common(CC_QUEUE_SELECT, 2, q);
    const off = this.common(CC_QUEUE_NOTIFY_OFF, 2);
    const n = this.caps.get(CAP_NOTIFY_CFG)!;
    this.bus.mmioWrite(this.base + n.offset + off * n.mult, 2, q);
  }

  /** Used entries since the last call: [id, len]. */
  reap(q: number): [number, number][] {
    const r = this.rings[q], dv = this.mem.dv, out: [number, number][] = [];
    const idx = dv.getUint16(r.used + 2, true);
    while (r.lastUsed !== idx) {
      const e = r.used + 4 + 8 * (r.lastUsed % r.size);
      out.push([dv.getUint32(e, true), dv.getUint32(e + 4, true)]);
      r.lastUsed = (r.lastUsed + 1) & 0xffff;
    }
    return out;
  }
}
