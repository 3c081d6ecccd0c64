// The PIIX3 IDE controller (PCI 8086:7010, function 1 of the ISA bridge) in legacy mode:
// two ATA channels at the ISA ports (0x1F0-0x1F7/0x3F6 on IRQ 14, 0x170-0x177/0x376 on
// IRQ 15) and the bus-master DMA engine in BAR4, each channel with up to two hard disks
// over BlockBackends. The emulated disk of the "trap and emulate" comparison: every data
// word of a PIO transfer is a port access.
//
// Emulated (ATA/ATAPI-6): the task file with LBA48 "previous content" registers, device
// control (nIEN, SRST, HOB), status/alternate status, the data port in 16- and 32-bit
// units; IDENTIFY DEVICE, READ/WRITE SECTORS (+EXT), READ/WRITE MULTIPLE (+EXT), SET
// MULTIPLE MODE, READ/WRITE DMA (+EXT), READ VERIFY (+EXT), FLUSH CACHE (+EXT), SET
// FEATURES, INITIALIZE DEVICE PARAMETERS, EXECUTE DEVICE DIAGNOSTIC, IDLE/STANDBY/CHECK
// POWER MODE; the BMIDE command/status/PRD-table registers with scatter-gather over a PRD
// table. Transfers complete at once (a DMA command finishes when the engine is started).
// A drive may instead be an ATAPI CD-ROM (atapi.ts answers its packets): the ATAPI
// signature after reset (each drive's, as the driver selects it), IDENTIFY PACKET DEVICE,
// DEVICE RESET, and PACKET: in PIO the data moves in DRQ blocks of at most the byte count the
// driver asked for; with the DMA bit in FEATURES, through the bus master once the packet is in.
// Not emulated: CHS translation changes, security, SMART, timing registers' effects
// (0x40-0x4F are plain storage), native PCI mode. Anything else is aborted (ERR, ABRT).
// A guest can hurt only itself: sector ranges are checked against the image, PRD entries
// against guest RAM, and a PRD walk stops after 8192 entries.

import {
  ATA_DEVICE_RESET, ATA_IDENTIFY_PACKET, ATA_PACKET, ATAPI_SIG_HIGH, ATAPI_SIG_MID, CD_SECTOR, CdDrive, IR_COD, IR_IO,
  PACKET_CHECK, PACKET_MEDIA, runPacket, type PacketState,
} from './atapi.js';
import type { Bus, MmioDevice, PortDevice } from './bus.js';
import { inImage, IO_COUNTER_STATE, newIoCounters, SECTOR_SIZE, type BlockBackend, type IoCounters } from './block.js';
import { Drive, MAX_MULTIPLE } from './ata-drive.js';
import { PciFunction } from './pci.js';
import { declareState } from './state.js';
import { dmaWrite } from './virtio-pci.js';
import type { GuestMemory } from '../mmu/memory.js';

export const VENDOR_INTEL = 0x8086, DEVICE_PIIX3_IDE = 0x7010;
/** Mass storage, IDE, programming interface 0x80: bus master, both channels in compatibility mode. */
export const CLASS_IDE = 0x010180;
export const IDE_PRIMARY = { base: 0x1f0, ctrl: 0x3f6, irq: 14 } as const;
export const IDE_SECONDARY = { base: 0x170, ctrl: 0x376, irq: 15 } as const;
/** IDETIM (0x40 primary, 0x42 secondary): bit 15 enables the channel's decode (Linux's ata_piix checks it). */
export const PIIX_IDETIM = 0x40;
const IDETIM_DECODE = 0x8000;

/** Task file register offsets from the channel's base port. */
export const REG_DATA = 0, REG_ERROR = 1, REG_FEATURES = 1, REG_NSECT = 2, REG_LBAL = 3, REG_LBAM = 4, REG_LBAH = 5;
export const REG_DEVICE = 6, REG_STATUS = 7, REG_COMMAND = 7;

/** Status bits. */
export const ST_ERR = 0x01, ST_DRQ = 0x08, ST_DSC = 0x10, ST_DF = 0x20, ST_DRDY = 0x40, ST_BSY = 0x80;
/** Error bits. */
export const ERR_ABRT = 0x04, ERR_IDNF = 0x10;
/** Device register: LBA addressing, drive select. */
export const DEV_LBA = 0x40, DEV_SLAVE = 0x10;
/** Device control register. */
export const CTL_NIEN = 0x02, CTL_SRST = 0x04, CTL_HOB = 0x80;

