// PCI bus 0 behind configuration mechanism #1 (0xCF8 address, 0xCFC-0xCFF data) and
// the generic type-0 configuration space every function shares: write masks, BARs that
// map their handler on the device bus when decoding is enabled, a capability list, and
// INTx wired to the PCI GSIs 16-19 with the usual slot swizzle. The chipset's own
// functions (host bridge, ISA bridge) live in pci-chipset.ts. PCI Local Bus Spec 3.0 ch. 6.

import type { Bus, MmioDevice, PortDevice } from './bus.js';
import { PCI_GSI_BASE } from '../contracts/irqs.js';
import { declareState } from './state.js';

export const PCI_CONFIG_ADDRESS = 0xcf8;
export const PCI_CONFIG_DATA = 0xcfc;
/** The PIIX/ICH reset control register sits inside the CF8-CFF window (byte access only). */
export const RESET_CONTROL = 0xcf9;
export const RC_SYS_RST = 1 << 1, RC_RST_CPU = 1 << 2;
const CONFIG_ENABLE = 0x80000000;

// ---- Type-0 header offsets.
export const PCI_VENDOR_ID = 0x00;
export const PCI_DEVICE_ID = 0x02;
export const PCI_COMMAND = 0x04;
export const PCI_STATUS = 0x06;
export const PCI_REVISION = 0x08;
export const PCI_CLASS_PROG = 0x09; // prog-if, subclass at 0x0a, class at 0x0b
export const PCI_CACHE_LINE = 0x0c;
export const PCI_LATENCY = 0x0d;
export const PCI_HEADER_TYPE = 0x0e;
export const PCI_BAR0 = 0x10;
export const PCI_SUBSYSTEM_VENDOR = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
export const PCI_CAP_PTR = 0x34;
export const PCI_INTERRUPT_LINE = 0x3c;
export const PCI_INTERRUPT_PIN = 0x3d;

export const CMD_IO = 1 << 0, CMD_MEMORY = 1 << 1, CMD_MASTER = 1 << 2, CMD_SERR = 1 << 8, CMD_INTX_DISABLE = 1 << 10;
export const STATUS_INTX = 1 << 3, STATUS_CAP_LIST = 1 << 4;
export const HEADER_MULTIFUNCTION = 0x80;
export const BAR_IO = 1, BAR_MEM64 = 4, BAR_PREFETCH = 8;

export interface BarSpec {
  kind: 'io' | 'mem32' | 'mem64';
  /** Power of two; at least 4 for I/O, 16 for memory. */
  size: number;
  prefetchable?: boolean;
  /** Offset-relative handler mapped at the BAR's address while decoding is on (I/O BARs too). */
  handler?: MmioDevice;
}

export interface PciFunctionInfo {
  vendorId: number;
  deviceId: number;
  /** Class, subclass and programming interface as 0xCCSSPP. */
  classCode: number;
  revision?: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** 1-4 for INTA#-INTD#, 0 for none. */
  interruptPin?: number;
  bars?: (BarSpec | null)[];
}

interface Mapping { kind: 'io' | 'mem'; base: number; size: number }

/** One PCI function: 256 bytes of configuration space and the rules for writing them. */
export class PciFunction {
  static {
    declareState(PciFunction, {
      // The BAR mappings on the bus follow from the configuration space; afterLoad redoes them.
      fields: { config: ['u8', 256], intxLevel: 'bool', conflicts: 'f64' },
      wiring: ['info', 'wmask', 'bars', 'mapped', 'capEnd', 'bus', 'host', 'gsi', 'onConfigWrite', 'powerOn'],
      afterLoad: (f) => f.updateMappings(),
      parts: (f) => f.bars.flatMap((b, i) => (b?.handler ? [[`bar${i}`, b.handler] as const] : [])),
    });
  }

  readonly config = new Uint8Array(256);
  /** Per byte: which bits the guest may write. */
  readonly wmask = new Uint8Array(256);
  readonly bars: (BarSpec | null)[];
  private readonly mapped: (Mapping | null)[] = [null, null, null, null, null, null];
  private capEnd = 0x40;
  /** Set by PciBus.add: the board's device bus and this function's INTx GSI. */
  bus: Bus | null = null;
  /** Set by PciBus.add: the bus the function's MSI writes go up through. */
  host: PciBus | null = null;
  gsi = -1;
  private intxLevel = false;
  /** Called after every configuration write (devices watch their own registers). */
  onConfigWrite: ((offset: number, size: number) => void) | null = null;
  /** BARs that could not be mapped because the guest placed them over something else. */
  conflicts = 0;
  /** Configuration space as plugged in (PciBus.add), restored by a machine reset. */
  private powerOn: Uint8Array | null = null;

