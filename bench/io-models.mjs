// IDE against virtio-blk under the same Linux workload (bench/io-models.ts), bundled like
// the CLI and run in a fresh process. Needs npm run guest:linux and guest:linux-disk, and
// mkfs.ext4. Usage: node bench/io-models.mjs [--mb=64] [--files=200] [--accel=interp|jit] [--svg=PATH] [--echo]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { bundle, root } from './bundle.mjs';

const out = await bundle('bench/io-models.ts', 'bench-io-models', {
  footer: { js: `await main(${JSON.stringify(join(root, 'guests/linux/out'))}, process.argv.slice(2));` },
});
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
