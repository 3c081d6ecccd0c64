// The PC board's devices and how they are wired: which ports and MMIO pages
// each occupies, which IRQ line it drives, and the interrupt path to the CPU
// (ISA lines -> 8259 pair and IOAPIC -> local APIC -> CPU).

import type { InterruptSource } from '../contracts/backend.js';
import { AcpiPm, PM_BASE, PM_PORTS, SCI_IRQ } from '../devices/acpi-pm.js';
import type { Bus } from '../devices/bus.js';
import type { Clock, Timers } from '../devices/clock.js';
import { DEBUG_EXIT_PORT, DebugExit } from '../devices/debugexit.js';
import { FERR_PORT, FerrLatch } from '../devices/ferr.js';
import { FW_CFG_PORT_COUNT, FW_CFG_PORT_SEL, FwCfg, type FwCfgFile } from '../devices/fwcfg.js';
import { HPET_BASE, HPET_SIZE, Hpet } from '../devices/hpet.js';
import { ApicBus, LapicPage } from '../devices/apic-bus.js';
import { I8042, I8042_COMMAND, I8042_DATA, OUTPUT_A20 } from '../devices/i8042.js';
import { IOAPIC_BASE, IOAPIC_SIZE, Ioapic } from '../devices/ioapic.js';
import { IrqRouter } from '../devices/irq-router.js';
import { LAPIC_BASE, LAPIC_SIZE, Lapic } from '../devices/lapic.js';
import { createHostBridge, createIsaBridge } from '../devices/pci-chipset.js';
import { PciBus } from '../devices/pci.js';
import { PIC_ELCR1, PIC_MASTER_CMD, PIC_SLAVE_CMD, Pic8259 } from '../devices/pic8259.js';
import { PIT_CHANNEL0, PIT_PORT_COUNT, Pit8254, SYSTEM_CONTROL_B } from '../devices/pit8254.js';
import { PORT92, Port92 } from '../devices/port92.js';
import { POST_PORT, PostCode } from '../devices/postcode.js';
import { RTC_INDEX, RTC_PORT_COUNT, Rtc } from '../devices/rtc.js';
import { UART_PORT_COUNT, Uart16550 } from '../devices/uart16550.js';
import type { GuestMemory } from '../mmu/memory.js';
import { ACPI_NVS_SIZE, ACPI_REGION_SIZE } from './acpi.js';
import { E820_ENTRY_SIZE, encodeE820, linuxMemoryMap } from './e820.js';
import { buildIoDevices, type IoDevices, type IoOptions } from './io-devices.js';

export const COM1_BASE = 0x3f8;
export const COM1_IRQ = 4;
export const PIT_IRQ = 0;
export const RTC_IRQ = 8;
/** 2026-01-01T00:00:00Z: the RTC's time at power-on in --deterministic runs. */
export const DETERMINISTIC_EPOCH_MS = Date.UTC(2026, 0, 1);
/** TSC rate the CPU model reports; RDTSC and the LAPIC's TSC-deadline timer agree on it. */
export const TSC_HZ = 1_000_000_000;

/** What the PC's devices are built on and call back into: the board (machine.ts's Machine). */
export interface PcBoard {
  readonly bus: Bus;
  readonly clock: Clock;
  readonly timers: Timers;
  readonly memory: GuestMemory;
  readonly options: IoOptions & { deterministic?: boolean; fwCfg?: FwCfgFile[] };
  readonly vcpuCount: number;
  /** Each vCPU's APIC ID. */
  readonly apicIds: readonly number[];
  /** The vCPU running now (the LAPIC page reaches its local APIC). */
  readonly currentVcpu: number;
  /** The inter-processor messages a local APIC delivers to vCPU i. */
  vcpuNmi(i: number): void;
  vcpuInit(i: number): void;
  vcpuSipi(i: number, vector: number): void;
  /** Its APIC page was written in a way that made an interrupt deliverable: end vCPU i's block after the instruction. */
  vcpuEndBlock(i: number): void;
}

export interface PcCallbacks {
  onSerial: (byte: number) => void;
  onReset: () => void;
  onPowerOff: (status: number, reason: string) => void;
  onA20: (enabled: boolean) => void;
}

