// Bundles the CLI into dist/emu.mjs with esbuild. One bundle lets V8 see the
// interpreter's constants as plain locals (scope hoisting), which matters on hot paths.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const quiet = process.argv.includes('--quiet');

await build({
  entryPoints: { emu: join(root, 'cli/main.ts') },
  outdir: join(root, 'dist'),
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // Folds constant expressions and dead branches the const enums leave behind: ~20% on a Linux boot.
  minifySyntax: true,
  packages: 'external',
  logLevel: quiet ? 'error' : 'info',
});
