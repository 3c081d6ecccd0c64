// Disks in snapshots: a -snapshot overlay's written sectors travel in the file and come
// back on restore (the base image never changes); a raw image is not copied, so a
// restore checks that the same drives are attached, on the same interfaces, with the
// same sizes, and refuses with one line otherwise, having changed nothing.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryDisk, OverlayDisk, type BlockBackend } from '../../devices/block.js';
import { bootRecipe } from '../../machine/boot.js';
import type { DriveSpec } from '../../machine/io-devices.js';
import { Machine } from '../../machine/machine.js';
import { restoreSnapshot, saveSnapshot } from '../../machine/snapshot.js';

const IMAGE = readFileSync('guests/tinyos/tinyos.elf');
const MIB = 1 << 20;

function board(drives: DriveSpec[]): Machine {
  const m = new Machine({ memory: 16 * MIB, accel: 'interp', deterministic: true, noReboot: true, drives });
  m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: IMAGE } }));
  m.runSteps(20);
  return m;
}

function pattern(seed: number, n = 1024): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + seed) & 0xff);
}

function read(disk: BlockBackend, offset: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  disk.read(offset, b);
  return b;
}

describe('disks in snapshots', () => {
  it('a -snapshot overlay (virtio) is restored sector for sector; a raw image (IDE) is the shared one, unchanged', async () => {
    const base = pattern(1, 4 * MIB), raw = new MemoryDisk(pattern(2, 2 * MIB));
    const src = board([{ interface: 'virtio', disk: new OverlayDisk(new MemoryDisk(base.slice())), name: 'root.img' }, { interface: 'ide', disk: raw, name: 'data.img' }]);
    const overlay = src.options.drives![0].disk;
    overlay.write(1000, pattern(3)); // straddles sectors 1 and 3
    overlay.write(3 * MIB, pattern(4, 512));
    const snap = await saveSnapshot(src);
    overlay.write(1000, pattern(9)); // after the snapshot: gone after a restore

    const dstOverlay = new OverlayDisk(new MemoryDisk(base.slice()));
    dstOverlay.write(0, pattern(5, 512)); // the destination's own writes: replaced by the snapshot's overlay
    const dst = board([{ interface: 'virtio', disk: dstOverlay, name: 'root.img' }, { interface: 'ide', disk: raw, name: 'data.img' }]);
    await restoreSnapshot(dst, snap);
    expect(dstOverlay.dirtySectors).toBe(4);
    expect(read(dstOverlay, 1000, 1024)).toEqual(pattern(3));
    expect(read(dstOverlay, 3 * MIB, 512)).toEqual(pattern(4, 512));
    expect(read(dstOverlay, 0, 512)).toEqual(base.subarray(0, 512));
    expect(read(dstOverlay, 2 * MIB, 4096)).toEqual(base.subarray(2 * MIB, 2 * MIB + 4096));
    expect(read(raw, 0, 4096)).toEqual(pattern(2, 4096));
    // A restore into the same machine drops the writes made since.
    await restoreSnapshot(src, snap);
    expect(read(overlay, 1000, 1024)).toEqual(pattern(3));
    src.destroy(); dst.destroy();
  }, 60_000);

  it('different drives -> one line naming the fix, and nothing is loaded', async () => {
    const overlay = () => new OverlayDisk(new MemoryDisk(new Uint8Array(4 * MIB)));
    const src = board([{ interface: 'virtio', disk: overlay(), name: 'root.img' }]);
    src.options.drives![0].disk.write(0, pattern(6, 512));
    const snap = await saveSnapshot(src);
    const cases: [DriveSpec[], string][] = [
      [[], "the snapshot's guest has 1 disk and this machine 0: attach the same -drive images as the source"],
      [[{ interface: 'virtio', disk: overlay() }, { interface: 'virtio', disk: overlay() }], "the snapshot's guest has 1 disk and this machine 2: attach the same -drive images as the source"],
      [[{ interface: 'ide', disk: overlay() }], "disk 'root.img' was on virtio in the snapshot and is on ide here: give the same -drive if= as the source"],
      [[{ interface: 'virtio', disk: new OverlayDisk(new MemoryDisk(new Uint8Array(2 * MIB))), name: 'small.img' }], "disk 'root.img' is 4194304 bytes in the snapshot and 'small.img' here is 2097152: attach the same image as the source"],
      [[{ interface: 'virtio', disk: new MemoryDisk(new Uint8Array(4 * MIB)) }], "disk 'root.img' ran under -snapshot in the snapshot (its writes are in the file): start emu with -snapshot too"],
    ];
    for (const [drives, msg] of cases) {
      const m = board(drives);
      const before = await saveSnapshot(m);
      await expect(restoreSnapshot(m, snap)).rejects.toThrow(msg);
      expect(await saveSnapshot(m)).toEqual(before);
      m.destroy();
    }
    // A raw image in the snapshot may be restored under -snapshot: the overlay starts empty.
    const rawSnap = await saveSnapshot(board([{ interface: 'virtio', disk: new MemoryDisk(new Uint8Array(4 * MIB)) }]));
    const o = overlay();
    o.write(0, pattern(7, 512));
    const m = board([{ interface: 'virtio', disk: o }]);
    await restoreSnapshot(m, rawSnap);
    expect(o.dirtySectors).toBe(0);
    src.destroy(); m.destroy();
  }, 60_000);
});
