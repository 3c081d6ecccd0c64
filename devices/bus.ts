// The device bus: port I/O and MMIO dispatch by address range, and IRQ lines
// that devices raise and lower without knowing which interrupt controller is
// behind them (the TypeScript PIC/IOAPIC, or KVM's in-kernel irqchip).

import type { MmioDevice, MmioHole, PortDevice } from '../contracts/bus.js';
import type { IrqSink } from '../contracts/irqs.js';
import type { MmioHandler } from '../mmu/memory.js';
import { declareState } from './state.js';

/** The faces a device implements (contracts/), named here too for the devices beside the bus. */
export type { IrqSink, MmioDevice, PortDevice };

/** Per-range counters, also what the teaching views show as "I/O by device". */
export interface RangeStats {
  name: string;
  kind: 'pio' | 'mmio';
  start: number;
  length: number;
  reads: number;
  writes: number;
}

interface MmioRange extends RangeStats {
  dev: MmioDevice;
  end: number;
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

export class Bus implements MmioHandler {
  static {
    // The IRQ line levels are state: the sink behind them (8259, IOAPIC) remembers the same levels.
    declareState(Bus, {
      fields: { irqLevel: ['u8', 256], unassignedReads: 'f64', unassignedWrites: 'f64' },
      wiring: ['portOwner', 'portDevs', 'portStats', 'mmioRanges', 'irqSink', 'onPortAccess'],
    });
  }

  private readonly portOwner = new Int16Array(65536).fill(-1);
  private readonly portDevs: PortDevice[] = [];
  private readonly portStats: RangeStats[] = [];
  private mmioRanges: MmioRange[] = [];
  private irqSink: IrqSink | null = null;
  private readonly irqLevel = new Uint8Array(256);

  /** Accesses that hit nothing: a guest probing for absent hardware reads all ones. */
  unassignedReads = 0;
  unassignedWrites = 0;
  /** Port I/O trace hook (debugging and teaching views); null on the fast path. */
  onPortAccess: ((port: number, size: number, value: number, write: boolean) => void) | null = null;

  registerPorts(name: string, start: number, length: number, dev: PortDevice): void {
    if (start < 0 || length <= 0 || start + length > 65536) throw new Error(`${name}: bad port range ${start}+${length}`);
    for (let p = start; p < start + length; p++) {
      if (this.portOwner[p] !== -1) {
        throw new Error(`${name}: port 0x${p.toString(16)} already belongs to ${this.portStats[this.portOwner[p]].name}`);
      }
    }
    const idx = this.portDevs.length;
    this.portDevs.push(dev);
    this.portStats.push({ name, kind: 'pio', start, length, reads: 0, writes: 0 });
    this.portOwner.fill(idx, start, start + length);
  }

  unregisterPorts(start: number, length: number): void {
    this.portOwner.fill(-1, start, start + length);
  }

  registerMmio(name: string, start: number, length: number, dev: MmioDevice): void {
    const end = start + length;
    for (const r of this.mmioRanges) {
      if (start < r.end && r.start < end) throw new Error(`${name}: MMIO 0x${start.toString(16)} overlaps ${r.name}`);
    }
    this.mmioRanges.push({ name, kind: 'mmio', start, length, end, dev, reads: 0, writes: 0 });
    this.mmioRanges.sort((a, b) => a.start - b.start);
  }

  unregisterMmio(start: number): void {
    this.mmioRanges = this.mmioRanges.filter((r) => r.start !== start);
  }

  portRead(port: number, size: 1 | 2 | 4): number {
    const idx = this.portOwner[port & 0xffff];
    let v: number;
    if (idx < 0) {
      this.unassignedReads++;
      v = ALL_ONES[size];
    } else {
      this.portStats[idx].reads++;
      v = this.portDevs[idx].portRead(port & 0xffff, size);
    }
    if (this.onPortAccess) this.onPortAccess(port, size, v, false);
    return v;
  }

  portWrite(port: number, size: 1 | 2 | 4, value: number): void {
    if (this.onPortAccess) this.onPortAccess(port, size, value, true);
    const idx = this.portOwner[port & 0xffff];
    if (idx < 0) {
      this.unassignedWrites++;
      return;
    }
    this.portStats[idx].writes++;
    this.portDevs[idx].portWrite(port & 0xffff, size, value);
  }

  private findMmio(addr: number): MmioRange | null {
    const rs = this.mmioRanges;
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i];
      if (addr >= r.start && addr < r.end) return r;
    }
    return null;
  }

  mmioRead(addr: number, size: 1 | 2 | 4): number {
    const r = this.findMmio(addr);
    if (!r) {
      this.unassignedReads++;
      return ALL_ONES[size];
    }
    r.reads++;
    return r.dev.mmioRead(addr - r.start, size);
  }

  mmioWrite(addr: number, size: 1 | 2 | 4, value: number): void {
    const r = this.findMmio(addr);
    if (!r) {
      this.unassignedWrites++;
      return;
    }
    r.writes++;
    r.dev.mmioWrite(addr - r.start, size, value);
  }

  /** True if some device claims this physical address (the CPU then must not cache it as RAM). */
  isMmio(addr: number): boolean {
    return this.findMmio(addr) !== null;
  }

  // ---- IRQ lines.

  connectIrqs(sink: IrqSink): void {
    this.irqSink = sink;
    for (let i = 0; i < this.irqLevel.length; i++) if (this.irqLevel[i]) sink.setIrq(i, true);
  }

  setIrq(line: number, level: boolean): void {
    const v = level ? 1 : 0;
    if (this.irqLevel[line] === v) return;
    this.irqLevel[line] = v;
    this.irqSink?.setIrq(line, level);
  }
  raiseIrq(line: number): void { this.setIrq(line, true); }
  lowerIrq(line: number): void { this.setIrq(line, false); }
  /** An edge: raise then lower (ISA devices such as the PIT's OUT0 are edge-triggered). */
  pulseIrq(line: number): void {
    this.setIrq(line, true);
    this.setIrq(line, false);
  }
  irqLevelOf(line: number): boolean { return this.irqLevel[line] !== 0; }

  /** Every device on the bus once, under the name it was first registered with (snapshots walk this). */
  devices(): { name: string; dev: PortDevice | MmioDevice }[] {
    const seen = new Set<object>();
    const out: { name: string; dev: PortDevice | MmioDevice }[] = [];
    const add = (name: string, dev: PortDevice | MmioDevice) => { if (!seen.has(dev)) { seen.add(dev); out.push({ name, dev }); } };
    this.portDevs.forEach((d, i) => add(this.portStats[i].name, d));
    for (const r of this.mmioRanges) add(r.name, r.dev);
    return out;
  }

  /** The MMIO ranges that start below `limit` (a backend that maps RAM itself leaves them out). */
  mmioHoles(limit: number): MmioHole[] {
    return this.mmioRanges.filter((r) => r.start < limit).map(({ start, length }) => ({ start, length }));
  }

  stats(): RangeStats[] {
    return [...this.portStats, ...this.mmioRanges].map(({ name, kind, start, length, reads, writes }) => ({ name, kind, start, length, reads, writes }));
  }
}