/** Commands. */
export const ATA_READ = 0x20, ATA_READ_EXT = 0x24, ATA_READ_DMA_EXT = 0x25, ATA_READ_MULTI_EXT = 0x29;
export const ATA_WRITE = 0x30, ATA_WRITE_EXT = 0x34, ATA_WRITE_DMA_EXT = 0x35, ATA_WRITE_MULTI_EXT = 0x39;
export const ATA_VERIFY = 0x40, ATA_VERIFY_EXT = 0x42, ATA_DIAGNOSE = 0x90, ATA_INIT_PARAMS = 0x91;
export const ATA_READ_MULTI = 0xc4, ATA_WRITE_MULTI = 0xc5, ATA_SET_MULTI = 0xc6, ATA_READ_DMA = 0xc8, ATA_WRITE_DMA = 0xca;
export const ATA_STANDBY_NOW = 0xe0, ATA_IDLE_NOW = 0xe1, ATA_CHECK_POWER = 0xe5, ATA_FLUSH = 0xe7, ATA_FLUSH_EXT = 0xea;
export const ATA_IDENTIFY = 0xec, ATA_SET_FEATURES = 0xef;

/** Bus-master registers (per channel, 8 bytes apart in BAR4). */
export const BM_COMMAND = 0, BM_STATUS = 2, BM_PRDT = 4;
export const BM_CMD_START = 0x01, BM_CMD_READ = 0x08; // READ: device -> memory
export const BM_ST_ACTIVE = 0x01, BM_ST_ERROR = 0x02, BM_ST_INTR = 0x04, BM_ST_DRV0_DMA = 0x20, BM_ST_DRV1_DMA = 0x40;
export const PRD_EOT = 0x80000000;
const MAX_PRD_ENTRIES = 8192;

/** What the channel is in the middle of. */
const XFER_NONE = 0, PIO_IN = 1, PIO_OUT = 2, DMA_IN = 3, DMA_OUT = 4;
/** ATAPI: the driver writes the 12-byte packet; data-in from the buffer (an answer) or from the medium (a READ). */
const PACKET_OUT = 5, ATAPI_BUF_IN = 6, ATAPI_MEDIA_IN = 7;
/** ATAPI with the DMA bit: the answer in the buffer, or a READ from the medium, waiting for (or running on) the bus master. */
const ATAPI_DMA_BUF = 8, ATAPI_DMA_MEDIA = 9;
/** PACKET's FEATURES bit 0: the data goes by DMA. */
const PACKET_FEATURE_DMA = 0x01;
/** The packet being written is copied here before the answer overwrites the channel buffer. */
const CDB = new Uint8Array(12);

/** An IDE position holding a CD-ROM drive with this medium (a plain BlockBackend is a hard disk). */
export interface IdeCdrom { cdrom: BlockBackend }

/** One ATA channel: the task file both drives latch, the PIO buffer, and its bus-master registers (all state). */
class Channel implements PacketState {
  // Task file; hob* hold the previous write of each LBA48 register.
  error = 0; features = 0; nsect = 0; lbal = 0; lbam = 0; lbah = 0;
  hobFeatures = 0; hobNsect = 0; hobLbal = 0; hobLbam = 0; hobLbah = 0;
  device = 0; status = 0; control = 0;
  irqPending = false;
  /** SET MULTIPLE's count for drive 0 and 1. */
  readonly multiple = new Uint8Array(2);
  // The transfer in progress.
  transfer = XFER_NONE;
  buf = new Uint8Array(0x10000); // a DRQ block, or one PRD entry's worth of DMA
  pos = 0; end = 0;
  lba = 0; remaining = 0; block = 1;
  // Bus master.
  bmCommand = 0; bmStatus = 0; prdt = 0;
  // ATAPI: sense by unit, the byte count limit of the packet command, a READ's bytes to go.
  readonly senseKey = new Uint8Array(2);
  readonly senseAsc = new Uint8Array(2);
  readonly unitAttention = new Uint8Array(2);
  readonly locked = new Uint8Array(2);
  byteLimit = 0; mediaOffset = 0; mediaLeft = 0;
  /** Since a reset, no command or register write but drive selects: the selected drive's signature shows. */
  signatures = false;

  constructor(public index: number, public irq: number) {}

  /** Drive 0 or 1: which one the device register selects. */
  get unit(): number { return (this.device & DEV_SLAVE) ? 1 : 0; }
}

const CHANNEL_STATE = {
  error: 'u8', features: 'u8', nsect: 'u8', lbal: 'u8', lbam: 'u8', lbah: 'u8',
  hobFeatures: 'u8', hobNsect: 'u8', hobLbal: 'u8', hobLbam: 'u8', hobLbah: 'u8', device: 'u8', status: 'u8', control: 'u8',
  irqPending: 'bool', multiple: ['u8', 2], transfer: 'u8', buf: ['u8', 0x10000], pos: 'u32', end: 'u32', lba: 'f64', remaining: 'u32', block: 'u32',
  bmCommand: 'u8', bmStatus: 'u8', prdt: 'u32', index: 'u8', irq: 'u8',
  senseKey: ['u8', 2], senseAsc: ['u8', 2], unitAttention: ['u8', 2], locked: ['u8', 2], byteLimit: 'u16', mediaOffset: 'f64', mediaLeft: 'f64',
  signatures: 'bool',
} as const;

