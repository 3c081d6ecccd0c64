// Boot-time benchmark for Debian's kernel under the interpreter: bundles bench/linux-boot.ts
// with esbuild (as the CLI is bundled) and runs it in a fresh process per backend, interp then
// jit, so "process start" is that process's. Usage: npm run guest:linux once, then
// node bench/linux-boot.mjs [interp|jit ...]
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bench-linux-boot.mjs');
await build({
  entryPoints: [join(root, 'bench/linux-boot.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'error',
  minifySyntax: true,
  footer: { js: `await main(${JSON.stringify(join(root, 'guests/linux/out'))}, process.argv[2]);` },
});
const accels = process.argv.length > 2 ? process.argv.slice(2) : ['interp', 'jit'];
let status = 0;
const boots = [];
for (const accel of accels) {
  const r = spawnSync(process.execPath, [out, accel], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  process.stdout.write(r.stdout ?? '');
  status ||= r.status ?? 1;
  const m = /process start -> ".*": ([\d.]+) s, (\d+) M guest instructions/.exec(r.stdout ?? '');
  if (m) boots.push({ accel, secs: Number(m[1]), minsns: Number(m[2]) });
}
if (boots.length > 1) {
  console.log('\nside by side, process start -> banner (one run each, fresh processes):');
  for (const b of boots) console.log(`  ${b.accel.padEnd(7)} ${b.secs.toFixed(1).padStart(6)} s  ${b.minsns} M instructions`);
  console.log(`  ${boots[0].accel}/${boots[1].accel}: ${(boots[0].secs / boots[1].secs).toFixed(2)}x`);
}
process.exit(status);
