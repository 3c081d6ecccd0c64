// The PC's 8042 keyboard controller (0x60 data, 0x64 status/command) with a PS/2 keyboard
// behind it: enough for Linux's i8042/atkbd probing to succeed quietly, for the pulse-reset
// (0xFE) and output-port A20/reset lines, and for host keystrokes to reach the guest.
//
// Emulated: status register (OBF, SYS, A2, INH, AUXB), controller RAM byte 0 (the command
// byte: interrupt enables, SYS flag, port disables, translation), self-test 0xAA -> 0x55,
// interface tests, port enable/disable, output port read/write (bit 0 reset, bit 1 A20),
// A20 on/off (0xDD/0xDF), pulse output lines (0xF0-0xFF), write keyboard/aux output buffer,
// IRQ 1 / IRQ 12 while the output buffer is full and enabled; the keyboard answers reset
// (0xFA 0xAA), identify (0xAB 0x83, 0x41 when translating), LEDs, scancode set, typematic,
// enable/disable scanning, echo and resend. Not emulated: the aux (mouse) port is absent --
// its disable bit in the command byte stays set, which Linux reads as "no AUX port" without
// waiting on a timeout; scancode translation of host input (the host hands in the bytes the
// guest should see); typematic repeat; the input port and password commands.

import type { IrqSink, PortDevice } from './bus.js';
import { declareState } from './state.js';

/** Ports. */
export const I8042_DATA = 0x60;
export const I8042_COMMAND = 0x64; // read: status; write: controller command

/** Status register bits. */
export const STATUS_OBF = 0x01; // output buffer full: port 0x60 has a byte for the CPU
export const STATUS_IBF = 0x02; // input buffer full (never: we consume writes at once)
export const STATUS_SYS = 0x04; // system flag, from the command byte (set after self-test)
export const STATUS_A2 = 0x08; // last write went to the command port
export const STATUS_INH = 0x10; // 1 = keyboard not inhibited (keylock off)
export const STATUS_AUXB = 0x20; // the output byte came from the aux port

/** Command byte (controller RAM byte 0) bits. */
export const CCB_KBD_INT = 0x01; // IRQ 1 on keyboard output
export const CCB_AUX_INT = 0x02; // IRQ 12 on aux output
export const CCB_SYS = 0x04;
export const CCB_KBD_DISABLE = 0x10; // keyboard clock off
export const CCB_AUX_DISABLE = 0x20; // aux clock off (stuck on: no aux port here)
export const CCB_XLATE = 0x40; // translate set 2 to set 1

/** Controller commands (port 0x64). */
export const CMD_READ_RAM = 0x20; // 0x20-0x3F: read controller RAM (0x20 = command byte)
export const CMD_WRITE_RAM = 0x60; // 0x60-0x7F: write controller RAM
export const CMD_PASSWORD_INSTALLED = 0xa4;
export const CMD_AUX_DISABLE = 0xa7;
export const CMD_AUX_ENABLE = 0xa8;
export const CMD_AUX_TEST = 0xa9;
export const CMD_SELF_TEST = 0xaa;
export const CMD_KBD_TEST = 0xab;
export const CMD_KBD_DISABLE = 0xad;
export const CMD_KBD_ENABLE = 0xae;
export const CMD_READ_OUTPUT_PORT = 0xd0;
export const CMD_WRITE_OUTPUT_PORT = 0xd1;
export const CMD_WRITE_KBD_OUTPUT = 0xd2; // next byte appears as if the keyboard sent it
export const CMD_WRITE_AUX_OUTPUT = 0xd3; // next byte appears as if the aux device sent it (Linux's AUX_LOOP)
export const CMD_WRITE_AUX = 0xd4; // next byte goes to the aux device
export const CMD_A20_OFF = 0xdd;
export const CMD_A20_ON = 0xdf;
export const CMD_READ_TEST_INPUTS = 0xe0;
export const CMD_PULSE_BASE = 0xf0; // 0xF0-0xFF: pulse output port bits 0-3 low for those bits clear in the command
/** Replies. */
export const SELF_TEST_OK = 0x55;
export const INTERFACE_TEST_OK = 0x00;
export const AUX_TEST_CLOCK_STUCK_LOW = 0x01;
export const PASSWORD_NOT_INSTALLED = 0xf1;

/** Output port bits. */
export const OUTPUT_RESET = 0x01; // 0 = hold the CPU in reset
export const OUTPUT_A20 = 0x02;
export const OUTPUT_KBD_OBF = 0x10; // IRQ 1 line
export const OUTPUT_AUX_OBF = 0x20; // IRQ 12 line

