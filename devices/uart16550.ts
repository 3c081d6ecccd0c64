// The PC's serial port: a National 16550A UART (COM1 at 0x3F8, IRQ 4), enough of it that
// Linux's 8250 driver detects a 16550A and runs it unchanged.
//
// Emulated: the divisor latch (DLAB), IER, IIR with the 16550A's priority and identification
// rules (line status > RX data / character timeout > THR empty > modem status; reading IIR
// clears a THRE interrupt it reports), FCR (FIFO enable/reset, RX trigger level 1/4/8/14),
// LCR, MCR (OUT2 gates the IRQ as on a PC; loopback, where OUT2 is forced off and so is the
// IRQ), LSR (DR, OE, THRE, TEMT), MSR with delta bits, SCR, the 16-byte RX FIFO with overrun,
// the RX character timeout (4 character times at the programmed baud rate, from the virtual
// clock). Not emulated: transmit timing (a byte written to THR leaves at once, so the TX FIFO
// is always empty and THRE/TEMT always set when the guest looks), parity/framing errors and
// break (host input has none, so LSR bit 7 stays 0), DMA mode signalling (FCR bit 3 is
// stored), the 16750's 64-byte mode.

import type { IrqSink, PortDevice } from './bus.js';
import type { Clock, Timed, Timers } from './clock.js';
import { declareState } from './state.js';

/** Registers, as offsets from the base port. */
export const UART_RBR = 0; // read: receive buffer; write: THR (transmit holding); DLAB=1: divisor latch low
export const UART_IER = 1; // interrupt enable; DLAB=1: divisor latch high
export const UART_IIR = 2; // read: interrupt identification; write: FCR (FIFO control)
export const UART_LCR = 3; // line control
export const UART_MCR = 4; // modem control
export const UART_LSR = 5; // line status
export const UART_MSR = 6; // modem status
export const UART_SCR = 7; // scratch
export const UART_PORT_COUNT = 8;

/** IER bits. */
export const IER_RDI = 0x01; // received data available (and character timeout)
export const IER_THRI = 0x02; // transmitter holding register empty
export const IER_RLSI = 0x04; // receiver line status
export const IER_MSI = 0x08; // modem status
const IER_MASK = 0x0f; // the 16550A has no bits 4-7 (Linux's XScale probe relies on bit 6 reading 0)

/** IIR values: bit 0 = no interrupt pending, bits 1-3 identify, bits 6-7 = 11 when FIFOs are on. */
export const IIR_NO_INT = 0x01;
export const IIR_MSI = 0x00; // modem status (lowest priority)
export const IIR_THRI = 0x02; // THR empty
export const IIR_RDI = 0x04; // received data available
export const IIR_RLSI = 0x06; // receiver line status (highest priority)
export const IIR_TIMEOUT = 0x0c; // character timeout (RX FIFO holds data below the trigger, nobody read it)
export const IIR_FIFO_ENABLED = 0xc0; // the 16550A signature Linux's autoconfig tests

/** FCR bits. */
export const FCR_ENABLE = 0x01; // FIFO enable (changing it clears both FIFOs)
export const FCR_CLEAR_RX = 0x02; // reset RX FIFO (self-clearing)
export const FCR_CLEAR_TX = 0x04; // reset TX FIFO (self-clearing)
export const FCR_DMA = 0x08; // DMA mode select (no DMA on this board: stored only)
export const FCR_TRIGGER_SHIFT = 6; // bits 6-7: RX trigger level 1, 4, 8, 14 bytes
const RX_TRIGGER = [1, 4, 8, 14];

/** LCR bits. */
export const LCR_WLEN_MASK = 0x03; // word length 5 + n
export const LCR_STOP = 0x04; // 1.5/2 stop bits
export const LCR_PARITY = 0x08; // parity enable
export const LCR_DLAB = 0x80; // divisor latch access

