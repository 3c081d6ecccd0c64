// The browser demo in a real Chromium: the built page (web/dist, served by a
// plain static server) boots tinyos in a worker, the prompt shows in the
// xterm console, typed keys reach the guest, and the page reports no errors.

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildElf, hasToolchain } from '../cpu/system-build.js';
import { CHROMIUM, REPO_ROOT, buildWeb, launchChromium, serveStatic, waitForScreen } from './harness.mjs';

const HAVE_CHROMIUM = existsSync(CHROMIUM);
const ARTIFACTS = join(REPO_ROOT, 'test-artifacts');
const SCREENSHOT = join(ARTIFACTS, 'web-demo.png');
const PROMPT = 'tinyos> ';
const BOOT_TIMEOUT_MS = 90_000;

if (!HAVE_CHROMIUM) {
  console.log(`test/web: skipped: ${CHROMIUM} is absent (apt-get install -y chromium; .ci/run installs it)`);
}

describe.skipIf(!HAVE_CHROMIUM)('browser demo in Chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let page: Page;
  let distDir = '';
  const pageErrors: string[] = [];

  beforeAll(async () => {
    distDir = await buildWeb();
    server = await serveStatic(distDir);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('pageerror', (e) => pageErrors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`console.error: ${m.text()}`); });
    page.on('worker', (w) => w.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`worker console.error: ${m.text()}`); }));
    await page.goto(server.url);
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (distDir) rmSync(distDir, { recursive: true, force: true });
  });

  it('page boots tinyos in a worker -> tinyos prompt in the terminal', async () => {
    await waitForScreen(page, PROMPT, BOOT_TIMEOUT_MS);
    expect(await page.evaluate(() => window.__emu.state())).toBe('running');
  }, BOOT_TIMEOUT_MS + 10_000);

  it('user types `info` -> guest answers with the CPUID vendor line', async () => {
    await page.click('#terminal');
    await page.keyboard.type('info');
    await page.keyboard.press('Enter');
    await waitForScreen(page, 'cpu: vendor GenuineIntel', 30_000);
    // Let the live panel take a couple of samples so the screenshot shows it working.
    await page.waitForFunction(() => window.__emu.ips() > 0, null, { timeout: 10_000 });
    await page.waitForTimeout(3500);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: SCREENSHOT });
    const screen = await page.evaluate(() => window.__emu.screen());
    expect(screen).toMatch(/tinyos> info\s*\n\s*cpu: vendor GenuineIntel/);
  }, 60_000);

  it('the live panel shows instructions per second and UART traffic', async () => {
    expect(await page.evaluate(() => window.__emu.ips())).toBeGreaterThan(0);
    const io = await page.locator('#io').innerText();
    expect(io).toMatch(/uart|com1|serial/i);
  });

  it('Pause stops the guest (typed keys wait in the queue); Resume lets them through', async () => {
    await page.click('#pause');
    await page.waitForFunction(() => window.__emu.state() === 'paused');
    await page.waitForTimeout(2200); // two panel samples, both taken while paused
    expect(await page.evaluate(() => window.__emu.ips())).toBe(0);
    await page.click('#terminal');
    await page.keyboard.type('help');
    await page.keyboard.press('Enter');
    await page.waitForTimeout(500);
    expect(await page.evaluate(() => window.__emu.screen())).not.toContain('this list');
    await page.click('#pause');
    await waitForScreen(page, 'this list', 30_000);
  }, 60_000);

  it('Reset reboots the guest to its banner and prompt', async () => {
    const banners = (s: string): number => s.split('tinyos 1.').length - 1;
    const before = banners(await page.evaluate(() => window.__emu.screen()));
    await page.click('#reset');
    await page.waitForFunction(
      ([n]) => window.__emu.screen().split('tinyos 1.').length - 1 > n && window.__emu.screen().trimEnd().endsWith('tinyos>'),
      [before], { timeout: BOOT_TIMEOUT_MS, polling: 100 },
    );
    // The panel refreshes about once a second: wait for it to show the reset.
    await page.waitForFunction(() => document.querySelector('#k-resets')?.textContent?.trim() !== '0', undefined, { timeout: 5_000, polling: 100 });
    expect(await page.locator('#k-resets').innerText()).not.toBe('0');
  }, BOOT_TIMEOUT_MS + 10_000);

  it('JIT view: a compiled block\'s x86 beside its wasm text, from the list and from a typed address; large modules compiled asynchronously', async () => {
    expect(await page.$eval('#backend', (s) => (s as HTMLSelectElement).value)).toBe('jit');
    // The list fills with the live panel (about once a second) once the JIT has compiled something.
    await page.waitForFunction(() => (document.querySelector('#jit-blocks') as HTMLSelectElement).options[0]?.value !== '', undefined, { timeout: 15_000, polling: 200 });
    const phys = await page.$eval('#jit-blocks', (s) => (s as HTMLSelectElement).options[0].value);
    await page.selectOption('#jit-blocks', phys);
    const header = new RegExp(`^jit: block at 0x[0-9a-f]+ \\(physical 0x${Number(phys).toString(16)}\\), \\d+ instructions`);
    await page.waitForFunction(() => document.querySelector('#jit-dump')?.textContent?.includes('(func'), undefined, { timeout: 10_000 });
    let dump = await page.locator('#jit-dump').innerText();
    expect(dump).toMatch(header);
    expect(dump).toMatch(/\n {2}0x[0-9a-f]+ {2}\S.* (inline|interpreter \(step\))\n/);
    expect(dump).toContain('(func (param $base i32) (param $limit i32) (param $entry i32) (param $done i32) (result i32)');
    // The same block by its address typed in hex (tinyos maps its kernel 1:1, so linear = physical).
    await page.evaluate(() => { document.querySelector('#jit-dump')!.textContent = ''; });
    await page.fill('#jit-addr', `0x${Number(phys).toString(16)}`);
    await page.click('#jit-show');
    await page.waitForFunction(() => document.querySelector('#jit-dump')?.textContent?.includes('(func'), undefined, { timeout: 10_000 });
    dump = await page.locator('#jit-dump').innerText();
    expect(dump).toMatch(header);
    // A typing mistake is one line.
    await page.fill('#jit-addr', 'xyz');
    await page.click('#jit-show');
    await page.waitForFunction(() => document.querySelector('#jit-dump')?.textContent === 'xyz: not a hex address (e.g. 0x100000)', undefined, { timeout: 5000 });
    await page.fill('#jit-addr', '');
    // The worker's JIT compiles modules of 4 KiB and more with WebAssembly.instantiate (counted in the panel).
    const counters = await page.locator('#counters').innerText();
    const asyncModules = /jit ?async ?modules\s+([\d,.]+[kM]?)/i.exec(counters);
    expect(asyncModules, counters).not.toBeNull();
    expect(asyncModules![1]).not.toBe('0');
  }, 60_000);

  it('CPU selector: interp and jit offered, KVM disabled in a browser; switching backends keeps the guest running', async () => {
    const options = await page.$$eval('#backend option', (os) => os.map((o) => ({ value: (o as HTMLOptionElement).value, disabled: (o as HTMLOptionElement).disabled })));
    expect(options).toContainEqual({ value: 'interp', disabled: false });
    expect(options).toContainEqual({ value: 'jit', disabled: false });
    expect(options).toContainEqual({ value: 'kvm', disabled: true });
    // Switch away from whichever backend the page started on (jit by default).
    const current = await page.$eval('#backend', (s) => (s as HTMLSelectElement).value);
    const other = current === 'interp' ? 'jit' : 'interp';
    await page.selectOption('#backend', other);
    await waitForScreen(page, `now running on ${other}`, 10_000);
    const vendorLines = (): Promise<number> => page.evaluate(() => window.__emu.screen().split('cpu: vendor GenuineIntel').length - 1);
    const before = await vendorLines();
    await page.click('#terminal');
    await page.keyboard.type('info');
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => window.__emu.screen().split('cpu: vendor GenuineIntel').length - 1 > n, before, { timeout: 30_000 });
    await page.waitForFunction((name) => document.getElementById('k-backend')?.textContent === name, other, { timeout: 5000 });
  }, 60_000);

  it.skipIf(!hasToolchain())('a disk attached with the File API and kept: the guest\'s flushed write is in IndexedDB, a reload boots it again from there, Discard forgets it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'emu-webdisk-'));
    const kernel = join(dir, 'disk-gen.elf'), image = join(dir, 'disk.img');
    writeFileSync(kernel, buildElf(readFileSync(join(REPO_ROOT, 'test/guests/disk-gen.S'), 'utf8'), 0x100000));
    const bytes = new Uint8Array(64 * 1024);
    bytes.set(Buffer.from('generation 0\n'));
    writeFileSync(image, bytes);
    const p = await browser.newPage(); // its own context: a fresh IndexedDB that a reload keeps
    p.on('pageerror', (e) => pageErrors.push(`pageerror (disk page): ${e.message}`));
    const bootFromDialog = async (pick: (page: Page) => Promise<void>): Promise<void> => {
      await p.click('#open');
      await p.setInputFiles('#f-kernel', kernel);
      await pick(p);
      await p.click('#f-boot');
    };
    try {
      await p.goto(server.url);
      await waitForScreen(p, PROMPT, BOOT_TIMEOUT_MS);
      await bootFromDialog(async (q) => {
        await q.setInputFiles('#f-disk', image);
        await q.selectOption('#f-disk-if', 'ide');
        await q.check('#f-disk-keep');
      });
      await waitForScreen(p, 'disk: flushed', 30_000);
      expect(await p.evaluate(() => window.__emu.screen())).toContain('disk: generation 0');
      await p.waitForFunction(() => window.__emu.keptText('disk.img', 13).then((t) => t === 'generation 1\n'), undefined, { timeout: 10_000 });

      await p.reload();
      await waitForScreen(p, PROMPT, BOOT_TIMEOUT_MS);
      await bootFromDialog(async (q) => {
        await q.waitForSelector('#f-disk-kept option[value="disk.img"]', { state: 'attached', timeout: 10_000 });
        await q.selectOption('#f-disk-kept', 'disk.img');
      });
      await waitForScreen(p, 'disk: flushed', 30_000);
      const screen = await p.evaluate(() => window.__emu.screen());
      expect(screen).toContain('disk: generation 1');
      expect(screen).not.toContain('disk: generation 0');
      await p.waitForFunction(() => window.__emu.keptText('disk.img', 13).then((t) => t === 'generation 2\n'), undefined, { timeout: 10_000 });
      expect(readFileSync(image).subarray(0, 13).toString()).toBe('generation 0\n'); // the user's file is never written

      await p.click('#open');
      await p.waitForSelector('#f-disk-kept option[value="disk.img"]', { state: 'attached', timeout: 10_000 });
      await p.selectOption('#f-disk-kept', 'disk.img');
      await p.click('#f-disk-discard');
      await waitForScreen(p, 'emu: discarded the kept disk disk.img', 10_000);
      await p.reload();
      await p.click('#open');
      await p.waitForTimeout(500);
      expect(await p.$$eval('#f-disk-kept option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['']);
    } finally {
      await p.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 4 * BOOT_TIMEOUT_MS);

  it('?mmu=nested-2m boots under that model and the panel shows its counters; the MMU selector boots again under shadow, whose PT write traps count aspace\'s PTE writes', async () => {
    const p = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    p.on('pageerror', (e) => pageErrors.push(`mmu page: pageerror: ${e.message}`));
    p.on('console', (m) => { if (m.type() === 'error') pageErrors.push(`mmu page: console.error: ${m.text()}`); });
    /** The counters table's figure for `label` (its first number, k/M/G folded in), or -1 without such a row. */
    const counter = async (label: string): Promise<number> => {
      const text = await p.locator('#counters').innerText();
      const m = new RegExp(`^${label}\\s+([\\d.]+)\\s?([kMG]?)`, 'm').exec(text);
      return m ? Number(m[1]) * ({ '': 1, k: 1e3, M: 1e6, G: 1e9 } as Record<string, number>)[m[2]] : -1;
    };
    const rowsOf = async (model: string): Promise<number> => (await p.locator('#counters').innerText()).split('\n').filter((l) => l.startsWith(model)).length;
    try {
      await p.goto(`${server.url}?mmu=nested-2m`);
      await waitForScreen(p, PROMPT, BOOT_TIMEOUT_MS);
      expect(await p.$eval('#mmu', (sel) => (sel as HTMLSelectElement).value)).toBe('nested-2m');
      await p.waitForFunction(() => document.getElementById('k-mmu')?.textContent === 'nested-2m', null, { timeout: 10_000 });
      await p.waitForFunction(() => /^Nested 2m TLB misses\s+[1-9]/m.test(document.getElementById('counters')?.innerText ?? ''), null, { timeout: 10_000 });
      expect(await counter('Nested 2m EPT violations')).toBeGreaterThan(0);
      expect(await counter('Nested 2m refs per walk')).toBeGreaterThan(4); // each guest reference is itself translated
      expect(await rowsOf('Shadow')).toBe(0);
      expect(await rowsOf('Direct')).toBe(0);

      await p.selectOption('#mmu', 'shadow');
      await p.waitForFunction((prompt) => document.getElementById('k-mmu')?.textContent === 'shadow' && window.__emu.screen().includes(prompt), PROMPT, { timeout: BOOT_TIMEOUT_MS });
      await p.click('#terminal');
      await p.keyboard.type('aspace 2 5');
      await p.keyboard.press('Enter');
      await waitForScreen(p, 'every page showed the frame its PTE names', 60_000);
      // aspace wrote 5 rounds x 2 spaces of PTE swaps and unmaps: the panel's next sample shows the traps.
      await p.waitForFunction(() => /^Shadow PT write traps\s+[1-9]/m.test(document.getElementById('counters')?.innerText ?? ''), null, { timeout: 10_000 });
      expect(await counter('Shadow PT write traps')).toBeGreaterThanOrEqual(20);
      expect(await counter('Shadow CR3 hits')).toBeGreaterThan(0);
      expect(await counter('Shadow TLB misses')).toBeGreaterThan(0);
      expect(await rowsOf('Nested')).toBe(0);
      expect(await p.evaluate(() => window.__emu.screen())).not.toContain('WRONG FRAMES');
    } finally {
      await p.close();
    }
  }, 2 * BOOT_TIMEOUT_MS + 90_000);

  it('page and worker raised no errors', () => {
    expect(pageErrors).toEqual([]);
  });
});
