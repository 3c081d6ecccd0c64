// Boot-to-prompt time of tinyos in the browser demo against `npm start` in
// Node, measured side by side in one run (the target is page <= 1.5x Node).
//
//   node bench/web-boot.mjs [--runs N] [--no-build (use web/dist as built)]
//
// Page: Debian's Chromium loads a fresh build of web/ from a plain static server;
// the time is from navigation start to the moment the page's console receives
// "tinyos> " (window.__emu.promptAt(), performance.now() on the page).
// Node: from spawning `npm start` to "tinyos> " on its stdout; also the bare
// CLI (`node bin/emu.js`, no npm and no esbuild step) for a stricter figure.

import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { CHROMIUM, REPO_ROOT, WEB_DIST, buildWeb, launchChromium, serveStatic } from '../test/web/harness.mjs';

const PROMPT = 'tinyos> ';
const TIMEOUT_MS = 120_000;

function option(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const RUNS = Math.max(1, Number(option('--runs', '3')) || 3);

/**
 * ms from spawning the command until the prompt shows on its stdout.
 * @param {string} cmd
 * @param {string[]} args
 */
function nodeBoot(cmd, args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // Its own process group, so the kill reaches npm's children (sh, node bin/emu.js) too.
    const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const kill = () => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* already gone */ } };
    let out = '';
    let err = '';
    const timer = setTimeout(() => { kill(); reject(new Error(`${cmd} ${args.join(' ')}: no prompt in ${TIMEOUT_MS} ms; output: ${out.slice(-300)}${err.slice(-300)}`)); }, TIMEOUT_MS);
    child.stdout.on('data', (d) => {
      out += d.toString('latin1');
      if (out.includes(PROMPT)) {
        const ms = performance.now() - t0;
        clearTimeout(timer);
        kill();
        resolve(ms);
      }
    });
    child.stderr.on('data', (d) => { err += d.toString(); });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes(PROMPT)) reject(new Error(`${cmd} ${args.join(' ')} exited (${code}) before the prompt: ${err.trim().split('\n').slice(-2).join(' | ')}`));
    });
  });
}

/** ms from navigation start until the page saw the prompt. */
async function pageBoot(browser, url) {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${url}?guest=tinyos`);
    await page.waitForFunction(() => window.__emu?.promptAt() != null, null, { timeout: TIMEOUT_MS, polling: 20 });
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
    return await page.evaluate(() => window.__emu.promptAt());
  } finally {
    await page.close();
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const fmt = (ms) => `${ms.toFixed(0).padStart(6)} ms`;

async function main() {
  if (!existsSync(CHROMIUM)) {
    console.log(`web-boot: ${CHROMIUM} is absent (apt-get install -y chromium); nothing measured`);
    return;
  }
  const prebuilt = process.argv.includes('--no-build');
  const dist = prebuilt ? WEB_DIST : await buildWeb();
  const server = await serveStatic(dist);
  const browser = await launchChromium();
  const page = [];
  const node = [];
  const bare = [];
  const npmStart = () => nodeBoot('npm', ['start', '--silent']);
  // The CLI alone, without npm and the esbuild step `npm start` runs first.
  const cli = () => nodeBoot(process.execPath, ['bin/emu.js']);
  try {
    // One warm-up of each (disk cache, the CLI bundle, Chromium's code cache), then alternate.
    await npmStart();
    await pageBoot(browser, server.url);
    for (let i = 0; i < RUNS; i++) {
      node.push(await npmStart());
      page.push(await pageBoot(browser, server.url));
      bare.push(await cli());
      console.log(`run ${i + 1}: page ${fmt(page[i])}   npm start ${fmt(node[i])}   node bin/emu.js ${fmt(bare[i])}`);
    }
  } finally {
    await browser.close();
    await server.close();
    if (!prebuilt) rmSync(dist, { recursive: true, force: true });
  }
  const p = median(page);
  const n = median(node);
  const b = median(bare);
  const ratio = p / n;
  console.log(`\nboot to "${PROMPT.trim()}" (median of ${RUNS}): page ${p.toFixed(0)} ms, npm start ${n.toFixed(0)} ms, node bin/emu.js ${b.toFixed(0)} ms`);
  console.log(`ratio page / npm start = ${ratio.toFixed(2)}x (target <= 1.5x): ${ratio <= 1.5 ? 'OK' : 'OVER'}`);
  console.log(`ratio page / node bin/emu.js (no npm, no build step) = ${(p / b).toFixed(2)}x`);
}

main().catch((e) => {
  console.error(`web-boot: ${e.message}`);
  process.exitCode = 1;
});
