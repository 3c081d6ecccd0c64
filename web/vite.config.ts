// Vite config for the browser demo: root is web/, output web/dist/, relative
// asset URLs so the build works from any static file server and any path.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { guestImages } from './guest-images.ts';

const webRoot = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(webRoot, '..');

export default defineConfig({
  root: webRoot,
  base: './',
  plugins: [guestImages(repoRoot)],
  worker: { format: 'es' },
  build: {
    outDir: join(webRoot, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    // Guest images are binary assets; never inline them as data: URLs.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 2048,
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    // The machine's code lives outside web/ (machine/, cpu/, devices/, mmu/).
    fs: { allow: [repoRoot] },
  },
});