/** Keyboard commands and replies. */
export const KBD_SET_LEDS = 0xed;
export const KBD_ECHO = 0xee;
export const KBD_SCANCODE_SET = 0xf0;
export const KBD_IDENTIFY = 0xf2;
export const KBD_TYPEMATIC = 0xf3;
export const KBD_ENABLE = 0xf4;
export const KBD_DISABLE = 0xf5; // and restore defaults
export const KBD_DEFAULTS = 0xf6;
export const KBD_RESEND = 0xfe;
export const KBD_RESET = 0xff;
export const KBD_ACK = 0xfa;
export const KBD_NAK = 0xfe;
export const KBD_BAT_OK = 0xaa; // basic assurance test passed
export const KBD_ID = 0xab; // first identify byte of an MF2 keyboard
export const KBD_ID2 = 0x83; // second byte (0x41 once the controller translates it)
export const KBD_ID2_XLATED = 0x41;
/** Scancode-set reply bytes as a translating controller passes them (set 1, 2, 3). */
const SET_XLATED = [0, 0x43, 0x41, 0x3f];

const QUEUE_SIZE = 16;
const RAM_SIZE = 32;

export interface I8042Options {
  irqs: IrqSink;
  kbdIrq?: number; // 1
  auxIrq?: number; // 12
  /** The guest pulsed the reset line (0xFE, or output port bit 0 cleared). */
  onReset: () => void;
  /** The output port's A20 bit changed. The controller starts with A20 enabled. */
  onA20: (enabled: boolean) => void;
}

export class I8042 implements PortDevice {
  static {
    declareState(I8042, {
      fields: {
        ram: ['u8', RAM_SIZE], outputPort: 'u8', lastWasCommand: 'bool', pendingCommand: 'u8',
        queue: ['u8', QUEUE_SIZE], queueAux: ['u8', QUEUE_SIZE], head: 'u32', count: 'u32', lastRead: 'u8',
        kbdPending: 'u8', scanning: 'bool', scancodeSet: 'u8', leds: 'u8', kbdLastSent: 'u8', kbdIrqOut: 'bool', auxIrqOut: 'bool',
        commands: 'f64', resets: 'f64', keysDropped: 'f64',
      },
      wiring: ['irqs', 'kbdIrq', 'auxIrq', 'onReset', 'onA20'],
    });
  }

  /** Controller RAM; byte 0 is the command byte. */
  readonly ram = new Uint8Array(RAM_SIZE);
  outputPort = 0;
  /** Last write went to the command port (status A2). */
  lastWasCommand = false;
  /** A controller command waiting for its data byte on port 0x60 (0 = none). */
  pendingCommand = 0;
  /** Output queue: bytes, and whether each came from the aux port. The head is the output buffer. */
  private readonly queue = new Uint8Array(QUEUE_SIZE);
  private readonly queueAux = new Uint8Array(QUEUE_SIZE);
  private head = 0;
  private count = 0;
  /** The last byte the CPU read (port 0x60 repeats it when empty). */
  private lastRead = 0;
  // ---- The keyboard.
  /** A keyboard command waiting for its argument (0 = none). */
  kbdPending = 0;
  scanning = true;
  scancodeSet = 2;
  leds = 0;
  private kbdLastSent = KBD_ACK;
  private kbdIrqOut = false;
  private auxIrqOut = false;

  // ---- Counters.
  commands = 0;
  resets = 0;
  /** Host keystroke bytes dropped (queue full, scanning off, or keyboard disabled). */
  keysDropped = 0;

  private readonly irqs: IrqSink;
  private readonly kbdIrq: number;
  private readonly auxIrq: number;
  private readonly onReset: () => void;
  private readonly onA20: (enabled: boolean) => void;

  constructor(opts: I8042Options) {
    this.irqs = opts.irqs;
    this.kbdIrq = opts.kbdIrq ?? 1;
    this.auxIrq = opts.auxIrq ?? 12;
    this.onReset = opts.onReset;
    this.onA20 = opts.onA20;
    this.reset();
  }

  /** Power-on state (A20 enabled, output buffer empty, keyboard defaults). Calls no callbacks. */
  reset(): void {
    this.ram.fill(0);
    this.ram[0] = CCB_KBD_INT | CCB_SYS | CCB_AUX_DISABLE | CCB_XLATE;
    this.outputPort = OUTPUT_RESET | OUTPUT_A20;
    this.lastWasCommand = false;
    this.pendingCommand = 0;
    this.head = 0;
    this.count = 0;
    this.kbdPending = 0;
    this.scanning = true;
    this.leds = 0;
    this.kbdDefaults();
    this.updateIrqs();
  }

