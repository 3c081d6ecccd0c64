// Linux snapshotted in the middle of its boot under --deterministic (guests/linux/
// snapshot-session.ts, bundled in a child). The quick case (in npm test) snapshots the
// kernel at 10 M instructions, early in its boot, and runs both machines to 30 M: the copy
// ends with the same instruction count, CPU state and RAM. The long case
// (npm run test:linux-snapshot) snapshots at 800 M and runs past the shell's banner: the
// serial output after the restore is byte for byte the uninterrupted run's.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BANNER } from '../../guests/linux/initramfs.js';
import { spawnBundled } from '../../guests/linux/session-spawn.js';
import type { SnapshotRunResult } from '../../guests/linux/snapshot-session.js';

const OUT = join(__dirname, '../../guests/linux/out');
const present = existsSync(join(OUT, 'vmlinuz')) && existsSync(join(OUT, 'initrd.img'));
const LONG = process.env.EMU_LINUX_SNAPSHOT === '1';
if (!present) console.log('skipping the Linux mid-boot snapshot test: guests/linux/out has no kernel (npm run guest:linux)');

function run(snapM: number, endM: number): Promise<SnapshotRunResult> {
  return spawnBundled<SnapshotRunResult>('snapshot-session', 'runSnapshotCli', [OUT, 'jit', '128', String(snapM), String(endM)]);
}

function summary(r: SnapshotRunResult): string {
  return `snapshot at ${(r.instructions.snapshot / 1e6).toFixed(1)} M instructions (${(r.snapshotBytes / 1048576).toFixed(1)} MiB), both at ${(r.instructions.a / 1e6).toFixed(1)} M; ` +
    `serial ${r.before.length} bytes before, ${r.after.length} after; ${(r.ms.a / 1000).toFixed(0)} s + ${(r.ms.b / 1000).toFixed(0)} s`;
}

describe.skipIf(!present)('Linux snapshotted mid-boot (--deterministic, jit, -m 128M)', () => {
  it('early in the boot (10 M -> 30 M instructions): the copy ends with the same instruction count, CPU state and RAM', async () => {
    const r = await run(10, 30);
    console.log(`linux mid-boot snapshot (quick): ${summary(r)}`);
    expect(r.instructions.b).toBe(r.instructions.a);
    expect(r.instructions.a).toBeGreaterThanOrEqual(30e6);
    expect(r.cpuDiffs).toEqual([]);
    expect(r.ramDiffPages).toEqual([]);
    expect(r.restored).toBe(r.after);
  }, 600_000);

  it.skipIf(!LONG)('during kernel init (800 M -> 1600 M, past the banner): the serial output after the restore is the uninterrupted run\'s', async () => {
    const r = await run(800, 1600);
    console.log(`linux mid-boot snapshot (long): ${summary(r)}`);
    expect(r.after).toContain(BANNER);
    expect(r.after.length).toBeGreaterThan(1000);
    expect(r.restored).toBe(r.after);
    expect(r.instructions.b).toBe(r.instructions.a);
    expect(r.cpuDiffs).toEqual([]);
    expect(r.ramDiffPages).toEqual([]);
  }, 3_600_000);
});
