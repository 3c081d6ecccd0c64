// Linux snapshotted in the middle of its boot, under --deterministic: machine A boots
// to `snapAt` instructions, saves a snapshot, and runs on to `endAt`; machine B restores
// the snapshot and runs to `endAt` too. B's serial output must be byte for byte what A
// printed after the snapshot, at the same instruction count, with the same CPU state and
// RAM. Bundled and run in a child process (guests/linux/session-spawn.ts spawnBundled),
// as the boot test is, for the CLI's speed.
import { existsSync, readFileSync } from 'node:fs';
import { bootRecipe } from '../../machine/boot.js';
import '../../machine/linux.js';
import { Machine } from '../../machine/machine.js';
import { restoreSnapshot, saveSnapshot } from '../../machine/snapshot.js';

export interface SnapshotRunResult {
  /** What A printed before the snapshot, and after it. */
  before: string;
  after: string;
  /** What B printed from the restore on. */
  restored: string;
  instructions: { snapshot: number; a: number; b: number };
  snapshotBytes: number;
  /** Offsets where A's and B's CPU state records differ, and RAM pages that differ. */
  cpuDiffs: number[];
  ramDiffPages: number[];
  ms: { a: number; b: number };
}

function linuxMachine(outDir: string, accel: 'interp' | 'jit', memory: number): { m: Machine; serial: () => string } {
  let serial = '';
  const m = new Machine({ memory, accel, deterministic: true, noReboot: true, onSerial: (b) => { serial += String.fromCharCode(b); } });
  m.boot(bootRecipe({
    kernel: { name: 'vmlinuz', bytes: new Uint8Array(readFileSync(`${outDir}/vmlinuz`)) },
    initrd: { name: 'initrd.img', bytes: new Uint8Array(readFileSync(`${outDir}/initrd.img`)) },
    cmdline: 'console=ttyS0',
  }));
  return { m, serial: () => serial };
}

function runTo(m: Machine, instructions: number): void {
  while (!m.exited && m.instructions() < instructions) m.runSteps(1);
}

export async function snapshotRun(outDir: string, accel: 'interp' | 'jit', memory: number, snapAt: number, endAt: number): Promise<SnapshotRunResult> {
  const t0 = performance.now();
  const a = linuxMachine(outDir, accel, memory);
  runTo(a.m, snapAt);
  const snap = await saveSnapshot(a.m);
  const snapshot = a.m.instructions();
  const mark = a.serial().length;
  runTo(a.m, endAt);
  const t1 = performance.now();
  const b = linuxMachine(outDir, accel, memory);
  await restoreSnapshot(b.m, snap);
  runTo(b.m, endAt);
  const t2 = performance.now();
  const sa = a.m.backend.getState(), sb = b.m.backend.getState();
  const cpuDiffs = [...sa.keys()].filter((i) => sa[i] !== sb[i]);
  const ra = new Int32Array(a.m.memory.buffer, 0, memory / 4), rb = new Int32Array(b.m.memory.buffer, 0, memory / 4);
  const ramDiffPages: number[] = [];
  for (let p = 0; p < memory / 4096 && ramDiffPages.length < 16; p++) {
    for (let i = p * 1024; i < (p + 1) * 1024; i++) if (ra[i] !== rb[i]) { ramDiffPages.push(p); break; }
  }
  return {
    before: a.serial().slice(0, mark), after: a.serial().slice(mark), restored: b.serial(),
    instructions: { snapshot, a: a.m.instructions(), b: b.m.instructions() }, snapshotBytes: snap.length,
    cpuDiffs, ramDiffPages, ms: { a: t1 - t0, b: t2 - t1 },
  };
}

/** Child-process entry: argv = outDir interp|jit memoryMiB snapAtM endAtM; prints the result as JSON on the last line. */
export async function runSnapshotCli(argv: string[]): Promise<void> {
  const [outDir, accel, mib, snapAt, endAt] = argv;
  if (!existsSync(`${outDir}/vmlinuz`) || !existsSync(`${outDir}/initrd.img`)) {
    console.error(`${outDir}: vmlinuz or initrd.img is missing; run npm run guest:linux first`);
    process.exit(1);
  }
  const r = await snapshotRun(outDir, accel === 'jit' ? 'jit' : 'interp', Number(mib) << 20, Number(snapAt) * 1e6, Number(endAt) * 1e6);
  process.stdout.write(`\n${JSON.stringify(r)}\n`);
  process.exit(0);
}
