import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { emu } from './run-main.js';

const dir = mkdtempSync(join(tmpdir(), 'emu-cli-'));

describe('emu reports a user mistake in one line and exits non-zero', () => {
  it('missing kernel image', async () => {
    const r = await emu('-kernel', join(dir, 'nope.elf'));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`emu: kernel image '${join(dir, 'nope.elf')}' does not exist; check the path\n`);
  });

  it('empty image', async () => {
    const f = join(dir, 'empty.bin');
    writeFileSync(f, '');
    const r = await emu(f);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(`emu: kernel image '${f}' is empty\n`);
  });

  it('a directory given as the image', async () => {
    const r = await emu(dir);
    expect(r.stderr).toBe(`emu: kernel image '${dir}' is a directory, not a file\n`);
  });

  it('unrecognised image', async () => {
    const f = join(dir, 'junk.bin');
    writeFileSync(f, Buffer.alloc(4096, 0x90));
    const r = await emu(f);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^emu: .*junk\.bin: not a multiboot image or a Linux bzImage; emu boots multiboot kernels and Linux bzImages .*\n$/);
  });

  it('unreadable initrd (permission denied) when not running as root', async () => {
    const f = join(dir, 'secret.img');
    writeFileSync(f, 'x');
    chmodSync(f, 0);
    const r = await emu('-kernel', join(dir, 'junk.bin'), '-initrd', f);
    if (process.getuid?.() === 0) {
      // root reads anything: the kernel is then the problem
      expect(r.stderr).toMatch(/junk\.bin: not a multiboot image/);
    } else {
      expect(r.stderr).toBe(`emu: initrd '${f}' cannot be read: permission denied\n`);
    }
    expect(r.status).toBe(1);
  });

  it('impossible memory size and unknown option', async () => {
    expect((await emu('-m', '64G')).stderr).toBe('emu: -m 64G: guest memory must be between 2M and 3G (emu keeps RAM below the 32-bit MMIO hole)\n');
    const r = await emu('--frobnicate');
    expect(r.stderr).toBe("emu: unknown option '--frobnicate'; see emu --help\n");
    expect(r.status).toBe(1);
  });

  it('--help and --version go to stdout with status 0', async () => {
    const h = await emu('--help');
    expect(h.status).toBe(0);
    expect(h.stdout).toMatch(/^usage: emu \[options\] \[image\]/);
    expect((await emu('--version')).stdout).toBe('emu 0.1.0\n');
  });
});

describe('the installed command', () => {
  it('bin/emu.js runs the bundle: an error is one line on stderr, no stack trace, exit 1', () => {
    const r = spawnSync(process.execPath, ['bin/emu.js', '-m', 'lots'], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('emu: -m lots: not a memory size; write it like 256M or 1G\n');
  });

  it('bin/emu.js --version', () => {
    expect(execFileSync(process.execPath, ['bin/emu.js', '--version'], { encoding: 'utf8' })).toBe('emu 0.1.0\n');
  });
});
