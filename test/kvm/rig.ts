// A bare test board for the KVM backend: guest memory, a bus with a serial
// stub on 0x3F8, a one-line test PIC, and state records for tiny
// hand-assembled guests in real, 32-bit protected and 64-bit long mode.

import type { CpuHost, InterruptSource } from '../../contracts/backend.js';
import {
  ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR0, CR0_ET, CR0_PE, CR0_PG, CR3, CR4, CR4_PAE, CS, EFER, EFER_LMA,
  EFER_LME, GDTR_BASE, GDTR_LIMIT, IDTR_LIMIT, SEG_ATTR, StateView, segOffset,
} from '../../cpu/state.js';
import { flat32EntryState, realModeEntryState } from '../../machine/entry.js';
import { Bus } from '../../devices/bus.js';
import { GuestMemory } from '../../mmu/memory.js';
import { kvmUnavailableReason } from '../../accel-kvm/addon.js';
import { KvmBackend, type KvmOptions } from '../../accel-kvm/kvm-backend.js';
import { cpuidEntries } from '../../cpu/cpuid.js';

/** Why KVM tests cannot run here (printed once), or null. */
export const kvmSkipReason: string | null = kvmUnavailableReason();
if (kvmSkipReason) console.log(`test/kvm skipped: ${kvmSkipReason}`);

export const SERIAL = 0x3f8;

/** An 8259 reduced to a queue of vectors: enough to drive INTR and INTA. */
export class TestPic implements InterruptSource {
  readonly queue: number[] = [];
  acks = 0;
  hasInterrupt(): boolean { return this.queue.length > 0; }
  acknowledge(): number {
    this.acks++;
    return this.queue.shift() ?? 0xff;
  }
}

export interface Rig {
  memory: GuestMemory;
  bus: Bus;
  pic: TestPic;
  out: number[];
  /** Every port write the bus saw: [port, size, value]. */
  writes: Array<[number, number, number]>;
  host: CpuHost;
  kvm: KvmBackend;
  text(): string;
}

export function makeRig(opts: Partial<KvmOptions> = {}, ramSize = 4 << 20, setup?: (bus: Bus) => void, a20 = (): boolean => true): Rig {
  const memory = new GuestMemory(ramSize);
  const bus = new Bus();
  memory.mmio = bus;
  const pic = new TestPic();
  const out: number[] = [];
  const writes: Array<[number, number, number]> = [];
  bus.onPortAccess = (port, size, value, write) => { if (write) writes.push([port, size, value]); };
  bus.registerPorts('serial-stub', SERIAL, 8, {
    portRead: (port) => (port === SERIAL + 5 ? 0x60 : 0), // LSR: transmitter empty
    portWrite: (port, _size, value) => { if (port === SERIAL) out.push(value & 0xff); },
  });
  const host: CpuHost = {
    memory,
    portRead: (p, s) => bus.portRead(p, s),
    portWrite: (p, s, v) => bus.portWrite(p, s, v),
    interrupts: pic,
    now: () => performance.now() * 1e6,
    a20Enabled: a20,
  };
  setup?.(bus);
  const kvm = new KvmBackend(host, { cpuid: cpuidEntries(0), mmioHoles: () => bus.mmioHoles(ramSize), ...opts });
  if (kvm.irqSink) bus.connectIrqs(kvm.irqSink);
  return { memory, bus, pic, out, writes, host, kvm, text: () => String.fromCharCode(...out) };
}

/** Real mode, all segments 0, code at `rip` (below 64 KiB), IVT at 0 (limit 0x3ff). */
export function realModeState(rip: number): StateView {
  const s = StateView.detached();
  realModeEntryState(s, rip);
  s.setU32(IDTR_LIMIT, 0x3ff);
  return s;
}

const GDT = 0x500;
/** Flat 32-bit protected mode (CS 0x08, data 0x10, the multiboot entry state), paging off; a GDT is written to memory. */
export function protected32State(mem: GuestMemory, rip: number): StateView {
  const s = StateView.detached();
  flat32EntryState(s, rip);
  // null, code32 (base 0, 4G, 0x9b, DB|G), data32 (0x93).
  mem.writeBytes(GDT, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0,
    0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0]));
  s.set64(GDTR_BASE, GDT, 0);
  s.setU32(GDTR_LIMIT, 23);
  s.setU32(IDTR_LIMIT, 0x3ff);
  return s;
}

const PML4 = 0x10000;
/** 64-bit long mode, identity-mapped first 4 MiB with 2 MiB pages; CS 0x08 is a 64-bit code segment. */
export function long64State(mem: GuestMemory, rip: number): StateView {
  const s = protected32State(mem, rip);
  mem.writeBytes(GDT + 8, new Uint8Array([0xff, 0xff, 0, 0, 0, 0x9b, 0xaf, 0]));
  const dv = mem.dv;
  dv.setUint32(PML4, PML4 + 0x1000 + 3, true);
  dv.setUint32(PML4 + 0x1000, PML4 + 0x2000 + 3, true);
  dv.setUint32(PML4 + 0x2000, 0x83, true);
  dv.setUint32(PML4 + 0x2008, 0x200083, true);
  s.set64(CR3, PML4, 0);
  s.set64(CR4, CR4_PAE, 0);
  s.set64(EFER, EFER_LME | EFER_LMA, 0);
  s.set64(CR0, CR0_PE | CR0_PG | CR0_ET, 0);
  s.setU32(segOffset(CS) + SEG_ATTR, ATTR_P | ATTR_S | 0xb | ATTR_L | ATTR_G);
  return s;
}

/** Put code bytes at `addr`. */
export function load(mem: GuestMemory, addr: number, code: number[]): void {
  mem.writeBytes(addr, new Uint8Array(code));
}
