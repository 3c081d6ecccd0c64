// The PC's two cascaded Intel 8259A interrupt controllers (master at 0x20/0x21, slave at
// 0xA0/0xA1 on master IR2) and the PIIX edge/level control registers (ELCR, 0x4D0/0x4D1).
//
// Emulated: ICW1-ICW4 (vector base, cascade, auto-EOI, special fully nested mode, LTIM),
// OCW1 (IMR), OCW2 (non-specific/specific EOI, rotate on EOI, rotate in auto-EOI, set
// priority), OCW3 (IRR/ISR read, poll, special mask mode), edge triggering (a rising edge
// latches IRR) and level triggering (IRR follows the line) per line from ELCR or LTIM, the
// INTA cycle for the CPU, and the spurious IRQ 7 an INTA gets when the request went away
// (vector base + 7, no ISR bit). Master IR2 follows the slave's INT output as a level (the
// hardware ANDs its edge latch with the input, which comes to the same here), so the
// slave's spurious IRQ 15 path exists but nothing here can reach it: there is no window
// between INTR and INTA for a request to vanish in. Not emulated: 8080/8085 mode (ICW4 uPM
// is assumed set), buffered mode (ICW4 BUF/M-S are stored but mean nothing on a PC), a
// slave on any line but IR2.

import type { InterruptSource } from '../contracts/backend.js';
import type { IrqSink, PortDevice } from './bus.js';
import { declareState } from './state.js';

/** Ports. */
export const PIC_MASTER_CMD = 0x20; // ICW1, OCW2, OCW3; reads IRR/ISR or the poll word
export const PIC_MASTER_DATA = 0x21; // ICW2-4, OCW1 (IMR)
export const PIC_SLAVE_CMD = 0xa0;
export const PIC_SLAVE_DATA = 0xa1;
export const PIC_ELCR1 = 0x4d0; // edge/level control for IRQ 0-7 (1 = level)
export const PIC_ELCR2 = 0x4d1; // edge/level control for IRQ 8-15
/** The slave's INT output is wired to master IR2. */
export const PIC_CASCADE_IRQ = 2;

/** ICW1 (command port, bit 4 set). */
export const ICW1_IC4 = 0x01; // ICW4 follows
export const ICW1_SNGL = 0x02; // single controller: no ICW3
export const ICW1_LTIM = 0x08; // every input level-triggered
export const ICW1_INIT = 0x10;
/** ICW4. */
export const ICW4_UPM = 0x01; // 8086 mode
export const ICW4_AEOI = 0x02; // automatic EOI at the end of INTA
export const ICW4_SFNM = 0x10; // special fully nested mode (master: a slave request may nest in IR2)
/** OCW2 (command port, bits 3-4 clear): R, SL, EOI in bits 7-5, level in bits 2-0. */
export const OCW2_EOI = 0x20;
export const OCW2_SL = 0x40; // the level in bits 0-2 applies
export const OCW2_R = 0x80; // rotate
/** OCW3 (command port, bit 3 set, bit 4 clear). */
export const OCW3_SELECT = 0x08;
export const OCW3_RIS = 0x01; // with RR: read ISR (else IRR)
export const OCW3_RR = 0x02; // RIS is valid
export const OCW3_POLL = 0x04; // next command-port read is the poll word and acknowledges
export const OCW3_SMM = 0x20; // with ESMM: special mask mode on (else off)
export const OCW3_ESMM = 0x40;
/** ELCR bits that are reserved as edge (IRQ 0, 1, 2, 8, 13 are ISA-only edge lines on the PIIX). */
const ELCR_MASK = [0xf8, 0xde];

