// The benchmark loops under other emulators, for `npm run bench`: v86's JIT (npm `v86`, in
// this process) and QEMU TCG (`qemu-system-x86_64`, where installed: bench/setup-qemu.sh).
// Each boots bench/loop-guest.ts's multiboot image. Like emu's own figures these are MIPS per
// CPU-second, so a busy shared machine does not skew them: v86 is timed with this process's
// CPU time between the two bytes the guest writes to COM1 around a loop (boot excluded);
// QEMU, a separate process, by its CPU time (bash's `times`) for a guest running one loop
// N times minus the same guest running it once (boot and exit cancel out).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

/** v86 (npm) on a 32-bit loop guest: its JIT, no BIOS (v86 loads multiboot kernels itself). Map loop name -> MIPS. */
export async function v86Loops(guest, perIteration, timeoutMs = 300_000) {
  const { V86 } = await import('v86');
  const started = new Map(), mips = new Map();
  let finish;
  const finished = new Promise((resolve) => { finish = resolve; });
  const emulator = new V86({
    wasm_path: fileURLToPath(new URL('../node_modules/v86/build/v86.wasm', import.meta.url)),
    memory_size: 64 << 20, multiboot: { buffer: guest.image.slice().buffer }, autostart: true,
    disable_keyboard: true, disable_mouse: true, disable_speaker: true,
  });
  // Serial output reaches listeners synchronously, from inside v86's CPU loop.
  emulator.add_listener('serial0-output-byte', (b) => {
    const now = cpuMs(), n = guest.loops.length;
    if (b >= 0x41 && b < 0x41 + n) started.set(b - 0x41, now);
    else if (b >= 0x61 && b < 0x61 + n) {
      const l = guest.loops[b - 0x61];
      mips.set(l.name, (l.iterations * perIteration[l.name]) / ((now - started.get(b - 0x61)) * 1000));
    } else if (b === 0x5a) finish(mips);
  });
  let timer;
  try {
    return await Promise.race([finished, new Promise((_, no) => { timer = setTimeout(() => no(new Error('v86: the loop guest did not finish')), timeoutMs); })]);
  } finally {
    clearTimeout(timer);
    await emulator.destroy?.();
  }
}

/** Why QEMU cannot run here, or null. */
export function qemuMissing() {
  const r = spawnSync('qemu-system-x86_64', ['--version'], { encoding: 'utf8' });
  return r.error ? 'qemu-system-x86_64 not installed (bench/setup-qemu.sh installs it)' : null;
}

/** CPU seconds (user + system) QEMU TCG takes to boot `image` and leave through isa-debug-exit. */
function qemuCpuSeconds(image, timeoutMs) {
  const dir = mkdtempSync(join(tmpdir(), 'emu-bench-'));
  try {
    const file = join(dir, 'loops.bin');
    writeFileSync(file, image);
    const r = spawnSync('bash', ['-c', 'qemu-system-x86_64 "$@" >/dev/null; times', 'qemu', '-accel', 'tcg', '-m', '64', '-display', 'none',
      '-serial', 'null', '-monitor', 'none', '-no-reboot', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-kernel', file],
    { encoding: 'utf8', timeout: timeoutMs });
    const m = /\n(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(r.stdout ?? '');
    if (!m) throw new Error(`qemu: no timing (${(r.stderr || r.stdout || '').trim().split('\n').pop()})`);
    return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** QEMU TCG on each loop of `mode` (32 or 64): Map loop name -> MIPS per CPU-second. */
export function qemuLoops(loopGuest, mode, names, iterations, perIteration, timeoutMs = 300_000) {
  const mips = new Map();
  for (const name of names) {
    const base = qemuCpuSeconds(loopGuest(mode, 1, true, name).image, timeoutMs);
    const full = qemuCpuSeconds(loopGuest(mode, iterations, true, name).image, timeoutMs);
    mips.set(name, ((iterations - 1) * perIteration[name]) / (Math.max(full - base, 1e-3) * 1e6));
  }
  return mips;
}