/** MCR bits. */
export const MCR_DTR = 0x01;
export const MCR_RTS = 0x02;
export const MCR_OUT1 = 0x04;
export const MCR_OUT2 = 0x08; // on a PC, enables the UART's interrupt onto the ISA IRQ line
export const MCR_LOOP = 0x10; // loopback: TX feeds RX, MCR outputs feed the MSR inputs
const MCR_MASK = 0x1f;

/** LSR bits. */
export const LSR_DR = 0x01; // data ready
export const LSR_OE = 0x02; // overrun error
export const LSR_PE = 0x04; // parity error
export const LSR_FE = 0x08; // framing error
export const LSR_BI = 0x10; // break interrupt
export const LSR_THRE = 0x20; // transmitter holding register (or TX FIFO) empty
export const LSR_TEMT = 0x40; // transmitter empty (THR and shift register)
export const LSR_FIFO_ERR = 0x80; // an error byte is somewhere in the RX FIFO
const LSR_ERRORS = LSR_OE | LSR_PE | LSR_FE | LSR_BI;

/** MSR bits: deltas in 0-3, line states in 4-7. */
export const MSR_DCTS = 0x01;
export const MSR_DDSR = 0x02;
export const MSR_TERI = 0x04; // trailing edge of ring indicator
export const MSR_DDCD = 0x08;
export const MSR_CTS = 0x10;
export const MSR_DSR = 0x20;
export const MSR_RI = 0x40;
export const MSR_DCD = 0x80;
/** A terminal is attached to the host side: CTS, DSR and DCD asserted, no ring. */
const MSR_LINES_CONNECTED = MSR_CTS | MSR_DSR | MSR_DCD;

export const FIFO_SIZE = 16;
/** The 1.8432 MHz crystal divided by 16: the baud rate for divisor 1. */
export const UART_BASE_BAUD = 115200;
/** The character timeout is 4 character times. */
const TIMEOUT_CHARS = 4;

export interface Uart16550Options {
  /** First of the 8 ports (0x3F8 for COM1). */
  base: number;
  /** Where the IRQ line goes (the Bus, or a PIC in tests). */
  irqs: IrqSink;
  irq: number;
  /** A byte the guest transmitted (not called in loopback mode). */
  onTransmit: (byte: number) => void;
  /** Virtual time, for the RX character timeout; without one the timeout counts as already elapsed. */
  clock?: Clock;
  timers?: Timers;
}

export class Uart16550 implements PortDevice, Timed {
  static {
    declareState(Uart16550, {
      fields: {
        dll: 'u8', dlm: 'u8', ier: 'u8', lcr: 'u8', mcr: 'u8', lsr: 'u8', msr: 'u8', scr: 'u8', fcr: 'u8',
        rxFifo: ['u8', FIFO_SIZE], rxHead: 'u8', rxCount: 'u8',
        thrIntPending: 'bool', timeoutPending: 'bool', rxLastActivity: 'f64', irqOut: 'bool',
        txBytes: 'f64', rxBytes: 'f64', rxOverruns: 'f64', rxDroppedLoopback: 'f64', interrupts: 'f64',
      },
      wiring: ['base', 'irqs', 'irq', 'onTransmit', 'clock', 'timers'],
    });
  }

  readonly base: number;
  // ---- The chip's registers.
  dll = 0x0c; // 9600 baud after reset, as a BIOS leaves it
  dlm = 0;
  ier = 0;
  lcr = 0;
  mcr = 0;
  lsr = LSR_THRE | LSR_TEMT;
  msr = MSR_LINES_CONNECTED;
  scr = 0;
  fcr = 0; // write-only on the chip; kept for FIFO enable, trigger level and DMA bit
  readonly rxFifo = new Uint8Array(FIFO_SIZE);
  rxHead = 0;
  rxCount = 0;
  /** A THRE interrupt is latched (set when THR empties or THRI is enabled; cleared by an IIR read that reports it, or a THR write). */
  thrIntPending = false;
  /** The RX character timeout has fired (cleared by reading RBR). */
  timeoutPending = false;
  /** Virtual time of the last RX FIFO activity (a byte in or out), for the timeout. */
  rxLastActivity = 0;
  private irqOut = false;

