#!/usr/bin/env node
// The `emu` command: runs the bundled CLI (built by `npm install` / `npm run build`).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const bundle = fileURLToPath(new URL('../dist/emu.mjs', import.meta.url));
if (!existsSync(bundle)) {
  process.stderr.write('emu: dist/emu.mjs is missing; run `npm install` (or `npm run build`) in the emu checkout first\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(bundle).href);
process.exitCode = await main(process.argv.slice(2));
