// Removable media under a monitor's control: QEMU's `change ide1-cd0 FILE` and
// `eject [-f] ide1-cd0` (HMP), `blockdev-change-medium` and `eject` (QMP), on emu's ATAPI
// CD-ROM drives. A drive is named QEMU's way (ide1-cd0: channel 1, unit 0) or by its -drive
// id. The guest sees the change as UNIT ATTENTION on its next command (devices/atapi.ts);
// a drive it has locked (PREVENT MEDIUM REMOVAL) ejects only with force.

import type { BlockBackend } from '../devices/block.js';
import { ideDriveName, idePosition, type DriveSpec } from './io-devices.js';
import type { Machine } from './machine.js';

export class MediaError extends Error {}

/** Opens an ISO image for a drive (the CLI's: a read-only file; throws with one line naming the problem). */
export type OpenMedium = (path: string) => BlockBackend & { close?: () => void };

interface CdSlot { spec: DriveSpec; position: number; name: string }

function cdSlot(m: Machine, device: string): CdSlot {
  const drives = m.options.drives ?? [];
  for (let i = 0; i < drives.length; i++) {
    const d = drives[i];
    if (d.interface !== 'ide') continue;
    const position = idePosition(drives, i), name = ideDriveName(position, d.media === 'cdrom');
    if (device !== name && device !== d.id) continue;
    if (d.media !== 'cdrom') throw new MediaError(`Device '${device}' is not removable`);
    return { spec: d, position, name };
  }
  const cds = drives.map((d, i) => (d.interface === 'ide' && d.media === 'cdrom' ? ideDriveName(idePosition(drives, i), true) : '')).filter(Boolean);
  throw new MediaError(`Device '${device}' not found${cds.length ? `; CD-ROM drives: ${cds.join(', ')}` : ' (this machine has no CD-ROM drive; add one with -cdrom FILE)'}`);
}

const locked = (device: string): MediaError => new MediaError(`Device '${device}' is locked and force was not specified, wait for tray to open and try again`);

function closeMedium(disk: BlockBackend | null): void {
  (disk as { close?: () => void } | null)?.close?.();
}

/** Eject the medium; refused while the guest holds the drive locked, unless `force`. Returns the drive's name. */
export function ejectMedium(m: Machine, device: string, force: boolean): string {
  const slot = cdSlot(m, device), ide = m.devices.io.ide!;
  const old = ide.cdrom(slot.position)!.media;
  if (ide.changeMedia(slot.position, null, force) === 'locked') throw locked(device);
  closeMedium(old);
  slot.spec.name = undefined;
  return slot.name;
}

/** Put the image at `path` in the drive in place of what was there; refused while the guest holds the drive locked. */
export function changeMedium(m: Machine, device: string, path: string, open: OpenMedium): string {
  const slot = cdSlot(m, device), ide = m.devices.io.ide!;
  if (ide.locked(slot.position)) throw locked(device);
  const disk = open(path);
  const old = ide.cdrom(slot.position)!.media;
  ide.changeMedia(slot.position, disk);
  closeMedium(old);
  slot.spec.disk = disk;
  slot.spec.name = path;
  return slot.name;
}
