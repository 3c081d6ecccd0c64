// QEMU's fw_cfg device, item by item against docs/specs/fw_cfg.rst, driven as a guest
// driver drives it: select through port 0x510, read bytes from 0x511, or hand the device a
// FWCfgDmaAccess in guest memory through 0x514/0x518.

import { describe, expect, it } from 'vitest';
import {
  DMA_CTL_ERROR, DMA_CTL_READ, DMA_CTL_SELECT, DMA_CTL_SKIP, DMA_CTL_WRITE, FILE_ENTRY_SIZE, FW_CFG_CMDLINE_DATA,
  FW_CFG_CMDLINE_SIZE, FW_CFG_FILE_DIR, FW_CFG_FILE_FIRST, FW_CFG_ID, FW_CFG_INITRD_DATA, FW_CFG_INITRD_SIZE,
  FW_CFG_KERNEL_DATA, FW_CFG_KERNEL_SIZE, FW_CFG_MAX_CPUS, FW_CFG_NB_CPUS, FW_CFG_RAM_SIZE, FW_CFG_SETUP_DATA,
  FW_CFG_SETUP_SIZE, FW_CFG_SIGNATURE, FwCfg,
} from '../../devices/fwcfg.js';
import { GuestMemory } from '../../mmu/memory.js';
import { Machine } from '../../machine/machine.js';
import { bootRecipe } from '../../machine/boot.js';
import { loadState, saveState, undeclaredFields } from '../../devices/state.js';

const RAM = 4 << 20;