/** One 8259A: its registers, no behaviour of its own beyond priority resolution. */
class Chip {
  irr = 0; // interrupt request (edge latches, or level lines currently high)
  isr = 0; // in service
  imr = 0; // mask (OCW1)
  pins = 0; // input line levels
  elcr = 0; // per-line level trigger (the PIIX register)
  vectorBase = 0; // ICW2 & 0xF8
  icw1 = 0;
  icw3 = 0;
  icw4 = 0;
  /** Master: the IR2 bit. The slave's INT output holds it as a level, so IR2 is pending exactly while the slave has something to give. */
  cascadeLine = 0;
  /** Next data-port write is ICW2/3/4 (0 = OCW1). */
  initStep = 0;
  readIsr = false; // OCW3 RR/RIS
  poll = false;
  specialMask = false;
  rotateOnAeoi = false;
  /** The line with the lowest priority; IR (lowest+1)&7 is served first. */
  lowest = 7;

  /** Inputs that are sampled as levels: LTIM or ELCR, and the master's cascade input. */
  levelLines(): number {
    return this.icw1 & ICW1_LTIM ? 0xff : this.elcr | this.cascadeLine;
  }

  /** Edge latches plus level lines that are high now: what is asking for service. */
  requests(): number {
    const level = this.levelLines();
    return ((this.irr & ~level) | (this.pins & level)) & 0xff;
  }

  /** Priority of line `irq` (0 = highest) under the current rotation. */
  prio(irq: number): number {
    return (irq - this.lowest - 1) & 7;
  }

  /** The highest-priority line set in `mask`, or -1. */
  highest(mask: number): number {
    if (!mask) return -1;
    for (let p = 0; p < 8; p++) {
      const irq = (this.lowest + 1 + p) & 7;
      if (mask & (1 << irq)) return irq;
    }
    return -1;
  }

  /** The line that would be acknowledged now, or -1 (INT output low). */
  pending(isMaster: boolean): number {
    const req = this.requests() & ~this.imr;
    const irq = this.highest(req);
    if (irq < 0) return -1;
    let blocking = this.isr;
    // Special mask mode: a masked in-service level no longer blocks lower priorities.
    if (this.specialMask) blocking &= ~this.imr;
    // Special fully nested mode: the slave's own in-service bit does not block more slave requests.
    if (isMaster && this.icw4 & ICW4_SFNM) blocking &= ~(1 << PIC_CASCADE_IRQ);
    const inService = this.highest(blocking);
    if (inService >= 0 && this.prio(inService) <= this.prio(irq)) return -1;
    return irq;
  }

  /** The INTA bookkeeping for line `irq`: IRR -> ISR (unless auto-EOI). */
  ack(irq: number): void {
    const bit = 1 << irq;
    this.irr &= ~bit;
    if (this.icw4 & ICW4_AEOI) {
      if (this.rotateOnAeoi) this.lowest = irq;
    } else {
      this.isr |= bit;
    }
  }

  /** ICW1: start the init sequence (8259A datasheet: IMR cleared, IR7 lowest, SMM off, status read = IRR). */
  init(icw1: number): void {
    this.icw1 = icw1;
    this.icw4 = 0;
    this.imr = 0;
    this.isr = 0;
    this.irr = 0; // the edge sense latches reset: a line already high must go low and high again
    this.lowest = 7;
    this.specialMask = false;
    this.readIsr = false;
    this.poll = false;
    this.rotateOnAeoi = false;
    this.initStep = 2;
  }
}

const CHIP_STATE = {
  irr: 'u8', isr: 'u8', imr: 'u8', pins: 'u8', elcr: 'u8', vectorBase: 'u8', icw1: 'u8', icw3: 'u8', icw4: 'u8',
  cascadeLine: 'u8', initStep: 'u8', readIsr: 'bool', poll: 'bool', specialMask: 'bool', rotateOnAeoi: 'bool', lowest: 'u8',
} as const;

export class Pic8259 implements PortDevice, IrqSink, InterruptSource {
  static {
    declareState(Pic8259, {
      fields: { master: CHIP_STATE, slave: CHIP_STATE, intr: 'bool', delivered: ['u32', 16], spurious: 'f64', eois: 'f64' },
      wiring: ['onIntrChange'],
    });
  }

