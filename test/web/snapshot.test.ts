// Snapshots between the browser demo and the CLI, in a real Chromium: a snapshot saved
// in the page (a download) resumes in `emu -incoming file:`, and one the CLI wrote
// (QMP migrate to file:) resumes in the page (an upload) with the guest's half-typed
// line intact. The file format is one (machine/snapshot-format.ts, CompressionStream).

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emu, Qmp, until } from '../snapshot/qmp-client.js';
import { CHROMIUM, buildWeb, launchChromium, serveStatic, waitForScreen } from './harness.mjs';

const HAVE_CHROMIUM = existsSync(CHROMIUM);
const PROMPT = 'tinyos> ';
/** The demo's tinyos entry (web/guest-images.ts): the CLI must give the same RAM. */
const MEMORY = '128M';

if (!HAVE_CHROMIUM) console.log(`test/web/snapshot: skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)`);

describe.skipIf(!HAVE_CHROMIUM)('snapshots between the browser demo and the CLI', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let page: Page;
  let distDir = '';
  const dir = mkdtempSync(join(tmpdir(), 'emu-websnap-'));
  const pageErrors: string[] = [];

  beforeAll(async () => {
    distDir = await buildWeb();
    server = await serveStatic(distDir);
    browser = await launchChromium();
    page = await browser.newPage({ acceptDownloads: true });
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    await page.goto(server.url);
    await waitForScreen(page, PROMPT, 90_000);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (distDir) rmSync(distDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('saved in the page (download) -> the CLI resumes it at the prompt and it answers', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#snap-save')]);
    expect(download.suggestedFilename()).toBe('tinyos.emusnap');
    const file = join(dir, 'from-web.emusnap');
    await download.saveAs(file);
    await waitForScreen(page, 'emu: saved a snapshot', 10_000);
    const cli = emu(['-m', MEMORY, '-incoming', `file:${file}`]);
    await new Promise((r) => setTimeout(r, 500));
    cli.child.stdin!.write('help\r');
    await until(() => cli.out().includes('commands:'), `the CLI-restored guest to answer (stderr: ${cli.err()})`, 60_000);
    expect(cli.out()).not.toContain('tinyos 1.0'); // resumed, not booted
    cli.child.kill();
    await cli.exited;
  }, 120_000);

  it('written by the CLI (QMP migrate file:) -> uploaded, the page resumes it with the half-typed line', async () => {
    const sock = join(dir, 'qmp.sock'), file = join(dir, 'from-cli.emusnap');
    const cli = emu(['-m', MEMORY, '-qmp', `unix:${sock},server=on,wait=off`]);
    await until(() => cli.out().includes(PROMPT), 'the CLI tinyos prompt');
    cli.child.stdin!.write('inf');
    await until(() => cli.out().endsWith(`${PROMPT}inf`), 'the echo');
    const q = await Qmp.connect(sock);
    await q.cmd('qmp_capabilities');
    await q.cmd('migrate', { uri: `file:${file}` });
    expect((await q.migrationDone()).status).toBe('completed');
    await q.cmd('quit');
    q.close();
    await cli.exited;

    await page.setInputFiles('#f-snapshot', file);
    await waitForScreen(page, 'emu: resumed from-cli.emusnap (128 MiB of RAM, running)', 30_000);
    expect(await page.evaluate(() => window.__emu.state())).toBe('running');
    await page.click('#terminal');
    await page.keyboard.type('o');
    await page.keyboard.press('Enter');
    await waitForScreen(page, 'cpu: vendor GenuineIntel', 30_000); // "inf" + "o": the info command ran
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