function setup() {
  const mem = new GuestMemory(RAM);
  const fw = new FwCfg(mem);
  const select = (key: number) => fw.portWrite(0x510, 2, key);
  const bytes = (n: number) => Array.from({ length: n }, () => fw.portRead(0x511, 1));
  const read = (key: number, n: number) => { select(key); return bytes(n); };
  const u32le = (b: number[]) => (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
  /** Put a FWCfgDmaAccess at `at` (big-endian fields) and start it the way Linux does: high dword, then low. */
  const dma = (at: number, control: number, length: number, addr: number) => {
    mem.dv.setUint32(at, control >>> 0, false);
    mem.dv.setUint32(at + 4, length, false);
    mem.dv.setUint32(at + 8, 0, false);
    mem.dv.setUint32(at + 12, addr, false);
    const swap = (v: number) => ((v >>> 24) | ((v >>> 8) & 0xff00) | ((v & 0xff00) << 8) | ((v & 0xff) << 24)) >>> 0;
    fw.portWrite(0x514, 4, swap(0));
    fw.portWrite(0x518, 4, swap(at));
    return mem.dv.getUint32(at, false); // the control field after the transfer
  };
  return { mem, fw, select, bytes, read, u32le, dma };
}

describe('fw_cfg (QEMU docs/specs/fw_cfg.rst)', () => {
  it('signature item 0x0000 reads "QEMU" through the data port, then zeros past its end', () => {
    const { read } = setup();
    expect(String.fromCharCode(...read(FW_CFG_SIGNATURE, 4))).toBe('QEMU');
    expect(read(FW_CFG_SIGNATURE, 6).slice(4)).toEqual([0, 0]);
  });

  it('ID item 0x0001 has the traditional interface and DMA bits (3)', () => {
    const { read, u32le } = setup();
    expect(u32le(read(FW_CFG_ID, 4))).toBe(3);
  });

  it('selecting again resets the data offset to 0', () => {
    const { select, bytes } = setup();
    select(FW_CFG_SIGNATURE);
    expect(bytes(2)).toEqual([0x51, 0x45]);
    select(FW_CFG_SIGNATURE);
    expect(bytes(1)).toEqual([0x51]);
  });

  it('RAM size (0x03) is 64-bit little-endian; CPU counts (0x05, 0x0F) are 16-bit', () => {
    const { fw, read } = setup();
    expect(read(FW_CFG_RAM_SIZE, 8)).toEqual([0, 0, 0x40, 0, 0, 0, 0, 0]);
    fw.setCpus(4, 8);
    expect(read(FW_CFG_NB_CPUS, 2)).toEqual([4, 0]);
    expect(read(FW_CFG_MAX_CPUS, 2)).toEqual([8, 0]);
  });

  it('an unknown selector reads as zeros; data-port writes are ignored (read-only since QEMU 2.4)', () => {
    const { fw, read, select, bytes } = setup();
    expect(read(0x1234, 3)).toEqual([0, 0, 0]);
    select(0x4000 | FW_CFG_SIGNATURE); // the write channel bit
    fw.portWrite(0x511, 1, 0x41);
    select(FW_CFG_SIGNATURE);
    expect(bytes(1)).toEqual([0x51]);
    expect(fw.stats.ignoredWrites).toBe(1);
  });

  it('the file directory (0x19): be32 count, then 64-byte entries (be32 size, be16 select, name), sorted by name', () => {
    const { fw, read } = setup();
    const kb = fw.addFile('opt/b', new Uint8Array([1, 2, 3]));
    const ka = fw.addFile('opt/a', new TextEncoder().encode('hello'));
    expect(kb).toBe(FW_CFG_FILE_FIRST);
    expect(ka).toBe(FW_CFG_FILE_FIRST + 1);
    const d = read(FW_CFG_FILE_DIR, 4 + 2 * FILE_ENTRY_SIZE);
    const dv = new DataView(Uint8Array.from(d).buffer);
    expect(dv.getUint32(0)).toBe(2);
    const entry = (i: number) => {
      const o = 4 + i * FILE_ENTRY_SIZE;
      const name = String.fromCharCode(...d.slice(o + 8, o + 64)).replace(/\0+$/, '');
      return { size: dv.getUint32(o), select: dv.getUint16(o + 4), reserved: dv.getUint16(o + 6), name };
    };
    expect(entry(0)).toEqual({ size: 5, select: ka, reserved: 0, name: 'opt/a' });
    expect(entry(1)).toEqual({ size: 3, select: kb, reserved: 0, name: 'opt/b' });
    expect(String.fromCharCode(...read(ka, 5))).toBe('hello');
  });

  it('kernel, setup, initrd and command line items: sizes are 32-bit LE, the command line ends in NUL', () => {
    const { fw, read, u32le } = setup();
    fw.setBootFiles({ setup: new Uint8Array([9, 9]), kernel: new Uint8Array([1, 2, 3]), initrd: new Uint8Array([7]), cmdline: 'console=ttyS0' });
    expect(u32le(read(FW_CFG_KERNEL_SIZE, 4))).toBe(3);
    expect(read(FW_CFG_KERNEL_DATA, 3)).toEqual([1, 2, 3]);
    expect(u32le(read(FW_CFG_SETUP_SIZE, 4))).toBe(2);
    expect(read(FW_CFG_SETUP_DATA, 2)).toEqual([9, 9]);
    expect(u32le(read(FW_CFG_INITRD_SIZE, 4))).toBe(1);
    expect(read(FW_CFG_INITRD_DATA, 1)).toEqual([7]);
    expect(u32le(read(FW_CFG_CMDLINE_SIZE, 4))).toBe(14);
    expect(String.fromCharCode(...read(FW_CFG_CMDLINE_DATA, 14))).toBe('console=ttyS0\0');
  });

  it('reading the DMA address register gives the "QEMU CFG" signature (big-endian)', () => {
    const { fw } = setup();
    const hi = fw.portRead(0x514, 4), lo = fw.portRead(0x518, 4);
    const b = [hi & 0xff, (hi >>> 8) & 0xff, (hi >>> 16) & 0xff, hi >>> 24, lo & 0xff, (lo >>> 8) & 0xff, (lo >>> 16) & 0xff, lo >>> 24];
    expect(String.fromCharCode(...b)).toBe('QEMU CFG');
  });

  it('DMA select+read copies the item, zero-fills past its end and clears control', () => {
    const { mem, fw, dma } = setup();
    const key = fw.addFile('opt/x', new Uint8Array([0xa, 0xb, 0xc]));
    mem.u8.fill(0xee, 0x2000, 0x2010);
    expect(dma(0x1000, (key << 16) | DMA_CTL_SELECT | DMA_CTL_READ, 5, 0x2000)).toBe(0);
    expect([...mem.u8.subarray(0x2000, 0x2006)]).toEqual([0xa, 0xb, 0xc, 0, 0, 0xee]);
  });

  it('DMA skip advances the offset; a later read continues from there, as does the data port', () => {
    const { mem, fw, dma, bytes } = setup();
    const key = fw.addFile('opt/x', Uint8Array.from({ length: 16 }, (_, i) => i));
    expect(dma(0x1000, (key << 16) | DMA_CTL_SELECT | DMA_CTL_SKIP, 4, 0)).toBe(0);
    expect(dma(0x1000, DMA_CTL_READ, 2, 0x3000)).toBe(0);
    expect([...mem.u8.subarray(0x3000, 0x3002)]).toEqual([4, 5]);
    expect(bytes(1)).toEqual([6]);
  });

  it('DMA write sets the error bit (no item is writable); a read that leaves RAM sets it too', () => {
    const { fw, dma } = setup();
    const key = fw.addFile('opt/x', new Uint8Array(4));
    expect(dma(0x1000, (key << 16) | DMA_CTL_SELECT | DMA_CTL_WRITE, 4, 0x2000) & DMA_CTL_ERROR).toBe(DMA_CTL_ERROR);
    expect(dma(0x1000, (key << 16) | DMA_CTL_SELECT | DMA_CTL_READ, 16, RAM - 8) & DMA_CTL_ERROR).toBe(DMA_CTL_ERROR);
    expect(fw.stats.dmaErrors).toBe(2);
  });

  it('the board: etc/e820 lists the PC memory map (20-byte entries), NB_CPUS the vCPUs, -fw_cfg blobs appear by name', () => {
    const m = new Machine({ memory: 32 << 20, accel: 'interp', fwCfg: [{ name: 'opt/emu/test', bytes: new TextEncoder().encode('blob') }] });
    const fw = m.devices.fwcfg;
    const rd = (key: number, n: number) => { fw.portWrite(0x510, 2, key); return Array.from({ length: n }, () => fw.portRead(0x511, 1)); };
    expect(rd(FW_CFG_NB_CPUS, 2)).toEqual([1, 0]);
    const dir = rd(FW_CFG_FILE_DIR, 4 + 2 * FILE_ENTRY_SIZE);
    const dv = new DataView(Uint8Array.from(dir).buffer);
    const files = new Map<string, { size: number; key: number }>();
    for (let i = 0; i < dv.getUint32(0); i++) {
      const o = 4 + i * FILE_ENTRY_SIZE;
      files.set(String.fromCharCode(...dir.slice(o + 8, o + 64)).replace(/\0+$/, ''), { size: dv.getUint32(o), key: dv.getUint16(o + 4) });
    }
    const e820 = files.get('etc/e820')!;
    expect(e820.size % 20).toBe(0);
    const e = Uint8Array.from(rd(e820.key, e820.size));
    const edv = new DataView(e.buffer);
    // First entry: conventional memory from 0, type 1 (RAM); one entry is the ACPI reclaimable region (type 3).
    expect([edv.getUint32(0, true), edv.getUint32(16, true)]).toEqual([0, 1]);
    const types = Array.from({ length: e.length / 20 }, (_, i) => edv.getUint32(i * 20 + 16, true));
    expect(types).toContain(3);
    expect(String.fromCharCode(...rd(files.get('opt/emu/test')!.key, 4))).toBe('blob');
    m.destroy();
  });

  it('a multiboot boot fills the kernel and command-line items', () => {
    // Smallest multiboot image: the header (magic, flags with the a.out kludge, checksum) and a HLT.
    const img = new Uint8Array(64);
    const dv = new DataView(img.buffer);
    const flags = 1 << 16;
    dv.setUint32(0, 0x1badb002, true); dv.setUint32(4, flags, true); dv.setUint32(8, (-(0x1badb002 + flags)) >>> 0, true);
    dv.setUint32(12, 0x100000, true); dv.setUint32(16, 0x100000, true); dv.setUint32(20, 0x100040, true);
    dv.setUint32(24, 0x100040, true); dv.setUint32(28, 0x100020, true);
    img[32] = 0xf4;
    const m = new Machine({ memory: 32 << 20, accel: 'interp' });
    m.boot(bootRecipe({ kernel: { name: 'k', bytes: img }, cmdline: 'x=1' }));
    const fw = m.devices.fwcfg;
    const rd = (key: number, n: number) => { fw.portWrite(0x510, 2, key); return Array.from({ length: n }, () => fw.portRead(0x511, 1)); };
    expect(rd(FW_CFG_KERNEL_SIZE, 4)).toEqual([64, 0, 0, 0]);
    expect(String.fromCharCode(...rd(FW_CFG_CMDLINE_DATA, 4))).toBe('x=1\0');
    m.destroy();
  });

  it('state declared once: a save mid-item restores into a fresh device that reads on from the same byte', () => {
    const a = setup(), b = setup();
    for (const x of [a, b]) x.fw.addFile('opt/x', Uint8Array.from({ length: 8 }, (_, i) => 10 + i));
    a.select(FW_CFG_FILE_FIRST);
    a.bytes(3);
    expect(undeclaredFields(a.fw)).toEqual([]);
    loadState(b.fw, saveState(a.fw));
    expect(b.bytes(2)).toEqual([13, 14]);
    expect(b.fw.stats.dataReads).toBe(5);
  });
});
