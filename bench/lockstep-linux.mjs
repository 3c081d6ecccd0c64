// `npm run lockstep:linux [every]`: bundles bench/lockstep-linux.ts (as the CLI is bundled; the
// interpreter runs several times faster bundled than under a per-file transform) and runs the
// whole Linux boot under --lockstep=interp,jit. Needs npm run guest:linux once.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const guest = join(root, 'guests/linux/out');
if (!existsSync(join(guest, 'vmlinuz')) || !existsSync(join(guest, 'initrd.img'))) {
  console.error('lockstep:linux: guests/linux/out has no vmlinuz/initrd.img; run npm run guest:linux first');
  process.exit(1);
}
const out = join(root, 'dist', 'bench-lockstep-linux.mjs');
await build({
  entryPoints: [join(root, 'bench/lockstep-linux.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'error',
  minifySyntax: true,
});
const { main } = await import(pathToFileURL(out).href);
await main(guest, Number(process.argv[2] ?? 1000));
