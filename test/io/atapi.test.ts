// The ATAPI CD-ROM on the IDE secondary master, driven as libata drives a packet device:
// the signature after SRST, IDENTIFY DEVICE aborted, IDENTIFY PACKET DEVICE, and packet
// commands in PIO with the driver's byte count limit, checked to the byte. Then as a user
// meets it: emu -cdrom F with a small guest (test/guests/atapi-read.S) reading the ISO.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../cli/args.js';
import { emu } from '../cli/run-main.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';
import { ATA_IDENTIFY, ERR_ABRT, ST_DRQ, ST_ERR } from '../../devices/ide.js';
import { cdSetup, SECTORS } from './atapi-rig.js';

const be32 = (b: number[], at: number) => ((b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) >>> 0;
const text = (b: number[], from: number, to: number) => String.fromCharCode(...b.slice(from, to));

describe('ATAPI CD-ROM (IDE secondary master)', () => {
  it('SRST leaves the ATAPI signature; IDENTIFY DEVICE aborts with it; IDENTIFY PACKET DEVICE says CD-ROM, removable, multiword DMA', () => {
    const { out, inp, words, bus } = cdSetup();
    out(0x376, 0x06); out(0x376, 0x02);
    expect([inp(0x172), inp(0x173), inp(0x174), inp(0x175)]).toEqual([1, 1, 0x14, 0xeb]);
    out(0x376, 0); out(0x176, 0xa0);
    out(0x174, 0); out(0x175, 0);
    out(0x177, ATA_IDENTIFY);
    expect(inp(0x177) & ST_ERR).toBe(ST_ERR);
    expect([inp(0x171), inp(0x174), inp(0x175)]).toEqual([ERR_ABRT, 0x14, 0xeb]);
    out(0x177, 0xa1);
    expect(bus.irqLevelOf(15)).toBe(true);
    expect(inp(0x177) & ST_DRQ).toBe(ST_DRQ);
    const id = words(256);
    const word = (i: number) => id[2 * i] | (id[2 * i + 1] << 8);
    expect(word(0)).toBe(0x85c0);
    let model = '';
    for (let i = 27; i < 47; i++) model += String.fromCharCode(word(i) >> 8, word(i) & 0xff);
    expect(model.trim()).toBe('EMU CD-ROM');
    expect([word(49) & (1 << 8), word(63)]).toEqual([1 << 8, 0x0407]); // DMA: multiword modes 0-2, mode 2 selected
    expect(inp(0x177) & ST_DRQ).toBe(0);
  });

  it('TEST UNIT READY, INQUIRY, READ CAPACITY', () => {
    const { packet } = cdSetup();
    const tur = packet([0x00]);
    expect([tur.data.length, tur.status & ST_ERR, tur.reason]).toEqual([0, 0, 3]);
    const inq = packet([0x12, 0, 0, 0, 36]);
    expect(inq.data.slice(0, 5)).toEqual([0x05, 0x80, 0x05, 0x02, 31]);
    expect(text(inq.data, 8, 36)).toBe('EMU     EMU CD-ROM      1.0 ');
    expect(inq.reason).toBe(3);
    const cap = packet([0x25]);
    expect([be32(cap.data, 0), be32(cap.data, 4)]).toEqual([SECTORS - 1, 2048]);
  });

  it('READ(10) and READ(12) move the image\'s sectors in DRQ blocks of at most the byte count limit', () => {
    const { packet, iso, ide } = cdSetup();
    const r10 = packet([0x28, 0, 0, 0, 0, 3, 0, 0, 5]);
    expect(r10.blocks).toEqual([5 * 2048]);
    expect(Uint8Array.from(r10.data)).toEqual(iso.subarray(3 * 2048, 8 * 2048));
    const all = packet([0x28, 0, 0, 0, 0, 0, 0, 0, SECTORS]); // limit 0xfffe: blocks of whole sectors under it
    expect(all.blocks).toEqual([31 * 2048, (SECTORS - 31) * 2048]);
    expect(Uint8Array.from(all.data)).toEqual(iso);
    const r12 = packet([0xa8, 0, 0, 0, 0, 10, 0, 0, 0, 3], 4096);
    expect(r12.blocks).toEqual([4096, 2048]);
    expect(Uint8Array.from(r12.data)).toEqual(iso.subarray(10 * 2048, 13 * 2048));
    const odd = packet([0x28, 0, 0, 0, 0, 1, 0, 0, 1], 1000); // a limit under a sector: blocks of the limit
    expect(odd.blocks).toEqual([1000, 1000, 48]);
    expect(Uint8Array.from(odd.data)).toEqual(iso.subarray(2048, 4096));
    expect(ide.counters.bytesRead).toBe((5 + SECTORS + 3 + 1) * 2048);
  });

  it('a read past the end: CHECK CONDITION (ERR, sense key 5 in the error register); REQUEST SENSE says LBA out of range, then clears', () => {
    const { packet } = cdSetup();
    const bad = packet([0x28, 0, 0, 0, 0, SECTORS - 1, 0, 0, 2]);
    expect(bad.status & ST_ERR).toBe(ST_ERR);
    expect(bad.error).toBe((5 << 4) | ERR_ABRT);
    expect(bad.data).toEqual([]);
    const sense = packet([0x03, 0, 0, 0, 18]);
    expect(sense.data.length).toBe(18);
    expect([sense.data[0], sense.data[2], sense.data[7], sense.data[12]]).toEqual([0x70, 5, 10, 0x21]);
    expect(packet([0x03, 0, 0, 0, 18]).data[2]).toBe(0);
    const unknown = packet([0x2a, 0, 0, 0, 0, 0, 0, 0, 1]); // WRITE(10): not a CD-ROM command
    expect(unknown.error >> 4).toBe(5);
    expect(packet([0x03, 0, 0, 0, 18]).data[12]).toBe(0x20);
  });

  it('MODE SENSE(10) page 2Ah, GET CONFIGURATION (CD-ROM profile), READ TOC formats 0 and 1', () => {
    const { packet } = cdSetup();
    const ms = packet([0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 128]).data;
    expect(ms.length).toBe(8 + 22);
    expect([(ms[0] << 8) | ms[1], ms[2], ms[8], ms[9]]).toEqual([28, 1, 0x2a, 20]);
    expect(ms[8 + 6]).toBe(0x29); // tray, eject, lock
    expect((ms[8 + 8] << 8) | ms[8 + 9]).toBe(4224);
    expect(packet([0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 255]).data.length).toBe(8 + 12 + 8 + 22);
    expect(packet([0x1a, 0, 0x05, 0, 255]).error >> 4).toBe(5); // no page 05h
    const conf = packet([0x46, 0, 0, 0, 0, 0, 0, 0, 255]).data;
    expect([be32(conf, 0), (conf[6] << 8) | conf[7]]).toEqual([conf.length - 4, 8]);
    expect(conf.slice(8, 16)).toEqual([0, 0, 3, 4, 0, 8, 1, 0]);
    expect(packet([0x46, 2, 0, 1, 0, 0, 0, 0, 255]).data.slice(8)).toEqual([0, 1, 7, 8, 0, 0, 0, 2, 0, 0, 0, 0]);
    const toc = packet([0x43, 0, 0, 0, 0, 0, 0, 0, 100]).data;
    expect(toc).toEqual([0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xaa, 0, 0, 0, 0, SECTORS]);
    const msf = packet([0x43, 2, 0, 0, 0, 0, 0, 0, 100]).data;
    expect(msf.slice(16)).toEqual([0, 0, 2, (SECTORS + 150) % 75]); // lead-out: LBA 40 + 150 = 00:02:40
    const session = packet([0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40]).data; // Linux sr's last-session query (format in byte 9)
    expect(session).toEqual([0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0]);
  });

  it('hard-disk commands abort with the ATAPI signature', () => {
    const { out, inp } = cdSetup();
    out(0x176, 0xa0); out(0x174, 0); out(0x175, 0); out(0x177, 0x20); // READ SECTORS
    expect([inp(0x177) & ST_ERR, inp(0x171), inp(0x174), inp(0x175)]).toEqual([ST_ERR, ERR_ABRT, 0x14, 0xeb]);
  });
});

const hex = (b: ArrayLike<number>): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

describe('emu -cdrom', () => {
  it('spellings: -cdrom, -drive media=cdrom, -device ide-cd; the mistakes are one line', () => {
    const o = parseArgs(['-cdrom', 'a.iso', '-drive', 'file=b.iso,media=cdrom,index=3', '-drive', 'file=c.iso,if=none,id=c', '-device', 'ide-cd,drive=c']);
    expect(o.io.drives.map((d) => [d.file, d.interface, d.index, d.readOnly, d.media, d.device])).toEqual([
      ['a.iso', 'ide', 2, true, 'cdrom', null], ['b.iso', 'ide', 3, true, 'cdrom', null], ['c.iso', 'none', 0, true, 'cdrom', 'ide']]);
    const bad = (...a: string[]) => { try { parseArgs(a); return ''; } catch (e) { return (e as Error).message; } };
    expect(bad('-drive', 'file=a.iso,if=virtio,media=cdrom')).toBe('-drive file=a.iso,if=virtio,media=cdrom: media=cdrom is an IDE (ATAPI) drive; use if=ide (or if=none with -device ide-cd)');
    expect(bad('-drive', 'file=a.iso,media=cdrom,readonly=off')).toBe('-drive file=a.iso,media=cdrom,readonly=off: a CD-ROM is read-only; drop readonly=off');
    expect(bad('-drive', 'file=a.iso,media=floppy')).toBe('-drive file=a.iso,media=floppy: media=floppy is not supported; use media=disk or media=cdrom');
    expect(bad('-cdrom', 'a.iso', '-hdc', 'b.img')).toMatch(/two IDE drives at index 2/);
  });

  describe.skipIf(!hasToolchain())('a guest reads the ISO (test/guests/atapi-read.S)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-cdrom-'));
    const guest = join(dir, 'atapi.bin'), iso = join(dir, 'disc.iso');
    if (hasToolchain()) writeFileSync(guest, buildFlat(readFileSync(new URL('../guests/atapi-read.S', import.meta.url), 'utf8'), 0x100000));
    const loader = ['-device', `loader,file=${guest},addr=0x100000`];

    it('INQUIRY, READ CAPACITY, READ(10) of two sectors in 2048-byte blocks, a READ(12) past the end, REQUEST SENSE', async () => {
      const bytes = new Uint8Array(20 * 2048);
      for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + (i >> 11) * 7) & 0xff;
      writeFileSync(iso, bytes);
      const r = await emu('-cdrom', iso, ...loader);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(33);
      const inquiry = [5, 0x80, 5, 2, 31, 0, 0, 0, ...Buffer.from('EMU     EMU CD-ROM      1.0 ')];
      expect(r.stdout.split('\n')).toEqual([
        `${hex(inquiry)}!5000`,
        '0000001300000800!5000', // last LBA 19, 2048-byte blocks
        `${hex(bytes.subarray(16 * 2048, 18 * 2048))}!5000`,
        '!4154', // DRDY | ERR; sense key 5 (ILLEGAL REQUEST) | ABRT
        `${hex([0x70, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x21, 0, 0, 0, 0, 0])}!5000`, // LBA out of range
        '',
      ]);
    });

    it('a missing ISO is one line and exit 1', async () => {
      const r = await emu('-cdrom', join(dir, 'none.iso'), ...loader);
      expect(r.stderr).toBe(`emu: CD-ROM image '${join(dir, 'none.iso')}' does not exist; check the path (create one with: genisoimage -o ${join(dir, 'none.iso')} DIR)\n`);
      expect(r.status).toBe(1);
    });
  });
});