export class PiixIde implements MmioDevice, PortDevice {
  static {
    declareState(PiixIde, {
      fields: { channels: [CHANNEL_STATE, 2], counters: IO_COUNTER_STATE },
      wiring: ['mem', 'bus', 'pci', 'drives'],
    });
  }

  readonly pci: PciFunction;
  /** Primary master, primary slave, secondary master, secondary slave. */
  private readonly drives: (Drive | CdDrive | null)[] = [null, null, null, null];
  readonly counters: IoCounters = newIoCounters();
  readonly channels = [new Channel(0, IDE_PRIMARY.irq), new Channel(1, IDE_SECONDARY.irq)];

  /** `disks[i]`: primary master, primary slave, secondary master, secondary slave. */
  constructor(private readonly mem: GuestMemory, private readonly bus: Bus, disks: (BlockBackend | IdeCdrom | null)[]) {
    disks.forEach((d, i) => {
      if (d && i < 4) this.drives[i] = 'cdrom' in d ? new CdDrive(d.cdrom, `EMUCD00${i}`) : new Drive(d, `EMU000${i}`);
    });
    this.pci = new PciFunction({
      vendorId: VENDOR_INTEL, deviceId: DEVICE_PIIX3_IDE, classCode: CLASS_IDE,
      bars: [null, null, null, null, { kind: 'io', size: 16, handler: this }],
    });
    this.pci.setWritable(PIIX_IDETIM, 4, 0xffffffff);
    this.pci.setWritable(0x44, 1, 0xff); // SIDETIM
    this.pci.config[PIIX_IDETIM + 1] = IDETIM_DECODE >> 8;
    this.pci.config[PIIX_IDETIM + 3] = IDETIM_DECODE >> 8;
    for (const ch of this.channels) this.resetChannel(ch);
  }

  /** Register the legacy task-file ports (fixed in compatibility mode). */
  attach(): void {
    for (const [i, p] of [[0, IDE_PRIMARY], [1, IDE_SECONDARY]] as const) {
      this.bus.registerPorts(`ide${i}`, p.base, 8, this);
      this.bus.registerPorts(`ide${i}-ctl`, p.ctrl, 1, this);
    }
  }

  /** The CD-ROM drive at IDE position `index` (0 primary master .. 3 secondary slave), or null. */
  cdrom(index: number): CdDrive | null {
    const d = this.drives[index];
    return d instanceof CdDrive ? d : null;
  }

  /** True while the guest holds the drive at `index` locked (PREVENT MEDIUM REMOVAL). */
  locked(index: number): boolean { return this.channels[index >> 1].locked[index & 1] !== 0; }

  /**
   * The host puts `media` in the CD-ROM drive at `index` (null: ejects it). A drive whose
   * guest has locked it refuses an eject unless `force`; a READ in progress ends short.
   * The new medium (or its absence) is reported once as UNIT ATTENTION.
   */
  changeMedia(index: number, media: BlockBackend | null, force = false): 'ok' | 'locked' {
    const cd = this.cdrom(index), ch = this.channels[index >> 1], unit = index & 1;
    if (!cd) throw new Error(`IDE position ${index} holds no CD-ROM drive`);
    if (ch.locked[unit] && !force) return 'locked';
    ch.locked[unit] = 0;
    cd.load(media);
    ch.unitAttention[unit] = 1;
    if (ch.unit === unit && (ch.transfer === ATAPI_MEDIA_IN || ch.transfer === ATAPI_DMA_MEDIA)) ch.mediaLeft = 0;
    return 'ok';
  }

  /** The drive channel `ch` has selected, or null. */
  private drive(ch: Channel): Drive | CdDrive | null { return this.drives[2 * ch.index + ch.unit]; }
  /** The selected hard disk, where only a hard-disk command can have brought us. */
  private hd(ch: Channel): Drive { return this.drives[2 * ch.index + ch.unit] as Drive; }

  portRead(port: number, size: 1 | 2 | 4): number {
    const ch = this.channels[port >= IDE_PRIMARY.base && port < IDE_PRIMARY.base + 8 || port === IDE_PRIMARY.ctrl ? 0 : 1];
    const p = ch.index ? IDE_SECONDARY : IDE_PRIMARY;
    if (port === p.ctrl) { this.counters.traps++; return this.drive(ch) ? ch.status : 0; } // alternate status: no side effects
    return this.taskRead(ch, port - p.base, size);
  }

  portWrite(port: number, size: 1 | 2 | 4, v: number): void {
    const ch = this.channels[port >= IDE_PRIMARY.base && port < IDE_PRIMARY.base + 8 || port === IDE_PRIMARY.ctrl ? 0 : 1];
    const p = ch.index ? IDE_SECONDARY : IDE_PRIMARY;
    if (port === p.ctrl) { this.counters.traps++; this.writeControl(ch, v); return; }
    this.taskWrite(ch, port - p.base, size, v);
  }

