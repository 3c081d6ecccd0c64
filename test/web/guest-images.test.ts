// The Vite plugin's guest list: only images that are really built are offered,
// with the files the page must fetch and how to boot them.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findGuests } from '../../web/guest-images.js';

let dir = '';
function checkout(files: Record<string, number>): string {
  dir = mkdtempSync(join(tmpdir(), 'emu-guests-'));
  for (const [path, size] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), new Uint8Array(size));
  }
  return dir;
}
afterEach(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

describe('guest images offered by the demo', () => {
  it('a fresh checkout with nothing built -> no guests', () => {
    expect(findGuests(checkout({ 'guests/tinyos/kernel.h': 10 }))).toEqual([]);
  });

  it('tinyos.elf built -> tinyos, multiboot, waiting for "tinyos> "', () => {
    const [g, ...rest] = findGuests(checkout({ 'guests/tinyos/tinyos.elf': 4096 }));
    expect(rest).toEqual([]);
    expect(g.entry).toMatchObject({ id: 'tinyos', kernel: { name: 'tinyos.elf', url: 'images/tinyos.elf' }, prompt: 'tinyos> ' });
    expect([...g.files.values()]).toEqual([join(dir, 'guests/tinyos/tinyos.elf')]);
  });

  it('an empty tinyos.elf (a failed build) is not offered', () => {
    expect(findGuests(checkout({ 'guests/tinyos/tinyos.elf': 0 }))).toEqual([]);
  });

  it('Linux kernel and initrd in guests/linux/out -> Linux with console=ttyS0 and 256 MiB', () => {
    const found = findGuests(checkout({ 'guests/linux/out/vmlinuz': 100, 'guests/linux/out/initrd.img': 50, 'guests/linux/out/notes.txt': 5 }));
    expect(found.map((f) => f.entry.id)).toEqual(['linux']);
    const linux = found[0].entry;
    expect(linux.kernel.url).toBe('images/linux/vmlinuz');
    expect(linux.initrd?.url).toBe('images/linux/initrd.img');
    expect(linux.cmdline).toBe('console=ttyS0');
    expect(linux.memoryMiB).toBe(256);
    expect(found[0].files.size).toBe(2);
  });

  it('guests/linux/out with an initrd but no kernel -> nothing to boot, not listed', () => {
    expect(findGuests(checkout({ 'guests/linux/out/initrd.img': 50 }))).toEqual([]);
  });
});