  private master = new Chip();
  private slave = new Chip();
  private intr = false;
  /** The INTR output changed (an IOAPIC in ExtINT mode or a LAPIC LINT0 may want to know). */
  onIntrChange: ((level: boolean) => void) | null = null;

  // ---- Counters.
  /** Interrupts acknowledged, per IRQ line 0-15. */
  readonly delivered = new Uint32Array(16);
  /** INTA cycles that found no request (IRQ 7 or 15 vectors). */
  spurious = 0;
  eois = 0;

  constructor() {
    this.master.cascadeLine = 1 << PIC_CASCADE_IRQ;
  }

  /** RESET: both chips uninitialised (IMR, ISR, IRR clear, ELCR edge); the input lines keep their levels. */
  reset(): void {
    const masterPins = this.master.pins;
    const slavePins = this.slave.pins;
    this.master = new Chip();
    this.slave = new Chip();
    this.master.cascadeLine = 1 << PIC_CASCADE_IRQ;
    this.master.pins = masterPins;
    this.slave.pins = slavePins;
    this.updateCascade();
    this.updateIntr();
  }

  // ---- IrqSink: the 16 ISA lines.

  setIrq(line: number, level: boolean): void {
    if (line < 0 || line > 15) return;
    const chip = line < 8 ? this.master : this.slave;
    this.setPin(chip, line & 7, level);
    if (chip === this.slave) this.updateCascade();
    this.updateIntr();
  }

  // ---- InterruptSource: the CPU's INTR pin and INTA cycle.

  hasInterrupt(): boolean {
    return this.intr;
  }

  acknowledge(): number {
    const m = this.master;
    const irq = m.pending(true);
    let vector: number;
    if (irq < 0) {
      // The request went away before INTA: the 8259A answers with IR7's vector and sets no ISR bit.
      this.spurious++;
      vector = m.vectorBase | 7;
    } else if (irq === PIC_CASCADE_IRQ && !(m.icw1 & ICW1_SNGL)) {
      m.ack(irq);
      const s = this.slave;
      const sirq = s.pending(false);
      if (sirq < 0) {
        this.spurious++;
        vector = s.vectorBase | 7;
      } else {
        s.ack(sirq);
        this.delivered[8 + sirq]++;
        vector = s.vectorBase | sirq;
      }
      this.updateCascade();
    } else {
      m.ack(irq);
      this.delivered[irq]++;
      vector = m.vectorBase | irq;
    }
    this.updateIntr();
    return vector;
  }

  /** The INTR output (also what hasInterrupt reports). */
  intrLevel(): boolean {
    return this.intr;
  }

  /** Vector base and mask state, for the teaching views and the IOAPIC's ExtINT path. */
  get masterVectorBase(): number { return this.master.vectorBase; }
  get slaveVectorBase(): number { return this.slave.vectorBase; }
  /** IRR, ISR, IMR of both chips as 16-bit values (slave in the high byte). */
  get irr(): number { return this.master.requests() | (this.slave.requests() << 8); }
  get isr(): number { return this.master.isr | (this.slave.isr << 8); }
  get imr(): number { return this.master.imr | (this.slave.imr << 8); }

  // ---- Ports.

  portRead(port: number, _size: 1 | 2 | 4): number {
    if (port === PIC_ELCR1) return this.master.elcr;
    if (port === PIC_ELCR2) return this.slave.elcr;
    const chip = (port & 0xf0) === PIC_SLAVE_CMD ? this.slave : this.master;
    if (chip.poll) return this.pollRead(chip);
    if (port & 1) return chip.imr;
    return chip.readIsr ? chip.isr : chip.requests();
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    if (port === PIC_ELCR1 || port === PIC_ELCR2) {
      const i = port - PIC_ELCR1;
      (i === 0 ? this.master : this.slave).elcr = v & ELCR_MASK[i];
    } else {
      const chip = (port & 0xf0) === PIC_SLAVE_CMD ? this.slave : this.master;
      if (port & 1) this.writeData(chip, v);
      else this.writeCommand(chip, v);
    }
    this.updateCascade();
    this.updateIntr();
  }