  get commandByte(): number {
    return this.ram[0];
  }

  /** A20 as the output port drives it. */
  a20(): boolean {
    return (this.outputPort & OUTPUT_A20) !== 0;
  }

  /** Host keyboard input: one byte of the scancode stream the guest should see. False if dropped. */
  keyboardInput(byte: number): boolean {
    if (!this.scanning || this.ram[0] & CCB_KBD_DISABLE || this.count >= QUEUE_SIZE) {
      this.keysDropped++;
      return false;
    }
    this.push(byte & 0xff, false);
    this.updateIrqs();
    return true;
  }

  portRead(port: number, _size: 1 | 2 | 4): number {
    if (port === I8042_COMMAND) return this.status();
    if (this.count === 0) return this.lastRead;
    const v = this.queue[this.head];
    this.head = (this.head + 1) % QUEUE_SIZE;
    this.count--;
    this.lastRead = v;
    // The next byte (if any) is a new arrival: the line drops and rises again.
    this.setIrqs(false, false);
    this.updateIrqs();
    return v;
  }

  portWrite(port: number, _size: 1 | 2 | 4, value: number): void {
    const v = value & 0xff;
    if (port === I8042_COMMAND) {
      this.lastWasCommand = true;
      this.pendingCommand = 0;
      this.commands++;
      this.command(v);
    } else {
      this.lastWasCommand = false;
      const cmd = this.pendingCommand;
      this.pendingCommand = 0;
      if (cmd) this.commandData(cmd, v);
      else this.keyboardCommand(v);
    }
    this.updateIrqs();
  }

  private status(): number {
    let s = STATUS_INH;
    if (this.count > 0) {
      s |= STATUS_OBF;
      if (this.queueAux[this.head]) s |= STATUS_AUXB;
    }
    if (this.ram[0] & CCB_SYS) s |= STATUS_SYS;
    if (this.lastWasCommand) s |= STATUS_A2;
    return s;
  }