  reset(): void {
    for (const ch of this.channels) {
      ch.bmCommand = ch.bmStatus = ch.prdt = 0;
      ch.control = 0;
      ch.multiple.fill(0);
      ch.senseKey.fill(0); ch.senseAsc.fill(0); ch.locked.fill(0);
      this.resetChannel(ch);
    }
  }

  // ---- Task file.

  private taskRead(ch: Channel, reg: number, size: 1 | 2 | 4): number {
    this.counters.traps++;
    if (reg === REG_DATA) return this.dataRead(ch, size);
    if (!this.drive(ch)) return 0; // an absent drive answers nothing (its registers read 0, so the driver's probe fails)
    const hob = (ch.control & CTL_HOB) !== 0;
    switch (reg) {
      case REG_ERROR: return ch.error;
      case REG_NSECT: return hob ? ch.hobNsect : ch.nsect;
      case REG_LBAL: return hob ? ch.hobLbal : ch.lbal;
      case REG_LBAM: return hob ? ch.hobLbam : ch.lbam;
      case REG_LBAH: return hob ? ch.hobLbah : ch.lbah;
      case REG_DEVICE: return ch.device | 0xa0;
      default: // status: reading it acknowledges the interrupt
        ch.irqPending = false;
        this.updateIrq(ch);
        return ch.status;
    }
  }

  private taskWrite(ch: Channel, reg: number, size: 1 | 2 | 4, v: number): void {
    this.counters.traps++;
    if (reg === REG_DATA) { this.dataWrite(ch, size, v); return; }
    v &= 0xff;
    ch.control &= ~CTL_HOB; // any task-file write clears HOB
    if (reg !== REG_DEVICE) ch.signatures = false; // both drives latch the write
    switch (reg) {
      case REG_FEATURES: ch.hobFeatures = ch.features; ch.features = v; break;
      case REG_NSECT: ch.hobNsect = ch.nsect; ch.nsect = v; break;
      case REG_LBAL: ch.hobLbal = ch.lbal; ch.lbal = v; break;
      case REG_LBAM: ch.hobLbam = ch.lbam; ch.lbam = v; break;
      case REG_LBAH: ch.hobLbah = ch.lbah; ch.lbah = v; break;
      case REG_DEVICE:
        // Selecting the other drive mid-command is the guest's mistake (ATA: indeterminate); the command keeps its drive.
        ch.device = ch.transfer === XFER_NONE ? v : (v & ~DEV_SLAVE) | (ch.device & DEV_SLAVE);
        if (ch.signatures) this.signature(ch, this.drive(ch) instanceof CdDrive); // each drive posted its own after the reset
        this.updateIrq(ch);
        break;
      default: this.command(ch, v); break;
    }
  }

  private writeControl(ch: Channel, v: number): void {
    const was = ch.control;
    ch.control = v & (CTL_NIEN | CTL_SRST | CTL_HOB);
    if ((was & CTL_SRST) && !(v & CTL_SRST)) this.resetChannel(ch); // SRST's falling edge ends the reset
    else if (v & CTL_SRST) { ch.status = ST_BSY; ch.transfer = XFER_NONE; }
    this.updateIrq(ch);
  }

  /** Power-on / software reset: drive 0's signature (ATA or ATAPI) in the task file, drive 0 selected. */
  private resetChannel(ch: Channel): void {
    ch.error = 1; // diagnostics passed
    ch.nsect = ch.lbal = 1;
    this.signature(ch, this.drives[2 * ch.index] instanceof CdDrive);
    ch.hobFeatures = ch.hobNsect = ch.hobLbal = ch.hobLbam = ch.hobLbah = ch.features = 0;
    ch.device = 0;
    ch.status = ST_DRDY | ST_DSC;
    ch.transfer = XFER_NONE;
    ch.pos = ch.end = 0;
    ch.irqPending = false;
    ch.signatures = true;
    this.updateIrq(ch);
  }

  private signature(ch: Channel, atapi: boolean): void {
    ch.lbam = atapi ? ATAPI_SIG_MID : 0;
    ch.lbah = atapi ? ATAPI_SIG_HIGH : 0;
  }

  private updateIrq(ch: Channel): void {
    this.bus.setIrq(ch.irq, ch.irqPending && (ch.control & CTL_NIEN) === 0 && this.drive(ch) !== null);
  }

  private raise(ch: Channel): void {
    ch.irqPending = true;
    this.counters.interrupts++;
    this.updateIrq(ch);
  }

  // ---- Commands.

