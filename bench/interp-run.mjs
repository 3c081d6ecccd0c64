// `npm run bench [-- iterations]`: bundle the interpreter/JIT benchmark (as the CLI is bundled,
// so V8 sees the same code) and run it; then, in the same run, the same loops under v86's JIT
// (32-bit loops; npm `v86`) and QEMU TCG (where `qemu-system-x86_64` is installed:
// bench/setup-qemu.sh), and one table side by side. Every figure is MIPS per CPU-second.
import { load } from './bundle.mjs';
import { qemuLoops, qemuMissing, v86Loops } from './emulators.mjs';

const { main } = await load('bench/interp.ts', 'bench-interp');
const { loopGuest, PER_ITERATION } = await load('bench/loop-guest.ts', 'bench-loop-guest');
const n = Number(process.argv[2] ?? 5_000_000);
const figures = main(n);

const NAMES = ['alu', 'mem', 'call'];
/** Other emulators run longer loops: they are fast, and QEMU's figure is a difference of two runs. */
const OTHERS_ITERATIONS = Math.max(n * 10, 20_000_000);
const others = new Map(); // '32-bit alu' -> { v86, qemu }
const note = [];
try {
  const v = await v86Loops(loopGuest(32, OTHERS_ITERATIONS, false), PER_ITERATION);
  for (const [name, mips] of v) others.set(`32-bit ${name}`, { ...others.get(`32-bit ${name}`), v86: mips });
} catch (e) {
  note.push(`v86: ${e.message}`);
}
const missing = qemuMissing();
if (missing) note.push(`QEMU: ${missing}`);
else {
  for (const mode of [32, 64]) {
    for (const [name, mips] of qemuLoops(loopGuest, mode, NAMES, OTHERS_ITERATIONS * 4, PER_ITERATION)) {
      others.set(`${mode}-bit ${name}`, { ...others.get(`${mode}-bit ${name}`), qemu: mips });
    }
  }
}
const cell = (v) => (v === undefined ? 'n/a' : v.toFixed(0)).padStart(10);
console.log('\nside by side, MIPS per CPU-second (one run):');
console.log(`loop        ${['interp', 'jit', 'v86 JIT', 'QEMU TCG', 'jit/v86'].map((h) => h.padStart(10)).join('')}`);
for (const [loop, [interp, jit]] of figures) {
  const o = others.get(loop) ?? {};
  const ratio = jit !== undefined && o.v86 !== undefined ? `${(jit / o.v86).toFixed(2)}x`.padStart(10) : 'n/a'.padStart(10);
  console.log(`${loop.padEnd(12)}${cell(interp)}${cell(jit)}${cell(o.v86)}${cell(o.qemu)}${ratio}`);
}
for (const line of note) console.log(line);
process.exit(0);
