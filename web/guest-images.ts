// Vite plugin: finds the guest images built in this checkout (tinyos, Linux)
// and offers them to the page as `virtual:emu-guests`. In dev the images are
// served from the repository as they are; in a build they are copied into
// dist/images/. Guests that are not built are simply not listed.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Plugin, ViteDevServer } from 'vite';

/** One bootable guest as the page sees it (URLs are relative to the page). */
export interface GuestEntry {
  id: string;
  label: string;
  description: string;
  kernel: { name: string; url: string };
  initrd?: { name: string; url: string };
  cmdline?: string;
  memoryMiB: number;
  /** What the serial console prints when the guest is ready for input. */
  prompt?: string;
}

interface Found {
  entry: GuestEntry;
  /** URL path under images/ -> file on disk. */
  files: Map<string, string>;
}

const VIRTUAL_ID = 'virtual:emu-guests';
const RESOLVED_ID = '\0' + VIRTUAL_ID;
const IMAGES_DIR = 'images';

function isFile(path: string): boolean {
  try { return statSync(path).isFile() && statSync(path).size > 0; } catch { return false; }
}

/** Scan the checkout for built guest images. */
export function findGuests(repoRoot: string): Found[] {
  const found: Found[] = [];
  const tinyos = join(repoRoot, 'guests/tinyos/tinyos.elf');
  if (isFile(tinyos)) {
    found.push({
      entry: {
        id: 'tinyos',
        label: 'tinyos',
        description: 'our 64-bit teaching OS (multiboot)',
        kernel: { name: 'tinyos.elf', url: `${IMAGES_DIR}/tinyos.elf` },
        memoryMiB: 128,
        prompt: 'tinyos> ',
      },
      files: new Map([[`${IMAGES_DIR}/tinyos.elf`, tinyos]]),
    });
  }
  const linuxOut = join(repoRoot, 'guests/linux/out');
  if (existsSync(linuxOut)) {
    const names = readdirSync(linuxOut).filter((n) => isFile(join(linuxOut, n)));
    const kernel = names.find((n) => /^(vmlinuz|bzImage)/.test(n));
    const initrd = names.find((n) => /initrd|initramfs|\.cpio/.test(n));
    if (kernel) {
      const files = new Map([[`${IMAGES_DIR}/linux/${kernel}`, join(linuxOut, kernel)]]);
      if (initrd) files.set(`${IMAGES_DIR}/linux/${initrd}`, join(linuxOut, initrd));
      found.push({
        entry: {
          id: 'linux',
          label: 'Linux',
          description: 'Debian kernel + busybox initramfs (slow under the interpreter)',
          kernel: { name: kernel, url: `${IMAGES_DIR}/linux/${kernel}` },
          initrd: initrd ? { name: initrd, url: `${IMAGES_DIR}/linux/${initrd}` } : undefined,
          cmdline: 'console=ttyS0',
          memoryMiB: 256,
        },
        files,
      });
    }
  }
  return found;
}

export function guestImages(repoRoot: string): Plugin {
  let command: 'serve' | 'build' = 'serve';
  let server: ViteDevServer | null = null;
  return {
    name: 'emu-guest-images',
    configResolved(config) { command = config.command; },
    resolveId(id) { return id === VIRTUAL_ID ? RESOLVED_ID : null; },
    load(id) {
      if (id !== RESOLVED_ID) return null;
      const found = findGuests(repoRoot);
      if (command === 'build') {
        for (const f of found) {
          for (const [url, path] of f.files) this.emitFile({ type: 'asset', fileName: url, source: readFileSync(path) });
        }
      }
      return `export default ${JSON.stringify(found.map((f) => f.entry), null, 2)};\n`;
    },
    configureServer(s) {
      server = s;
      // Serve images straight from the checkout; re-list guests when one is built or removed.
      s.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]).replace(/^\/+/, '');
        if (!path.startsWith(`${IMAGES_DIR}/`)) return next();
        const file = findGuests(repoRoot).flatMap((f) => [...f.files]).find(([url]) => url === path)?.[1];
        if (!file) { res.statusCode = 404; res.end(`${basename(path)}: not built in this checkout`); return; }
        res.setHeader('Content-Type', 'application/octet-stream');
        res.setHeader('Cache-Control', 'no-store');
        res.end(readFileSync(file));
      });
      // Reload the page only when the list itself changes (a guest built or removed), not when
      // an image is rewritten: images are read from disk on every request anyway.
      const watched = [join(repoRoot, 'guests/tinyos'), join(repoRoot, 'guests/linux')];
      s.watcher.add(watched);
      let listed = JSON.stringify(findGuests(repoRoot).map((f) => f.entry));
      const relist = (file: string): void => {
        if (!watched.some((w) => file.startsWith(w))) return;
        const now = JSON.stringify(findGuests(repoRoot).map((f) => f.entry));
        if (now === listed) return;
        listed = now;
        const mod = server?.moduleGraph.getModuleById(RESOLVED_ID);
        if (mod) server?.moduleGraph.invalidateModule(mod);
        server?.ws.send({ type: 'full-reload' });
      };
      s.watcher.on('add', relist);
      s.watcher.on('unlink', relist);
    },
  };
}
