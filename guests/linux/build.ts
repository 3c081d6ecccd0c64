// `npm run guest:linux`: fetch Debian's stock cloud kernel and busybox-static with
// apt-get download, extract vmlinuz and busybox, and build the initramfs, all into
// the git-ignored guests/linux/out/. On a host without apt it says what to provide.

import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInitramfs } from './initramfs.js';

export const KERNEL_METAPACKAGE = 'linux-image-cloud-amd64';
export const BUSYBOX_PACKAGE = 'busybox-static';

const here = dirname(fileURLToPath(import.meta.url));
/** The bundle runs from guests/linux/out/, the sources from guests/linux/. */
const outDir = here.endsWith('out') ? here : join(here, 'out');

function fail(msg: string): never {
  process.stderr.write(`guest:linux: ${msg}\n`);
  process.exit(1);
}

function run(cmd: string, args: string[], cwd?: string): string {
  return execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function have(cmd: string): boolean {
  try { run('sh', ['-c', `command -v ${cmd}`]); return true; } catch { return false; }
}

/** The versioned kernel package the metapackage depends on (linux-image-6.1.0-NN-cloud-amd64). */
export function versionedKernelPackage(dependsOutput: string): string | null {
  const m = /Depends:\s*(linux-image-[0-9][^\s]*-cloud-amd64)/.exec(dependsOutput);
  return m ? m[1] : null;
}

function download(pkg: string, debs: string): string {
  try {
    run('apt-get', ['download', pkg], debs);
  } catch (e) {
    const err = (e as { stderr?: string }).stderr?.trim().split('\n').pop() ?? String(e);
    fail(`apt-get download ${pkg} failed (${err}); check the network and run "apt-get update"`);
  }
  const deb = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (!deb) fail(`apt-get download ${pkg} left no .deb in ${debs}`);
  return join(debs, deb);
}

function writeInitrd(busyboxPath: string): number {
  const initrd = buildInitramfs(readFileSync(busyboxPath));
  writeFileSync(join(outDir, 'initrd.img'), initrd);
  return initrd.length;
}

export function main(): void {
  const busyboxOut = join(outDir, 'busybox');
  const vmlinuzOut = join(outDir, 'vmlinuz');
  if (!have('apt-get') || !have('dpkg-deb')) {
    if (existsSync(vmlinuzOut) && existsSync(busyboxOut)) {
      const n = writeInitrd(busyboxOut);
      process.stdout.write(`guest:linux: no apt here; built initrd.img (${n} bytes) from the busybox you provided in ${outDir}\n`);
      return;
    }
    fail([
      'this host has no apt-get/dpkg-deb (it is not Debian-based).',
      `Provide the files yourself in ${outDir}:`,
      `  vmlinuz     - an x86-64 bzImage, e.g. /boot/vmlinuz-* from Debian's ${KERNEL_METAPACKAGE}`,
      `  busybox     - a statically linked x86-64 busybox (Debian's ${BUSYBOX_PACKAGE}: /bin/busybox)`,
      'then run this script again to build initrd.img from busybox.',
    ].join('\n'));
  }
  mkdirSync(outDir, { recursive: true });
  const debs = join(outDir, 'debs');
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs);

  let depends = '';
  try { depends = run('apt-cache', ['depends', KERNEL_METAPACKAGE]); } catch { /* reported below */ }
  const kernelPkg = versionedKernelPackage(depends);
  if (!kernelPkg) fail(`apt-cache does not know ${KERNEL_METAPACKAGE}; run "apt-get update" (Debian bookworm or later)`);

  for (const [pkg, pick] of [[kernelPkg, 'kernel'], [BUSYBOX_PACKAGE, 'busybox']] as const) {
    const deb = download(pkg, debs);
    const tree = join(debs, pick);
    run('dpkg-deb', ['-x', deb, tree]);
    if (pick === 'kernel') {
      const boot = join(tree, 'boot');
      const vmlinuz = existsSync(boot) ? readdirSync(boot).find((f) => f.startsWith('vmlinuz-')) : undefined;
      if (!vmlinuz) fail(`${deb} has no /boot/vmlinuz-*`);
      copyFileSync(join(boot, vmlinuz), vmlinuzOut);
      writeFileSync(join(outDir, 'kernel-version'), `${pkg} ${vmlinuz.slice('vmlinuz-'.length)}\n`);
    } else {
      const bb = join(tree, 'bin', 'busybox');
      if (!existsSync(bb)) fail(`${deb} has no /bin/busybox`);
      copyFileSync(bb, busyboxOut);
    }
  }
  rmSync(debs, { recursive: true, force: true });

  const initrdSize = writeInitrd(busyboxOut);
  process.stdout.write([
    `guest:linux: ${kernelPkg} and ${BUSYBOX_PACKAGE} ready in ${outDir}`,
    `  vmlinuz (${readFileSync(vmlinuzOut).length} bytes), initrd.img (${initrdSize} bytes)`,
    `  boot: emu --accel=interp -m 256M -kernel ${join(outDir, 'vmlinuz')} -initrd ${join(outDir, 'initrd.img')} -append console=ttyS0`,
  ].join('\n') + '\n');
}
