// The disks in a snapshot. A -snapshot overlay (OverlayDisk) is part of the guest's
// state: its written sectors go into the file and come back on restore. A raw image
// (a writable or read-only file, the browser's in-memory image) is not copied: as with
// QEMU, the destination must attach the same image, and a restore checks what it can
// cheaply, that every drive is there, on the same interface, with the same size. The
// device side (IDE channels, virtio queues) is declared device state (device-state.ts).
//
// A CD-ROM drive is recorded with the medium it holds at the time (a monitor may have changed
// or ejected it): the restore puts no medium in a drive that had none, and wants an ISO of
// the same size in one that had one. The guest's side (unit attention, lock) is channel state.
//
// Sections: `disks`: u32 count, then per drive u8 interface (0 virtio, 1 ide), u8 IDE
// index (0xff: by order), u8 kind (0 image, 1 overlay, 2 CD-ROM with a medium, 3 CD-ROM
// without), f64 size (the medium's; 0 for none), u16 name length, name (UTF-8);
// `disk/N` for an overlay: u32 sectors, then per sector f64 number and 512 bytes.

import { OverlayDisk, SECTOR_SIZE } from '../devices/block.js';
import type { CdDrive } from '../devices/atapi.js';
import { ideDriveName, idePosition, type DriveSpec } from './io-devices.js';
import type { Machine } from './machine.js';
import { SnapshotError, type Sections } from './snapshot-format.js';

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const KIND_IMAGE = 0, KIND_OVERLAY = 1, KIND_CD = 2, KIND_CD_EMPTY = 3;

interface SavedDrive { iface: 'virtio' | 'ide'; index: number; kind: number; size: number; name: string }

function drives(m: Machine): DriveSpec[] {
  return m.options.drives ?? [];
}

function driveName(d: { name?: string }, i: number): string {
  return d.name ? `'${d.name}'` : `#${i}`;
}

/** The CD-ROM drive behind `drives[i]`, or null for a hard disk. */
function cdDrive(m: Machine, i: number): CdDrive | null {
  const list = drives(m);
  return list[i].media === 'cdrom' ? m.devices.io.ide?.cdrom(idePosition(list, i)) ?? null : null;
}

/** Add the `disks` section and one `disk/N` per overlay. */
export function saveDisks(m: Machine, sections: Sections): void {
  const list = drives(m);
  const names = list.map((d) => utf8.encode(d.name ?? ''));
  const head = new Uint8Array(4 + list.reduce((n, _, i) => n + 13 + names[i].length, 0));
  const dv = new DataView(head.buffer);
  dv.setUint32(0, list.length, true);
  let at = 4;
  list.forEach((d, i) => {
    const cd = cdDrive(m, i);
    head[at] = d.interface === 'ide' ? 1 : 0;
    head[at + 1] = d.index ?? 0xff; // 0xff: IDE position by order
    head[at + 2] = cd ? (cd.media ? KIND_CD : KIND_CD_EMPTY) : d.disk instanceof OverlayDisk ? KIND_OVERLAY : KIND_IMAGE;
    dv.setFloat64(at + 3, cd ? cd.media?.size ?? 0 : d.disk.size, true);
    dv.setUint16(at + 11, names[i].length, true);
    head.set(names[i], at + 13);
    at += 13 + names[i].length;
    if (d.disk instanceof OverlayDisk) sections.set(`disk/${i}`, encodeOverlay(d.disk.writtenSectors()));
  });
  sections.set('disks', head);
}

/** A `disk/N` section: these overlay sectors (number, 512 bytes), in order. */
export function encodeOverlay(sectors: readonly (readonly [number, Uint8Array])[]): Uint8Array {
  const b = new Uint8Array(4 + sectors.length * (8 + SECTOR_SIZE));
  const dv = new DataView(b.buffer);
  dv.setUint32(0, sectors.length, true);
  sectors.forEach(([n, bytes], i) => {
    const at = 4 + i * (8 + SECTOR_SIZE);
    dv.setFloat64(at, n, true);
    b.set(bytes, at + 8);
  });
  return b;
}