  // ---- Counters.
  txBytes = 0;
  rxBytes = 0;
  /** Host bytes lost because the RX FIFO was full (the guest gets LSR.OE). */
  rxOverruns = 0;
  /** Host bytes dropped because the UART was in loopback mode (the serial input is disconnected). */
  rxDroppedLoopback = 0;
  /** Rising edges of the IRQ line. */
  interrupts = 0;

  private readonly irqs: IrqSink;
  private readonly irq: number;
  private readonly onTransmit: (byte: number) => void;
  private readonly clock: Clock | null;
  private readonly timers: Timers | null;

  constructor(opts: Uart16550Options) {
    this.base = opts.base;
    this.irqs = opts.irqs;
    this.irq = opts.irq;
    this.onTransmit = opts.onTransmit;
    this.clock = opts.clock ?? null;
    this.timers = opts.timers ?? null;
  }

  /** The master-reset pin: registers to their datasheet values (divisor latch and SCR keep theirs), FIFOs empty, IRQ low. */
  reset(): void {
    this.ier = 0;
    this.lcr = 0;
    this.mcr = 0;
    this.fcr = 0;
    this.lsr = LSR_THRE | LSR_TEMT;
    this.msr = MSR_LINES_CONNECTED;
    this.clearRx();
    this.thrIntPending = false;
    this.updateIrq();
  }

  // ---- Host side.

  /** How many more bytes the guest can take right now; the host throttles its input to this. */
  rxSpace(): number {
    if (this.mcr & MCR_LOOP) return 0;
    return this.rxCapacity() - this.rxCount;
  }

  /** A byte from the host (keyboard, pipe). Returns false if it was lost (FIFO full, or loopback). */
  receive(byte: number): boolean {
    if (this.mcr & MCR_LOOP) {
      this.rxDroppedLoopback++;
      return false;
    }
    const ok = this.pushRx(byte & 0xff);
    this.updateIrq();
    return ok;
  }

  // ---- Guest side.

  portRead(port: number, _size: 1 | 2 | 4): number {
    switch ((port - this.base) & 7) {
      case UART_RBR:
        return this.lcr & LCR_DLAB ? this.dll : this.readRbr();
      case UART_IER:
        return this.lcr & LCR_DLAB ? this.dlm : this.ier;
      case UART_IIR:
        return this.readIir();
      case UART_LCR:
        return this.lcr;
      case UART_MCR:
        return this.mcr;
      case UART_LSR:
        return this.readLsr();
      case UART_MSR:
        return this.readMsr();
      default:
        return this.scr;
    }
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    switch ((port - this.base) & 7) {
      case UART_RBR:
        if (this.lcr & LCR_DLAB) this.dll = v;
        else this.writeThr(v);
        break;
      case UART_IER:
        if (this.lcr & LCR_DLAB) this.dlm = v;
        else this.writeIer(v);
        break;
      case UART_IIR:
        this.writeFcr(v);
        break;
      case UART_LCR:
        this.lcr = v;
        break;
      case UART_MCR:
        this.writeMcr(v);
        break;
      case UART_LSR:
        break; // LSR is read-only on the 16550A (writes are a factory test mode)
      case UART_MSR:
        break;
      default:
        this.scr = v;
    }
  }

  /** Timed: fire the character timeout when it comes due. */
  advance(now: number): number {
    if (!this.timeoutArmed()) return Infinity;
    const due = this.rxLastActivity + this.timeoutNs();
    if (now < due) return due;
    if (!this.timeoutPending) {
      this.timeoutPending = true;
      this.updateIrq();
    }
    return Infinity;
  }

