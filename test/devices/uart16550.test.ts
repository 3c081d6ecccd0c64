// The 16550A driven the way Linux's 8250 driver and a BIOS-less guest drive it.

import { describe, expect, it } from 'vitest';
import { Timers } from '../../devices/clock.js';
import { Uart16550 } from '../../devices/uart16550.js';
import { FakeClock, FakeIrqs } from './helpers.js';

const COM1 = 0x3f8;
const THR = COM1, RBR = COM1, DLL = COM1, DLM = COM1 + 1, IER = COM1 + 1, IIR = COM1 + 2, FCR = COM1 + 2;
const LCR = COM1 + 3, MCR = COM1 + 4, LSR = COM1 + 5, MSR = COM1 + 6, SCR = COM1 + 7;

function setup(withClock = false) {
  const irqs = new FakeIrqs();
  const out: number[] = [];
  const clock = new FakeClock();
  const timers = new Timers(clock);
  const uart = new Uart16550({
    base: COM1, irqs, irq: 4, onTransmit: (b) => out.push(b),
    ...(withClock ? { clock, timers } : {}),
  });
  if (withClock) timers.add(uart);
  const r = (p: number) => uart.portRead(p, 1);
  const w = (p: number, v: number) => uart.portWrite(p, 1, v);
  return { uart, irqs, out, clock, timers, r, w };
}

