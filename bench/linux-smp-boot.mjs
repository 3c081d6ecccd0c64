// Boot time of Debian's kernel with 1, 2 and 4 vCPUs side by side (issue 17): each boot runs
// guests/linux/session.ts in a fresh process under the JIT with instruction time
// (--deterministic, as test/platform/linux-smp.test.ts boots), stops at the shell's banner,
// and reports wall time from loading the images, the guest instructions by then and how
// they split over the vCPUs. Usage: npm run guest:linux once, then
// node bench/linux-smp-boot.mjs [vCPUs ...]   (default 1 2 4)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundle, root } from './bundle.mjs';

const out = await bundle('guests/linux/session.ts', 'bench-linux-smp-boot', { footer: { js: 'await runSessionCli(process.argv.slice(2));' } });
const counts = process.argv.length > 2 ? process.argv.slice(2).map(Number) : [1, 2, 4];
const rows = [];
let status = 0;
for (const n of counts) {
  // An empty command list stops the session at the banner.
  const r = spawnSync(process.execPath, [out, join(root, 'guests/linux/out'), '', 'direct', 'jit', String(n), 'det'],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
  const last = (r.stdout ?? '').trimEnd().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) { console.log(`-smp ${n}: the session failed (exit ${r.status})`); status = 1; continue; }
  const s = JSON.parse(last);
  const banner = s.marks.find((k) => k.name === 'userspace');
  if (!banner) { console.log(`-smp ${n}: no banner (${s.reason})`); status = 1; continue; }
  const row = { n, secs: (banner.ms - s.loadedMs) / 1000, minsns: banner.instructions / 1e6, per: s.vcpus.map((v) => v.instructions / 1e6) };
  rows.push(row);
  console.log(`-smp ${n}: banner after ${row.secs.toFixed(1)} s, ${row.minsns.toFixed(0)} M instructions (per vCPU at the end: ${row.per.map((x) => x.toFixed(0)).join(', ')} M)`);
}
if (rows.length > 1) {
  console.log('\nside by side, images loaded -> banner (jit, instruction time, one run each, fresh processes):');
  for (const r of rows) console.log(`  -smp ${String(r.n).padEnd(3)} ${r.secs.toFixed(1).padStart(7)} s  ${r.minsns.toFixed(0).padStart(6)} M instructions  ${(r.secs / rows[0].secs).toFixed(2)}x`);
}
process.exit(status);
