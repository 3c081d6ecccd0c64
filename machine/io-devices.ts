// The board's storage and paravirtual devices, as the command line asks for them:
// virtio-blk / virtio-console / virtio-rng on PCI slots from 3 up, and the PIIX3 IDE
// controller at 00:01.1 when any drive is on IDE. BARs are placed here as firmware would
// (virtio BAR4s from 0xFEB00000, the IDE bus master at 0xC000), so the guest finds
// them programmed and enabled.

import { trapsPerKb, type BlockBackend, type IoCounters } from '../devices/block.js';
import type { Bus } from '../devices/bus.js';
import { PiixIde, type IdeCdrom } from '../devices/ide.js';
import { CMD_IO, CMD_MASTER, CMD_MEMORY, PCI_BAR0, PCI_COMMAND, type PciBus, type PciFunction } from '../devices/pci.js';
import { VirtioBlk } from '../devices/virtio-blk.js';
import { VirtioConsole } from '../devices/virtio-console.js';
import type { VirtioPci } from '../devices/virtio-pci.js';
import { VirtioRng } from '../devices/virtio-rng.js';
import type { GuestMemory } from '../mmu/memory.js';

export interface DriveSpec {
  interface: 'virtio' | 'ide';
  disk: BlockBackend;
  /** For the stats view: the image's name. */
  name?: string;
  /** IDE position: 0 primary master, 1 primary slave, 2 secondary master, 3 secondary slave (default: in order). */
  index?: number;
  /** cdrom: an ATAPI CD-ROM drive (IDE only) with the image as its medium. */
  media?: 'disk' | 'cdrom';
  /** -drive id=X: a monitor may name the drive by it. */
  id?: string;
}

/** The IDE position (0 primary master .. 3 secondary slave) of `drives[i]`, an IDE drive: its index=, else its order among the IDE drives. */
export function idePosition(drives: readonly DriveSpec[], i: number): number {
  return drives[i].index ?? drives.slice(0, i).filter((d) => d.interface === 'ide').length;
}

/** QEMU's name for the drive at an IDE position: ide1-cd0 is the secondary master CD-ROM. */
export function ideDriveName(position: number, cdrom: boolean): string {
  return `ide${position >> 1}-${cdrom ? 'cd' : 'hd'}${position & 1}`;
}

export interface IoOptions {
  drives?: DriveSpec[];
  virtioRng?: boolean;
  /** Give the guest a virtio console (hvc0); its output goes here. */
  virtioConsole?: (bytes: Uint8Array) => void;
}

/** A device's I/O counters under a name, for Ctrl-A s, the web panel and bench/io-models. */
export interface IoDeviceStats { name: string; counters: IoCounters }

export interface IoDevices {
  readonly ide: PiixIde | null;
  readonly virtioBlk: VirtioBlk[];
  readonly virtioConsole: VirtioConsole | null;
  readonly virtioRng: VirtioRng | null;
  stats(): IoDeviceStats[];
  reset(): void;
}

export const VIRTIO_MMIO_BASE = 0xfeb00000;
export const IDE_BM_PORT = 0xc000;
const FIRST_VIRTIO_SLOT = 3;

/** Program a BAR and the command register before plugging in, so the power-on state has them (as firmware leaves it). */
function plug(pci: PciBus, dev: number, fn: number, f: PciFunction, bar: number, base: number, cmd: number): void {
  f.writeConfig(PCI_BAR0 + 4 * bar, 4, base);
  f.writeConfig(PCI_COMMAND, 2, cmd);
  pci.add(dev, fn, f);
  f.reset(); // maps the BAR on the bus
}

export function buildIoDevices(mem: GuestMemory, bus: Bus, pci: PciBus, opts: IoOptions): IoDevices {
  const drives = opts.drives ?? [];
  const transports: { name: string; t: VirtioPci }[] = [];
  let slot = FIRST_VIRTIO_SLOT;
  const addVirtio = (name: string, t: VirtioPci): void => {
    const s = pci.freeSlot(slot);
    plug(pci, s, 0, t.pci, 4, VIRTIO_MMIO_BASE + transports.length * 0x4000, CMD_MEMORY | CMD_MASTER);
    transports.push({ name, t });
    slot = s + 1;
  };

  const virtioBlk: VirtioBlk[] = [];
  for (const d of drives.filter((x) => x.interface === 'virtio')) {
    const blk = new VirtioBlk(mem, d.disk, `emu-vd${String.fromCharCode(97 + virtioBlk.length)}`);
    virtioBlk.push(blk);
    addVirtio(`virtio-blk${virtioBlk.length - 1}${d.name ? ` (${d.name})` : ''}`, blk.transport);
  }
  const virtioConsole = opts.virtioConsole ? new VirtioConsole(mem, opts.virtioConsole) : null;
  if (virtioConsole) addVirtio('virtio-console', virtioConsole.transport);
  const virtioRng = opts.virtioRng ? new VirtioRng(mem) : null;
  if (virtioRng) addVirtio('virtio-rng', virtioRng.transport);

  const ideDisks = drives.filter((x) => x.interface === 'ide');
  let ide: PiixIde | null = null;
  if (ideDisks.length > 0) {
    if (ideDisks.length > 4) throw new Error('at most 4 IDE drives');
    const byIndex: (BlockBackend | IdeCdrom | null)[] = [null, null, null, null];
    drives.forEach((d, i) => { if (d.interface === 'ide') byIndex[idePosition(drives, i)] = d.media === 'cdrom' ? { cdrom: d.disk } : d.disk; });
    ide = new PiixIde(mem, bus, byIndex);
    plug(pci, 1, 1, ide.pci, 4, IDE_BM_PORT, CMD_IO | CMD_MASTER);
    ide.attach();
  }
  const ideNames = ideDisks.map((d) => d.name).filter(Boolean).join(', ');

  return {
    ide, virtioBlk, virtioConsole, virtioRng,
    stats() {
      const out: IoDeviceStats[] = [];
      if (ide) out.push({ name: `ide${ideNames ? ` (${ideNames})` : ''}`, counters: ide.counters });
      for (const { name, t } of transports) out.push({ name, counters: t.counters });
      return out;
    },
    reset() {
      ide?.reset();
      for (const { t } of transports) t.reset();
    },
  };
}


/** The devices' counters flattened for a counters table ("ide traps", "virtio-blk0 bytes read", ...), with traps per KB. */
export function flatIoCounters(stats: IoDeviceStats[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { name, counters: c } of stats) {
    const dev = name.split(' ')[0];
    out[`${dev} traps`] = c.traps;
    out[`${dev} interrupts`] = c.interrupts;
    out[`${dev} bytes read`] = c.bytesRead;
    out[`${dev} bytes written`] = c.bytesWritten;
    out[`${dev} traps per KB`] = Math.round(100 * trapsPerKb(c)) / 100;
  }
  return out;
}