export interface PcDevices {
  readonly uart: Uart16550;
  readonly pic: Pic8259;
  readonly pit: Pit8254;
  /** The bootstrap processor's local APIC (lapics[0]). */
  readonly lapic: Lapic;
  /** One local APIC per vCPU (APIC ID = vCPU index); the MMIO page reaches the one of the vCPU running. */
  readonly lapics: Lapic[];
  readonly apicBus: ApicBus;
  readonly ioapic: Ioapic;
  readonly pci: PciBus;
  readonly pm: AcpiPm;
  /** The HPET (ACPI "HPET" table): Linux's clocksource watchdog and early clockevent, so lost PIT ticks cannot fail the TSC. */
  readonly hpet: Hpet;
  readonly rtc: Rtc;
  readonly i8042: I8042;
  readonly port92: Port92;
  readonly post: PostCode;
  readonly debugExit: DebugExit;
  /** FERR# -> IRQ13 and port F0h -> IGNNE#: the x87 error path with CR0.NE=0 (the CPU reaches it as CpuHost.ferr). */
  readonly ferr: FerrLatch;
  /** QEMU's firmware configuration device (ports 0x510-0x51B): CPU count, RAM size, boot files, named blobs. */
  readonly fwcfg: FwCfg;
  readonly router: IrqRouter;
  /** Disks (virtio-blk, IDE) and the other virtio devices the options asked for. */
  readonly io: IoDevices;
  /** What the BSP's INTR/INTA sees: its local APIC (which passes the 8259 through as ExtINT). */
  readonly interrupts: InterruptSource;
  /** The A20 line as the devices drive it (the keyboard controller's output port OR port 0x92). */
  a20(): boolean;
  /** Power-on/reset state for every device. */
  reset(): void;
  /** Guest RAM was cleared for a reboot: nothing of ours lives there yet. */
  afterMemoryCleared(): void;
}