describe('16550A UART', () => {
  it('guest programs divisor 1, writes A to THR -> A appears on the serial output and THRE raises IRQ 4 when enabled', () => {
    const { uart, irqs, out, r, w } = setup();
    w(LCR, 0x80); // DLAB
    w(DLL, 1);
    w(DLM, 0);
    w(LCR, 0x03); // 8N1, DLAB off
    expect(uart.baud()).toBe(115200);
    w(MCR, 0x0b); // DTR RTS OUT2
    w(THR, 0x41);
    expect(out).toEqual([0x41]);
    expect(r(LSR) & 0x60).toBe(0x60); // THRE and TEMT: the byte has left
    expect(irqs.high(4)).toBe(false); // THRI not enabled yet
    w(IER, 0x02);
    expect(irqs.high(4)).toBe(true);
    expect(r(IIR)).toBe(0x02); // THRE, no FIFOs
    expect(irqs.high(4)).toBe(false); // the IIR read that reports THRE clears it
    expect(r(IIR)).toBe(0x01);
    w(THR, 0x42); // the next byte empties THR again: a new THRE interrupt
    expect(out).toEqual([0x41, 0x42]);
    expect(irqs.high(4)).toBe(true);
    expect(irqs.edges[4]).toBe(2);
  });

  it('divisor latch bytes read back only while DLAB is set', () => {
    const { r, w } = setup();
    w(LCR, 0x80);
    w(DLL, 0x34);
    w(DLM, 0x12);
    expect(r(DLL)).toBe(0x34);
    expect(r(DLM)).toBe(0x12);
    w(LCR, 0x03);
    expect(r(IER)).toBe(0);
    expect(r(LCR)).toBe(0x03);
  });

  it("passes Linux 8250 autoconfig: IER probe, loopback MSR 0x90, IIR bits 6-7 = 11, no EFR, no XScale UUE bit", () => {
    const { r, w } = setup();
    // Existence test.
    w(IER, 0);
    expect(r(IER) & 0x0f).toBe(0);
    w(IER, 0x0f);
    expect(r(IER) & 0x0f).toBe(0x0f);
    w(IER, 0);
    // Loopback test: MCR = LOOP | OUT2 | RTS -> MSR status bits DCD | CTS.
    w(MCR, 0x10 | 0x0a);
    expect(r(MSR) & 0xf0).toBe(0x90);
    w(MCR, 0);
    // FIFO type: LCR 0xBF, EFR(=FCR) 0, LCR 0, FCR enable.
    w(LCR, 0xbf);
    w(FCR, 0);
    w(LCR, 0);
    w(FCR, 0x01);
    expect(r(IIR) >> 6).toBe(3); // 16550A
    // No EFR behind LCR 0xBF (an ST16C650 would read 0 there).
    w(LCR, 0xbf);
    expect(r(IIR)).not.toBe(0);
    w(LCR, 0);
    // No 64-byte FIFO (TI16750 test), IIR bit 5 stays clear.
    w(FCR, 0x21);
    expect(r(IIR) & 0xe0).toBe(0xc0);
    // XScale probe: IER bit 6 does not stick.
    w(IER, 0x40);
    expect(r(IER) & 0x40).toBe(0);
  });

  it('scratch register holds what the guest writes', () => {
    const { r, w } = setup();
    w(SCR, 0xa5);
    expect(r(SCR)).toBe(0xa5);
    w(SCR, 0x5a);
    expect(r(SCR)).toBe(0x5a);
  });

  it("THRE re-arms when THRI is disabled and re-enabled (Linux's UART_BUG_THRE probe finds no bug)", () => {
    const { r, w } = setup();
    w(IER, 0x02);
    const iir1 = r(IIR);
    w(IER, 0);
    w(IER, 0x02);
    const iir2 = r(IIR);
    w(IER, 0);
    expect(iir1 & 1).toBe(0);
    expect(iir2 & 1).toBe(0);
  });

  it('MCR OUT2 gates the interrupt onto IRQ 4, as on a PC', () => {
    const { irqs, w, uart } = setup();
    w(IER, 0x02);
    expect(irqs.high(4)).toBe(false);
    w(MCR, 0x08);
    expect(irqs.high(4)).toBe(true);
    w(MCR, 0x00);
    expect(irqs.high(4)).toBe(false);
    expect(uart.interrupts).toBe(1);
  });

  it('host byte with FIFOs off -> DR, IIR reports RX data, IRQ 4; reading RBR clears both', () => {
    const { uart, irqs, r, w } = setup();
    w(MCR, 0x08);
    w(IER, 0x01);
    expect(uart.rxSpace()).toBe(1);
    expect(uart.receive(0x61)).toBe(true);
    expect(uart.rxSpace()).toBe(0);
    expect(r(LSR) & 0x01).toBe(1);
    expect(irqs.high(4)).toBe(true);
    expect(r(IIR)).toBe(0x04);
    expect(r(RBR)).toBe(0x61);
    expect(r(LSR) & 0x01).toBe(0);
    expect(r(IIR)).toBe(0x01);
    expect(irqs.high(4)).toBe(false);
  });

  it('RX FIFO with trigger 8: 7 bytes wait for the character timeout (4 chars at the baud rate), the 8th raises RX data', () => {
    const { uart, irqs, clock, timers, r, w } = setup(true);
    w(LCR, 0x80);
    w(DLL, 1);
    w(LCR, 0x03);
    w(FCR, 0x81); // enable, trigger 8
    w(MCR, 0x08);
    w(IER, 0x01);
    expect(uart.rxSpace()).toBe(16);
    for (let i = 0; i < 7; i++) uart.receive(0x30 + i);
    expect(uart.rxSpace()).toBe(9);
    expect(r(IIR)).toBe(0xc1);
    expect(irqs.high(4)).toBe(false);
    // 4 characters of 10 bits at 115200 baud = 347.2 us.
    const due = timers.next;
    expect(due).toBeCloseTo((4 * 10 * 1e9) / 115200, 3);
    clock.tick(347_000);
    timers.run();
    expect(irqs.high(4)).toBe(false);
    clock.tick(300);
    timers.run();
    expect(irqs.high(4)).toBe(true);
    expect(r(IIR)).toBe(0xcc);
    expect(r(RBR)).toBe(0x30); // reading clears the timeout and restarts it
    expect(r(IIR)).toBe(0xc1);
    uart.receive(0x37);
    uart.receive(0x38); // 6 + 2 = 8: trigger level
    expect(r(IIR)).toBe(0xc4);
    const got: number[] = [];
    while (r(LSR) & 1) got.push(r(RBR));
    expect(got).toEqual([0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38]);
    expect(irqs.high(4)).toBe(false);
  });

  it('a full FIFO overruns: LSR.OE set, line status outranks RX data in IIR, reading LSR clears it', () => {
    const { uart, irqs, r, w } = setup();
    w(FCR, 0xc7); // enable, clear both, trigger 14
    w(MCR, 0x08);
    w(IER, 0x05); // RX data + line status
    for (let i = 0; i < 16; i++) expect(uart.receive(i)).toBe(true);
    expect(uart.receive(0xff)).toBe(false);
    expect(uart.rxOverruns).toBe(1);
    expect(irqs.high(4)).toBe(true);
    expect(r(IIR)).toBe(0xc6);
    expect(r(LSR) & 0x03).toBe(0x03); // OE + DR
    expect(r(LSR) & 0x02).toBe(0);
    expect(r(IIR)).toBe(0xc4); // now the RX data (16 >= 14)
    w(FCR, 0xc3); // reset RX FIFO
    expect(r(LSR) & 1).toBe(0);
    expect(r(IIR)).toBe(0xc1);
  });

  it('loopback: a THR byte comes back in RBR instead of leaving, modem outputs come back as MSR inputs', () => {
    const { uart, out, r, w } = setup();
    w(MCR, 0x10 | 0x01); // loop + DTR
    w(THR, 0x55);
    expect(out).toEqual([]);
    expect(r(LSR) & 1).toBe(1);
    expect(r(RBR)).toBe(0x55);
    expect(r(MSR) & 0xf0).toBe(0x20); // DTR -> DSR
    w(MCR, 0x10 | 0x04); // OUT1 -> RI
    expect(r(MSR) & 0xf0).toBe(0x40);
    w(MCR, 0x10);
    expect(r(MSR) & 0x04).toBe(0x04); // trailing edge of RI
    expect(uart.receive(0x31)).toBe(false); // the serial input is disconnected
    w(MCR, 0x03);
    expect(r(MSR) & 0xf0).toBe(0xb0); // the host side: CTS DSR DCD
  });

  it('modem status interrupt is lowest priority and clears on MSR read', () => {
    const { r, w } = setup();
    w(IER, 0x0a); // THRI + MSI
    w(MCR, 0x10 | 0x02); // loop, RTS -> CTS changes
    expect(r(IIR)).toBe(0x02); // THRE outranks modem status, and the read clears it
    expect(r(IIR)).toBe(0x00);
    expect(r(MSR) & 0x0f).not.toBe(0);
    expect(r(IIR)).toBe(0x01);
  });

  it('without a clock the character timeout counts as elapsed at once', () => {
    const { uart, r, w } = setup();
    w(FCR, 0xc1);
    w(IER, 0x01);
    uart.receive(0x41);
    expect(r(IIR)).toBe(0xcc);
  });
});

describe('16550A reset', () => {
  it('the master reset clears IER/LCR/MCR/FIFOs and drops IRQ 4, keeping the divisor', () => {
    const { uart, irqs, r, w } = setup();
    w(LCR, 0x80);
    w(DLL, 1);
    w(LCR, 0x03);
    w(FCR, 0x01);
    w(MCR, 0x0b);
    w(IER, 0x03);
    uart.receive(0x41);
    expect(irqs.high(4)).toBe(true);
    uart.reset();
    expect(irqs.high(4)).toBe(false);
    expect([r(IER), r(IIR), r(LCR), r(MCR), r(LSR)]).toEqual([0, 0x01, 0, 0, 0x60]);
    expect(uart.baud()).toBe(115200);
  });
});
