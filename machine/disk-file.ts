// A raw disk image file as a BlockBackend (Node only, like backends-node.ts): positioned
// reads and writes straight to the file, flush = fsync, and a lock file next to the image
// so two emus never write one image. Every user mistake is one DiskError line.

import { closeSync, constants, fstatSync, fsyncSync, openSync, readFileSync, readSync, statSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { OverlayDisk, SECTOR_SIZE, type BlockBackend } from '../devices/block.js';

export class DiskError extends Error {}

const CDROM_WHAT = 'CD-ROM image';

export interface DiskFileOptions {
  readOnly?: boolean;
  /** -snapshot: writes go to a memory overlay; the file is opened read-only and not locked. */
  snapshot?: boolean;
  /** A CD-ROM's ISO image (read-only; the messages say so). */
  cdrom?: boolean;
}

/** Locks held by this process, released at exit (a killed emu leaves a stale lock, which the next one sees is dead). */
const held = new Set<string>();
let exitHook = false;

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

/** Take `path.lock` for writing; throws a DiskError if a live emu holds it. */
function lockImage(path: string, what: string): string {
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, `${process.pid}\n`, { flag: 'wx' });
      held.add(lock);
      if (!exitHook) {
        exitHook = true;
        process.on('exit', () => { for (const l of held) try { unlinkSync(l); } catch { /* gone already */ } });
      }
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new DiskError(`${what} '${path}': cannot create the lock file '${lock}' (${(e as Error).message}); use readonly=on or -snapshot`);
      const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
      if (Number.isFinite(pid) && pid !== process.pid && processAlive(pid)) {
        throw new DiskError(`${what} '${path}' is in use by another emu (pid ${pid}); stop it, or add readonly=on or -snapshot`);
      }
      if (pid === process.pid) throw new DiskError(`${what} '${path}' is attached twice; give each drive its own image`);
      try { unlinkSync(lock); } catch { /* raced with another emu: try once more */ }
    }
  }
  throw new DiskError(`${what} '${path}' is in use by another emu; stop it, or add readonly=on or -snapshot`);
}

export class FileDisk implements BlockBackend {
  readonly size: number;
  flushes = 0;
  private fd: number;
  private lock: string | null = null;

  constructor(readonly path: string, readonly readOnly: boolean, what = 'disk image') {
    let st;
    try { st = statSync(path); } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        const make = what === CDROM_WHAT ? `genisoimage -o ${path} DIR` : `truncate -s 64M ${path}`;
        throw new DiskError(`${what} '${path}' does not exist; check the path (create one with: ${make})`);
      }
      throw new DiskError(`${what} '${path}' cannot be opened: ${(e as Error).message}`);
    }
    if (!st.isFile() && !st.isBlockDevice()) throw new DiskError(`${what} '${path}' is not a file`);
    // Root may write a file without write permission; the mode bits are what the user meant.
    if (!readOnly && (st.mode & 0o222) === 0) throw new DiskError(`${what} '${path}' is read-only; add readonly=on (or -snapshot) to use it`);
    if (!readOnly) this.lock = lockImage(path, what);
    try {
      this.fd = openSync(path, readOnly ? constants.O_RDONLY : constants.O_RDWR);
    } catch (e) {
      this.release();
      const code = (e as NodeJS.ErrnoException).code;
      if (!readOnly && (code === 'EACCES' || code === 'EROFS' || code === 'EPERM')) throw new DiskError(`${what} '${path}' is read-only; add readonly=on (or -snapshot) to use it`);
      throw new DiskError(`${what} '${path}' cannot be opened: ${(e as Error).message}`);
    }
    const bytes = fstatSync(this.fd).size;
    if (bytes < SECTOR_SIZE) {
      this.close();
      throw new DiskError(`${what} '${path}' is smaller than one 512-byte sector`);
    }
    this.size = bytes - (bytes % SECTOR_SIZE);
  }

  read(offset: number, dst: Uint8Array): void {
    let done = 0;
    while (done < dst.length) {
      const n = readSync(this.fd, dst, done, dst.length - done, offset + done);
      if (n <= 0) { dst.fill(0, done); return; } // the file shrank under us: zeros
      done += n;
    }
  }

  write(offset: number, src: Uint8Array): void {
    let done = 0;
    while (done < src.length) done += writeSync(this.fd, src, done, src.length - done, offset + done);
  }

  flush(): void {
    this.flushes++;
    if (!this.readOnly) fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.release();
  }

  private release(): void {
    if (!this.lock) return;
    try { unlinkSync(this.lock); } catch { /* already gone */ }
    held.delete(this.lock);
    this.lock = null;
  }
}

/** Open an image as the CLI's -drive options ask: read-only, read-write (locked), or behind a -snapshot overlay. */
export function openDisk(path: string, opts: DiskFileOptions = {}): BlockBackend & { close?: () => void } {
  if (opts.cdrom) return new FileDisk(path, true, CDROM_WHAT);
  if (opts.readOnly) return new FileDisk(path, true);
  if (opts.snapshot) {
    const base = new FileDisk(path, true);
    const overlay = new OverlayDisk(base);
    return Object.assign(overlay, { close: () => base.close() });
  }
  return new FileDisk(path, opts.readOnly ?? false);
}
