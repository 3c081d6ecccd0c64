// Bundles a benchmark's TypeScript entry point the way the CLI is bundled (one
// ESM file, const enums folded by minifySyntax), so it measures the code V8
// runs under `emu`, and imports it.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundle `entry` (relative to the repo root) into dist/NAME.mjs; returns its path. */
export async function bundle(entry, name, extra = {}) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  const outfile = join(root, 'dist', `${name}.mjs`);
  await build({
    entryPoints: [join(root, entry)], outfile, bundle: true, platform: 'node', format: 'esm',
    target: 'node20', logLevel: 'error', minifySyntax: true, ...extra,
  });
  return outfile;
}

/** Bundle and import `entry`; returns its module. */
export async function load(entry, name) {
  return import(pathToFileURL(await bundle(entry, name)).href);
}
