// The ATAPI CD-ROM beyond PIO reads: packets whose data goes through the bus master (the
// FEATURES DMA bit, as libata sends READ(10) to a drive that offers multiword DMA), the host
// changing and ejecting the medium (UNIT ATTENTION once, NOT READY with no medium, the
// guest's lock), and each drive's signature after a reset when the CD-ROM is the slave.
import { describe, expect, it } from 'vitest';
import { CD_SECTOR } from '../../devices/atapi.js';
import { MemoryDisk } from '../../devices/block.js';
import { BM_CMD_READ, BM_CMD_START, BM_COMMAND, BM_PRDT, BM_ST_ACTIVE, BM_ST_ERROR, BM_ST_INTR, BM_STATUS, ERR_ABRT, PRD_EOT, ST_BSY, ST_DRQ, ST_ERR } from '../../devices/ide.js';
import { cdSetup, discBytes, SECTORS } from './atapi-rig.js';

/** The secondary channel's bus-master registers (8 bytes past the primary's). */
const BM2 = 8;

function dmaSetup() {
  const rig = cdSetup();
  const { mem, ide, out, inp, bus } = rig;
  /** A PRD table at 0x1000 with these (address, bytes) entries, the last marked EOT. */
  const prd = (entries: [number, number][]) => {
    entries.forEach(([addr, n], i) => {
      mem.dv.setUint32(0x1000 + 8 * i, addr, true);
      mem.dv.setUint32(0x1000 + 8 * i + 4, (n & 0xffff) | (i === entries.length - 1 ? PRD_EOT : 0), true);
    });
    ide.mmioWrite(BM2 + BM_PRDT, 4, 0x1000);
  };
  /** PACKET with the DMA bit, then the CDB; returns the status right after it (the engine not started yet). */
  const packetDma = (cdb: number[]) => {
    out(0x176, 0xa0); out(0x171, 1); out(0x174, 0); out(0x175, 0); out(0x177, 0xa0);
    expect(inp(0x177) & (ST_DRQ | ST_BSY)).toBe(ST_DRQ);
    const p = [...cdb, ...new Array(12 - cdb.length).fill(0)];
    for (let i = 0; i < 12; i += 2) out(0x170, p[i] | (p[i + 1] << 8), 2);
    return ide.mmioRead(BM2 + BM_STATUS, 1);
  };
  const start = () => ide.mmioWrite(BM2 + BM_COMMAND, 1, BM_CMD_START | BM_CMD_READ);
  /** What the driver's interrupt handler reads: BM status, then the task file (which lowers IRQ 15). */
  const finish = () => {
    expect(bus.irqLevelOf(15)).toBe(true);
    const bm = ide.mmioRead(BM2 + BM_STATUS, 1);
    ide.mmioWrite(BM2 + BM_COMMAND, 1, 0);
    ide.mmioWrite(BM2 + BM_STATUS, 1, BM_ST_INTR | BM_ST_ERROR);
    const status = inp(0x177);
    expect(bus.irqLevelOf(15)).toBe(false);
    return { bm, status, error: inp(0x171), reason: inp(0x172) };
  };
  return { ...rig, prd, packetDma, start, finish };
}

