// `node bench/linux-decompress.mjs [--kernel F] [--profile] [--insns N] [interp|jit ...]`: the kernel's
// decompressor (bench/linux-decompress.ts) in a fresh process per backend, side by side, to the
// kernel's first console byte. Default kernel: guests/linux/out/vmlinuz (Debian's cloud kernel,
// LZ4); Debian's generic kernel is xz (apt-get download linux-image-6.1.0-NN-amd64, then
// dpkg-deb --fsys-tarfile ... | tar -x ./boot). Add node flags (--cpu-prof) as NODE_OPTIONS.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, root } from './bundle.mjs';

const args = process.argv.slice(2);
const k = args.indexOf('--kernel');
const kernel = k < 0 ? join(root, 'guests/linux/out/vmlinuz') : args.splice(k, 2)[1];
const n = args.indexOf('--insns');
const insns = n < 0 ? 'Infinity' : args.splice(n, 2)[1];
const profile = args.includes('--profile') ? (args.splice(args.indexOf('--profile'), 1), true) : false;
const initrd = join(root, 'guests/linux/out/initrd.img');
for (const f of [kernel, initrd]) if (!existsSync(f)) { console.error(`linux-decompress: ${f} is missing; npm run guest:linux fetches the kernel and initrd`); process.exit(2); }
const out = await bundle('bench/linux-decompress.ts', 'bench-linux-decompress', {
  footer: { js: 'await main(process.argv[2], process.argv[3], process.argv[4], process.argv[5] === "1", Number(process.argv[6]));' },
});
let status = 0;
for (const accel of args.length ? args : ['interp', 'jit']) {
  const r = spawnSync(process.execPath, [out, kernel, initrd, accel, profile ? '1' : '0', insns], { stdio: 'inherit' });
  status ||= r.status ?? 1;
}
process.exit(status);
