// The I/O APIC at 0xFEC00000 (82093AA-style, 24 pins): IOREGSEL/IOWIN indirect
// registers, the redirection table, edge and level pins (remote IRR cleared by the
// LAPIC's EOI broadcast or the version-0x20 EOI register), delivery over the APIC bus
// (devices/apic-bus.ts: physical/logical destinations, lowest priority) to the vCPUs' LAPICs.
// It is an IrqSink for GSIs; `level` there means "asserted" whatever the pin's
// programmed polarity (the bus speaks in logical levels, so polarity is stored, not applied).

import type { IrqSink, MmioDevice } from './bus.js';
import { declareState } from './state.js';
import { ApicBus } from './apic-bus.js';
import { DM_EXTINT, type Lapic } from './lapic.js';

export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_SIZE = 0x1000;
export const IOAPIC_PINS = 24;

// ---- MMIO offsets.
export const IOREGSEL = 0x00;
export const IOWIN = 0x10;
/** EOI register of version 0x20 IOAPICs: write a vector to clear remote IRR of the pins using it. */
export const IOAPIC_EOI = 0x40;

// ---- Indirect register indices.
export const IOAPICID = 0x00;
export const IOAPICVER = 0x01;
export const IOAPICARB = 0x02;
export const IOREDTBL = 0x10; // entry n: low dword at 0x10 + 2n, high dword at 0x11 + 2n

/** Version 0x20 (has the EOI register), max redirection entry 23. */
export const IOAPIC_VERSION_VALUE = 0x20 | ((IOAPIC_PINS - 1) << 16);

// ---- Redirection entry bits (low dword; the destination is bits 31:24 of the high dword).
export const RTE_VECTOR = 0xff;
export const RTE_DELIVERY_SHIFT = 8;
export const RTE_DEST_LOGICAL = 1 << 11;
export const RTE_DELIVERY_STATUS = 1 << 12;
export const RTE_ACTIVE_LOW = 1 << 13;
export const RTE_REMOTE_IRR = 1 << 14;
export const RTE_LEVEL = 1 << 15;
export const RTE_MASKED = 1 << 16;
const RTE_WRITABLE = RTE_VECTOR | (7 << RTE_DELIVERY_SHIFT) | RTE_DEST_LOGICAL | RTE_ACTIVE_LOW | RTE_LEVEL | RTE_MASKED;

export class Ioapic implements MmioDevice, IrqSink {
  static {
    declareState(Ioapic, {
      fields: {
        id: 'u8', regsel: 'u8', rteLo: ['u32', IOAPIC_PINS], rteHi: ['u32', IOAPIC_PINS], pinLevel: ['u8', IOAPIC_PINS],
        stats: { delivered: 'f64', eois: 'f64', lostEdges: 'f64' },
      },
      wiring: ['apics'],
    });
  }

  id = 0;
  private regsel = 0;
  /** Redirection table: low and high dwords per pin. */
  readonly rteLo = new Uint32Array(IOAPIC_PINS).fill(RTE_MASKED);
  readonly rteHi = new Uint32Array(IOAPIC_PINS);
  /** Current (asserted) state of each input pin. */
  readonly pinLevel = new Uint8Array(IOAPIC_PINS);

  readonly stats = { delivered: 0, eois: 0, lostEdges: 0 };

  /** The local APICs the messages go to. */
  private readonly apics: ApicBus;

  /** `target`: the APIC bus of an SMP board, or the one LAPIC of a uniprocessor one. */
  constructor(target: Lapic | ApicBus, id = 0) {
    this.id = id & 0xf;
    this.apics = target instanceof ApicBus ? target : new ApicBus([target]);
    for (const l of this.apics.lapics) l.onLevelEoi = (v) => this.eoi(v);
  }

  reset(): void {
    this.regsel = 0;
    this.rteLo.fill(RTE_MASKED);
    this.rteHi.fill(0);
    this.updateExtInt();
  }

  // ---- IrqSink: GSI lines.

  setIrq(gsi: number, level: boolean): void {
    if (gsi < 0 || gsi >= IOAPIC_PINS) return;
    const was = this.pinLevel[gsi];
    this.pinLevel[gsi] = level ? 1 : 0;
    const lo = this.rteLo[gsi];
    if ((lo & RTE_LEVEL) !== 0) {
      if (level) this.service(gsi);
    } else if (level && !was) {
      if ((lo & RTE_MASKED) !== 0) this.stats.lostEdges++;
      else this.send(gsi);
    }
  }

