// The PC/AT coprocessor-error latch: the CPU's FERR# pin becomes IRQ13 (slave 8259 input 5,
// IOAPIC pin 13), and a write to port F0h drops IRQ13 and asserts IGNNE# until FERR# goes away.
//
// Emulated as the chipset does it (Intel SDM Vol. 1 D.2.1.3, "Recommended External Hardware";
// ICH datasheets, "Coprocessor Error"): only the CPU-facing pins and port F0h. Any value written
// to F0h does the same; reads return all ones (the port is write-only). The 287's reset port F1h
// is not decoded.

import type { IrqSink, PortDevice } from './bus.js';
import { declareState } from './state.js';

export const FERR_PORT = 0xf0;
export const FERR_IRQ = 13;

export interface FerrOptions {
  irqs: IrqSink;
  /** IRQ line; 13 on every PC. */
  irq?: number;
}

export class FerrLatch implements PortDevice {
  static {
    declareState(FerrLatch, {
      fields: { ferr: 'bool', ignneOn: 'bool', irqLevel: 'bool', asserts: 'f64', clears: 'f64' },
      wiring: ['irqs', 'irq'],
    });
  }

  /** FERR# as the CPU drives it (it follows FSW.ES at waiting x87 instructions). */
  private ferr = false;
  /** IGNNE# to the CPU: set by a port F0h write while FERR# is asserted, cleared with FERR#. */
  private ignneOn = false;
  private irqLevel = false;
  // ---- Counters.
  asserts = 0;
  clears = 0;

  private readonly irqs: IrqSink;
  private readonly irq: number;

  constructor(opts: FerrOptions) {
    this.irqs = opts.irqs;
    this.irq = opts.irq ?? FERR_IRQ;
  }

  // ---- The CPU's side (CpuHost.ferr).

  setFerr(asserted: boolean): void {
    if (asserted === this.ferr) return;
    this.ferr = asserted;
    if (asserted) {
      this.asserts++;
      this.setIrq(true);
    } else {
      this.ignneOn = false;
      this.setIrq(false);
    }
  }

  ignne(): boolean { return this.ignneOn; }

  // ---- The guest's side.

  portRead(_port: number, size: 1 | 2 | 4): number {
    return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
  }

  portWrite(_port: number, _size: 1 | 2 | 4, _value: number): void {
    this.clears++;
    this.setIrq(false);
    if (this.ferr) this.ignneOn = true;
  }

  reset(): void {
    this.ferr = false;
    this.ignneOn = false;
    this.setIrq(false);
  }

  private setIrq(level: boolean): void {
    if (level === this.irqLevel) return;
    this.irqLevel = level;
    this.irqs.setIrq(this.irq, level);
  }
}