  private command(ch: Channel, cmd: number): void {
    const d = this.drive(ch);
    if (!d) return; // no drive answers: the command goes nowhere
    ch.irqPending = false;
    ch.error = 0;
    ch.transfer = XFER_NONE;
    ch.signatures = false;
    this.counters.requests++;
    if (d instanceof CdDrive && this.packetDeviceCommand(ch, d, cmd)) return;
    const hd = d as Drive; // a CD-ROM takes only the commands below that use no disk
    switch (cmd) {
      case ATA_IDENTIFY:
        ch.buf.set(hd.identify);
        ch.buf[59 * 2] = ch.multiple[ch.unit]; // the multiple setting now in effect
        ch.buf[59 * 2 + 1] = ch.multiple[ch.unit] ? 1 : 0;
        this.startPio(ch, PIO_IN, 0, 0, 1, false);
        return;
      case ATA_READ: case ATA_READ_EXT: case ATA_READ_MULTI: case ATA_READ_MULTI_EXT:
      case ATA_WRITE: case ATA_WRITE_EXT: case ATA_WRITE_MULTI: case ATA_WRITE_MULTI_EXT: {
        const ext = cmd === ATA_READ_EXT || cmd === ATA_WRITE_EXT || cmd === ATA_READ_MULTI_EXT || cmd === ATA_WRITE_MULTI_EXT;
        const multi = cmd === ATA_READ_MULTI || cmd === ATA_WRITE_MULTI || cmd === ATA_READ_MULTI_EXT || cmd === ATA_WRITE_MULTI_EXT;
        const write = cmd >= ATA_WRITE && cmd <= ATA_WRITE_MULTI_EXT || cmd === ATA_WRITE_MULTI;
        if (multi && ch.multiple[ch.unit] === 0) { this.abort(ch); return; }
        const [lba, count] = this.range(ch, ext);
        if (!this.checkRange(ch, hd, lba, count, write)) return;
        const block = multi ? ch.multiple[ch.unit] : 1;
        this.startPio(ch, write ? PIO_OUT : PIO_IN, lba, count, block, true);
        return;
      }
      case ATA_READ_DMA: case ATA_READ_DMA_EXT: case ATA_WRITE_DMA: case ATA_WRITE_DMA_EXT: {
        const ext = cmd === ATA_READ_DMA_EXT || cmd === ATA_WRITE_DMA_EXT;
        const write = cmd === ATA_WRITE_DMA || cmd === ATA_WRITE_DMA_EXT;
        const [lba, count] = this.range(ch, ext);
        if (!this.checkRange(ch, hd, lba, count, write)) return;
        ch.lba = lba;
        ch.remaining = count;
        ch.transfer = write ? DMA_OUT : DMA_IN;
        ch.status = ST_DRDY | ST_BSY | ST_DRQ;
        if (ch.bmCommand & BM_CMD_START) this.runDma(ch);
        return;
      }
      case ATA_VERIFY: case ATA_VERIFY_EXT: {
        const [lba, count] = this.range(ch, cmd === ATA_VERIFY_EXT);
        if (this.checkRange(ch, hd, lba, count, false)) this.done(ch);
        return;
      }
      case ATA_FLUSH: case ATA_FLUSH_EXT:
        this.counters.flushes++;
        hd.disk.flush();
        this.done(ch);
        return;
      case ATA_SET_MULTI:
        if (ch.nsect > MAX_MULTIPLE || (ch.nsect & (ch.nsect - 1)) !== 0) { this.abort(ch); return; }
        ch.multiple[ch.unit] = ch.nsect;
        this.done(ch);
        return;
      case ATA_DIAGNOSE:
        this.resetChannel(ch);
        this.raise(ch);
        return;
      case ATA_CHECK_POWER:
        ch.nsect = 0xff; // active or idle
        this.done(ch);
        return;
      case ATA_SET_FEATURES: case ATA_INIT_PARAMS: case ATA_IDLE_NOW: case ATA_STANDBY_NOW:
        this.done(ch);
        return;
      default:
        this.abort(ch);
    }
  }

  /** The command's starting LBA and sector count from the task file (LBA28, LBA48 or CHS). */
  private range(ch: Channel, ext: boolean): [number, number] {
    if (ext) {
      const lba = ((ch.hobLbah << 16 | ch.hobLbam << 8 | ch.hobLbal) * 0x1000000) + (ch.lbah << 16 | ch.lbam << 8 | ch.lbal);
      return [lba, (ch.hobNsect << 8 | ch.nsect) || 65536];
    }
    const count = ch.nsect || 256;
    if (ch.device & DEV_LBA) return [(ch.device & 0x0f) * 0x1000000 + (ch.lbah << 16 | ch.lbam << 8 | ch.lbal), count];
    // CHS with the geometry IDENTIFY reports (16 heads, 63 sectors per track); sector 0 is invalid.
    const cyl = ch.lbah << 8 | ch.lbam, head = ch.device & 0x0f, sector = ch.lbal;
    return [sector === 0 ? -1 : (cyl * 16 + head) * 63 + sector - 1, count];
  }