  /** A level pin that is asserted, unmasked and not awaiting EOI sends (again). */
  private service(pin: number): void {
    const lo = this.rteLo[pin];
    if (this.pinLevel[pin] === 0 || (lo & (RTE_MASKED | RTE_REMOTE_IRR)) !== 0) return;
    this.rteLo[pin] = lo | RTE_REMOTE_IRR;
    this.send(pin);
  }

  private send(pin: number): void {
    const lo = this.rteLo[pin];
    const mode = (lo >> RTE_DELIVERY_SHIFT) & 7;
    if (mode === DM_EXTINT) return; // the PIC's INTR is polled through lapic.extIntRouted
    this.stats.delivered++;
    this.apics.message(this.rteHi[pin] >>> 24, (lo & RTE_DEST_LOGICAL) !== 0, mode, lo & RTE_VECTOR, (lo & RTE_LEVEL) !== 0);
  }

  /** EOI for `vector` (LAPIC broadcast or the EOI register): clear remote IRR; a still-asserted pin fires again. */
  eoi(vector: number): void {
    for (let pin = 0; pin < IOAPIC_PINS; pin++) {
      const lo = this.rteLo[pin];
      if ((lo & RTE_REMOTE_IRR) !== 0 && (lo & RTE_VECTOR) === vector) {
        this.rteLo[pin] = lo & ~RTE_REMOTE_IRR;
        this.stats.eois++;
        this.service(pin);
      }
    }
  }

  /** The LAPIC lets the PIC through while some unmasked pin is in ExtINT mode and aimed at it. */
  private updateExtInt(): void {
    for (const lapic of this.apics.lapics) {
      let routed = false;
      for (let pin = 0; pin < IOAPIC_PINS; pin++) {
        const lo = this.rteLo[pin];
        if ((lo & RTE_MASKED) === 0 && ((lo >> RTE_DELIVERY_SHIFT) & 7) === DM_EXTINT &&
          lapic.matchesDestination(this.rteHi[pin] >>> 24, (lo & RTE_DEST_LOGICAL) !== 0)) routed = true;
      }
      lapic.extIntRouted = routed;
    }
  }

  // ---- Indirect registers.

  private readIndirect(index: number): number {
    if (index === IOAPICID) return (this.id & 0xf) << 24;
    if (index === IOAPICVER) return IOAPIC_VERSION_VALUE;
    if (index === IOAPICARB) return (this.id & 0xf) << 24;
    const pin = (index - IOREDTBL) >> 1;
    if (index >= IOREDTBL && pin < IOAPIC_PINS) return (index & 1) === 0 ? this.rteLo[pin] : this.rteHi[pin];
    return 0;
  }

  private writeIndirect(index: number, v: number): void {
    if (index === IOAPICID) { this.id = (v >>> 24) & 0xf; return; }
    const pin = (index - IOREDTBL) >> 1;
    if (index < IOREDTBL || pin >= IOAPIC_PINS) return;
    if ((index & 1) === 0) {
      this.rteLo[pin] = ((this.rteLo[pin] & ~RTE_WRITABLE) | (v & RTE_WRITABLE)) >>> 0;
      // Switching a pin to edge mode drops a stale remote IRR.
      if ((v & RTE_LEVEL) === 0) this.rteLo[pin] &= ~RTE_REMOTE_IRR;
    } else {
      this.rteHi[pin] = v & 0xff000000;
    }
    this.updateExtInt();
    if ((this.rteLo[pin] & RTE_LEVEL) !== 0) this.service(pin); // unmasking an asserted level pin delivers it
  }

  // ---- MMIO.

  mmioRead(offset: number, size: 1 | 2 | 4): number {
    let v = 0;
    if ((offset & ~3) === IOREGSEL) v = this.regsel;
    else if ((offset & ~3) === IOWIN) v = this.readIndirect(this.regsel) >>> 0;
    const shift = (offset & 3) * 8;
    return size === 4 ? v >>> 0 : (v >>> shift) & (size === 1 ? 0xff : 0xffff);
  }

  mmioWrite(offset: number, size: 1 | 2 | 4, value: number): void {
    if (offset === IOREGSEL) this.regsel = value & 0xff;
    else if (offset === IOWIN && size === 4) this.writeIndirect(this.regsel, value >>> 0);
    else if (offset === IOAPIC_EOI) this.eoi(value & 0xff);
  }
}
