// The APIC bus (on P6) / system bus (xAPIC) between the local APICs of all vCPUs
// and the IOAPIC: interrupt messages with a destination (physical ID, logical
// flat/cluster, broadcast), the ICR's shorthands, and lowest-priority arbitration.
// Delivery is instantaneous: a message sets the target's IRR (or raises NMI,
// INIT, SIPI) before the sending write returns; the target sees it at its next
// instruction boundary, which on the single-threaded board is its next turn.
// Intel SDM Vol. 3A 11.6 (issuing IPIs), 11.6.2 (destinations), 11.6.2.4 (lowest priority).

import type { MmioDevice } from './bus.js';
import { declareState } from './state.js';
import { DM_LOWEST, DM_FIXED, ICR_DEST_LOGICAL, ICR_LEVEL_ASSERT, ICR_LEVEL_TRIGGER, ICR_SHORTHAND_SHIFT, DM_INIT,
  ESR_SEND_ILLEGAL_VECTOR, SH_ALL_EXCL_SELF, SH_ALL_INCL_SELF, SH_NONE, SH_SELF, type Lapic } from './lapic.js';

export class ApicBus {
  /** Round-robin start for ties in lowest-priority arbitration (deterministic). */
  private nextLowest = 0;
  /** Counters for the teaching views. */
  readonly stats = { messages: 0, ipis: 0, lowestPriority: 0, noTarget: 0 };

  static {
    declareState(ApicBus, {
      fields: { nextLowest: 'u32', stats: { messages: 'f64', ipis: 'f64', lowestPriority: 'f64', noTarget: 'f64' } },
      wiring: ['lapics', 'scratch'],
    });
  }

  constructor(readonly lapics: Lapic[]) {
    for (const l of lapics) l.apicBus = this;
  }

  /** The local APICs a destination reaches (physical ID, or logical in the model each APIC's DFR says). */
  private targets(dest: number, logical: boolean, out: Lapic[], wide = false): Lapic[] {
    out.length = 0;
    for (const l of this.lapics) if (l.hwEnabled && l.matchesDestination(dest, logical, wide)) out.push(l);
    return out;
  }

  /**
   * Lowest-priority arbitration (SDM 11.6.2.4): the target whose processor priority is lowest;
   * ties go round-robin, so repeated messages spread over equal CPUs.
   */
  private lowest(cands: Lapic[]): Lapic | null {
    let best: Lapic | null = null, bestPri = 256, bestRank = Infinity;
    const n = this.lapics.length;
    for (const l of cands) {
      const pri = l.ppr() & 0xf0;
      const rank = (l.index - this.nextLowest + n) % n;
      if (pri < bestPri || (pri === bestPri && rank < bestRank)) { best = l; bestPri = pri; bestRank = rank; }
    }
    if (best) this.nextLowest = (best.index + 1) % n;
    this.stats.lowestPriority++;
    return best;
  }

  private readonly scratch: Lapic[] = [];

  /** A message from the IOAPIC or an MSI write: fixed/lowest/NMI/INIT/SIPI to a destination. */
  message(dest: number, logical: boolean, mode: number, vector: number, level: boolean): void {
    this.stats.messages++;
    const t = this.targets(dest, logical, this.scratch);
    if (t.length === 0) { this.stats.noTarget++; return; }
    if (mode === DM_LOWEST) {
      this.lowest(t)?.deliver(DM_FIXED, vector, level);
      return;
    }
    for (const l of t) l.deliver(mode, vector, level);
  }

  /** The ICR was written on `from`: send the IPI its low word describes to `dest` (SDM 11.6.1; 32 bits when `wide`, x2APIC). */
  ipi(from: Lapic, lo: number, dest: number, wide: boolean): void {
    const vector = lo & 0xff, mode = (lo >> 8) & 7;
    const shorthand = (lo >>> ICR_SHORTHAND_SHIFT) & 3;
    // INIT level de-assert (level trigger, level 0): the old arbitration-ID sync; no effect on xAPIC.
    if (mode === DM_INIT && (lo & ICR_LEVEL_TRIGGER) !== 0 && (lo & ICR_LEVEL_ASSERT) === 0) return;
    if ((mode === DM_FIXED || mode === DM_LOWEST) && vector < 16) {
      from.raiseError(ESR_SEND_ILLEGAL_VECTOR);
      return;
    }
    this.stats.ipis++;
    from.stats.ipisSent++;
    let t: Lapic[];
    switch (shorthand) {
      case SH_SELF: t = [from]; break;
      case SH_ALL_INCL_SELF: t = this.lapics.filter((l) => l.hwEnabled); break;
      case SH_ALL_EXCL_SELF: t = this.lapics.filter((l) => l !== from && l.hwEnabled); break;
      case SH_NONE: default: t = this.targets(dest, (lo & ICR_DEST_LOGICAL) !== 0, this.scratch, wide); break;
    }
    if (t.length === 0) { this.stats.noTarget++; return; }
    if (mode === DM_LOWEST && shorthand === SH_NONE) t = [this.lowest(t)!];
    for (const l of t) {
      if (l !== from) l.stats.ipisReceived++;
      else l.stats.selfIpis++;
      l.deliver(mode === DM_LOWEST ? DM_FIXED : mode, vector, false);
    }
  }
}

/**
 * The LAPIC page at 0xFEE00000 as the bus sees it: every CPU's APIC answers at the same
 * physical address, so an access goes to the APIC of the vCPU making it (`current()`).
 */
export class LapicPage implements MmioDevice {
  static {
    declareState(LapicPage, {
      fields: {},
      wiring: ['lapics', 'apicBus', 'current'],
      parts: (p) => [...p.lapics.map((l, i) => [`cpu${i}`, l] as const), ['apic-bus', p.apicBus] as const],
    });
  }

  constructor(readonly lapics: Lapic[], readonly apicBus: ApicBus, private readonly current: () => number) {}

  mmioRead(offset: number, size: 1 | 2 | 4): number { return this.lapics[this.current()].mmioRead(offset, size); }
  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void { this.lapics[this.current()].mmioWrite(offset, size, value); }
}
