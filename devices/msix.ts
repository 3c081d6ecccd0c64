// MSI-X (PCI Local Bus Spec 3.0, 6.8.2): the capability in configuration space and the
// vector table and pending-bit array (PBA) a function keeps in one of its memory BARs.
// Each table entry is a message (address, data) the function writes when it signals
// that vector; the board turns a write to 0xFEExxxxx into an interrupt message on the
// APIC bus (PciFunction.sendMsi -> PciBus.onMsi). A vector signalled while masked
// (its own mask bit or the function mask) sets its pending bit and goes out when
// unmasked. While MSI-X is enabled the function must not use INTx; the owner checks
// `enabled` and picks one or the other.

import type { PciFunction } from './pci.js';
import { declareState } from './state.js';

export const PCI_CAP_MSIX = 0x11;
/** Message Control (capability + 2). */
export const MSIX_ENABLE = 0x8000, MSIX_FUNCTION_MASK = 0x4000;
/** Table entry: address low, address high, data, vector control (bit 0: masked). */
export const MSIX_ENTRY_SIZE = 16, MSIX_VECTOR_MASKED = 1;
export const MAX_MSIX_VECTORS = 32;

export class MsixTable {
  static {
    declareState(MsixTable, {
      // Message Control lives in the function's configuration space (saved with it).
      fields: { entries: ['u32', 4 * MAX_MSIX_VECTORS], pending: 'u32', dropped: 'f64' },
      wiring: ['pci', 'count', 'capOffset', 'tableOffset', 'pbaOffset'],
    });
  }

  /** Four dwords per vector. */
  readonly entries = new Uint32Array(4 * MAX_MSIX_VECTORS);
  /** The PBA: one bit per vector. */
  pending = 0;
  /** Messages that nothing took (bus mastering off, an address outside 0xFEExxxxx). */
  dropped = 0;
  readonly capOffset: number;

  /** `count` vectors; table and PBA at these offsets in memory BAR `bar` (8-byte aligned). */
  constructor(readonly pci: PciFunction, readonly count: number, bar: number, readonly tableOffset: number, readonly pbaOffset: number) {
    if (count < 1 || count > MAX_MSIX_VECTORS) throw new Error(`MSI-X: ${count} vectors (1-${MAX_MSIX_VECTORS})`);
    const body = new Uint8Array(10);
    const dv = new DataView(body.buffer);
    dv.setUint16(0, count - 1, true);
    dv.setUint32(2, tableOffset | bar, true);
    dv.setUint32(6, pbaOffset | bar, true);
    this.capOffset = pci.addCapability(PCI_CAP_MSIX, body);
    pci.setWritable(this.capOffset + 2, 2, MSIX_ENABLE | MSIX_FUNCTION_MASK);
    this.reset();
  }

  private get control(): number { return this.pci.u16(this.capOffset + 2); }
  get enabled(): boolean { return (this.control & MSIX_ENABLE) !== 0; }

  private masked(v: number): boolean {
    return (this.control & MSIX_FUNCTION_MASK) !== 0 || (this.entries[4 * v + 3] & MSIX_VECTOR_MASKED) !== 0;
  }

  /** Is this BAR offset the table's or the PBA's? */
  covers(offset: number): boolean {
    return (offset >= this.tableOffset && offset < this.tableOffset + MSIX_ENTRY_SIZE * this.count) ||
      (offset >= this.pbaOffset && offset < this.pbaOffset + 8);
  }

  read(offset: number, size: 1 | 2 | 4): number {
    const shift = 8 * (offset & 3), mask = size === 4 ? 0xffffffff : (1 << (8 * size)) - 1;
    const dword = offset >= this.pbaOffset
      ? (offset - this.pbaOffset < 4 ? this.pending : 0)
      : this.entries[(offset - this.tableOffset) >>> 2];
    return ((dword >>> shift) & mask) >>> 0;
  }

  write(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset >= this.pbaOffset) return; // the PBA is read-only
    const i = (offset - this.tableOffset) >>> 2, shift = 8 * (offset & 3);
    const mask = size === 4 ? 0xffffffff : ((1 << (8 * size)) - 1) << shift;
    let v = ((this.entries[i] & ~mask) | ((value << shift) & mask)) >>> 0;
    if ((i & 3) === 0) v &= ~3; // the address is dword-aligned
    if ((i & 3) === 3) v &= MSIX_VECTOR_MASKED; // the rest of vector control is reserved
    this.entries[i] = v;
    if ((i & 3) === 3) this.flush(); // unmasking sends what was pending
  }

  /** Signal vector v (a vector past the table is ignored, as the owner's NO_VECTOR is). */
  signal(v: number): void {
    if (v >= this.count) return;
    if (this.masked(v)) this.pending |= 1 << v;
    else this.send(v);
  }

  /** Configuration space was written: clearing the function mask sends what was pending. */
  configWritten(): void {
    if (this.enabled) this.flush();
  }

  private flush(): void {
    if (this.pending === 0 || !this.enabled) return;
    for (let v = 0; v < this.count; v++) {
      if ((this.pending & (1 << v)) === 0 || this.masked(v)) continue;
      this.pending &= ~(1 << v);
      this.send(v);
    }
  }

  private send(v: number): void {
    const e = 4 * v;
    if (!this.pci.sendMsi(this.entries[e], this.entries[e + 1], this.entries[e + 2])) this.dropped++;
  }

  /** Function reset: every vector masked with an empty message, nothing pending. */
  reset(): void {
    this.entries.fill(0);
    for (let v = 0; v < this.count; v++) this.entries[4 * v + 3] = MSIX_VECTOR_MASKED;
    this.pending = 0;
  }
}
