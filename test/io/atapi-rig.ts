// The ATAPI CD-ROM on the IDE secondary master (or elsewhere), driven as libata drives a
// packet device: the port writes of a PACKET command and the DRQ blocks read back.
import { expect } from 'vitest';
import { CD_SECTOR } from '../../devices/atapi.js';
import { MemoryDisk, type BlockBackend } from '../../devices/block.js';
import { Bus } from '../../devices/bus.js';
import { PiixIde, ST_DRQ, type IdeCdrom } from '../../devices/ide.js';
import { GuestMemory } from '../../mmu/memory.js';

export const SECTORS = 40;

/** A disc of SECTORS sectors whose every byte says where it is. */
export function discBytes(sectors = SECTORS, salt = 0): Uint8Array {
  const iso = new Uint8Array(sectors * CD_SECTOR);
  for (let i = 0; i < iso.length; i++) iso[i] = (i * 7 + (i >> 11) + salt) & 0xff;
  return iso;
}

/** `drives`: the four IDE positions (default: the CD-ROM as secondary master); packets go to the secondary channel. */
export function cdSetup(drives?: (BlockBackend | IdeCdrom | null)[]) {
  const bus = new Bus();
  const iso = discBytes();
  const mem = new GuestMemory(2 << 20);
  const ide = new PiixIde(mem, bus, drives ?? [null, null, { cdrom: new MemoryDisk(iso, true) }]);
  ide.attach();
  const out = (port: number, v: number, size: 1 | 2 = 1) => bus.portWrite(port, size, v);
  const inp = (port: number, size: 1 | 2 = 1) => bus.portRead(port, size);
  const words = (n: number): number[] => { const b: number[] = []; for (let i = 0; i < n; i++) { const w = inp(0x170, 2); b.push(w & 0xff, w >> 8); } return b; };
  /** PACKET with `limit` in the byte count registers, the 12-byte CDB, then every DRQ block read as libata's atapi_pio_bytes does. */
  const packet = (cdb: number[], limit = 0xfffe) => {
    out(0x176, 0xa0); out(0x171, 0); out(0x174, limit & 0xff); out(0x175, limit >> 8); out(0x177, 0xa0);
    expect(inp(0x177) & (ST_DRQ | 0x80)).toBe(ST_DRQ);
    expect(inp(0x172) & 3).toBe(1); // CoD: the device wants the command packet
    const p = [...cdb, ...new Array(12 - cdb.length).fill(0)];
    for (let i = 0; i < 12; i += 2) out(0x170, p[i] | (p[i + 1] << 8), 2);
    const data: number[] = [], blocks: number[] = [];
    for (;;) {
      expect(bus.irqLevelOf(15)).toBe(true);
      const status = inp(0x177);
      expect(bus.irqLevelOf(15)).toBe(false);
      if (!(status & ST_DRQ)) return { data, blocks, status, error: inp(0x171), reason: inp(0x172) };
      expect(inp(0x172) & 3).toBe(2); // IO: data to the host
      const n = inp(0x174) | (inp(0x175) << 8);
      blocks.push(n);
      data.push(...words(n / 2));
    }
  };
  return { bus, mem, iso, ide, out, inp, words, packet };
}

