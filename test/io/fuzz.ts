// The "a guest can hurt only itself" fuzzer for the disk devices: random virtqueues
// (sizes, ring addresses, descriptor tables with loops, indirect tables, huge and
// out-of-RAM buffers, garbage avail indexes) thrown at virtio-blk, -rng and -console, and
// random ATA register/command/PRD sequences thrown at the IDE controller. After every
// case: no host exception, the bytes past guest RAM unchanged, the image size unchanged.
// test/io/fuzz.test.ts runs a short version; `npm run fuzz:io` the long one.

import { MemoryDisk } from '../../devices/block.js';
import { Bus } from '../../devices/bus.js';
import { PiixIde } from '../../devices/ide.js';
import { VirtioBlk } from '../../devices/virtio-blk.js';
import { VirtioConsole } from '../../devices/virtio-console.js';
import { STATUS_NEEDS_RESET, type VirtioPci } from '../../devices/virtio-pci.js';
import { VirtioRng } from '../../devices/virtio-rng.js';
import { GuestMemory } from '../../mmu/memory.js';
import { TestVirtioDriver } from './virtio-driver.js';

const RAM = 2 << 20;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface FuzzReport { cases: number; broken: number; completed: number; errors: string[] }

/** The bytes past RAM (the vCPU area) as a checksum: a device that writes there has escaped. */
function pastRam(mem: GuestMemory): number {
  const u8 = new Uint8Array(mem.buffer, mem.ramSize);
  let h = 0;
  for (let i = 0; i < u8.length; i += 7) h = (Math.imul(h, 31) + u8[i]) | 0;
  return h;
}

export function fuzzVirtio(cases: number, seed = 1): FuzzReport {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const mem = new GuestMemory(RAM);
  new Uint8Array(mem.buffer, mem.ramSize).fill(0xc3);
  const guard = pastRam(mem);
  const image = new Uint8Array(64 * 512);
  const disk = new MemoryDisk(image);
  const devices: VirtioPci[] = [
    new VirtioBlk(mem, disk).transport, new VirtioRng(mem).transport, new VirtioConsole(mem, () => {}).transport,
  ];
  const drivers = devices.map((t) => new TestVirtioDriver(mem, t, 0x1000));
  const report: FuzzReport = { cases: 0, broken: 0, completed: 0, errors: [] };
  // An address: mostly in RAM, sometimes near or past its end, sometimes huge.
  const addr = () => { const k = r(); return k < 0.8 ? int(RAM) : k < 0.9 ? RAM - int(64) : k < 0.95 ? int(0x100000000) : RAM + int(4096); };
  const len = () => { const k = r(); return k < 0.6 ? int(1100) : k < 0.8 ? 16 : k < 0.9 ? int(0x10000) : int(0x100000000); };
  for (let c = 0; c < cases; c++) {
    const which = int(devices.length), t = devices[which], d = drivers[which];
    try {
      d.negotiate();
      const q = which === 2 ? int(2) : 0;
      const size = r() < 0.85 ? 1 << int(9) : int(70000);
      const base = r() < 0.9 ? int(RAM - 0x10000) & ~15 : addr();
      d.common(0x16, 2, q); d.common(0x18, 2, size);
      d.common(0x20, 4, base); d.common(0x28, 4, base + 16 * size); d.common(0x30, 4, (base + 18 * size + 8) & ~3);
      if (r() < 0.05) d.common(0x24, 4, 1); // above 4 GiB
      d.common(0x1c, 2, 1);
      d.driverOk();
      const dv = mem.dv;
      if (!t.broken && mem.isRam(base, 26 * size + 16)) {
        const n = Math.min(size, 64);
        for (let i = 0; i < n; i++) {
          const e = base + 16 * int(size);
          dv.setUint32(e, r() < 0.5 ? 0x100000 + int(0x80000) : addr(), true);
          dv.setUint32(e + 4, r() < 0.97 ? 0 : int(4), true);
          dv.setUint32(e + 8, len(), true);
          dv.setUint16(e + 12, r() < 0.3 ? int(8) : int(4), true); // INDIRECT only now and then
          dv.setUint16(e + 14, r() < 0.8 ? int(size) : int(65536), true);
        }
        // Some readable buffers hold a well-formed virtio-blk header, so real I/O happens too.
        for (let i = 0; i < 8; i++) {
          const h = 0x100000 + 16 * int(0x8000);
          dv.setUint32(h, [0, 1, 4, 8, int(16)][int(5)], true);
          dv.setUint32(h + 8, r() < 0.8 ? int(64) : int(0x100000000), true);
        }
        const avail = base + 16 * size;
        for (let i = 0; i < Math.min(size, 32); i++) dv.setUint16(avail + 4 + 2 * i, r() < 0.9 ? int(size) : int(65536), true);
        dv.setUint16(avail + 2, r() < 0.7 ? 1 + int(Math.min(size, 8)) : int(65536), true);
        dv.setUint16(avail, int(2), true);
        if (r() < 0.3) dv.setUint16(avail + 4 + 2 * size, int(65536), true); // used_event
      }
      const used = t.queues[q]?.usedIdx ?? 0;
      d.notify(q);
      if (which === 2 && r() < 0.5) (t.device as VirtioConsole).receive([1, 2, 3]);
      if ((t.status & STATUS_NEEDS_RESET) !== 0) report.broken++;
      report.completed += ((t.queues[q]?.usedIdx ?? 0) - used) & 0xffff;
    } catch (e) {
      report.errors.push(`case ${c} (${t.device.name}): ${(e as Error).stack ?? e}`);
    }
    if (pastRam(mem) !== guard) report.errors.push(`case ${c}: memory past guest RAM changed`);
    if (image.length !== 64 * 512) report.errors.push(`case ${c}: image size changed`);
    report.cases++;
  }
  return report;
}

