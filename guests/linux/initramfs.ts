// The initramfs emu boots Debian's kernel with: a static busybox, an /init that mounts
// proc/sys/devtmpfs, prints the banner and hands over to busybox init, whose inittab
// keeps a shell on the serial console (so `poweroff` and `reboot` work as on a real box).

import { type CpioEntry, S_IFCHR, S_IFDIR, S_IFLNK, S_IFREG, writeCpio } from './cpio.js';

/** The line the boot test and the boot-time benchmark wait for. */
export const BANNER = 'emu: Linux is up; busybox shell on the serial console';

export const INIT_SCRIPT = `#!/bin/sh
# emu's initramfs: mount the kernel's file systems, say hello, start busybox init.
/bin/busybox mkdir -p /proc /sys /dev /tmp /root
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s
echo
echo "${BANNER} ($(uname -r))"
exec /sbin/init
`;

/** Busybox init: a login shell on the console, respawned; clean unmount on poweroff/reboot. */
export const INITTAB = `::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/umount -a -r
`;

export const PROFILE = `export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='emu:\\w# '
`;

export function initramfsEntries(busybox: Uint8Array): CpioEntry[] {
  const dir = (name: string): CpioEntry => ({ name, mode: S_IFDIR | 0o755 });
  return [
    dir('bin'), dir('sbin'), dir('usr'), dir('usr/bin'), dir('usr/sbin'), dir('etc'),
    dir('proc'), dir('sys'), dir('dev'), dir('tmp'), dir('root'),
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: [5, 1] },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: busybox },
    { name: 'bin/sh', mode: S_IFLNK | 0o777, data: 'busybox' },
    { name: 'sbin/init', mode: S_IFLNK | 0o777, data: '../bin/busybox' },
    { name: 'init', mode: S_IFREG | 0o755, data: INIT_SCRIPT },
    { name: 'etc/inittab', mode: S_IFREG | 0o644, data: INITTAB },
    { name: 'etc/profile', mode: S_IFREG | 0o644, data: PROFILE },
  ];
}

/**
 * The newc archive the kernel takes as its initrd, uncompressed: inflating a gzip one
 * costs the interpreter ~60 M guest instructions (over a minute of a loaded machine)
 * while the kernel waits for its rootfs; an uncompressed one is copied.
 */
export function buildInitramfs(busybox: Uint8Array): Uint8Array {
  return writeCpio(initramfsEntries(busybox));
}