  /** The baud rate the guest programmed (0 if the divisor is 0). */
  baud(): number {
    const div = (this.dlm << 8) | this.dll;
    return div === 0 ? 0 : UART_BASE_BAUD / div;
  }

  /** The IRQ line as the UART drives it. */
  irqLevel(): boolean {
    return this.irqOut;
  }

  // ---- Registers.

  private readRbr(): number {
    let v = 0;
    if (this.rxCount > 0) {
      v = this.rxFifo[this.rxHead];
      this.rxHead = (this.rxHead + 1) % FIFO_SIZE;
      this.rxCount--;
    }
    if (this.rxCount === 0) this.lsr &= ~LSR_DR;
    this.touchRx();
    this.updateIrq();
    return v;
  }

  private writeThr(v: number): void {
    this.thrIntPending = false;
    this.updateIrq(); // the line drops for the moment the THR holds the byte
    this.txBytes++;
    if (this.mcr & MCR_LOOP) this.pushRx(v);
    else this.onTransmit(v);
    // The byte leaves at once: THR (and the TX FIFO) are empty again, which is a new THRE event.
    this.thrIntPending = true;
    this.updateIrq();
  }

  private writeIer(v: number): void {
    const old = this.ier;
    this.ier = v & IER_MASK;
    // Enabling THRI while THR is empty raises a THRE interrupt at once (Linux's UART_BUG_THRE
    // probe disables and re-enables THRI and expects IIR to report it again).
    if (this.ier & IER_THRI && !(old & IER_THRI)) this.thrIntPending = true;
    this.updateIrq();
  }

  private writeFcr(v: number): void {
    if ((v ^ this.fcr) & FCR_ENABLE) {
      // Switching the FIFOs on or off empties them.
      this.clearRx();
    }
    if (v & FCR_CLEAR_RX) this.clearRx();
    // FCR_CLEAR_TX: the TX FIFO is always empty here (bytes leave at once).
    this.fcr = v & (FCR_ENABLE | FCR_DMA | (3 << FCR_TRIGGER_SHIFT));
    if (!(this.fcr & FCR_ENABLE)) this.fcr = 0;
    this.updateIrq();
  }

  private writeMcr(v: number): void {
    this.mcr = v & MCR_MASK;
    this.setModemLines(this.mcr & MCR_LOOP ? loopedLines(this.mcr) : MSR_LINES_CONNECTED);
    this.updateIrq();
  }

  private readIir(): number {
    const id = this.pendingId();
    // Reading IIR while it reports THRE is one of the two ways to clear that interrupt.
    if (id === IIR_THRI) {
      this.thrIntPending = false;
      this.updateIrq();
    }
    return id | (this.fcr & FCR_ENABLE ? IIR_FIFO_ENABLED : 0);
  }

  private readLsr(): number {
    const v = this.lsr;
    this.lsr &= ~(LSR_ERRORS | LSR_FIFO_ERR);
    if (v & LSR_ERRORS) this.updateIrq();
    return v;
  }

  private readMsr(): number {
    const v = this.msr;
    this.msr &= 0xf0;
    if (v & 0x0f) this.updateIrq();
    return v;
  }

  // ---- Helpers.

  private rxCapacity(): number {
    return this.fcr & FCR_ENABLE ? FIFO_SIZE : 1;
  }

  private pushRx(byte: number): boolean {
    this.rxBytes++;
    this.touchRx();
    if (this.rxCount >= this.rxCapacity()) {
      this.lsr |= LSR_OE;
      this.rxOverruns++;
      // FIFO mode: the byte in the shift register is lost. 16450 mode: it overwrites RBR.
      if (this.fcr & FCR_ENABLE) return false;
      this.rxFifo[this.rxHead] = byte;
      return true;
    }
    this.rxFifo[(this.rxHead + this.rxCount) % FIFO_SIZE] = byte;
    this.rxCount++;
    this.lsr |= LSR_DR;
    return true;
  }

