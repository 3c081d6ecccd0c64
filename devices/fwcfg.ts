// QEMU's firmware configuration device (fw_cfg), x86 I/O-port flavour, as
// QEMU's docs/specs/fw_cfg.rst describes it: a 16-bit selector at 0x510, a byte
// data port at 0x511, and the DMA interface whose 64-bit address register sits
// big-endian at 0x514 (high half) and 0x518 (low half; writing it starts the
// transfer). Items are byte blobs keyed by selector; named ones ("files") are
// listed in the file directory (0x19). Emulated: signature, ID (traditional +
// DMA), the fixed items the board fills in (RAM size, CPU counts, kernel,
// initrd, command line), the file directory, DMA read/skip/select/write (every
// item is read-only: a DMA write sets the error bit, and data-port writes are
// ignored as QEMU has done since 2.4). Not emulated: writable files, MMIO.

import type { GuestMemory } from '../mmu/memory.js';
import type { PortDevice } from './bus.js';
import { declareState } from './state.js';

/** Ports. */
export const FW_CFG_PORT_SEL = 0x510;
export const FW_CFG_PORT_DATA = 0x511;
export const FW_CFG_PORT_DMA = 0x514; // high half of the DMA address; 0x518 the low half
/** Ports from 0x510 the device claims (selector, data, unused, DMA high, DMA low). */
export const FW_CFG_PORT_COUNT = 12;

/** Selector keys (fw_cfg.rst "Selector Register" and include/standard-headers/linux/qemu_fw_cfg.h). */
export const FW_CFG_SIGNATURE = 0x00;
export const FW_CFG_ID = 0x01;
export const FW_CFG_UUID = 0x02;
export const FW_CFG_RAM_SIZE = 0x03;
export const FW_CFG_NOGRAPHIC = 0x04;
export const FW_CFG_NB_CPUS = 0x05; // CPUs present at boot
export const FW_CFG_MACHINE_ID = 0x06;
export const FW_CFG_KERNEL_ADDR = 0x07;
export const FW_CFG_KERNEL_SIZE = 0x08;
export const FW_CFG_KERNEL_CMDLINE = 0x09;
export const FW_CFG_INITRD_ADDR = 0x0a;
export const FW_CFG_INITRD_SIZE = 0x0b;
export const FW_CFG_BOOT_DEVICE = 0x0c;
export const FW_CFG_NUMA = 0x0d;
export const FW_CFG_BOOT_MENU = 0x0e;
export const FW_CFG_MAX_CPUS = 0x0f; // CPUs possible (hot-plug limit)
export const FW_CFG_KERNEL_ENTRY = 0x10;
export const FW_CFG_KERNEL_DATA = 0x11;
export const FW_CFG_INITRD_DATA = 0x12;
export const FW_CFG_CMDLINE_ADDR = 0x13;
export const FW_CFG_CMDLINE_SIZE = 0x14;
export const FW_CFG_CMDLINE_DATA = 0x15;
export const FW_CFG_SETUP_ADDR = 0x16;
export const FW_CFG_SETUP_SIZE = 0x17;
export const FW_CFG_SETUP_DATA = 0x18;
export const FW_CFG_FILE_DIR = 0x19;
/** Named files get keys from here up, in the order they are added. */
export const FW_CFG_FILE_FIRST = 0x20;
/** Selector bits: write mode (0x4000) and architecture-specific items (0x8000). */
export const FW_CFG_WRITE_CHANNEL = 0x4000;
export const FW_CFG_ARCH_LOCAL = 0x8000;
const KEY_MASK = 0x3fff;

/** FW_CFG_ID bits. */
export const FW_CFG_VERSION = 0x01; // the traditional selector/data interface
export const FW_CFG_VERSION_DMA = 0x02;

/** FWCfgDmaAccess.control bits (the structure is { be32 control; be32 length; be64 address }). */
export const DMA_CTL_ERROR = 0x01;
export const DMA_CTL_READ = 0x02;
export const DMA_CTL_SKIP = 0x04;
export const DMA_CTL_SELECT = 0x08; // bits 31:16 hold the selector
export const DMA_CTL_WRITE = 0x10;
/** What a read of the DMA address register returns: "QEMU CFG" as a big-endian 64-bit value. */
export const DMA_SIGNATURE_HI = 0x51454d55, DMA_SIGNATURE_LO = 0x20434647;

/** A file directory entry: be32 size, be16 select, be16 reserved, char name[56]. */
export const FILE_ENTRY_SIZE = 64;
export const FILE_NAME_MAX = 56;

export interface FwCfgFile {
  name: string;
  bytes: Uint8Array;
}

/** Little-endian bytes of a number below 2^53 (the scalar items are little-endian on x86). */
export function le(value: number, size: 2 | 4 | 8): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Math.floor(value / 2 ** (8 * i)) & 0xff;
  return out;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

