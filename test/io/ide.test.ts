// The PIIX3 IDE controller driven as Linux's ata_piix/libata drive it: the SRST reset and
// signature, device presence check, IDENTIFY, PIO reads and writes (single and multiple),
// bus-master DMA through a PRD table, FLUSH, and the error paths.

import { describe, expect, it } from 'vitest';
import {
  ATA_FLUSH_EXT, ATA_IDENTIFY, ATA_READ, ATA_READ_DMA, ATA_READ_MULTI, ATA_SET_MULTI, ATA_WRITE_DMA_EXT, ATA_WRITE_EXT,
  BM_ST_ERROR, BM_ST_INTR, ERR_ABRT, ERR_IDNF, ST_DRQ, ST_ERR,
} from '../../devices/ide.js';
import { ideSetup } from './ide-rig.js';

describe('PIIX3 IDE', () => {
  it('SRST leaves the ATA signature; an absent slave reads 0 so the presence check fails', () => {
    const { bus, out, inp } = ideSetup();
    out(0x3f6, 0x06); out(0x3f6, 0x02);
    expect([inp(0x1f2), inp(0x1f3), inp(0x1f4), inp(0x1f5), inp(0x1f1)]).toEqual([1, 1, 0, 0, 1]);
    out(0x1f6, 0xb0); // slave
    out(0x1f2, 0x55); out(0x1f3, 0xaa);
    expect([inp(0x1f2), inp(0x1f3), inp(0x1f7)]).toEqual([0, 0, 0]);
    out(0x1f6, 0xa0);
    expect([inp(0x1f2), inp(0x1f3)]).toEqual([0x55, 0xaa]);
    expect(inp(0x177)).toBe(0); // secondary channel: no drives
    expect(bus.irqLevelOf(14)).toBe(false);
  });

  it('IDENTIFY: 512 bytes with the model, LBA48 sector count and DMA modes; IRQ 14 rises and a status read lowers it', () => {
    const { bus, out, inp, readWords } = ideSetup(1000);
    out(0x3f6, 0);
    out(0x1f6, 0xa0); out(0x1f7, ATA_IDENTIFY);
    expect(bus.irqLevelOf(14)).toBe(true);
    expect(inp(0x3f6) & ST_DRQ).toBe(ST_DRQ); // alternate status: no acknowledge
    expect(bus.irqLevelOf(14)).toBe(true);
    expect(inp(0x1f7) & ST_DRQ).toBe(ST_DRQ);
    expect(bus.irqLevelOf(14)).toBe(false);
    const id = new DataView(readWords(256).buffer);
    const word = (i: number) => id.getUint16(2 * i, true);
    let model = '';
    for (let i = 27; i < 47; i++) model += String.fromCharCode(word(i) >> 8, word(i) & 0xff);
    expect(model.trim()).toBe('EMU HARDDISK');
    expect(word(100)).toBe(1000);
    expect(word(83) & (1 << 10)).not.toBe(0);
    expect(word(63) & 7).toBe(7);
    expect(inp(0x1f7) & ST_DRQ).toBe(0);
  });

  it('PIO: READ SECTORS of 2 gives both sectors with an interrupt each; WRITE SECTORS EXT reaches the image; READ MULTIPLE', () => {
    const { image, out, inp, cmd28, cmd48, readWords, ide } = ideSetup();
    cmd28(ATA_READ, 5, 2);
    inp(0x1f7);
    expect(readWords(256)).toEqual(image.subarray(5 * 512, 6 * 512));
    expect(inp(0x1f7) & ST_DRQ).toBe(ST_DRQ);
    expect(readWords(256)).toEqual(image.subarray(6 * 512, 7 * 512));
    expect(inp(0x1f7) & ST_DRQ).toBe(0);
    cmd48(ATA_WRITE_EXT, 9, 1);
    for (let i = 0; i < 128; i++) out(0x1f0, 0x01020304 + i, 4);
    expect(image[9 * 512]).toBe(4);
    expect(image[9 * 512 + 511]).toBe(1);
    expect(ide.counters.bytesWritten).toBe(512);
    out(0x1f2, 4); out(0x1f7, ATA_SET_MULTI);
    cmd28(ATA_READ_MULTI, 0, 8);
    expect(readWords(1024)).toEqual(image.subarray(0, 2048)); // one DRQ block of 4 sectors
    expect(inp(0x1f7) & ST_DRQ).toBe(ST_DRQ);
  });

  it('selecting the absent slave between READ DMA and the engine start: the command keeps its drive and completes (fuzz case 7864 threw)', () => {
    const { mem, image, out, inp, cmd28, bus } = ideSetup();
    mem.dv.setUint32(0x10000, 0x20000, true); mem.dv.setUint32(0x10004, 0x80000000 | 512, true);
    out(0xc004, 0x10000, 4);
    cmd28(ATA_READ_DMA, 7, 1);
    out(0x1f6, 0xf0); // slave (absent), mid-command
    out(0xc000, 0x09);
    expect(bus.irqLevelOf(14)).toBe(true);
    expect(inp(0x1f7) & ST_ERR).toBe(0);
    expect(mem.u8.subarray(0x20000, 0x20200)).toEqual(image.subarray(7 * 512, 8 * 512));
    out(0x1f6, 0xb0); // idle now: the slave is selected
    expect(inp(0x1f7)).toBe(0);
  });

  it('bus-master DMA: READ DMA scatters through a PRD table; WRITE DMA EXT gathers; FLUSH counts', () => {
    const { mem, image, disk, out, inp, cmd28, cmd48, ide, bus } = ideSetup();
    const prd = 0x10000;
    mem.dv.setUint32(prd, 0x20000, true); mem.dv.setUint32(prd + 4, 512, true);
    mem.dv.setUint32(prd + 8, 0x30000, true); mem.dv.setUint32(prd + 12, 0x80000000 | 1024, true);
    out(0xc004, prd, 4);
    out(0xc000, 0x08); // direction: to memory
    cmd28(ATA_READ_DMA, 2, 3);
    expect(bus.irqLevelOf(14)).toBe(false); // waits for the engine
    out(0xc000, 0x09);
    expect(bus.irqLevelOf(14)).toBe(true);
    expect(inp(0xc002) & BM_ST_INTR).toBe(BM_ST_INTR);
    expect(mem.u8.subarray(0x20000, 0x20200)).toEqual(image.subarray(1024, 1536));
    expect(mem.u8.subarray(0x30000, 0x30400)).toEqual(image.subarray(1536, 2560));
    out(0xc002, BM_ST_INTR); out(0xc000, 0);
    inp(0x1f7);
    mem.u8.fill(0x77, 0x20000, 0x20200);
    mem.dv.setUint32(prd + 4, 0x80000000 | 512, true);
    out(0xc000, 0x01); // engine first, then the command
    cmd48(ATA_WRITE_DMA_EXT, 100, 1);
    expect(image.subarray(100 * 512, 101 * 512).every((b) => b === 0x77)).toBe(true);
    out(0xc000, 0);
    out(0x1f7, ATA_FLUSH_EXT);
    expect(disk.flushes).toBe(1);
    expect(ide.counters.flushes).toBe(1);
  });

  it('errors: past the end -> IDNF, a PRD table too short -> BM error, unknown command -> ABRT, write to read-only -> ABRT', () => {
    const { mem, out, inp, cmd28 } = ideSetup(16);
    cmd28(ATA_READ, 15, 2);
    expect(inp(0x1f7) & ST_ERR).toBe(ST_ERR);
    expect(inp(0x1f1) & ERR_IDNF).toBe(ERR_IDNF);
    mem.dv.setUint32(0x10000, 0x20000, true); mem.dv.setUint32(0x10004, 0x80000000 | 512, true);
    out(0xc004, 0x10000, 4);
    out(0xc000, 0x09);
    cmd28(ATA_READ_DMA, 0, 4);
    expect(inp(0xc002) & BM_ST_ERROR).toBe(BM_ST_ERROR);
    expect(inp(0x1f7) & ST_ERR).toBe(ST_ERR);
    out(0x1f7, 0x5a);
    expect(inp(0x1f1)).toBe(ERR_ABRT);
    const ro = ideSetup(16, true);
    ro.cmd28(0x30, 0, 1);
    expect(ro.inp(0x1f1)).toBe(ERR_ABRT);
  });
});

describe('I/O counters for the statistics views', () => {
  it('flatIoCounters names each device\'s traps, interrupts, bytes and traps per KB', async () => {
    const { flatIoCounters } = await import('../../machine/io-devices.js');
    const { ide, cmd28, readWords } = ideSetup();
    cmd28(0x20, 0, 2);
    readWords(512);
    const flat = flatIoCounters([{ name: 'ide (disk.img)', counters: ide.counters }]);
    expect(flat['ide bytes read']).toBe(1024);
    expect(flat['ide interrupts']).toBe(2);
    expect(flat['ide traps']).toBe(ide.counters.traps);
    expect(flat['ide traps per KB']).toBeCloseTo(ide.counters.traps, 1); // 1 KB moved
  });
});
