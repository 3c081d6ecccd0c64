// What a disk controller (virtio-blk, IDE) stores its sectors in: a byte-addressed
// image with synchronous read, write and flush. The CLI backs it with a file
// (machine/disk-file.ts); the browser and tests with memory; -snapshot puts a
// copy-on-write overlay in front of either, so the image itself never changes.

export const SECTOR_SIZE = 512;

export interface BlockBackend {
  /** Bytes; a whole number of sectors. */
  readonly size: number;
  readonly readOnly: boolean;
  /** Copy `dst.length` bytes from the image at `offset` (caller checked the range). */
  read(offset: number, dst: Uint8Array): void;
  /** Copy `src` into the image at `offset` (caller checked the range and readOnly). */
  write(offset: number, src: Uint8Array): void;
  /** Make every completed write durable (fsync for a file). */
  flush(): void;
}

/** True when [offset, offset+len) lies inside the image (what every controller checks before a transfer). */
export function inImage(disk: BlockBackend, offset: number, len: number): boolean {
  return offset >= 0 && len >= 0 && offset + len <= disk.size;
}

/** An image held in memory (the browser demo's attached file, tests). */
export class MemoryDisk implements BlockBackend {
  readonly size: number;
  flushes = 0;
  constructor(readonly bytes: Uint8Array, readonly readOnly = false) {
    this.size = bytes.length - (bytes.length % SECTOR_SIZE);
  }
  read(offset: number, dst: Uint8Array): void { dst.set(this.bytes.subarray(offset, offset + dst.length)); }
  write(offset: number, src: Uint8Array): void { this.bytes.set(src, offset); }
  flush(): void { this.flushes++; }
}

/**
 * -snapshot: writes land in an in-memory overlay of sectors, reads see the overlay over
 * the base image, flush does nothing; the base image is never written.
 */
export class OverlayDisk implements BlockBackend {
  readonly size: number;
  readonly readOnly = false;
  /** Sector number -> its current contents. */
  private readonly sectors = new Map<number, Uint8Array>();
  /** Sectors written since the log was last taken (live migration's pre-copy), or null when not logging. */
  private written: Set<number> | null = null;
  constructor(private readonly base: BlockBackend) { this.size = base.size; }

  /** Start (or stop) logging which sectors are written. */
  logWrites(on: boolean): void { this.written = on ? new Set() : null; }

  /** The sectors written since logging started or since the last call, in order; the log starts afresh. */
  takeWritten(): number[] {
    const out = this.written ? [...this.written].sort((a, b) => a - b) : [];
    this.written?.clear();
    return out;
  }

  /** A written sector's current contents (undefined if the overlay does not hold it). */
  sector(n: number): Uint8Array | undefined { return this.sectors.get(n); }

  /** The written sectors' numbers, in order. */
  sectorNumbers(): number[] { return [...this.sectors.keys()].sort((a, b) => a - b); }

  get dirtySectors(): number { return this.sectors.size; }

  /** The written sectors, by number (for snapshots: the overlay is the disk's state). */
  writtenSectors(): [number, Uint8Array][] { return [...this.sectors].sort((a, b) => a[0] - b[0]); }

  /** Replace the overlay with these sectors (a snapshot's); the base image is untouched. */
  loadSectors(sectors: readonly (readonly [number, Uint8Array])[]): void {
    this.sectors.clear();
    for (const [n, bytes] of sectors) this.sectors.set(n, bytes.slice(0, SECTOR_SIZE));
  }

  read(offset: number, dst: Uint8Array): void {
    this.base.read(offset, dst);
    if (this.sectors.size === 0) return;
    this.eachSector(offset, dst.length, (sector, at, skip, n) => {
      const s = this.sectors.get(sector);
      if (s) dst.set(s.subarray(skip, skip + n), at);
    });
  }

  write(offset: number, src: Uint8Array): void {
    this.eachSector(offset, src.length, (sector, at, skip, n) => {
      let s = this.sectors.get(sector);
      if (!s) {
        s = new Uint8Array(SECTOR_SIZE);
        if (n !== SECTOR_SIZE) this.read(sector * SECTOR_SIZE, s);
        this.sectors.set(sector, s);
      }
      s.set(src.subarray(at, at + n), skip);
      this.written?.add(sector);
    });
  }

  flush(): void {}

  /** Walk [offset, offset+len) sector by sector: (sector, position in the buffer, offset in the sector, bytes). */
  private eachSector(offset: number, len: number, fn: (sector: number, at: number, skip: number, n: number) => void): void {
    let at = 0;
    while (at < len) {
      const pos = offset + at;
      const sector = Math.floor(pos / SECTOR_SIZE), skip = pos % SECTOR_SIZE;
      const n = Math.min(SECTOR_SIZE - skip, len - at);
      fn(sector, at, skip, n);
      at += n;
    }
  }
}

/** Per-device I/O counters: what `Ctrl-A s` and the io-models bench show side by side. */
export interface IoCounters {
  /** Guest register accesses that reached the device (port I/O and MMIO): each one a VM exit under KVM. */
  traps: number;
  /** Interrupts raised (rising edges of INTx / IRQ line, and MSI-X messages). */
  interrupts: number;
  /** Of those, the ones sent as MSI-X messages. */
  msi: number;
  bytesRead: number;
  bytesWritten: number;
  requests: number;
  flushes: number;
  errors: number;
}

/** The counters' layout for device state declarations (devices/state.ts). */
export const IO_COUNTER_STATE = { traps: 'f64', interrupts: 'f64', msi: 'f64', bytesRead: 'f64', bytesWritten: 'f64', requests: 'f64', flushes: 'f64', errors: 'f64' } as const;

export function newIoCounters(): IoCounters {
  return { traps: 0, interrupts: 0, msi: 0, bytesRead: 0, bytesWritten: 0, requests: 0, flushes: 0, errors: 0 };
}

/** "traps per KB moved" (the figure that tells trap-and-emulate from paravirtual I/O). */
export function trapsPerKb(c: IoCounters): number {
  const kb = (c.bytesRead + c.bytesWritten) / 1024;
  return kb > 0 ? c.traps / kb : 0;
}