  private checkRange(ch: Channel, d: Drive, lba: number, count: number, write: boolean): boolean {
    if (write && d.disk.readOnly) { this.abort(ch); return false; }
    if (lba < 0 || !inImage(d.disk, lba * SECTOR_SIZE, count * SECTOR_SIZE)) {
      ch.error = ERR_IDNF | ERR_ABRT;
      this.fail(ch);
      return false;
    }
    return true;
  }

  private done(ch: Channel): void {
    ch.status = ST_DRDY | ST_DSC;
    this.raise(ch);
  }

  private abort(ch: Channel): void {
    ch.error = ERR_ABRT;
    this.fail(ch);
  }

  private fail(ch: Channel): void {
    this.counters.errors++;
    ch.transfer = XFER_NONE;
    ch.status = ST_DRDY | ST_ERR;
    this.raise(ch);
  }

  // ---- PIO.

  private startPio(ch: Channel, dir: number, lba: number, count: number, block: number, disk: boolean): void {
    ch.transfer = dir;
    ch.lba = lba;
    ch.remaining = count;
    ch.block = block;
    if (disk) this.nextBlock(ch);
    else { ch.pos = 0; ch.end = SECTOR_SIZE; ch.status = ST_DRDY | ST_DSC | ST_DRQ; this.raise(ch); }
  }

  /** Set up the next DRQ block: reads fill it from the disk and interrupt; writes wait for the data (no interrupt for the first). */
  private nextBlock(ch: Channel): void {
    const n = Math.min(ch.block, ch.remaining);
    ch.pos = 0;
    ch.end = n * SECTOR_SIZE;
    ch.status = ST_DRDY | ST_DSC | ST_DRQ;
    if (ch.transfer === PIO_IN) {
      this.hd(ch).disk.read(ch.lba * SECTOR_SIZE, ch.buf.subarray(0, ch.end));
      this.counters.bytesRead += ch.end;
      this.raise(ch);
    }
  }

  private dataRead(ch: Channel, size: 1 | 2 | 4): number {
    if ((ch.transfer !== PIO_IN && ch.transfer !== ATAPI_BUF_IN && ch.transfer !== ATAPI_MEDIA_IN) || !this.drive(ch)) return 0;
    const n = size === 1 ? 2 : size; // a byte read still moves a word
    let v = 0;
    for (let i = 0; i < n && ch.pos < ch.end; i++) v |= ch.buf[ch.pos++] << (8 * i);
    if (ch.pos >= ch.end) {
      if (ch.transfer === PIO_IN) this.blockDone(ch);
      else this.nextPacketBlock(ch);
    }
    return size === 1 ? v & 0xff : v >>> 0;
  }

  private dataWrite(ch: Channel, size: 1 | 2 | 4, v: number): void {
    if ((ch.transfer !== PIO_OUT && ch.transfer !== PACKET_OUT) || !this.drive(ch)) return;
    const n = size === 1 ? 2 : size;
    for (let i = 0; i < n && ch.pos < ch.end; i++) ch.buf[ch.pos++] = (v >>> (8 * i)) & 0xff;
    if (ch.pos < ch.end) return;
    if (ch.transfer === PIO_OUT) this.blockDone(ch);
    else this.packet(ch);
  }

  // ---- ATAPI (the PACKET protocol, PIO data-in; atapi.ts answers the packets).

  /** A packet device's own commands (true: handled); the device-independent ones go on to command(). */
  private packetDeviceCommand(ch: Channel, cd: CdDrive, cmd: number): boolean {
    switch (cmd) {
      case ATA_IDENTIFY_PACKET:
        ch.buf.set(cd.identify);
        this.startPio(ch, PIO_IN, 0, 0, 1, false);
        return true;
      case ATA_PACKET:
        ch.byteLimit = ((ch.lbah << 8 | ch.lbam) & 0xfffe) || 0xfffe;
        ch.transfer = PACKET_OUT;
        ch.pos = 0; ch.end = CDB.length;
        ch.nsect = IR_COD;
        ch.status = ST_DRDY | ST_DSC | ST_DRQ; // no interrupt: the driver polls for DRQ (IDENTIFY PACKET word 0)
        return true;
      case ATA_DEVICE_RESET:
        ch.error = 1;
        ch.nsect = ch.lbal = 1;
        this.signature(ch, true);
        ch.status = ST_DRDY | ST_DSC;
        return true;
      case ATA_FLUSH: case ATA_FLUSH_EXT: // nothing to write back
        this.done(ch);
        return true;
      case ATA_DIAGNOSE: case ATA_CHECK_POWER: case ATA_SET_FEATURES: case ATA_IDLE_NOW: case ATA_STANDBY_NOW:
        return false;
      default: // IDENTIFY DEVICE, READ SECTORS and the rest: aborted, with the signature that says "packet device"
        this.signature(ch, true);
        this.abort(ch);
        return true;
    }
  }

