// Entry point of `npm run guest:linux`: bundles build.ts with esbuild (Node 20 runs no
// TypeScript) into the git-ignored out/ folder and runs it.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
// `node run.mjs disk` runs disk.ts (npm run guest:linux-disk) instead of build.ts.
const entry = process.argv[2] === 'disk' ? 'disk' : 'build';
const outfile = join(here, 'out', `${entry}.mjs`);
await build({
  entryPoints: [join(here, `${entry}.ts`)],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'error',
});
const { main } = await import(pathToFileURL(outfile).href);
main();