export class FwCfg implements PortDevice {
  private readonly items = new Map<number, Uint8Array>();
  private readonly files: { name: string; key: number; size: number }[] = [];
  private selector = 0;
  private offset = 0;
  /** The DMA address register (high half latched until the low half is written). */
  private dmaHi = 0;

  /** Counters for the teaching views. */
  readonly stats = { selects: 0, dataReads: 0, dmaTransfers: 0, dmaErrors: 0, ignoredWrites: 0 };

  static {
    // The items are the board's configuration (set before the guest runs), not the device's state.
    declareState(FwCfg, {
      fields: {
        selector: 'u16', offset: 'u32', dmaHi: 'u32',
        stats: { selects: 'f64', dataReads: 'f64', dmaTransfers: 'f64', dmaErrors: 'f64', ignoredWrites: 'f64' },
      },
      wiring: ['items', 'files', 'mem'],
    });
  }

  constructor(private readonly mem: GuestMemory) {
    this.items.set(FW_CFG_SIGNATURE, ascii('QEMU'));
    this.items.set(FW_CFG_ID, le(FW_CFG_VERSION | FW_CFG_VERSION_DMA, 4));
    this.items.set(FW_CFG_UUID, new Uint8Array(16));
    this.items.set(FW_CFG_RAM_SIZE, le(mem.ramSize, 8));
    this.items.set(FW_CFG_NOGRAPHIC, le(1, 2));
    this.items.set(FW_CFG_MACHINE_ID, le(0, 4));
    this.items.set(FW_CFG_BOOT_MENU, le(0, 2));
    this.setCpus(1, 1);
    this.rebuildDirectory();
  }

  /** FW_CFG_NB_CPUS (present) and FW_CFG_MAX_CPUS (possible). */
  setCpus(present: number, max: number): void {
    this.items.set(FW_CFG_NB_CPUS, le(present, 2));
    this.items.set(FW_CFG_MAX_CPUS, le(max, 2));
  }

  /** A numbered item (keys below FW_CFG_FILE_FIRST, or arch-local ones with 0x8000). */
  setItem(key: number, bytes: Uint8Array): void {
    if (key === FW_CFG_FILE_DIR || (key >= FW_CFG_FILE_FIRST && key < FW_CFG_ARCH_LOCAL)) {
      throw new Error(`fw_cfg key 0x${key.toString(16)} is reserved for the file directory`);
    }
    this.items.set(key, bytes);
  }

  /** A named file; returns its key. A second file with the same name replaces the first's contents. */
  addFile(name: string, bytes: Uint8Array): number {
    if (name.length === 0 || name.length >= FILE_NAME_MAX) throw new Error(`fw_cfg file name '${name}' must be 1 to ${FILE_NAME_MAX - 1} characters`);
    let f = this.files.find((x) => x.name === name);
    if (!f) {
      f = { name, key: FW_CFG_FILE_FIRST + this.files.length, size: 0 };
      if (f.key >= FW_CFG_ARCH_LOCAL) throw new Error('fw_cfg: too many files');
      this.files.push(f);
    }
    f.size = bytes.length;
    this.items.set(f.key, bytes);
    this.rebuildDirectory();
    return f.key;
  }

  /** The kernel, initrd and command line items (what QEMU's -kernel/-initrd/-append put there). */
  setBootFiles(boot: { kernel?: Uint8Array; setup?: Uint8Array; initrd?: Uint8Array; cmdline?: string;
    kernelAddr?: number; initrdAddr?: number; cmdlineAddr?: number; setupAddr?: number }): void {
    const blob = (sizeKey: number, dataKey: number, bytes: Uint8Array | undefined, addrKey: number, addr = 0) => {
      const b = bytes ?? new Uint8Array(0);
      this.items.set(sizeKey, le(b.length, 4));
      this.items.set(dataKey, b);
      this.items.set(addrKey, le(addr, 4));
    };
    blob(FW_CFG_KERNEL_SIZE, FW_CFG_KERNEL_DATA, boot.kernel, FW_CFG_KERNEL_ADDR, boot.kernelAddr);
    blob(FW_CFG_SETUP_SIZE, FW_CFG_SETUP_DATA, boot.setup, FW_CFG_SETUP_ADDR, boot.setupAddr);
    blob(FW_CFG_INITRD_SIZE, FW_CFG_INITRD_DATA, boot.initrd, FW_CFG_INITRD_ADDR, boot.initrdAddr);
    // The command line item includes its terminating NUL (so its size is length + 1).
    const cmd = boot.cmdline !== undefined ? Uint8Array.from([...ascii(boot.cmdline), 0]) : undefined;
    blob(FW_CFG_CMDLINE_SIZE, FW_CFG_CMDLINE_DATA, cmd, FW_CFG_CMDLINE_ADDR, boot.cmdlineAddr);
    this.items.set(FW_CFG_KERNEL_CMDLINE, le(boot.cmdlineAddr ?? 0, 4));
    this.items.set(FW_CFG_KERNEL_ENTRY, le(boot.kernelAddr ?? 0, 4));
  }

