// Building, serving and opening the browser demo from Node: shared by the
// real-browser test (test/web/demo.test.ts) and the boot benchmark
// (bench/web-boot.mjs). Plain JS so the benchmark runs under bare node.

import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB_DIST = join(REPO_ROOT, 'web/dist');
/** Debian's Chromium; we never download a browser. */
export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/**
 * vite build of web/ (what `npm run build:web` does). By default into a fresh
 * temporary folder, so a test run never races a developer's web/dist/.
 * @param {string} [outDir]
 * @returns {Promise<string>} the folder holding index.html
 */
export async function buildWeb(outDir) {
  const out = outDir ?? mkdtempSync(join(tmpdir(), 'emu-web-'));
  const { build } = await import('vite');
  await build({ configFile: join(REPO_ROOT, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir: out, emptyOutDir: true } });
  if (!existsSync(join(out, 'index.html'))) throw new Error(`vite build produced no ${out}/index.html`);
  return out;
}

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
};

/**
 * A plain static file server on 127.0.0.1 and a random port: what "any static
 * file server" means (no special headers).
 * @param {string} root
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export function serveStatic(root) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) { res.writeHead(403).end(); return; }
    try { if (statSync(file).isDirectory()) file = join(file, 'index.html'); } catch { /* 404 below */ }
    let body;
    try { body = readFileSync(file); } catch { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const addr = /** @type {import('node:net').AddressInfo} */ (server.address());
      ok({
        url: `http://127.0.0.1:${addr.port}/`,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

/**
 * Debian's Chromium, headless. chromium.launch gives every browser a fresh
 * temporary profile (user-data-dir) and deletes it on close.
 */
export async function launchChromium() {
  const { chromium } = await import('playwright-core');
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Wait until the page's terminal shows `text` (window.__emu.screen()).
 * @param {import('playwright-core').Page} page
 * @param {string} text
 * @param {number} timeoutMs
 */
export async function waitForScreen(page, text, timeoutMs) {
  await page.waitForFunction((t) => window.__emu?.screen().includes(t), text, { timeout: timeoutMs, polling: 50 });
}
