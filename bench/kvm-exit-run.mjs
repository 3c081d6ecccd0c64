// `node bench/kvm-exit-run.mjs [exits] [rounds]`: the port-I/O exit round trip
// through emu's TypeScript KVM backend against the same guest loop in a small C
// program on the same /dev/kvm, alternating, in one run. Prints both and the ratio.
// On a nested or software-assisted KVM only the ratio means anything.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { load, root } from './bundle.mjs';

const { kvmExitRoundTrip, nestedKvmWarning } = await load('bench/kvm-exit.ts', 'bench-kvm-exit');
const cbin = join(root, 'dist', 'kvm-exit-c');
execFileSync('cc', ['-O2', '-o', cbin, join(root, 'bench/kvm-exit.c')]);
const warning = nestedKvmWarning();
if (warning) console.log(warning);

const exits = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 3);
kvmExitRoundTrip(500); // warm up V8 on the exit path
const ts = [], cs = [], outside = [];
for (let r = 0; r < rounds; r++) {
  const t = kvmExitRoundTrip(exits);
  ts.push(t.nsPerExit);
  outside.push(t.outsideKvmNsPerExit);
  cs.push(Number(execFileSync(cbin, [String(exits)], { encoding: 'utf8' }).trim().split(' ')[1]));
}
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const t = median(ts), c = median(cs);
console.log(`port-I/O exit round trip, ${exits} exits x ${rounds} rounds (median ns per exit)`);
console.log(`  C program on /dev/kvm : ${c.toFixed(0)} ns   (rounds: ${cs.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  emu TypeScript backend: ${t.toFixed(0)} ns   (rounds: ${ts.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  ratio emu / C         : ${(t / c).toFixed(3)}x (target <= 1.3x)`);
console.log(`  of which outside KVM_RUN in emu (TypeScript exit handling + N-API): ${median(outside).toFixed(0)} ns per exit`);