function decodeDrives(b: Uint8Array): SavedDrive[] {
  const bad = (): never => { throw new SnapshotError('snapshot is corrupt: its disk section is cut short'); };
  if (b.length < 4) bad();
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const out: SavedDrive[] = [];
  let at = 4;
  for (let i = 0, n = dv.getUint32(0, true); i < n; i++) {
    if (at + 13 > b.length) bad();
    const len = dv.getUint16(at + 11, true);
    if (at + 13 + len > b.length) bad();
    out.push({ iface: b[at] === 1 ? 'ide' : 'virtio', index: b[at + 1], kind: b[at + 2], size: dv.getFloat64(at + 3, true), name: fromUtf8.decode(b.subarray(at + 13, at + 13 + len)) });
    at += 13 + len;
  }
  return out;
}

function decodeOverlay(b: Uint8Array, i: number, size: number): [number, Uint8Array][] {
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const count = b.length >= 4 ? dv.getUint32(0, true) : -1;
  if (count < 0 || b.length !== 4 + count * (8 + SECTOR_SIZE)) throw new SnapshotError(`snapshot is corrupt: disk #${i}'s overlay has the wrong size`);
  const out: [number, Uint8Array][] = [];
  for (let k = 0; k < count; k++) {
    const at = 4 + k * (8 + SECTOR_SIZE), n = dv.getFloat64(at, true);
    if (!Number.isInteger(n) || n < 0 || (n + 1) * SECTOR_SIZE > size) throw new SnapshotError(`snapshot is corrupt: disk #${i}'s overlay has a sector past the end`);
    out.push([n, b.subarray(at + 8, at + 8 + SECTOR_SIZE)]);
  }
  return out;
}

/**
 * Check the snapshot's drives against this machine's (one SnapshotError line naming the
 * fix); returns a function that loads the overlays. A snapshot without a `disks` section
 * (taken before disks were recorded) is accepted as it was.
 */
export function prepareDisks(m: Machine, sections: Sections): () => void {
  const head = sections.get('disks');
  if (!head) return () => {};
  const saved = decodeDrives(head), here = drives(m);
  if (saved.length !== here.length) {
    throw new SnapshotError(`the snapshot's guest has ${saved.length} disk${saved.length === 1 ? '' : 's'} and this machine ${here.length}: attach the same -drive images as the source`);
  }
  const loads: (() => void)[] = [];
  saved.forEach((s, i) => {
    const d = here[i], name = driveName(s, i);
    if (s.iface !== d.interface || s.index !== (d.index ?? 0xff)) {
      throw new SnapshotError(`disk ${name} was on ${s.iface} in the snapshot and is on ${d.interface} here: give the same -drive if= as the source`);
    }
    const cd = cdDrive(m, i);
    // Snapshots from before CD-ROMs were recorded say KIND_IMAGE for them.
    const savedCd = s.kind === KIND_CD || s.kind === KIND_CD_EMPTY || (s.kind === KIND_IMAGE && cd !== null);
    if (savedCd !== (cd !== null)) {
      throw new SnapshotError(`drive ${name} was ${cd ? 'a hard disk' : 'a CD-ROM'} in the snapshot and is ${cd ? 'a CD-ROM' : 'a hard disk'} here: give the same -drive media= as the source`);
    }
    if (cd) {
      const here = cd.media?.size ?? 0, monitorName = ideDriveName(idePosition(drives(m), i), true);
      if (s.kind !== KIND_CD_EMPTY && here !== s.size) {
        throw new SnapshotError(`CD-ROM ${monitorName} held ${name} (${s.size} bytes) in the snapshot and ${here ? `a ${here}-byte medium` : 'no medium'} here: put the same ISO in (-cdrom, or the monitor's change ${monitorName} FILE)`);
      }
      if (s.kind === KIND_CD_EMPTY) loads.push(() => cd.load(null));
      return;
    }
    if (s.size !== d.disk.size) {
      throw new SnapshotError(`disk ${name} is ${s.size} bytes in the snapshot and ${driveName(d, i)} here is ${d.disk.size}: attach the same image as the source`);
    }
    const overlay = s.kind === KIND_OVERLAY;
    if (overlay && !(d.disk instanceof OverlayDisk)) {
      throw new SnapshotError(`disk ${name} ran under -snapshot in the snapshot (its writes are in the file): start emu with -snapshot too`);
    }
    if (d.disk instanceof OverlayDisk) {
      const disk = d.disk;
      const sectors = overlay ? decodeOverlay(sections.get(`disk/${i}`) ?? new Uint8Array(0), i, s.size) : [];
      loads.push(() => disk.loadSectors(sectors));
    }
  });
  return () => { for (const f of loads) f(); };
}