  private command(cmd: number): void {
    if (cmd >= CMD_READ_RAM && cmd < CMD_READ_RAM + RAM_SIZE) {
      this.push(this.ram[cmd - CMD_READ_RAM], false);
      return;
    }
    if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + RAM_SIZE) {
      this.pendingCommand = cmd;
      return;
    }
    if (cmd >= CMD_PULSE_BASE) {
      if (!(cmd & OUTPUT_RESET)) this.pulseReset();
      return;
    }
    switch (cmd) {
      case CMD_PASSWORD_INSTALLED:
        this.push(PASSWORD_NOT_INSTALLED, false);
        break;
      case CMD_AUX_DISABLE:
      case CMD_AUX_ENABLE:
        break; // no aux port: its disable bit stays set
      case CMD_AUX_TEST:
        this.push(AUX_TEST_CLOCK_STUCK_LOW, false);
        break;
      case CMD_SELF_TEST:
        this.ram[0] |= CCB_SYS;
        this.push(SELF_TEST_OK, false);
        break;
      case CMD_KBD_TEST:
        this.push(INTERFACE_TEST_OK, false);
        break;
      case CMD_KBD_DISABLE:
        this.ram[0] |= CCB_KBD_DISABLE;
        break;
      case CMD_KBD_ENABLE:
        this.ram[0] &= ~CCB_KBD_DISABLE;
        break;
      case CMD_READ_OUTPUT_PORT: {
        let v = this.outputPort & (OUTPUT_RESET | OUTPUT_A20);
        if (this.kbdIrqOut) v |= OUTPUT_KBD_OBF;
        if (this.auxIrqOut) v |= OUTPUT_AUX_OBF;
        this.push(v, false);
        break;
      }
      case CMD_READ_TEST_INPUTS:
        this.push(0, false);
        break;
      case CMD_A20_OFF:
        this.writeOutputPort(this.outputPort & ~OUTPUT_A20);
        break;
      case CMD_A20_ON:
        this.writeOutputPort(this.outputPort | OUTPUT_A20);
        break;
      case CMD_WRITE_OUTPUT_PORT:
      case CMD_WRITE_KBD_OUTPUT:
      case CMD_WRITE_AUX_OUTPUT:
      case CMD_WRITE_AUX:
        this.pendingCommand = cmd;
        break;
      default:
        break; // unknown commands are ignored, as most 8042 firmware does
    }
  }

  private commandData(cmd: number, v: number): void {
    if (cmd >= CMD_WRITE_RAM && cmd < CMD_WRITE_RAM + RAM_SIZE) {
      // The aux disable bit cannot be cleared: there is no aux port.
      this.ram[cmd - CMD_WRITE_RAM] = cmd === CMD_WRITE_RAM ? v | CCB_AUX_DISABLE : v;
      return;
    }
    switch (cmd) {
      case CMD_WRITE_OUTPUT_PORT:
        this.writeOutputPort(v);
        break;
      case CMD_WRITE_KBD_OUTPUT:
        this.push(v, false);
        break;
      case CMD_WRITE_AUX_OUTPUT:
        this.push(v, true);
        break;
      default: // CMD_WRITE_AUX: nobody is there to answer
        break;
    }
  }

  private writeOutputPort(v: number): void {
    const old = this.outputPort;
    this.outputPort = v;
    if ((old ^ v) & OUTPUT_A20) this.onA20((v & OUTPUT_A20) !== 0);
    if (!(v & OUTPUT_RESET)) {
      this.outputPort |= OUTPUT_RESET; // the reset line is a pulse as far as the board is concerned
      this.pulseReset();
    }
  }

  /** The reset line pulsed: the board resets the CPU. */
  private pulseReset(): void {
    this.resets++;
    this.onReset();
  }

  private keyboardCommand(v: number): void {
    const pending = this.kbdPending;
    if (pending) {
      this.kbdPending = 0;
      this.keyboardArgument(pending, v);
      return;
    }
    switch (v) {
      case KBD_SET_LEDS:
      case KBD_SCANCODE_SET:
      case KBD_TYPEMATIC:
        this.kbdPending = v;
        this.kbdReply(KBD_ACK);
        break;
      case KBD_ECHO:
        this.kbdReply(KBD_ECHO);
        break;
      case KBD_IDENTIFY:
        this.kbdReply(KBD_ACK);
        this.kbdReply(KBD_ID);
        this.kbdReply(this.ram[0] & CCB_XLATE ? KBD_ID2_XLATED : KBD_ID2);
        break;
      case KBD_ENABLE:
        this.scanning = true;
        this.kbdReply(KBD_ACK);
        break;
      case KBD_DISABLE:
        this.scanning = false;
        this.kbdDefaults();
        this.kbdReply(KBD_ACK);
        break;
      case KBD_DEFAULTS:
        this.kbdDefaults();
        this.kbdReply(KBD_ACK);
        break;
      case KBD_RESEND:
        this.push(this.kbdLastSent, false);
        break;
      case KBD_RESET:
        this.kbdDefaults();
        this.scanning = true;
        this.leds = 0;
        this.kbdReply(KBD_ACK);
        this.kbdReply(KBD_BAT_OK);
        break;
      default:
        // 0xF7-0xFD set key types: accepted; anything else is not a command.
        this.kbdReply(v >= 0xf7 && v <= 0xfd ? KBD_ACK : KBD_NAK);
    }
  }

  private keyboardArgument(cmd: number, v: number): void {
    if (cmd === KBD_SET_LEDS) {
      this.leds = v & 7;
      this.kbdReply(KBD_ACK);
    } else if (cmd === KBD_SCANCODE_SET) {
      if (v === 0) {
        this.kbdReply(KBD_ACK);
        this.kbdReply(this.ram[0] & CCB_XLATE ? SET_XLATED[this.scancodeSet] : this.scancodeSet);
      } else if (v <= 3) {
        this.scancodeSet = v;
        this.kbdReply(KBD_ACK);
      } else {
        this.kbdReply(KBD_NAK);
      }
    } else {
      this.kbdReply(KBD_ACK); // typematic rate/delay: accepted, not used
    }
  }

  private kbdDefaults(): void {
    this.scancodeSet = 2;
  }

  private kbdReply(b: number): void {
    this.kbdLastSent = b;
    this.push(b, false);
  }

  private push(b: number, aux: boolean): void {
    if (this.count >= QUEUE_SIZE) return;
    const i = (this.head + this.count) % QUEUE_SIZE;
    this.queue[i] = b;
    this.queueAux[i] = aux ? 1 : 0;
    this.count++;
  }

  private updateIrqs(): void {
    const full = this.count > 0;
    const aux = full && this.queueAux[this.head] !== 0;
    this.setIrqs(full && !aux && (this.ram[0] & CCB_KBD_INT) !== 0, aux && (this.ram[0] & CCB_AUX_INT) !== 0);
  }

  private setIrqs(kbd: boolean, aux: boolean): void {
    if (kbd !== this.kbdIrqOut) {
      this.kbdIrqOut = kbd;
      this.irqs.setIrq(this.kbdIrq, kbd);
    }
    if (aux !== this.auxIrqOut) {
      this.auxIrqOut = aux;
      this.irqs.setIrq(this.auxIrq, aux);
    }
  }
}