  /** The packet is in: run it, then start its data-in or complete it. */
  private packet(ch: Channel): void {
    CDB.set(ch.buf.subarray(0, CDB.length));
    const cd = this.drive(ch) as CdDrive;
    const r = runPacket(cd, ch.unit, CDB, ch, ch.buf);
    if (r === PACKET_CHECK) {
      this.counters.errors++;
      ch.transfer = XFER_NONE;
      ch.error = (ch.senseKey[ch.unit] << 4) | ERR_ABRT;
      ch.nsect = IR_IO | IR_COD;
      ch.status = ST_DRDY | ST_ERR;
      this.raise(ch);
      return;
    }
    ch.remaining = r === PACKET_MEDIA ? 0 : r;
    ch.pos = ch.end = 0;
    if ((ch.features & PACKET_FEATURE_DMA) && (r === PACKET_MEDIA || r > 0)) {
      ch.transfer = r === PACKET_MEDIA ? ATAPI_DMA_MEDIA : ATAPI_DMA_BUF;
      ch.status = ST_DRDY | ST_BSY | ST_DRQ;
      if (ch.bmCommand & BM_CMD_START) this.runDma(ch);
      return;
    }
    ch.transfer = r === PACKET_MEDIA ? ATAPI_MEDIA_IN : ATAPI_BUF_IN;
    this.nextPacketBlock(ch);
  }

  /** Offer the next DRQ block of a packet's data (its size in LBA mid/high), or complete the command. */
  private nextPacketBlock(ch: Channel): void {
    let n: number;
    if (ch.transfer === ATAPI_BUF_IN) {
      n = Math.min(ch.byteLimit, ch.remaining - ch.pos);
      ch.end = ch.pos + n;
    } else {
      const media = (this.drive(ch) as CdDrive).media;
      n = media ? Math.min(ch.byteLimit, ch.mediaLeft, ch.buf.length) : 0; // ejected mid-read: the command ends short
      if (n >= CD_SECTOR) n -= n % CD_SECTOR; // whole sectors per block where the limit allows
      if (media && n > 0) {
        media.read(ch.mediaOffset, ch.buf.subarray(0, n));
        this.counters.bytesRead += n;
        ch.mediaOffset += n;
        ch.mediaLeft -= n;
      }
      ch.pos = 0;
      ch.end = n;
    }
    if (n === 0) { // all moved (or nothing to move): status phase
      this.packetDone(ch);
      return;
    } else {
      ch.lbam = n & 0xff;
      ch.lbah = n >> 8;
      ch.nsect = IR_IO;
      ch.status = ST_DRDY | ST_DSC | ST_DRQ;
    }
    this.raise(ch);
  }

  /** A packet command's status phase: IO and CoD, not busy, an interrupt. */
  private packetDone(ch: Channel): void {
    ch.transfer = XFER_NONE;
    ch.nsect = IR_IO | IR_COD;
    ch.status = ST_DRDY | ST_DSC;
    this.raise(ch);
  }

  private blockDone(ch: Channel): void {
    const sectors = ch.end / SECTOR_SIZE;
    if (ch.transfer === PIO_OUT) {
      this.hd(ch).disk.write(ch.lba * SECTOR_SIZE, ch.buf.subarray(0, ch.end));
      this.counters.bytesWritten += ch.end;
    }
    ch.lba += sectors;
    ch.remaining -= sectors;
    if (ch.remaining > 0) {
      this.nextBlock(ch);
      if (ch.transfer === PIO_OUT) this.raise(ch);
      return;
    }
    const wrote = ch.transfer === PIO_OUT;
    ch.transfer = XFER_NONE;
    ch.status = ST_DRDY | ST_DSC;
    if (wrote) this.raise(ch); // a read's last interrupt came with its DRQ
  }

