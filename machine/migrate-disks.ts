// -snapshot overlays in a live migration. An overlay is guest state that can outgrow a
// message (MAX_MESSAGE) and changes while the guest runs, so it goes as RAM does:
// the first pre-copy round sends every sector the overlay holds, and each later round
// the sectors written since (OverlayDisk logs them), the last ones in the stop-and-copy.
// The destination gathers them and hands them to the snapshot code as the `disk/N`
// sections a snapshot file carries, which checks and loads them (snapshot-disks.ts);
// the source's own `disk/N` sections go empty.
//
// Message payload (type S): u32 drive index, u32 count, then per sector f64 number and 512 bytes.

import { OverlayDisk, SECTOR_SIZE } from '../devices/block.js';
import type { Machine } from './machine.js';
import { encodeOverlay } from './snapshot-disks.js';
import type { Sections } from './snapshot-format.js';

export const MSG_DISK = 0x53;
/** Sectors per message: 1 MiB of data. */
const BATCH_SECTORS = 2048;
const RECORD = 8 + SECTOR_SIZE;

/** Sectors to send, per drive (its index among the machine's drives). */
export type DiskWork = [drive: number, sectors: number[]][];

export function sectorCount(work: DiskWork): number {
  return work.reduce((n, [, s]) => n + s.length, 0);
}

/** The union of two lists of work, each drive's sectors once. */
export function mergeWork(a: DiskWork, b: DiskWork): DiskWork {
  return a.map(([drive, sectors], k) => {
    const more = b.find(([d]) => d === drive)?.[1] ?? [];
    return [drive, [...new Set([...sectors, ...more])].sort((x, y) => x - y)] as [number, number[]];
  }).concat(b.filter(([d]) => !a.some(([e]) => e === d)));
}

/** The source side: the machine's overlays, their write logs, and their sectors as messages. */
export class OverlaySender {
  private readonly overlays: [number, OverlayDisk][];

  constructor(m: Machine) {
    this.overlays = (m.options.drives ?? []).flatMap((d, i): [number, OverlayDisk][] => (d.disk instanceof OverlayDisk ? [[i, d.disk]] : []));
  }

  /** Start logging writes; returns every sector the overlays hold now (the first round's work). */
  start(): DiskWork {
    for (const [, d] of this.overlays) d.logWrites(true);
    return this.overlays.map(([i, d]) => [i, d.sectorNumbers()]);
  }

  /** The sectors written since start() or the last call. */
  takeWritten(): DiskWork {
    return this.overlays.map(([i, d]) => [i, d.takeWritten()]);
  }

  stop(): void {
    for (const [, d] of this.overlays) d.logWrites(false);
  }

  /** The work as message payloads of at most BATCH_SECTORS sectors, read when each is made. */
  *payloads(work: DiskWork): Generator<Uint8Array> {
    for (const [drive, sectors] of work) {
      const disk = this.overlays.find(([i]) => i === drive)![1];
      for (let k = 0; k < sectors.length; k += BATCH_SECTORS) {
        const n = Math.min(BATCH_SECTORS, sectors.length - k);
        const b = new Uint8Array(8 + n * RECORD);
        const dv = new DataView(b.buffer);
        dv.setUint32(0, drive, true);
        dv.setUint32(4, n, true);
        for (let j = 0; j < n; j++) {
          const at = 8 + j * RECORD, sector = sectors[k + j];
          dv.setFloat64(at, sector, true);
          b.set(disk.sector(sector) ?? new Uint8Array(SECTOR_SIZE), at + 8);
        }
        yield b;
      }
    }
  }

  /** Empty the overlays' `disk/N` sections: their sectors went ahead in the stream. */
  emptySections(sections: Sections): void {
    for (const [i] of this.overlays) sections.set(`disk/${i}`, encodeOverlay([]));
  }
}

/** The destination side: the streamed sectors, latest contents kept, per drive. */
export class OverlayReceiver {
  private readonly drives = new Map<number, Map<number, Uint8Array>>();
  sectors = 0;

  /** One S message; returns why it is corrupt, or null. */
  add(payload: Uint8Array): string | null {
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
    if (payload.length < 8) return 'migration stream is corrupt: a disk batch is cut short';
    const drive = dv.getUint32(0, true), count = dv.getUint32(4, true);
    if (payload.length !== 8 + count * RECORD) return 'migration stream is corrupt: a disk batch has the wrong size';
    if (drive > 255) return 'migration stream is corrupt: a disk batch for no drive';
    let sectors = this.drives.get(drive);
    if (!sectors) this.drives.set(drive, (sectors = new Map()));
    for (let j = 0; j < count; j++) {
      const at = 8 + j * RECORD;
      sectors.set(dv.getFloat64(at, true), payload.slice(at + 8, at + RECORD));
    }
    this.sectors += count;
    return null;
  }

  /** The streamed sectors as the `disk/N` sections the snapshot code loads (and checks). */
  intoSections(sections: Sections): void {
    for (const [drive, sectors] of this.drives) {
      sections.set(`disk/${drive}`, encodeOverlay([...sectors].sort((a, b) => a[0] - b[0])));
    }
  }
}
