// `npm run guest:linux-disk` (after `npm run guest:linux`): the disk drivers Debian's cloud
// kernel builds as modules (virtio_pci, virtio_blk, ata_piix, sd_mod and what they need,
// plus virtio_console, virtio-rng and qemu_fw_cfg, and sr_mod/cdrom/isofs for an ISO on an IDE
// CD-ROM), taken from the same kernel package with apt-get download, and out/initrd-disk.img:
// the busybox initramfs with those modules and an /init that loads them before busybox init.
// The kernel has ext4 built in.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CpioEntry, S_IFDIR, S_IFREG, writeCpio } from './cpio.js';
import { BANNER } from './initramfs.js';

/** Load order: every module after the ones it depends on (their modinfo "depends="; in 6.1.0-57 virtio needs virtio_ring). */
export const DISK_MODULES = [
  'drivers/scsi/scsi_common.ko', 'drivers/scsi/scsi_mod.ko', 'drivers/scsi/sd_mod.ko',
  'drivers/ata/libata.ko', 'drivers/ata/ata_piix.ko',
  'drivers/virtio/virtio_ring.ko', 'drivers/virtio/virtio.ko', 'drivers/virtio/virtio_pci_modern_dev.ko',
  'drivers/virtio/virtio_pci_legacy_dev.ko', 'drivers/virtio/virtio_pci.ko',
  'drivers/block/virtio_blk.ko', 'drivers/char/virtio_console.ko', 'drivers/char/hw_random/virtio-rng.ko',
  'drivers/firmware/qemu_fw_cfg.ko', // CONFIG_FW_CFG_SYSFS=m, no depends: /sys/firmware/qemu_fw_cfg
  // CD-ROMs on IDE (ata_piix's ATAPI devices): sr_mod needs cdrom and scsi_mod; isofs (ISO 9660, Joliet and zisofs built in) needs cdrom.
  'drivers/cdrom/cdrom.ko', 'drivers/scsi/sr_mod.ko', 'fs/isofs/isofs.ko',
];

const base = (path: string): string => path.slice(path.lastIndexOf('/') + 1);

const SIG_MAGIC = '~Module signature appended~\n';

/**
 * The module without its appended PKCS#7 signature (module_signature: 8 bytes of fields, then
 * sig_len big-endian, then the magic). Debian's kernel does not enforce signatures, and checking
 * them (SHA-256 over the whole module and an RSA verify) is most of what insmod costs the
 * interpreter; unsigned modules only taint the kernel.
 */
export function stripSignature(ko: Uint8Array): Uint8Array {
  const magic = new TextEncoder().encode(SIG_MAGIC);
  const end = ko.length - magic.length;
  if (end < 12 || !magic.every((b, i) => ko[end + i] === b)) return ko;
  const info = new DataView(ko.buffer, ko.byteOffset + end - 12, 12);
  const cut = end - 12 - info.getUint32(8, false) - info.getUint8(3) - info.getUint8(4);
  return cut > 0 ? ko.subarray(0, cut) : ko;
}

/** /init of the disk initramfs: the base one with the modules loaded before the banner. */
export function diskInitScript(): string {
  return `#!/bin/sh
# emu's disk initramfs: the base /init, plus the disk drivers loaded before busybox init.
/bin/busybox mkdir -p /proc /sys /dev /tmp /root /mnt
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox --install -s
for m in ${DISK_MODULES.map(base).join(' ')}; do insmod /lib/modules/$m; done
echo
echo "${BANNER} ($(uname -r))"
exec /sbin/init
`;
}

/** A cpio to append to initrd.img: the kernel unpacks both, later files replacing earlier ones. */
export function diskOverlay(modules: Map<string, Uint8Array>): Uint8Array {
  const entries: CpioEntry[] = [
    { name: 'lib', mode: S_IFDIR | 0o755 }, { name: 'lib/modules', mode: S_IFDIR | 0o755 }, { name: 'mnt', mode: S_IFDIR | 0o755 },
  ];
  for (const m of DISK_MODULES) {
    const bytes = modules.get(base(m));
    if (!bytes) throw new Error(`module ${base(m)} is missing`);
    entries.push({ name: `lib/modules/${base(m)}`, mode: S_IFREG | 0o644, data: stripSignature(bytes) });
  }
  entries.push({ name: 'init', mode: S_IFREG | 0o755, data: diskInitScript() });
  return writeCpio(entries);
}

const here = dirname(fileURLToPath(import.meta.url));
const outDir = here.endsWith('out') ? here : join(here, 'out');

function fail(msg: string): never {
  process.stderr.write(`guest:linux-disk: ${msg}\n`);
  process.exit(1);
}

export function main(): void {
  const versionFile = join(outDir, 'kernel-version'), initrd = join(outDir, 'initrd.img');
  if (!existsSync(versionFile) || !existsSync(initrd)) fail(`run "npm run guest:linux" first (${outDir} has no kernel-version/initrd.img)`);
  const [pkg, release] = readFileSync(versionFile, 'utf8').trim().split(/\s+/);
  const debs = join(outDir, 'debs-disk');
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  try {
    execFileSync('apt-get', ['download', pkg], { cwd: debs, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    fail(`apt-get download ${pkg} failed (${String((e as { stderr?: Buffer }).stderr ?? e).trim().split('\n').pop()}); run "apt-get update"`);
  }
  const deb = readdirSync(debs).find((f) => f.endsWith('.deb'));
  if (!deb) fail(`apt-get download ${pkg} left no .deb`);
  execFileSync('dpkg-deb', ['-x', join(debs, deb), join(debs, 'tree')]);
  const modDir = join(outDir, 'modules');
  mkdirSync(modDir, { recursive: true });
  const modules = new Map<string, Uint8Array>();
  for (const m of DISK_MODULES) {
    const src = join(debs, 'tree/lib/modules', release, 'kernel', m);
    if (!existsSync(src)) fail(`${deb} has no ${m} (is the kernel built with it as a module?)`);
    copyFileSync(src, join(modDir, base(m)));
    modules.set(base(m), new Uint8Array(readFileSync(src)));
  }
  rmSync(debs, { recursive: true, force: true });
  const overlay = diskOverlay(modules);
  const out = join(outDir, 'initrd-disk.img');
  // Written aside and renamed: other runs may be reading the shared out/ directory.
  writeFileSync(`${out}.tmp`, Buffer.concat([readFileSync(initrd), overlay]));
  renameSync(`${out}.tmp`, out);
  process.stdout.write(`guest:linux-disk: ${DISK_MODULES.length} modules from ${pkg}; ${out} (${readFileSync(out).length} bytes)\n`);
}