  constructor(readonly info: PciFunctionInfo) {
    const dv = new DataView(this.config.buffer);
    dv.setUint16(PCI_VENDOR_ID, info.vendorId, true);
    dv.setUint16(PCI_DEVICE_ID, info.deviceId, true);
    this.config[PCI_REVISION] = info.revision ?? 0;
    this.config[PCI_CLASS_PROG] = info.classCode & 0xff;
    this.config[PCI_CLASS_PROG + 1] = (info.classCode >>> 8) & 0xff;
    this.config[PCI_CLASS_PROG + 2] = (info.classCode >>> 16) & 0xff;
    dv.setUint16(PCI_SUBSYSTEM_VENDOR, info.subsystemVendorId ?? 0, true);
    dv.setUint16(PCI_SUBSYSTEM_ID, info.subsystemId ?? 0, true);
    this.config[PCI_INTERRUPT_PIN] = info.interruptPin ?? 0;
    this.setWritable(PCI_COMMAND, 2, CMD_IO | CMD_MEMORY | CMD_MASTER | CMD_SERR | CMD_INTX_DISABLE);
    this.setWritable(PCI_CACHE_LINE, 1, 0xff);
    this.setWritable(PCI_LATENCY, 1, 0xff);
    this.setWritable(PCI_INTERRUPT_LINE, 1, 0xff);
    this.bars = info.bars ?? [];
    for (let i = 0; i < this.bars.length && i < 6; i++) {
      const b = this.bars[i];
      if (!b) continue;
      const min = b.kind === 'io' ? 4 : 16;
      if (b.size < min || (b.size & (b.size - 1)) !== 0) throw new Error(`PCI ${info.vendorId.toString(16)}:${info.deviceId.toString(16)} BAR${i}: size ${b.size} is not a power of two >= ${min}`);
      const off = PCI_BAR0 + 4 * i;
      const typeBits = b.kind === 'io' ? BAR_IO : (b.kind === 'mem64' ? BAR_MEM64 : 0) | (b.prefetchable ? BAR_PREFETCH : 0);
      dv.setUint32(off, typeBits, true);
      this.setWritable(off, 4, ~(b.size - 1) & (b.kind === 'io' ? 0xfffffffc : 0xfffffff0));
      if (b.kind === 'mem64') {
        if (i === 5) throw new Error('a 64-bit BAR cannot start at BAR5');
        this.setWritable(off + 4, 4, 0xffffffff);
      }
    }
  }