  /** be32 count, then the entries (QEMU keeps them sorted by name; the keys stay in order of addition). */
  private rebuildDirectory(): void {
    const sorted = [...this.files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const dir = new Uint8Array(4 + sorted.length * FILE_ENTRY_SIZE);
    const dv = new DataView(dir.buffer);
    dv.setUint32(0, sorted.length);
    sorted.forEach((f, i) => {
      const o = 4 + i * FILE_ENTRY_SIZE;
      dv.setUint32(o, f.size);
      dv.setUint16(o + 4, f.key);
      dir.set(ascii(f.name), o + 8);
    });
    this.items.set(FW_CFG_FILE_DIR, dir);
  }

  private current(): Uint8Array | undefined {
    return this.items.get(this.selector & (KEY_MASK | FW_CFG_ARCH_LOCAL));
  }

  private select(key: number): void {
    this.selector = key & 0xffff;
    this.offset = 0;
    this.stats.selects++;
  }

  /** Power-on: selector 0, no transfer in progress (the items stay: the board set them). */
  reset(): void {
    this.selector = 0;
    this.offset = 0;
    this.dmaHi = 0;
  }

  // ---- Port face.

  portRead(port: number, size: 1 | 2 | 4): number {
    if (port === FW_CFG_PORT_DATA) {
      // Wider reads are byte arrays bundled together; reads past the end of the item return 0.
      let v = 0;
      for (let i = 0; i < size; i++) v |= this.readByte() << (8 * i);
      return v >>> 0;
    }
    if (port === FW_CFG_PORT_DMA && size === 4) return swap32(DMA_SIGNATURE_HI);
    if (port === FW_CFG_PORT_DMA + 4 && size === 4) return swap32(DMA_SIGNATURE_LO);
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }

  private readByte(): number {
    this.stats.dataReads++;
    const item = this.current();
    if (!item || this.offset >= item.length) return 0;
    return item[this.offset++];
  }

  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (port === FW_CFG_PORT_SEL && size === 2) { this.select(value); return; }
    if (port === FW_CFG_PORT_DMA && size === 4) { this.dmaHi = swap32(value); return; }
    if (port === FW_CFG_PORT_DMA + 4 && size === 4) {
      this.dma(this.dmaHi, swap32(value));
      this.dmaHi = 0;
      return;
    }
    this.stats.ignoredWrites++; // data-port writes (read-only items) and odd widths
  }

  // ---- DMA (fw_cfg.rst "DMA interface").

  /** Run the FWCfgDmaAccess at guest-physical hi:lo; the device then clears control, or sets its error bit. */
  private dma(hi: number, lo: number): void {
    this.stats.dmaTransfers++;
    const mem = this.mem;
    if (hi !== 0 || !mem.isRam(lo, 16)) { this.stats.dmaErrors++; return; } // nowhere to report it
    const desc = mem.view(lo, 16);
    const dv = new DataView(desc.buffer, desc.byteOffset, 16);
    const control = dv.getUint32(0), length = dv.getUint32(4);
    const addrHi = dv.getUint32(8), addrLo = dv.getUint32(12);
    let ok = true;
    if ((control & DMA_CTL_SELECT) !== 0) this.select(control >>> 16);
    if ((control & DMA_CTL_WRITE) !== 0) ok = false; // no item is writable
    else if ((control & DMA_CTL_READ) !== 0) ok = this.dmaRead(addrHi, addrLo, length);
    else if ((control & DMA_CTL_SKIP) !== 0) this.offset += length;
    if (!ok) this.stats.dmaErrors++;
    // Written last, as the guest polls it: 0 on success, the error bit otherwise.
    mem.writeBytes(lo, Uint8Array.of(0, 0, 0, ok ? 0 : DMA_CTL_ERROR));
  }

  /** Copy `length` bytes of the item from the current offset; past its end the guest gets zeros. */
  private dmaRead(hi: number, addr: number, length: number): boolean {
    if (hi !== 0 || !this.mem.isRam(addr, length)) return false;
    const item = this.current() ?? new Uint8Array(0);
    const avail = Math.max(0, Math.min(length, item.length - this.offset));
    // Page at a time, so every page that holds decoded code hears of the write.
    for (let done = 0; done < length;) {
      const n = Math.min(length - done, 0x1000 - ((addr + done) & 0xfff));
      const chunk = new Uint8Array(n);
      const from = done < avail ? Math.min(n, avail - done) : 0;
      if (from > 0) chunk.set(item.subarray(this.offset + done, this.offset + done + from));
      this.mem.writeBytes(addr + done, chunk);
      done += n;
    }
    this.offset += length;
    return true;
  }
}

/** The DMA address register is big-endian; port writes arrive as little-endian dwords. */
function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}
