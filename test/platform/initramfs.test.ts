// The initramfs pieces: newc cpio bytes as the kernel's unpacker reads them, the
// archive's contents, and picking the versioned Debian kernel package.
import { describe, expect, it } from 'vitest';
import { versionedKernelPackage } from '../../guests/linux/build.js';
import { S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, writeCpio } from '../../guests/linux/cpio.js';
import { BANNER, buildInitramfs, INITTAB, INIT_SCRIPT } from '../../guests/linux/initramfs.js';

interface Parsed { name: string; mode: number; nlink: number; rdev: [number, number]; data: Uint8Array }

/** Read a newc archive back the way init/initramfs.c does: header, name, pad to 4, data, pad to 4. */
function parseCpio(a: Uint8Array): Parsed[] {
  const out: Parsed[] = [];
  const txt = (o: number, n: number) => String.fromCharCode(...a.subarray(o, o + n));
  let o = 0;
  for (;;) {
    expect(txt(o, 6)).toBe('070701');
    const f = (i: number) => parseInt(txt(o + 6 + i * 8, 8), 16);
    const namesize = f(11), filesize = f(6);
    const name = txt(o + 110, namesize - 1);
    expect(a[o + 110 + namesize - 1]).toBe(0);
    let p = o + 110 + namesize;
    p += (4 - (p % 4)) % 4;
    const data = a.subarray(p, p + filesize);
    p += filesize;
    p += (4 - (p % 4)) % 4;
    if (name === 'TRAILER!!!') { expect(p).toBe(a.length); return out; }
    out.push({ name, mode: f(1), nlink: f(4), rdev: [f(9), f(10)], data });
    o = p;
  }
}

describe('newc cpio writer', () => {
  it('writes headers, 4-byte padding and the trailer exactly as the kernel unpacks them', () => {
    const a = writeCpio([
      { name: 'etc', mode: S_IFDIR | 0o755 },
      { name: 'etc/motd', mode: S_IFREG | 0o644, data: 'hello' },
    ]);
    expect(String.fromCharCode(...a.subarray(0, 6 + 16))).toBe('07070100000001000041ED');
    const entries = parseCpio(a);
    expect(entries.map((e) => [e.name, e.mode.toString(8), e.nlink])).toEqual([['etc', '40755', 2], ['etc/motd', '100644', 1]]);
    expect(new TextDecoder().decode(entries[1].data)).toBe('hello');
    expect(a.length % 4).toBe(0);
  });

  it('refuses absolute names', () => {
    expect(() => writeCpio([{ name: '/init', mode: S_IFREG }])).toThrow(/relative/);
  });
});

describe('emu initramfs', () => {
  const busybox = new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 1, 2, 3]);
  const entries = parseCpio(buildInitramfs(busybox));
  const byName = new Map(entries.map((e) => [e.name, e]));

  it('holds an executable /init script that mounts proc, sysfs and devtmpfs, prints the banner and starts init', () => {
    const init = byName.get('init')!;
    expect(init.mode).toBe(S_IFREG | 0o755);
    const text = new TextDecoder().decode(init.data);
    expect(text).toBe(INIT_SCRIPT);
    expect(text.startsWith('#!/bin/sh\n')).toBe(true);
    for (const fs of ['proc proc /proc', 'sysfs sysfs /sys', 'devtmpfs devtmpfs /dev']) expect(text).toContain(`mount -t ${fs}`);
    expect(text).toContain(BANNER);
  });

  it('holds busybox, /bin/sh and /sbin/init links, /dev/console (5,1) and an inittab with a console shell', () => {
    expect([...byName.get('bin/busybox')!.data]).toEqual([...busybox]);
    expect(byName.get('bin/sh')!.mode).toBe(S_IFLNK | 0o777);
    expect(new TextDecoder().decode(byName.get('sbin/init')!.data)).toBe('../bin/busybox');
    expect(byName.get('dev/console')!.mode).toBe(S_IFCHR | 0o600);
    expect(byName.get('dev/console')!.rdev).toEqual([5, 1]);
    expect(new TextDecoder().decode(byName.get('etc/inittab')!.data)).toBe(INITTAB);
    expect(INITTAB).toMatch(/respawn:\/bin\/cttyhack \/bin\/sh/);
    // Every path's parent directory comes before it.
    const seen = new Set<string>();
    for (const e of entries) {
      const parent = e.name.includes('/') ? e.name.slice(0, e.name.lastIndexOf('/')) : '';
      if (parent) expect(seen.has(parent)).toBe(true);
      seen.add(e.name);
    }
  });
});

describe('Debian package choice', () => {
  it('finds the versioned kernel package the metapackage depends on', () => {
    expect(versionedKernelPackage('linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-50-cloud-amd64\n')).toBe('linux-image-6.1.0-50-cloud-amd64');
    expect(versionedKernelPackage('')).toBeNull();
  });
});
