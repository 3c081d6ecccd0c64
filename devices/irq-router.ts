// The PC's interrupt wiring between the bus's IRQ lines and the two interrupt
// controllers: ISA lines 0-15 go to the 8259 pair and to the IOAPIC (ISA IRQ0 -> GSI2,
// the override the MADT declares); lines 16-23 are the PCI interrupt GSIs, which reach
// the IOAPIC directly and the 8259 through the PIIX3's PIRQ routing registers.

import { GSI_COUNT, ISA_IRQS, PCI_GSI_BASE, PIRQ_COUNT, isaIrqToGsi, type IrqSink } from '../contracts/irqs.js';
import { declareState } from './state.js';

export class IrqRouter implements IrqSink {
  static {
    declareState(IrqRouter, { fields: { level: ['u8', GSI_COUNT], picLevel: ['u8', ISA_IRQS] }, wiring: ['pic', 'ioapic', 'pirqToIsa'] });
  }

  private readonly level = new Uint8Array(GSI_COUNT);
  /** What each PIC input was last told, so re-routing sends only real changes. */
  private readonly picLevel = new Uint8Array(ISA_IRQS);

  /**
   * @param pic  the 8259 pair (its lines are ISA IRQ numbers), or null
   * @param ioapic  the IOAPIC (its lines are GSIs), or null
   * @param pirqToIsa  PIRQ n (0-3) -> the ISA IRQ the ISA bridge routes it to, or -1 if disabled
   */
  constructor(
    private readonly pic: IrqSink | null,
    private readonly ioapic: IrqSink | null,
    private readonly pirqToIsa: (pirq: number) => number = () => -1,
  ) {}

  setIrq(line: number, level: boolean): void {
    if (line < 0 || line >= GSI_COUNT) return;
    this.level[line] = level ? 1 : 0;
    if (line < ISA_IRQS) {
      this.ioapic?.setIrq(isaIrqToGsi(line), level);
      this.updatePic(line);
    } else {
      this.ioapic?.setIrq(line, level);
      const pirq = line - PCI_GSI_BASE;
      if (pirq < PIRQ_COUNT) {
        const irq = this.pirqToIsa(pirq);
        if (irq >= 0 && irq < ISA_IRQS) this.updatePic(irq);
      }
    }
  }

  /** A PIC input is the wired-OR of its ISA line and every PIRQ routed to it. */
  private updatePic(irq: number): void {
    if (!this.pic) return;
    let on = this.level[irq] !== 0;
    for (let p = 0; p < PIRQ_COUNT && !on; p++) {
      if (this.level[PCI_GSI_BASE + p] !== 0 && this.pirqToIsa(p) === irq) on = true;
    }
    if (this.picLevel[irq] === (on ? 1 : 0)) return;
    this.picLevel[irq] = on ? 1 : 0;
    this.pic.setIrq(irq, on);
  }

  /** The ISA bridge changed a PIRQ route: re-present the lines to the PIC. */
  pirqChanged(): void {
    for (let irq = 0; irq < ISA_IRQS; irq++) if (irq !== 2) this.updatePic(irq);
  }
}
