// An IDE hard disk: its image and the IDENTIFY DEVICE data it answers with (ATA-6 words:
// geometry, LBA28/LBA48 capacity, multiword DMA 0-2, PIO 3-4, write cache and FLUSH CACHE).

import { SECTOR_SIZE, type BlockBackend } from './block.js';

/** The most sectors per DRQ block SET MULTIPLE MODE accepts. */
export const MAX_MULTIPLE = 16;

/** A hard disk: its image and its IDENTIFY data (all configuration; its one setting, the multiple count, lives in the channel). */
export class Drive {
  readonly identify = new Uint8Array(512);
  constructor(readonly disk: BlockBackend, serial: string) {
    const w = new DataView(this.identify.buffer);
    const sectors = disk.size / SECTOR_SIZE;
    const cyl = Math.min(16383, Math.floor(sectors / (16 * 63)));
    const put = (i: number, v: number): void => w.setUint16(2 * i, v, true);
    const str = (i: number, words: number, s: string): void => {
      const t = s.padEnd(2 * words, ' ');
      for (let k = 0; k < words; k++) put(i + k, (t.charCodeAt(2 * k) << 8) | t.charCodeAt(2 * k + 1));
    };
    put(0, 0x0040); put(1, cyl); put(3, 16); put(6, 63);
    str(10, 10, serial); str(23, 4, '1.0'); str(27, 20, 'EMU HARDDISK');
    put(47, 0x8000 | MAX_MULTIPLE);
    put(49, (1 << 9) | (1 << 8)); // LBA, DMA
    put(50, 0x4000); put(51, 0x200);
    put(53, 0x0007); // words 54-58, 64-70 and 88 are valid
    put(54, cyl); put(55, 16); put(56, 63);
    const chs = cyl * 16 * 63;
    put(57, chs & 0xffff); put(58, chs >>> 16);
    const lba28 = Math.min(sectors, 0x0fffffff);
    put(60, lba28 & 0xffff); put(61, lba28 >>> 16);
    put(63, 0x0407); // MWDMA 0-2 supported, mode 2 selected
    put(64, 0x0003); put(65, 120); put(66, 120); put(67, 120); put(68, 120);
    put(80, 0x007e); // ATA-1 .. ATA-6
    put(82, (1 << 14) | (1 << 5)); // NOP, write cache
    put(83, (1 << 14) | (1 << 13) | (1 << 12) | (1 << 10)); // FLUSH CACHE EXT, FLUSH CACHE, LBA48
    put(84, 1 << 14);
    put(85, 1 << 5); // write cache enabled: Linux then sends FLUSH CACHE, which fsyncs
    put(86, (1 << 13) | (1 << 12) | (1 << 10));
    put(87, 1 << 14);
    put(88, 0x003f);
    for (let i = 0; i < 4; i++) put(100 + i, Math.floor(sectors / 2 ** (16 * i)) & 0xffff);
  }
}
