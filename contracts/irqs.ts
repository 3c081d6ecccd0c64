// The PC's interrupt lines as every layer names them: what stands behind a bus IRQ line
// (IrqSink), and the wiring numbers that the board's router (devices/irq-router.ts) and
// KVM's in-kernel irqchip routing (accel-kvm/kvm-backend.ts) both follow.

/** Whatever stands behind the IRQ lines: the JS PIC (+IOAPIC), or KVM_IRQ_LINE. */
export interface IrqSink {
  setIrq(line: number, level: boolean): void;
}

/** Bus lines 0-15 are the ISA IRQs (8259 inputs). */
export const ISA_IRQS = 16;
/** IOAPIC pins (global system interrupts); bus lines 16-23 are the PCI GSIs. */
export const GSI_COUNT = 24;
/** First GSI of the PCI INTx lines (PIRQA..PIRQD are GSI 16..19). */
export const PCI_GSI_BASE = 16;
export const PIRQ_COUNT = 4;

/** ISA IRQ -> IOAPIC GSI: identity except the timer, wired to pin 2 as on every PC chipset. */
export function isaIrqToGsi(irq: number): number {
  return irq === 0 ? 2 : irq;
}