/** Packet opcodes the CD-ROM answers, so random packets get past the opcode check. */
const SCSI_OPS = [0x00, 0x03, 0x12, 0x1a, 0x1b, 0x1e, 0x25, 0x28, 0x43, 0x46, 0x5a, 0xa8];

export function fuzzAta(cases: number, seed = 2): FuzzReport {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  const mem = new GuestMemory(RAM);
  new Uint8Array(mem.buffer, mem.ramSize).fill(0xc3);
  const guard = pastRam(mem);
  const bus = new Bus();
  const image = new Uint8Array(128 * 512);
  // Secondary slave: an ATAPI CD-ROM (random packets reach it through PACKET and the data port).
  const iso = new Uint8Array(8 * 2048);
  const ide = new PiixIde(mem, bus, [new MemoryDisk(image), null, new MemoryDisk(new Uint8Array(8 * 512), true), { cdrom: new MemoryDisk(iso, true) }]);
  ide.attach();
  const commands = [0x20, 0x21, 0x24, 0x25, 0x29, 0x30, 0x34, 0x35, 0x39, 0x40, 0x42, 0x90, 0x91, 0xc4, 0xc5, 0xc6, 0xc8, 0xca, 0xe0, 0xe1, 0xe5, 0xe7, 0xea, 0xec, 0xef, 0xa1, 0x00, 0xff, 0xa0, 0xa0, 0xa0, 0x08];
  const report: FuzzReport = { cases: 0, broken: 0, completed: 0, errors: [] };
  for (let c = 0; c < cases; c++) {
    try {
      const ch = int(2), base = ch ? 0x170 : 0x1f0, ctl = ch ? 0x376 : 0x3f6, bm = 8 * ch;
      // A PRD table somewhere: entries in RAM, past it, or of odd sizes.
      const prd = r() < 0.9 ? int(RAM - 64) & ~3 : RAM - int(16);
      if (mem.isRam(prd, 64)) {
        for (let i = 0; i < 8; i++) {
          mem.dv.setUint32(prd + 8 * i, r() < 0.8 ? int(RAM) : RAM + int(0x10000), true);
          mem.dv.setUint32(prd + 8 * i + 4, (r() < 0.3 ? 0x80000000 : 0) | int(0x10000), true);
        }
      }
      ide.mmioWrite(bm + 4, 4, prd);
      const steps = 1 + int(24);
      for (let s = 0; s < steps; s++) {
        const k = r();
        if (k < 0.45) bus.portWrite(base + 1 + int(6), 1, r() < 0.5 ? int(256) : [0, 1, 0xe0, 0x40, 0xf0, 0xa0, 0xb0][int(7)]);
        else if (k < 0.6) bus.portWrite(base + 7, 1, commands[int(commands.length)]);
        else if (k < 0.7) for (let i = int(300); i > 0; i--) bus.portRead(base, r() < 0.8 ? 2 : 4);
        else if (k < 0.78) for (let i = int(300); i > 0; i--) bus.portWrite(base, 2, r() < 0.2 ? SCSI_OPS[int(SCSI_OPS.length)] | int(256) << 8 : int(65536));
        else if (k < 0.85) ide.mmioWrite(bm, 1, int(16));
        else if (k < 0.9) ide.mmioWrite(bm + 2, 1, int(256));
        else if (k < 0.95) bus.portWrite(ctl, 1, int(256));
        else bus.portRead(base + int(8), 1);
      }
    } catch (e) {
      report.errors.push(`case ${c}: ${(e as Error).stack ?? e}`);
    }
    if (pastRam(mem) !== guard) report.errors.push(`case ${c}: memory past guest RAM changed`);
    if (image.length !== 128 * 512) report.errors.push(`case ${c}: image size changed`);
    if (iso.some((b) => b !== 0)) report.errors.push(`case ${c}: the read-only CD-ROM image changed`);
    report.cases++;
  }
  report.broken = ide.counters.errors;
  report.completed = ide.counters.requests;
  return report;
}
