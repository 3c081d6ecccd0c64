// `npm run lockstep:linux [every]`: bundles bench/lockstep-linux.ts (as the CLI is bundled; the
// interpreter runs several times faster bundled than under a per-file transform) and runs the
// whole Linux boot under --lockstep=interp,jit. Needs npm run guest:linux once.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { load, root } from './bundle.mjs';

const guest = join(root, 'guests/linux/out');
if (!existsSync(join(guest, 'vmlinuz')) || !existsSync(join(guest, 'initrd.img'))) {
  console.error('lockstep:linux: guests/linux/out has no vmlinuz/initrd.img; run npm run guest:linux first');
  process.exit(1);
}
const { main } = await load('bench/lockstep-linux.ts', 'bench-lockstep-linux');
await main(guest, Number(process.argv[2] ?? 1000));
