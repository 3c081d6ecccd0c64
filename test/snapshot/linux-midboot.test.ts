// Linux snapshotted in the middle of its boot under --deterministic (guests/linux/
// snapshot-session.ts, bundled in a child). The quick case (in npm test) snapshots the
// kernel at 10 M instructions, early in its boot, and runs both machines to 30 M: the copy
// ends with the same instruction count, CPU state and RAM (Linux prints its first line near
// 175 M, so this window has no serial output; a case with output cannot fit npm test's budget).
// The long case (npm run test:linux-snapshot) snapshots at 1300 M, late in kernel init but
// before its last lines ("Freeing unused kernel memory", "Run /init", from ~1365 M), and runs
// both machines to 1450 M, past the busybox banner (~1386 M at -m 80M): the serial output
// after the restore is byte for byte the uninterrupted run's. -m 80M is about the least this
// kernel boots in (it needs 68 MiB to decompress).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BANNER } from '../../guests/linux/initramfs.js';
import { spawnBundled } from '../../guests/linux/session-spawn.js';
import type { SnapshotRunResult } from '../../guests/linux/snapshot-session.js';

const OUT = join(__dirname, '../../guests/linux/out');
const present = existsSync(join(OUT, 'vmlinuz')) && existsSync(join(OUT, 'initrd.img'));
const LONG = process.env.EMU_LINUX_SNAPSHOT === '1';
const MIB = 80;
if (!present) console.log('skipping the Linux mid-boot snapshot test: guests/linux/out has no kernel (npm run guest:linux)');

function run(snapM: number, endM: number): Promise<SnapshotRunResult> {
  return spawnBundled<SnapshotRunResult>('snapshot-session', 'runSnapshotCli', [OUT, 'jit', String(MIB), String(snapM), String(endM)]);
}

function summary(r: SnapshotRunResult): string {
  return `snapshot at ${(r.instructions.snapshot / 1e6).toFixed(1)} M instructions (${(r.snapshotBytes / 1048576).toFixed(1)} MiB), both at ${(r.instructions.a / 1e6).toFixed(1)} M; ` +
    `serial ${r.before.length} bytes before, ${r.after.length} after; ${(r.ms.a / 1000).toFixed(0)} s + ${(r.ms.b / 1000).toFixed(0)} s`;
}

describe.skipIf(!present)('Linux snapshotted mid-boot (--deterministic, jit, -m 80M)', () => {
  it('early in the boot (10 M -> 30 M instructions): the copy ends with the same instruction count, CPU state and RAM', async () => {
    const r = await run(10, 30);
    console.log(`linux mid-boot snapshot (quick): ${summary(r)}`);
    expect(r.instructions.b).toBe(r.instructions.a);
    expect(r.instructions.a).toBeGreaterThanOrEqual(30e6);
    expect(r.cpuDiffs).toEqual([]);
    expect(r.ramDiffPages).toEqual([]);
    expect(r.restored).toBe(r.after);
  }, 600_000);

  it.skipIf(!LONG)('late in kernel init (1300 M -> 1450 M, past the banner): the serial output after the restore is the uninterrupted run\'s', async () => {
    const r = await run(1300, 1450);
    console.log(`linux mid-boot snapshot (long): ${summary(r)}`);
    expect(r.before).toContain('Linux version');
    expect(r.before).not.toContain('Run /init');
    expect(r.after).toContain('Run /init as init process');
    expect(r.after).toContain(BANNER);
    expect(r.after.split('\n').length).toBeGreaterThan(10);
    expect(r.restored).toBe(r.after);
    expect(r.instructions.b).toBe(r.instructions.a);
    expect(r.cpuDiffs).toEqual([]);
    expect(r.ramDiffPages).toEqual([]);
  }, 1_800_000);
});