  // ---- Bus-master DMA (BAR4).

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    this.counters.traps++;
    const ch = this.channels[(offset >> 3) & 1], reg = offset & 7;
    let v = 0;
    if (reg === BM_COMMAND) v = ch.bmCommand;
    else if (reg === BM_STATUS) v = ch.bmStatus;
    else if (reg >= BM_PRDT) return size === 4 ? ch.prdt >>> 0 : (ch.prdt >>> (8 * (reg - BM_PRDT))) & (size === 2 ? 0xffff : 0xff);
    return size === 1 ? v : v | (reg === BM_COMMAND && size >= 2 ? ch.bmStatus << 16 : 0);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, v: number): void {
    this.counters.traps++;
    const ch = this.channels[(offset >> 3) & 1], reg = offset & 7;
    if (reg === BM_COMMAND) {
      const was = ch.bmCommand;
      ch.bmCommand = v & (BM_CMD_START | BM_CMD_READ);
      if (!(v & BM_CMD_START)) ch.bmStatus &= ~BM_ST_ACTIVE;
      else if (!(was & BM_CMD_START)) {
        ch.bmStatus |= BM_ST_ACTIVE;
        if (ch.transfer === DMA_IN || ch.transfer === DMA_OUT || ch.transfer === ATAPI_DMA_BUF || ch.transfer === ATAPI_DMA_MEDIA) this.runDma(ch);
      }
      if (size >= 2) this.writeBmStatus(ch, v >>> 16);
    } else if (reg === BM_STATUS) {
      this.writeBmStatus(ch, v);
    } else if (reg >= BM_PRDT) {
      const shift = 8 * (reg - BM_PRDT);
      const mask = (size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff) << shift;
      ch.prdt = ((ch.prdt & ~mask) | ((v << shift) & mask)) & ~3;
    }
  }

  private writeBmStatus(ch: Channel, v: number): void {
    ch.bmStatus = (ch.bmStatus & BM_ST_ACTIVE) | (ch.bmStatus & (BM_ST_ERROR | BM_ST_INTR) & ~v) | (v & (BM_ST_DRV0_DMA | BM_ST_DRV1_DMA));
  }

  /**
   * Walk the PRD table moving up to `total` bytes: `move(addr, n)` moves n bytes at guest
   * address addr. Returns the bytes no entry took, or -1 when an entry or its buffer is outside RAM.
   */
  private prdWalk(ch: Channel, total: number, move: (addr: number, n: number) => void): number {
    const dv = this.mem.dv;
    let left = total;
    for (let i = 0; i < MAX_PRD_ENTRIES && left > 0; i++) {
      const entry = ch.prdt + 8 * i;
      if (!this.mem.isRam(entry, 8)) return -1;
      const addr = dv.getUint32(entry, true) & ~1, flags = dv.getUint32(entry + 4, true);
      const n = Math.min((flags & 0xffff) || 0x10000, left);
      if (!this.mem.isRam(addr, n)) return -1;
      move(addr, n);
      left -= n;
      if (flags & PRD_EOT) break;
    }
    return left;
  }

  /** Move the pending DMA command's data through the PRD table, then interrupt. */
  private runDma(ch: Channel): void {
    let left: number;
    if (ch.transfer === ATAPI_DMA_BUF || ch.transfer === ATAPI_DMA_MEDIA) {
      left = this.packetDma(ch);
    } else {
      const d = this.hd(ch), toMemory = ch.transfer === DMA_IN;
      let pos = ch.lba * SECTOR_SIZE;
      left = this.prdWalk(ch, ch.remaining * SECTOR_SIZE, (addr, n) => {
        if (toMemory) {
          const data = ch.buf.subarray(0, n);
          d.disk.read(pos, data);
          dmaWrite(this.mem, addr, data);
          this.counters.bytesRead += n;
        } else {
          d.disk.write(pos, this.mem.u8.subarray(addr, addr + n));
          this.counters.bytesWritten += n;
        }
        pos += n;
      });
    }
    ch.bmStatus = (ch.bmStatus & ~BM_ST_ACTIVE) | BM_ST_INTR;
    if (left !== 0) { // the PRD table ran out (or left RAM) before the data did
      ch.bmStatus |= BM_ST_ERROR;
      ch.error = ERR_ABRT;
      if (ch.transfer === ATAPI_DMA_BUF || ch.transfer === ATAPI_DMA_MEDIA) ch.nsect = IR_IO | IR_COD;
      this.fail(ch);
      return;
    }
    if (ch.transfer === ATAPI_DMA_BUF || ch.transfer === ATAPI_DMA_MEDIA) this.packetDone(ch);
    else {
      ch.transfer = XFER_NONE;
      this.done(ch);
    }
  }

  /** A packet's data-in by DMA: the answer in the buffer, or the READ's sectors from the medium. Returns what prdWalk does. */
  private packetDma(ch: Channel): number {
    if (ch.transfer === ATAPI_DMA_BUF) {
      let pos = 0;
      return this.prdWalk(ch, ch.remaining, (addr, n) => {
        dmaWrite(this.mem, addr, ch.buf.subarray(pos, pos + n));
        pos += n;
      });
    }
    const media = (this.drive(ch) as CdDrive).media;
    if (!media) ch.mediaLeft = 0; // ejected before the engine started: nothing moves
    const left = this.prdWalk(ch, ch.mediaLeft, (addr, n) => {
      const data = ch.buf.subarray(0, n);
      media!.read(ch.mediaOffset, data);
      dmaWrite(this.mem, addr, data);
      this.counters.bytesRead += n;
      ch.mediaOffset += n;
      ch.mediaLeft -= n;
    });
    return left;
  }
}
