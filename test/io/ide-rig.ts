// The IDE controller on a bus with a 4 MiB guest, and the register writes libata makes.
import { MemoryDisk } from '../../devices/block.js';
import { Bus } from '../../devices/bus.js';
import { PiixIde } from '../../devices/ide.js';
import { GuestMemory } from '../../mmu/memory.js';

export function ideSetup(sectors = 256, readOnly = false) {
  const mem = new GuestMemory(4 << 20);
  const bus = new Bus();
  const image = new Uint8Array(sectors * 512);
  for (let i = 0; i < image.length; i++) image[i] = (i * 13 + (i >> 9)) & 0xff;
  const disk = new MemoryDisk(image, readOnly);
  const ide = new PiixIde(mem, bus, [disk]);
  ide.attach();
  bus.registerPorts('bmide', 0xc000, 16, { portRead: (p, s) => ide.mmioRead(p - 0xc000, s), portWrite: (p, s, v) => ide.mmioWrite(p - 0xc000, s, v) });
  const out = (port: number, v: number, size: 1 | 2 | 4 = 1) => bus.portWrite(port, size, v);
  const inp = (port: number, size: 1 | 2 | 4 = 1) => bus.portRead(port, size);
  /** LBA28 task file + command, as ata_sff_tf_load / exec_command write it. */
  const cmd28 = (command: number, lba: number, count: number) => {
    out(0x1f2, count); out(0x1f3, lba & 0xff); out(0x1f4, (lba >> 8) & 0xff); out(0x1f5, (lba >> 16) & 0xff);
    out(0x1f6, 0xe0 | ((lba >> 24) & 0x0f)); out(0x1f7, command);
  };
  const cmd48 = (command: number, lba: number, count: number) => {
    out(0x1f2, count >> 8); out(0x1f3, (lba / 2 ** 24) & 0xff); out(0x1f4, 0); out(0x1f5, 0);
    out(0x1f2, count & 0xff); out(0x1f3, lba & 0xff); out(0x1f4, (lba >> 8) & 0xff); out(0x1f5, (lba >> 16) & 0xff);
    out(0x1f6, 0x40); out(0x1f7, command);
  };
  const readWords = (n: number) => { const b = new Uint8Array(2 * n); for (let i = 0; i < n; i++) { const w = inp(0x1f0, 2); b[2 * i] = w & 0xff; b[2 * i + 1] = w >> 8; } return b; };
  return { mem, bus, image, disk, ide, out, inp, cmd28, cmd48, readWords };
}
