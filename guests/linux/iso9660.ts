// A minimal ISO 9660 (ECMA-119) image writer for tests: level 1 names, files in the root
// directory only, no Rock Ridge or Joliet. Layout: the system area (sectors 0-15), the
// primary volume descriptor (16), the set terminator (17), the L and M path tables (18, 19),
// the root directory (20, one sector), then each file's data from a sector boundary.
// Linux's isofs shows a name "DATA.BIN;1" as data.bin (map=normal).

export const ISO_SECTOR = 2048;
const PVD = 16, TERMINATOR = 17, L_TABLE = 18, M_TABLE = 19, ROOT = 20, FIRST_FILE = 21;

export interface IsoFile {
  /** Level 1: up to 8 characters, a dot, up to 3 (A-Z, 0-9, _). */
  name: string;
  data: Uint8Array;
}

/** Both-endian 16 and 32-bit fields (ECMA-119 7.2.3, 7.3.3). */
function both16(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff; b[at + 1] = v >> 8; b[at + 2] = v >> 8; b[at + 3] = v & 0xff;
}
function both32(b: Uint8Array, at: number, v: number): void {
  const dv = new DataView(b.buffer, b.byteOffset);
  dv.setUint32(at, v, true);
  dv.setUint32(at + 4, v, false);
}
function text(b: Uint8Array, at: number, len: number, s: string): void {
  const t = s.padEnd(len, ' ');
  for (let i = 0; i < len; i++) b[at + i] = t.charCodeAt(i);
}

/** A directory record (9.1) at `at`; returns its length. */
function dirRecord(b: Uint8Array, at: number, extent: number, size: number, dir: boolean, id: Uint8Array): number {
  const len = 33 + id.length + (id.length % 2 === 0 ? 1 : 0);
  b[at] = len;
  both32(b, at + 2, extent);
  both32(b, at + 10, size);
  b.set([126, 1, 1, 0, 0, 0, 0], at + 18); // recorded 2026-01-01 00:00:00 GMT
  b[at + 25] = dir ? 2 : 0;
  both16(b, at + 28, 1);
  b[at + 32] = id.length;
  b.set(id, at + 33);
  return len;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

/** An ISO 9660 image with `files` in its root directory, under volume label `volume`. */
export function buildIso(volume: string, files: IsoFile[]): Uint8Array {
  for (const f of files) if (!/^[A-Z0-9_]{1,8}(\.[A-Z0-9_]{0,3})?$/.test(f.name)) throw new Error(`${f.name}: not an ISO 9660 level 1 name`);
  const extents: number[] = [];
  let next = FIRST_FILE;
  for (const f of files) {
    extents.push(next);
    next += Math.max(1, Math.ceil(f.data.length / ISO_SECTOR));
  }
  const img = new Uint8Array(next * ISO_SECTOR);

  // The root directory: ".", "..", then the files (sorted by name, as 9.3 asks).
  const root = ROOT * ISO_SECTOR;
  let at = root;
  at += dirRecord(img, at, ROOT, ISO_SECTOR, true, Uint8Array.of(0));
  at += dirRecord(img, at, ROOT, ISO_SECTOR, true, Uint8Array.of(1));
  const order = files.map((f, i) => i).sort((a, b) => (files[a].name < files[b].name ? -1 : 1));
  for (const i of order) {
    const id = ascii(`${files[i].name};1`);
    if (at + 34 + id.length > root + ISO_SECTOR) throw new Error('too many files for one directory sector');
    at += dirRecord(img, at, extents[i], files[i].data.length, false, id);
    img.set(files[i].data, extents[i] * ISO_SECTOR);
  }

  // Path tables (9.4): the root only.
  const dv = new DataView(img.buffer);
  img[L_TABLE * ISO_SECTOR] = 1;
  dv.setUint32(L_TABLE * ISO_SECTOR + 2, ROOT, true);
  dv.setUint16(L_TABLE * ISO_SECTOR + 6, 1, true);
  img[M_TABLE * ISO_SECTOR] = 1;
  dv.setUint32(M_TABLE * ISO_SECTOR + 2, ROOT, false);
  dv.setUint16(M_TABLE * ISO_SECTOR + 6, 1, false);

  // Primary volume descriptor (8.4).
  const p = PVD * ISO_SECTOR;
  img[p] = 1; text(img, p + 1, 5, 'CD001'); img[p + 6] = 1;
  text(img, p + 8, 32, 'LINUX');
  text(img, p + 40, 32, volume);
  both32(img, p + 80, next);
  both16(img, p + 120, 1);
  both16(img, p + 124, 1);
  both16(img, p + 128, ISO_SECTOR);
  both32(img, p + 132, 10);
  dv.setUint32(p + 140, L_TABLE, true);
  dv.setUint32(p + 148, M_TABLE, false);
  dirRecord(img, p + 156, ROOT, ISO_SECTOR, true, Uint8Array.of(0));
  text(img, p + 190, 128 * 4 + 37 * 3, '');
  for (const d of [813, 830, 864]) { text(img, p + d, 16, '2026010100000000'); img[p + d + 16] = 0; }
  text(img, p + 847, 16, '0000000000000000');
  img[p + 881] = 1;

  // Volume descriptor set terminator (8.3).
  const t = TERMINATOR * ISO_SECTOR;
  img[t] = 255; text(img, t + 1, 5, 'CD001'); img[t + 6] = 1;
  return img;
}