describe('ATAPI packets by bus-master DMA', () => {
  it('READ(10) of 5 sectors scatters through two PRD entries once the engine starts; the status phase follows with one interrupt', () => {
    const { mem, iso, ide, bus, prd, packetDma, start, finish } = dmaSetup();
    mem.u8.fill(0xee, 0x10000, 0x20000);
    prd([[0x10000, 2 * CD_SECTOR], [0x18000, 3 * CD_SECTOR]]);
    packetDma([0x28, 0, 0, 0, 0, 3, 0, 0, 5]);
    expect(bus.irqLevelOf(15)).toBe(false); // waiting for the engine: nothing moved
    expect(mem.u8[0x10000]).toBe(0xee);
    start();
    const r = finish();
    expect(r).toEqual({ bm: BM_ST_INTR, status: 0x50, error: 0, reason: 3 }); // DRDY|DSC; IO|CoD
    expect(mem.u8.subarray(0x10000, 0x10000 + 2 * CD_SECTOR)).toEqual(iso.subarray(3 * CD_SECTOR, 5 * CD_SECTOR));
    expect(mem.u8.subarray(0x18000, 0x18000 + 3 * CD_SECTOR)).toEqual(iso.subarray(5 * CD_SECTOR, 8 * CD_SECTOR));
    expect(mem.u8[0x18000 + 3 * CD_SECTOR]).toBe(0xee);
    expect(ide.counters.bytesRead).toBe(5 * CD_SECTOR);
  });

  it('READ(12) with the engine already started runs when the packet is in; INQUIRY\'s answer goes by DMA too', () => {
    const { mem, iso, prd, packetDma, start, finish } = dmaSetup();
    prd([[0x20000, 2 * CD_SECTOR]]);
    start();
    packetDma([0xa8, 0, 0, 0, 0, SECTORS - 2, 0, 0, 0, 2]);
    expect(finish().status & (ST_ERR | ST_DRQ | ST_BSY)).toBe(0);
    expect(mem.u8.subarray(0x20000, 0x20000 + 2 * CD_SECTOR)).toEqual(iso.subarray((SECTORS - 2) * CD_SECTOR));
    prd([[0x30000, 36]]);
    packetDma([0x12, 0, 0, 0, 36]);
    start();
    expect(finish().bm).toBe(BM_ST_INTR);
    expect(String.fromCharCode(...mem.u8.subarray(0x30000 + 8, 0x30000 + 36))).toBe('EMU     EMU CD-ROM      1.0 ');
  });

  it('a PRD table shorter than the READ: BM error and ABRT; a READ past the end is CHECK CONDITION before any DMA', () => {
    const { mem, prd, packetDma, start, finish, packet } = dmaSetup();
    prd([[0x10000, CD_SECTOR]]);
    packetDma([0x28, 0, 0, 0, 0, 0, 0, 0, 2]);
    start();
    const short = finish();
    expect([short.bm & (BM_ST_ERROR | BM_ST_INTR | BM_ST_ACTIVE), short.status & ST_ERR, short.error & ERR_ABRT]).toEqual([BM_ST_ERROR | BM_ST_INTR, ST_ERR, ERR_ABRT]);
    mem.u8.fill(0, 0x10000, 0x10000 + CD_SECTOR);
    packetDma([0x28, 0, 0, 0, 0, SECTORS, 0, 0, 1]);
    const past = finish(); // the CHECK CONDITION interrupt, with no engine started
    expect([past.status & ST_ERR, past.error >> 4]).toEqual([ST_ERR, 5]);
    expect(mem.u8[0x10000]).toBe(0);
    expect(packet([0x03, 0, 0, 0, 18]).data[12]).toBe(0x21);
  });
});

