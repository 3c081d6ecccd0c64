// `npm run bench`: bundle the interpreter benchmark with esbuild (as the CLI is
// bundled, so V8 sees the same code) and run it.
import { build } from 'esbuild';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'bench-interp.mjs');
await build({
  entryPoints: [join(root, 'bench/interp.ts')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'error',
  minifySyntax: true,
});
const { main } = await import(pathToFileURL(out).href);
const n = Number(process.argv[2] ?? 5_000_000);
main(n);
