// 32-bit programs under a 64-bit kernel (issue 18 item 3): Debian's kernel with an initramfs
// holding both the usual 64-bit busybox and Debian's i386 busybox-static as /bin/busybox32;
// the shell times the same loop under each, under interp, jit and QEMU TCG (where
// qemu-system-x86_64 is installed), one run. Set-up (once): the i386 package is fetched with
// apt-get into dist/compat32/ (dpkg --add-architecture i386; apt-get update; apt-get download).
// Usage: npm run guest:linux once, then node bench/compat32.mjs [iterations] [interp|jit|qemu ...]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, load, root } from './bundle.mjs';
import { qemuMissing } from './emulators.mjs';

const LINUX = join(root, 'guests/linux/out');
const DIR = join(root, 'dist/compat32');
const iterations = Number(process.argv[2] ?? 100);
const which = process.argv.length > 3 ? process.argv.slice(3) : ['interp', 'jit', 'qemu'];
const LOOP = `i=0; while [ $i -lt ${iterations} ]; do i=$((i+1)); done`;
/** What the shell runs: the loop under each busybox, each timed by busybox's time applet. */
const COMMANDS = `time /bin/busybox32 sh -c '${LOOP}'; time /bin/busybox sh -c '${LOOP}'; /bin/busybox32 sh -c 'echo compat32-$((6 * 7))'; uname -a; poweroff\n`;

function fail(msg) { console.error(`bench/compat32: ${msg}`); process.exit(1); }

/** Debian's i386 busybox-static, fetched once with apt-get. */
function busybox32() {
  const bin = join(DIR, 'busybox32');
  if (existsSync(bin)) return bin;
  mkdirSync(DIR, { recursive: true });
  const tmp = join(DIR, 'fetch');
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  const sh = (cmd) => spawnSync('bash', ['-c', cmd], { cwd: tmp, stdio: ['ignore', 'inherit', 'inherit'] }).status === 0;
  if (!sh('dpkg --print-foreign-architectures | grep -qx i386 || dpkg --add-architecture i386')) fail('dpkg --add-architecture i386 failed (needs root)');
  if (!sh('apt-get update -qq && apt-get download busybox-static:i386')) fail('apt-get download busybox-static:i386 failed');
  const deb = readdirSync(tmp).find((f) => f.endsWith('.deb'));
  if (!deb || !sh(`dpkg-deb -x '${deb}' x && cp x/bin/busybox '${bin}'`)) fail('could not extract bin/busybox from the .deb');
  rmSync(tmp, { recursive: true, force: true });
  return bin;
}

/** dist/compat32/{vmlinuz, initrd.img}: the usual initramfs plus /bin/busybox32. */
async function images() {
  if (!existsSync(join(LINUX, 'vmlinuz')) || !existsSync(join(LINUX, 'busybox'))) fail(`${LINUX} lacks vmlinuz or busybox: run npm run guest:linux first`);
  const bb32 = new Uint8Array(readFileSync(busybox32()));
  const { initramfsEntries } = await load('guests/linux/initramfs.ts', 'bench-compat32-initramfs');
  const { writeCpio, S_IFREG } = await load('guests/linux/cpio.ts', 'bench-compat32-cpio');
  const entries = [...initramfsEntries(new Uint8Array(readFileSync(join(LINUX, 'busybox')))), { name: 'bin/busybox32', mode: S_IFREG | 0o755, data: bb32 }];
  writeFileSync(join(DIR, 'initrd.img'), writeCpio(entries));
  if (!existsSync(join(DIR, 'vmlinuz'))) symlinkSync(join(LINUX, 'vmlinuz'), join(DIR, 'vmlinuz'));
}

/** The two `real` times busybox's time printed (32-bit first), in seconds, and whether the i386 binary ran. */
function parse(serial) {
  const reals = [...serial.matchAll(/real\s+(\d+)m\s*([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
  return { t32: reals[0], t64: reals[1], ran32: serial.includes('compat32-42') };
}

/** QEMU TCG on the same kernel and initramfs: type the commands at the first prompt, read the console to poweroff. */
function qemu() {
  return new Promise((resolve) => {
    const q = spawn('qemu-system-x86_64', ['-accel', 'tcg', '-m', '256', '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-no-reboot',
      '-kernel', join(DIR, 'vmlinuz'), '-initrd', join(DIR, 'initrd.img'), '-append', 'console=ttyS0'], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '', typed = false;
    const timer = setTimeout(() => q.kill(), 600_000);
    q.stdout.on('data', (d) => {
      out += d;
      if (!typed && out.includes('emu:/# ')) { typed = true; q.stdin.write(COMMANDS); }
    });
    q.on('exit', () => { clearTimeout(timer); resolve(out); });
  });
}

await images();
const results = [];
const session = await bundle('guests/linux/session.ts', 'bench-compat32-session', { footer: { js: 'await runSessionCli(process.argv.slice(2));' } });
/** emu (guests/linux/session.ts, bundled, in a child process) types the commands at the prompt; its result is the JSON on the last line. */
function emu(accel) {
  const r = spawnSync(process.execPath, [session, DIR, COMMANDS, 'direct', accel], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = (r.stdout ?? '').trimEnd().split('\n').pop() ?? '';
  if (!last.startsWith('{')) fail(`${accel}: the session exited with ${r.status}: ${(r.stderr || r.stdout || '').slice(-2000)}`);
  return JSON.parse(last);
}
for (const accel of which) {
  let serial;
  if (accel === 'qemu') {
    const missing = qemuMissing();
    if (missing) { console.log(`QEMU: ${missing}`); continue; }
    serial = await qemu();
  } else {
    const r = emu(accel);
    serial = r.serial;
    if (r.status !== 0) console.log(`${accel}: exit ${r.status} (${r.reason})`);
  }
  const p = parse(serial);
  if (p.t32 === undefined || p.t64 === undefined) {
    console.log(`${accel}: no timing in the console output; its last lines:\n${serial.slice(-1500)}`);
    continue;
  }
  results.push({ accel, ...p });
  console.log(`${accel}: 32-bit ${p.t32.toFixed(2)} s, 64-bit ${p.t64.toFixed(2)} s (i386 busybox ran: ${p.ran32})`);
}
console.log(`\nside by side, guest 'real' time of ${iterations} shell loop iterations (busybox time; one run each):`);
console.log(`${'backend'.padEnd(8)}${'32-bit s'.padStart(10)}${'64-bit s'.padStart(10)}${'32/64'.padStart(8)}`);
for (const r of results) console.log(`${r.accel.padEnd(8)}${r.t32.toFixed(2).padStart(10)}${r.t64.toFixed(2).padStart(10)}${(r.t32 / r.t64).toFixed(2).padStart(7)}x`);