export function buildPc(m: PcBoard, cb: PcCallbacks): PcDevices {
  const { bus, clock, timers } = m;

  const pic = new Pic8259();
  bus.registerPorts('pic-master', PIC_MASTER_CMD, 2, pic);
  bus.registerPorts('pic-slave', PIC_SLAVE_CMD, 2, pic);
  bus.registerPorts('pic-elcr', PIC_ELCR1, 2, pic);

  const lapics: Lapic[] = [];
  for (let i = 0; i < m.vcpuCount; i++) {
    const l = new Lapic({
      clock, timers, pic, tscHz: TSC_HZ, index: i, id: m.apicIds[i], bsp: i === 0,
      onNmi: () => m.vcpuNmi(i), onInit: () => m.vcpuInit(i), onSipi: (v) => m.vcpuSipi(i, v),
      onInterruptReady: () => m.vcpuEndBlock(i),
    });
    timers.add(l);
    lapics.push(l);
  }
  const lapic = lapics[0];
  const apicBus = new ApicBus(lapics);
  // Every CPU's APIC sits at the same physical page: an access reaches the APIC of the vCPU making it.
  bus.registerMmio('lapic', LAPIC_BASE, LAPIC_SIZE, new LapicPage(lapics, apicBus, () => m.currentVcpu));
  const ioapic = new Ioapic(apicBus);
  bus.registerMmio('ioapic', IOAPIC_BASE, IOAPIC_SIZE, ioapic);

  const pci = new PciBus(bus);
  bus.registerPorts('pci-config', 0xcf8, 8, pci);
  pci.onReset = cb.onReset;
  // A function's MSI write to 0xFEExxxxx becomes a message on the APIC bus.
  pci.onMsi = (lo, hi, data) => hi === 0 && lapic.deliverMsi(lo, data);
  pci.add(0, 0, createHostBridge());
  const isa = createIsaBridge();
  pci.add(1, 0, isa.fn);

  const io = buildIoDevices(m.memory, bus, pci, m.options);

  const router = new IrqRouter(pic, ioapic, (p) => isa.pirqToIsa(p));
  isa.onPirqChange = () => router.pirqChanged();
  bus.connectIrqs(router);

  const uart = new Uart16550({ base: COM1_BASE, irqs: bus, irq: COM1_IRQ, onTransmit: cb.onSerial, clock, timers });
  bus.registerPorts('uart', COM1_BASE, UART_PORT_COUNT, uart);
  timers.add(uart);

  const pit = new Pit8254({ irqs: bus, irq: PIT_IRQ, clock, timers });
  bus.registerPorts('pit', PIT_CHANNEL0, PIT_PORT_COUNT, pit);
  bus.registerPorts('port-b', SYSTEM_CONTROL_B, 1, pit);
  timers.add(pit);

  const pm = new AcpiPm({
    clock, timers,
    setSci: (level) => bus.setIrq(SCI_IRQ, level),
    onPowerOff: () => cb.onPowerOff(0, 'the guest powered off (ACPI S5)'),
  });
  bus.registerPorts('acpi-pm', PM_BASE, PM_PORTS, pm);
  timers.add(pm);

  const hpet = new Hpet({ clock, timers, irqs: bus });
  bus.registerMmio('hpet', HPET_BASE, HPET_SIZE, hpet);
  timers.add(hpet);

  // Deterministic runs start the RTC at a fixed date so they reproduce; otherwise it shows the host's time.
  const epochMs = m.options.deterministic ? DETERMINISTIC_EPOCH_MS : undefined;
  const rtc = new Rtc({ irqs: bus, irq: RTC_IRQ, clock, timers, ramSize: m.memory.ramSize, epochMs });
  bus.registerPorts('rtc', RTC_INDEX, RTC_PORT_COUNT, rtc);
  timers.add(rtc);

  // A20 is the OR of the keyboard controller's output port and port 0x92 (both gate the same line).
  const a20 = () => (i8042.outputPort & OUTPUT_A20) !== 0 || port92.a20();
  const i8042 = new I8042({ irqs: bus, onReset: cb.onReset, onA20: () => cb.onA20(a20()) });
  bus.registerPorts('i8042-data', I8042_DATA, 1, i8042);
  bus.registerPorts('i8042-cmd', I8042_COMMAND, 1, i8042);
  const port92 = new Port92({ onReset: cb.onReset, onA20: () => cb.onA20(a20()) });
  bus.registerPorts('port92', PORT92, 1, port92);

  const post = new PostCode();
  bus.registerPorts('post', POST_PORT, 1, post);
  const debugExit = new DebugExit({ onExit: (status) => cb.onPowerOff(status, `isa-debug-exit: status ${status}`) });
  bus.registerPorts('debug-exit', DEBUG_EXIT_PORT, 4, debugExit);
  const ferr = new FerrLatch({ irqs: bus });
  bus.registerPorts('ferr', FERR_PORT, 1, ferr);

  const fwcfg = new FwCfg(m.memory);
  bus.registerPorts('fw_cfg', FW_CFG_PORT_SEL, FW_CFG_PORT_COUNT, fwcfg);
  fwcfg.setCpus(m.vcpuCount, m.vcpuCount);
  // The map every loader reports (ACPI tables at the top of RAM, machine/acpi.ts's default place).
  const map = linuxMemoryMap(m.memory.ramSize, m.memory.ramSize - ACPI_REGION_SIZE, ACPI_REGION_SIZE, ACPI_NVS_SIZE);
  const e820 = new Uint8Array(map.length * E820_ENTRY_SIZE);
  encodeE820(map, new DataView(e820.buffer), 0);
  fwcfg.addFile('etc/e820', e820);
  for (const f of m.options.fwCfg ?? []) fwcfg.addFile(f.name, f.bytes);

  return {
    uart, pic, pit, lapic, lapics, apicBus, ioapic, pci, pm, hpet, rtc, i8042, port92, post, debugExit, ferr, fwcfg, router, io,
    interrupts: lapic,
    a20,
    reset() {
      for (const d of [pic, ...lapics, ioapic, pci, uart, pit, pm, hpet, rtc, i8042, port92, post, ferr, fwcfg] as { reset?: () => void }[]) d.reset?.();
      io.reset();
      router.pirqChanged(); // the ISA bridge's PIRQ routing is back at its power-on value
    },
    afterMemoryCleared() {},
  };
}
