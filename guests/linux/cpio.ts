// A writer for the "newc" cpio format (SVR4 with no CRC) that the kernel unpacks as
// an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst):
// a 110-byte ASCII header per entry, the name, then the data, each padded to 4 bytes.

export const S_IFDIR = 0o040000, S_IFREG = 0o100000, S_IFLNK = 0o120000, S_IFCHR = 0o020000;

export interface CpioEntry {
  /** Path inside the archive, without a leading slash ("bin/busybox"). */
  name: string;
  /** File type and permission bits (S_IF* | 0o755 ...). */
  mode: number;
  /** File contents, or a symlink's target. */
  data?: Uint8Array | string;
  /** Device number of a character/block special file. */
  rdev?: [major: number, minor: number];
  mtime?: number;
}

const MAGIC = '070701';
const HEADER_SIZE = 110;
const TRAILER = 'TRAILER!!!';

const hex8 = (v: number): string => (v >>> 0).toString(16).toUpperCase().padStart(8, '0');
const pad4 = (n: number): number => (4 - (n % 4)) % 4;

/** Build a newc archive from `entries` (in order; directories before their contents), ending with the trailer. */
export function writeCpio(entries: CpioEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  let size = 0;
  const push = (b: Uint8Array): void => { parts.push(b); size += b.length; };
  const all = [...entries, { name: TRAILER, mode: 0 } as CpioEntry];
  all.forEach((e, i) => {
    if (e.name.startsWith('/') || e.name === '') throw new Error(`cpio entry name "${e.name}" must be relative and non-empty`);
    const data = typeof e.data === 'string' ? enc.encode(e.data) : (e.data ?? new Uint8Array(0));
    const name = enc.encode(e.name + '\0');
    const isDir = (e.mode & 0o170000) === S_IFDIR;
    const fields = [
      e.name === TRAILER ? 0 : i + 1, // ino
      e.mode,
      0, 0, // uid, gid
      isDir ? 2 : 1, // nlink
      e.mtime ?? 0,
      data.length,
      0, 0, // devmajor, devminor
      e.rdev?.[0] ?? 0, e.rdev?.[1] ?? 0,
      name.length,
      0, // check
    ];
    push(enc.encode(MAGIC + fields.map(hex8).join('')));
    push(name);
    push(new Uint8Array(pad4(HEADER_SIZE + name.length)));
    push(data);
    push(new Uint8Array(pad4(data.length)));
  });
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