describe('medium change and eject (the host\'s change / eject)', () => {
  it('a new disc: the next command is UNIT ATTENTION / MEDIUM MAY HAVE CHANGED, once; then READ CAPACITY and READ see the new disc', () => {
    const { ide, packet } = cdSetup();
    const disc2 = discBytes(12, 99);
    expect(ide.changeMedia(2, new MemoryDisk(disc2, true))).toBe('ok');
    const inq = packet([0x12, 0, 0, 0, 36]); // INQUIRY does not report it
    expect(inq.status & ST_ERR).toBe(0);
    const tur = packet([0x00]);
    expect([tur.status & ST_ERR, tur.error >> 4]).toEqual([ST_ERR, 6]);
    const sense = packet([0x03, 0, 0, 0, 18]).data; // the TUR's CHECK CONDITION
    expect([sense[2], sense[12]]).toEqual([6, 0x28]);
    expect(packet([0x00]).status & ST_ERR).toBe(0); // reported once
    expect(packet([0x03, 0, 0, 0, 18]).data[2]).toBe(0);
    const cap = packet([0x25]).data;
    expect((cap[2] << 8) | cap[3]).toBe(11);
    expect(Uint8Array.from(packet([0x28, 0, 0, 0, 0, 4, 0, 0, 2]).data)).toEqual(disc2.subarray(4 * CD_SECTOR, 6 * CD_SECTOR));
    ide.changeMedia(2, new MemoryDisk(discBytes(), true));
    const ua = packet([0x03, 0, 0, 0, 18]).data; // REQUEST SENSE first: the unit attention is its data
    expect([ua[0], ua[2], ua[7], ua[12]]).toEqual([0x70, 6, 10, 0x28]);
    expect(packet([0x00]).status & ST_ERR).toBe(0);
  });

  it('no medium: TEST UNIT READY, READ CAPACITY, READ and READ TOC are NOT READY / MEDIUM NOT PRESENT; INQUIRY still answers; GET CONFIGURATION has no current profile', () => {
    const { ide, packet } = cdSetup();
    ide.changeMedia(2, null);
    expect(ide.cdrom(2)!.media).toBe(null);
    expect(packet([0x00]).error >> 4).toBe(6); // the change itself first
    for (const cdb of [[0x00], [0x25], [0x28, 0, 0, 0, 0, 0, 0, 0, 1], [0x43, 0, 0, 0, 0, 0, 0, 0, 100]]) {
      const r = packet(cdb);
      expect([r.status & ST_ERR, r.error >> 4, r.data.length]).toEqual([ST_ERR, 2, 0]);
      const sense = packet([0x03, 0, 0, 0, 18]).data;
      expect([sense[2], sense[12]]).toEqual([2, 0x3a]);
    }
    expect(packet([0x12, 0, 0, 0, 36]).data[0]).toBe(5);
    const conf = packet([0x46, 0, 0, 0, 0, 0, 0, 0, 255]).data;
    expect([(conf[6] << 8) | conf[7], conf[14]]).toEqual([0, 0]);
  });

  it('PREVENT MEDIUM REMOVAL: an eject is refused unless forced; ALLOW lets it; a reset unlocks', () => {
    const { ide, packet } = cdSetup();
    packet([0x1e, 0, 0, 0, 1]);
    expect(ide.changeMedia(2, null)).toBe('locked');
    expect(ide.cdrom(2)!.sectors).toBe(SECTORS);
    expect(ide.changeMedia(2, null, true)).toBe('ok');
    expect(ide.cdrom(2)!.sectors).toBe(0);
    ide.changeMedia(2, new MemoryDisk(discBytes(), true));
    packet([0x1e, 0, 0, 0, 1]);
    packet([0x1e, 0, 0, 0, 0]);
    expect(ide.changeMedia(2, null)).toBe('ok');
    packet([0x1e, 0, 0, 0, 1]);
    ide.reset();
    expect(ide.changeMedia(2, null)).toBe('ok');
  });

  it('ejected in the middle of a PIO READ: the command ends at the next block', () => {
    const { ide, out, inp, words, iso } = cdSetup();
    out(0x176, 0xa0); out(0x171, 0); out(0x174, 0x00); out(0x175, 0x08); out(0x177, 0xa0);
    for (const w of [0x28, 0, 0, 0, 0x0004, 0]) out(0x170, w, 2); // READ(10) of 4 sectors from LBA 0, 2048-byte blocks
    inp(0x177);
    const first = words(1000);
    ide.changeMedia(2, null);
    first.push(...words(24)); // the block already in the drive's buffer
    expect(Uint8Array.from(first)).toEqual(iso.subarray(0, CD_SECTOR));
    expect(inp(0x177) & ST_DRQ).toBe(0); // then the status phase
    expect(inp(0x172)).toBe(3);
  });
});

describe('signatures after a reset, by drive', () => {
  it('a hard disk master and a CD-ROM slave: each shows its own signature when selected; a command or register write ends it', () => {
    const { out, inp } = cdSetup([null, null, new MemoryDisk(new Uint8Array(64 * 512)), { cdrom: new MemoryDisk(discBytes(), true) }]);
    out(0x376, 0x06); out(0x376, 0x02);
    const sig = () => [inp(0x172), inp(0x173), inp(0x174), inp(0x175)];
    expect(sig()).toEqual([1, 1, 0, 0]); // master selected: ATA
    out(0x176, 0xb0);
    expect(sig()).toEqual([1, 1, 0x14, 0xeb]); // slave: ATAPI
    out(0x176, 0xa0);
    expect(sig()).toEqual([1, 1, 0, 0]);
    out(0x176, 0xb0);
    out(0x174, 0x34); // both drives latch it
    out(0x176, 0xa0);
    expect(inp(0x174)).toBe(0x34);
  });

  it('a CD-ROM master and a CD-ROM slave both read 14h/EBh; an EXECUTE DEVICE DIAGNOSTIC posts them again', () => {
    const cd = () => ({ cdrom: new MemoryDisk(discBytes(), true) });
    const { out, inp } = cdSetup([null, null, cd(), cd()]);
    out(0x176, 0xb0);
    expect([inp(0x174), inp(0x175)]).toEqual([0x14, 0xeb]);
    out(0x174, 0); out(0x175, 0);
    out(0x177, 0x90);
    out(0x176, 0xb0);
    expect([inp(0x174), inp(0x175)]).toEqual([0x14, 0xeb]);
  });
});
