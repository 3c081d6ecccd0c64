// A -snapshot overlay bigger than one migration message (64 MiB) migrates live: its
// sectors go in pre-copy rounds beside RAM's, the sectors written meanwhile are logged
// and sent again, the last ones in the stop-and-copy, and the destination's overlay ends
// sector for sector the source's. The writes during pre-copy come from the host here, as
// a device's DMA would, between the migration's messages.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MemoryDisk, OverlayDisk, SECTOR_SIZE } from '../../devices/block.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { migrateOut, newMigrationStats, receiveMigration } from '../../machine/migrate.js';
import { channelPair } from './channel.js';

const MIB = 1 << 20;
const DISK = 160 * MIB;

function board(disk: OverlayDisk): Machine {
  const m = new Machine({ memory: 16 * MIB, accel: 'interp', deterministic: true, noReboot: true, drives: [{ interface: 'virtio', disk, name: 'big.img' }] });
  m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync('guests/tinyos/tinyos.elf') } }));
  m.runSteps(20);
  return m;
}

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) new DataView(b.buffer).setUint32(i, (seed * 0x9e3779b1 + i) >>> 0, true);
  return b;
}

describe('live migration of a -snapshot overlay larger than a message', () => {
  it('66 MiB written in one run plus sectors far apart: pre-copy rounds, sectors written meanwhile sent again, the copy sector for sector', async () => {
    const base = new MemoryDisk(new Uint8Array(DISK)); // the image both sides attach
    const overlay = new OverlayDisk(base), dstOverlay = new OverlayDisk(base);
    for (let mib = 8; mib < 74; mib++) overlay.write(mib * MIB, fill(MIB, mib));
    for (const at of [0, 100 * MIB + 512 * 7, DISK - SECTOR_SIZE]) overlay.write(at, fill(SECTOR_SIZE, at));
    overlay.write(3 * MIB + 100, fill(1000, 3)); // unaligned: three sectors, partly the base's
    const held = overlay.dirtySectors;
    expect(held * SECTOR_SIZE).toBeGreaterThan(64 * MIB);
    const src = board(overlay), dst = board(dstOverlay);
    dstOverlay.write(5 * MIB, fill(SECTOR_SIZE, 99)); // the destination's own: replaced

    // "DMA" while the migration runs: rewrite sectors already sent and add new ones.
    let writes = 0, stopped = false;
    const writer = (): void => {
      if (stopped) return;
      overlay.write((8 + (writes % 66)) * MIB + (writes % 2048) * SECTOR_SIZE, fill(SECTOR_SIZE, 1000 + writes));
      overlay.write(120 * MIB + writes * SECTOR_SIZE, fill(SECTOR_SIZE, 5000 + writes));
      writes++;
      setImmediate(writer);
    };
    setImmediate(writer);

    const [a, b] = channelPair();
    const stats = newMigrationStats(), inStats = newMigrationStats();
    const arrived = receiveMigration(dst, b, inStats);
    await migrateOut(src, a, { downtimeLimitMs: 300, maxBandwidth: 0 }, stats, { cancelled: () => false, stopGuest: () => { stopped = true; src.pause(); }, wasRunning: true });
    await arrived;
    console.log(`overlay migration: ${held} sectors held at the start, ${writes} write pairs during it; ${stats.rounds} rounds, ${stats.diskSectors} sectors sent (${(stats.diskBytes / MIB).toFixed(1)} MiB), downtime ${stats.downtimeMs.toFixed(0)} ms`);

    expect(writes).toBeGreaterThan(0);
    expect(stats.rounds).toBeGreaterThanOrEqual(2);
    expect(stats.diskSectors).toBeGreaterThan(held); // the first round's, and the rewritten ones again
    expect(inStats.diskSectors).toBe(stats.diskSectors);
    const numbers = overlay.sectorNumbers();
    expect(numbers.length).toBe(held + writes);
    expect(dstOverlay.sectorNumbers()).toEqual(numbers);
    let differ = 0;
    for (const n of numbers) if (Buffer.compare(dstOverlay.sector(n)!, overlay.sector(n)!) !== 0) differ++;
    expect(differ).toBe(0);
    const r = new Uint8Array(1000);
    dstOverlay.read(3 * MIB + 100, r);
    expect(r).toEqual(fill(1000, 3));
    // The source's write log is off again.
    overlay.write(0, fill(SECTOR_SIZE, 7));
    expect(overlay.takeWritten()).toEqual([]);
    src.destroy(); dst.destroy();
  }, 300_000);
});