  private clearRx(): void {
    this.rxHead = 0;
    this.rxCount = 0;
    this.lsr &= ~(LSR_DR | LSR_FIFO_ERR);
    this.timeoutPending = false;
  }

  /** RX FIFO activity (a byte in or out) restarts the character timeout. */
  private touchRx(): void {
    this.timeoutPending = false;
    if (!this.clock) return;
    this.rxLastActivity = this.clock.now();
    if (this.timers) this.timers.reschedule(this.rxLastActivity + this.timeoutNs());
  }

  /** The timeout can fire: FIFO mode, and data is waiting below the trigger level. */
  private timeoutArmed(): boolean {
    return (this.fcr & FCR_ENABLE) !== 0 && this.rxCount > 0 && this.rxCount < this.triggerLevel();
  }

  private triggerLevel(): number {
    return RX_TRIGGER[(this.fcr >> FCR_TRIGGER_SHIFT) & 3];
  }

  /** Four character times at the programmed baud rate and frame (start + data + parity + stop bits). */
  private timeoutNs(): number {
    const div = ((this.dlm << 8) | this.dll) || 0x10000;
    const bits = 1 + 5 + (this.lcr & LCR_WLEN_MASK) + (this.lcr & LCR_PARITY ? 1 : 0) + (this.lcr & LCR_STOP ? 2 : 1);
    return (TIMEOUT_CHARS * bits * div * 1e9) / UART_BASE_BAUD;
  }

  private setModemLines(lines: number): void {
    const old = this.msr & 0xf0;
    let delta = 0;
    if ((old ^ lines) & MSR_CTS) delta |= MSR_DCTS;
    if ((old ^ lines) & MSR_DSR) delta |= MSR_DDSR;
    if ((old ^ lines) & MSR_DCD) delta |= MSR_DDCD;
    if (old & MSR_RI && !(lines & MSR_RI)) delta |= MSR_TERI;
    this.msr = lines | (this.msr & 0x0f) | delta;
  }

  /** The highest-priority pending, enabled interrupt as an IIR identification (IIR_NO_INT if none). */
  private pendingId(): number {
    const ier = this.ier;
    if (ier & IER_RLSI && this.lsr & LSR_ERRORS) return IIR_RLSI;
    if (ier & IER_RDI) {
      if (this.fcr & FCR_ENABLE) {
        if (this.rxCount >= this.triggerLevel()) return IIR_RDI;
        if (this.rxCount > 0 && this.timeoutDue()) return IIR_TIMEOUT;
      } else if (this.rxCount > 0) {
        return IIR_RDI;
      }
    }
    if (ier & IER_THRI && this.thrIntPending) return IIR_THRI;
    if (ier & IER_MSI && this.msr & 0x0f) return IIR_MSI;
    return IIR_NO_INT;
  }

  private timeoutDue(): boolean {
    if (this.timeoutPending) return true;
    if (!this.clock) return true; // no clock: the 4 character times count as gone
    if (this.clock.now() - this.rxLastActivity >= this.timeoutNs()) {
      this.timeoutPending = true;
      return true;
    }
    return false;
  }

  /** Drive the IRQ line: interrupt pending, gated by OUT2 (and disconnected in loopback, where OUT2 is forced inactive). */
  private updateIrq(): void {
    const level = (this.mcr & (MCR_OUT2 | MCR_LOOP)) === MCR_OUT2 && this.pendingId() !== IIR_NO_INT;
    if (level === this.irqOut) return;
    this.irqOut = level;
    if (level) this.interrupts++;
    this.irqs.setIrq(this.irq, level);
  }
}

/** Loopback wiring (16550A datasheet): RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD. */
function loopedLines(mcr: number): number {
  let v = 0;
  if (mcr & MCR_RTS) v |= MSR_CTS;
  if (mcr & MCR_DTR) v |= MSR_DSR;
  if (mcr & MCR_OUT1) v |= MSR_RI;
  if (mcr & MCR_OUT2) v |= MSR_DCD;
  return v;
}
