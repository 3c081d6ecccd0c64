// The chipset's own PCI functions: an Intel 440FX host bridge at 00:00.0 and a PIIX3
// PCI-to-ISA bridge at 00:01.0 with its PIRQ routing registers, left programmed as a
// PC BIOS leaves them. Only the configuration registers are modelled (no PAM/SMRAM effects).

import { PIRQ_COUNT } from '../contracts/irqs.js';
import { HEADER_MULTIFUNCTION, PCI_HEADER_TYPE, PciFunction } from './pci.js';

export const VENDOR_INTEL = 0x8086;
export const DEVICE_I440FX = 0x1237;
export const DEVICE_PIIX3_ISA = 0x7000;
export const CLASS_HOST_BRIDGE = 0x060000;
export const CLASS_ISA_BRIDGE = 0x060100;

/** 440FX PAM0-PAM6 (shadow RAM attributes) and SMRAM: kept as plain storage. */
const I440FX_PAM0 = 0x59, I440FX_PAM_COUNT = 7, I440FX_SMRAM = 0x72;

/** PIIX3 PIRQRC[A:D] at 0x60-0x63: bit 7 disables routing, bits 3:0 the ISA IRQ. */
export const PIIX3_PIRQRC = 0x60;
export const PIRQ_DISABLE = 0x80;
/** PIIX3 top of memory (bits 7:4 = MiB - 1 of ISA-visible memory, up to 16 MiB). */
const PIIX3_TOM = 0x69;
/** What the BIOS leaves in PIRQRC: PIRQA/B -> IRQ 10, PIRQC/D -> IRQ 11. */
export const DEFAULT_PIRQ_IRQS = [10, 10, 11, 11];

export function createHostBridge(): PciFunction {
  const f = new PciFunction({ vendorId: VENDOR_INTEL, deviceId: DEVICE_I440FX, classCode: CLASS_HOST_BRIDGE, revision: 0x02 });
  for (let i = 0; i < I440FX_PAM_COUNT; i++) f.wmask[I440FX_PAM0 + i] = 0xff;
  f.wmask[I440FX_SMRAM] = 0xff;
  f.config[I440FX_SMRAM] = 0x02;
  return f;
}

export interface IsaBridge {
  readonly fn: PciFunction;
  /** PIRQ n (0-3) -> the ISA IRQ it is routed to, or -1 if routing is disabled. */
  pirqToIsa(pirq: number): number;
  /** Told when the guest rewrites a PIRQ route (connect IrqRouter.pirqChanged). */
  onPirqChange: (() => void) | null;
}

export function createIsaBridge(): IsaBridge {
  const fn = new PciFunction({ vendorId: VENDOR_INTEL, deviceId: DEVICE_PIIX3_ISA, classCode: CLASS_ISA_BRIDGE });
  fn.config[PCI_HEADER_TYPE] = HEADER_MULTIFUNCTION;
  for (let i = 0; i < PIRQ_COUNT; i++) {
    fn.config[PIIX3_PIRQRC + i] = DEFAULT_PIRQ_IRQS[i];
    fn.wmask[PIIX3_PIRQRC + i] = PIRQ_DISABLE | 0x0f;
  }
  fn.config[PIIX3_TOM] = 0x02;
  fn.wmask[PIIX3_TOM] = 0xfe;
  const bridge: IsaBridge = {
    fn,
    pirqToIsa(pirq: number): number {
      const v = fn.config[PIIX3_PIRQRC + pirq];
      // IRQs 0-2, 8 and 13 are reserved encodings on the PIIX3.
      if ((v & PIRQ_DISABLE) !== 0) return -1;
      const irq = v & 0x0f;
      return irq < 3 || irq === 8 || irq === 13 ? -1 : irq;
    },
    onPirqChange: null,
  };
  fn.onConfigWrite = (offset, size) => {
    if (offset < PIIX3_PIRQRC + PIRQ_COUNT && offset + size > PIIX3_PIRQRC) bridge.onPirqChange?.();
  };
  return bridge;
}