  /** Mark `len` bytes at `offset` writable under a mask (little-endian). */
  setWritable(offset: number, len: number, mask: number): void {
    for (let i = 0; i < len; i++) this.wmask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  u16(off: number): number { return this.config[off] | (this.config[off + 1] << 8); }
  u32(off: number): number { return (this.u16(off) | (this.u16(off + 2) << 16)) >>> 0; }

  readConfig(offset: number, size: 1 | 2 | 4): number {
    if (size === 1) return this.config[offset];
    if (size === 2) return this.u16(offset);
    return this.u32(offset);
  }

  writeConfig(offset: number, size: 1 | 2 | 4, value: number): void {
    for (let i = 0; i < size; i++) {
      const o = offset + i, m = this.wmask[o];
      this.config[o] = (this.config[o] & ~m) | ((value >>> (8 * i)) & m);
    }
    if (offset < PCI_BAR0 + 24 && offset + size > PCI_COMMAND) this.updateMappings();
    if (offset <= PCI_COMMAND + 1 && offset + size > PCI_COMMAND + 1) this.updateIntx();
    this.onConfigWrite?.(offset, size);
  }

  /** Append a capability (id, then `body` after the next pointer) to the list; returns its offset. */
  addCapability(id: number, body: Uint8Array): number {
    const off = this.capEnd;
    const len = (2 + body.length + 3) & ~3;
    if (off + len > 256) throw new Error('PCI capability list overflows configuration space');
    this.config[off] = id;
    this.config[off + 1] = 0;
    this.config.set(body, off + 2);
    // Link at the end of the chain.
    let p = PCI_CAP_PTR;
    while (this.config[p] !== 0) p = this.config[p] + 1;
    this.config[p] = off;
    this.config[PCI_STATUS] |= STATUS_CAP_LIST;
    this.capEnd = off + len;
    return off;
  }

  /** The base address BAR i decodes at now, or -1 if it is off (decoding disabled, unprogrammed, above 4 GiB). */
  barAddress(i: number): number {
    const b = this.bars[i];
    if (!b) return -1;
    const cmd = this.u16(PCI_COMMAND);
    const off = PCI_BAR0 + 4 * i;
    if (b.kind === 'io') {
      const base = this.u32(off) & 0xfffc;
      return (cmd & CMD_IO) !== 0 && base !== 0 && (this.u32(off) >>> 16) === 0 ? base : -1;
    }
    const base = (this.u32(off) & 0xfffffff0) >>> 0;
    if ((cmd & CMD_MEMORY) === 0 || base === 0) return -1;
    if (b.kind === 'mem64' && this.u32(off + 4) !== 0) return -1;
    // All address bits set is a BAR left in the middle of sizing.
    return base === ((~(b.size - 1)) & 0xfffffff0) >>> 0 ? -1 : base;
  }

  private updateMappings(): void {
    const bus = this.bus;
    if (!bus) return;
    for (let i = 0; i < this.bars.length && i < 6; i++) {
      const b = this.bars[i];
      if (!b || !b.handler) continue;
      const base = this.barAddress(i);
      const cur = this.mapped[i];
      if (cur && cur.base === base) continue;
      if (cur) {
        if (cur.kind === 'io') bus.unregisterPorts(cur.base, cur.size); else bus.unregisterMmio(cur.base);
        this.mapped[i] = null;
      }
      if (base < 0) continue;
      const name = `pci ${this.info.vendorId.toString(16)}:${this.info.deviceId.toString(16)} BAR${i}`;
      try {
        if (b.kind === 'io') {
          if (base + b.size > 0x10000) continue;
          bus.registerPorts(name, base, b.size, new IoBar(b.handler, base));
          this.mapped[i] = { kind: 'io', base, size: b.size };
        } else {
          bus.registerMmio(name, base, b.size, b.handler);
          this.mapped[i] = { kind: 'mem', base, size: b.size };
        }
      } catch {
        this.conflicts++; // the guest placed the BAR over another device: it stays unmapped
      }
    }
  }

  /** Remember the current configuration space as this function's power-on state. */
  savePowerOn(): void { this.powerOn = this.config.slice(); }

  /** RESET#: configuration space back to its power-on values, BARs unmapped, INTx deasserted. */
  reset(): void {
    if (this.powerOn) this.config.set(this.powerOn);
    this.intxLevel = false;
    this.updateMappings();
    this.updateIntx();
  }

  /** Assert or deassert INTx# (the GSI follows unless the guest set Interrupt Disable). */
  setIntx(level: boolean): void {
    this.intxLevel = level;
    if (level) this.config[PCI_STATUS] |= STATUS_INTX; else this.config[PCI_STATUS] &= ~STATUS_INTX;
    this.updateIntx();
  }

  /**
   * A message-signalled interrupt: the memory write (address, data) the function's MSI-X
   * table holds. Needs bus mastering, as any DMA does. False when nothing took it.
   */
  sendMsi(addrLo: number, addrHi: number, data: number): boolean {
    if ((this.u16(PCI_COMMAND) & CMD_MASTER) === 0) return false;
    return this.host?.onMsi?.(addrLo, addrHi, data) ?? false;
  }

  private updateIntx(): void {
    if (!this.bus || this.gsi < 0) return;
    this.bus.setIrq(this.gsi, this.intxLevel && (this.u16(PCI_COMMAND) & CMD_INTX_DISABLE) === 0);
  }
}

/** Slot `dev`'s INTx pin (1-4) -> the PCI GSI it reaches (PIRQA..D = GSI 16..19, rotated by slot). */
export function intxGsi(dev: number, pin: number): number {
  return PCI_GSI_BASE + ((dev + pin - 1) & 3);
}

/** An I/O BAR's ports, passed to its offset-relative handler (whose state the function's parts hold). */
class IoBar implements PortDevice {
  static {
    declareState(IoBar, { fields: {}, wiring: ['handler', 'base'] });
  }

