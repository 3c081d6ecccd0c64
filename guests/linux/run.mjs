// Entry point of `npm run guest:linux`: bundles build.ts with esbuild (Node 20 runs no
// TypeScript) into the git-ignored out/ folder and runs it.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outfile = join(here, 'out', 'build.mjs');
await build({
  entryPoints: [join(here, 'build.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'error',
});
const { main } = await import(pathToFileURL(outfile).href);
main();