  // ---- Internals.

  private setPin(chip: Chip, irq: number, level: boolean): void {
    const bit = 1 << irq;
    const was = chip.pins & bit;
    if (level) {
      chip.pins |= bit;
      if (!was) chip.irr |= bit; // rising edge (level lines read the pin directly)
    } else {
      chip.pins &= ~bit;
      if (chip.levelLines() & bit) chip.irr &= ~bit;
    }
  }

  /** The slave's INT output drives master IR2. */
  private updateCascade(): void {
    this.setPin(this.master, PIC_CASCADE_IRQ, this.slave.pending(false) >= 0);
  }

  private updateIntr(): void {
    const level = this.master.pending(true) >= 0;
    if (level === this.intr) return;
    this.intr = level;
    this.onIntrChange?.(level);
  }

  private writeCommand(chip: Chip, v: number): void {
    if (v & ICW1_INIT) {
      chip.init(v);
      return;
    }
    if (v & OCW3_SELECT) {
      if (v & OCW3_RR) chip.readIsr = (v & OCW3_RIS) !== 0;
      if (v & OCW3_ESMM) chip.specialMask = (v & OCW3_SMM) !== 0;
      chip.poll = (v & OCW3_POLL) !== 0;
      return;
    }
    this.writeOcw2(chip, v);
  }

  private writeOcw2(chip: Chip, v: number): void {
    const level = v & 7;
    switch (v & (OCW2_R | OCW2_SL | OCW2_EOI)) {
      case OCW2_EOI: // non-specific EOI
      case OCW2_R | OCW2_EOI: { // rotate on non-specific EOI
        const irq = chip.highest(chip.isr);
        if (irq < 0) return;
        chip.isr &= ~(1 << irq);
        if (v & OCW2_R) chip.lowest = irq;
        this.eois++;
        return;
      }
      case OCW2_SL | OCW2_EOI: // specific EOI
      case OCW2_R | OCW2_SL | OCW2_EOI: // rotate on specific EOI
        chip.isr &= ~(1 << level);
        if (v & OCW2_R) chip.lowest = level;
        this.eois++;
        return;
      case OCW2_R: // set rotate in auto-EOI mode
        chip.rotateOnAeoi = true;
        return;
      case 0: // clear rotate in auto-EOI mode
        chip.rotateOnAeoi = false;
        return;
      case OCW2_R | OCW2_SL: // set priority
        chip.lowest = level;
        return;
      default: // OCW2_SL alone: no operation
    }
  }

  private writeData(chip: Chip, v: number): void {
    switch (chip.initStep) {
      case 2:
        chip.vectorBase = v & 0xf8;
        chip.initStep = chip.icw1 & ICW1_SNGL ? (chip.icw1 & ICW1_IC4 ? 4 : 0) : 3;
        return;
      case 3:
        chip.icw3 = v;
        chip.initStep = chip.icw1 & ICW1_IC4 ? 4 : 0;
        return;
      case 4:
        chip.icw4 = v;
        chip.initStep = 0;
        return;
      default:
        chip.imr = v;
    }
  }

  /** Poll mode: the read is the INTA cycle; returns 0x80 | level, or 0 if nothing is pending. */
  private pollRead(chip: Chip): number {
    chip.poll = false;
    const isMaster = chip === this.master;
    const irq = chip.pending(isMaster);
    if (irq < 0) return 0;
    chip.ack(irq);
    this.delivered[(isMaster ? 0 : 8) + irq]++;
    this.updateCascade();
    this.updateIntr();
    return 0x80 | irq;
  }
}