  constructor(private readonly handler: MmioDevice, private readonly base: number) {}
  portRead(port: number, size: 1 | 2 | 4): number { return this.handler.mmioRead(port - this.base, size); }
  portWrite(port: number, size: 1 | 2 | 4, v: number): void { this.handler.mmioWrite(port - this.base, size, v); }
}

/** Bus 0 and configuration mechanism #1. Register it at ports 0xCF8-0xCFF. */
export class PciBus implements PortDevice {
  static {
    declareState(PciBus, {
      fields: { address: 'u32', resetControl: 'u8' },
      wiring: ['bus', 'functions', 'onReset', 'onMsi'],
      parts: (p) => p.functions.flatMap((f, devfn) => (f ? [[`${(devfn >> 3).toString(16).padStart(2, '0')}.${devfn & 7}`, f] as const] : [])),
    });
  }

  private address = 0;
  /** Functions by devfn (device << 3 | function). */
  readonly functions: (PciFunction | null)[] = new Array(256).fill(null);
  /** The reset control register asked for a reset (write with RST_CPU). */
  onReset: (() => void) | null = null;
  /** Where the functions' MSI writes go (the board's APIC bus); true when a message was delivered. */
  onMsi: ((addrLo: number, addrHi: number, data: number) => boolean) | null = null;
  private resetControl = 0;

  constructor(private readonly bus: Bus | null = null) {}

  /** Plug a function in at 00:dev.fn; its INTx pin is wired with the slot swizzle. */
  add(dev: number, fn: number, f: PciFunction): PciFunction {
    if (dev < 0 || dev > 31 || fn < 0 || fn > 7) throw new Error(`PCI address 00:${dev}.${fn} is out of range`);
    const devfn = (dev << 3) | fn;
    if (this.functions[devfn]) throw new Error(`PCI slot 00:${dev.toString(16).padStart(2, '0')}.${fn} is already taken`);
    this.functions[devfn] = f;
    f.bus = this.bus;
    f.host = this;
    f.savePowerOn();
    const pin = f.config[PCI_INTERRUPT_PIN];
    if (pin >= 1 && pin <= 4) f.gsi = intxGsi(dev, pin);
    return f;
  }

  /** Machine reset: every function to its power-on configuration, the address register cleared. */
  reset(): void {
    this.address = 0;
    this.resetControl = 0;
    for (const f of this.functions) f?.reset();
  }

  /** The first free device number from `from` (for plugging in devices such as virtio). */
  freeSlot(from = 2): number {
    for (let d = from; d < 32; d++) if (!this.functions[d << 3]) return d;
    throw new Error('no free PCI slot on bus 0');
  }

  private target(): PciFunction | null {
    const a = this.address;
    if ((a & CONFIG_ENABLE) === 0 || ((a >>> 16) & 0xff) !== 0) return null;
    const devfn = (a >>> 8) & 0xff;
    // A function other than 0 exists only behind a multi-function device.
    if ((devfn & 7) !== 0 && !(this.functions[devfn & ~7] && (this.functions[devfn & ~7]!.config[PCI_HEADER_TYPE] & HEADER_MULTIFUNCTION))) return null;
    return this.functions[devfn];
  }

  portRead(port: number, size: 1 | 2 | 4): number {
    if (port === PCI_CONFIG_ADDRESS && size === 4) return this.address >>> 0;
    if (port === RESET_CONTROL && size === 1) return this.resetControl;
    if (port >= PCI_CONFIG_DATA) {
      const f = this.target();
      const off = (this.address & 0xfc) + (port & 3);
      if (!f || off + size > 256) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
      return f.readConfig(off, size);
    }
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (port === PCI_CONFIG_ADDRESS && size === 4) {
      this.address = (value & 0x80fffffc) >>> 0;
    } else if (port === RESET_CONTROL && size === 1) {
      this.resetControl = value & (RC_SYS_RST | RC_RST_CPU);
      if ((value & RC_RST_CPU) !== 0) this.onReset?.();
    } else if (port >= PCI_CONFIG_DATA) {
      const f = this.target();
      const off = (this.address & 0xfc) + (port & 3);
      if (f && off + size <= 256) f.writeConfig(off, size, value);
    }
  }
}
