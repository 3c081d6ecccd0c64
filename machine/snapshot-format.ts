// The snapshot file: a fixed header (magic, version, CRC-32, sizes) and a
// deflate-compressed payload of named sections. Platform-neutral: compression
// is the CompressionStream both Node and browsers have, so a snapshot taken
// in the browser demo restores in the CLI and the other way round.
//
// Header (48 bytes, little-endian):
//   0  magic "EMUSNAP\x1a"      8  u32 version        12 u32 CRC-32 of the payload as stored
//   16 f64 payload bytes stored 24 f64 payload bytes raw 32 f64 guest RAM bytes   40 u32 vCPUs  44 u32 0
// Payload: sections, each u16 name length, the name (UTF-8), f64 body length, the body.

export const SNAPSHOT_MAGIC = 'EMUSNAP\x1a';
export const SNAPSHOT_VERSION = 1;
export const HEADER_SIZE = 48;

/** A snapshot that cannot be used: the message is the one line the user sees. */
export class SnapshotError extends Error {}

export interface SnapshotHeader {
  version: number;
  ramSize: number;
  vcpus: number;
}

export type Sections = Map<string, Uint8Array>;

// ---- CRC-32 (IEEE 802.3, reflected, as zlib and PNG compute it).

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---- Compression through web streams.

async function pump(input: Uint8Array, transform: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const writer = transform.writable.getWriter();
  const writing = writer.write(input as Uint8Array<ArrayBuffer>).then(() => writer.close());
  writing.catch(() => {}); // a failure surfaces through the reader as well
  const reader = transform.readable.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > limit) { await reader.cancel(); throw new SnapshotError('snapshot is corrupt: its payload inflates past the size its header gives'); }
    chunks.push(value);
  }
  await writing;
  return concat(chunks, total);
}

export function concat(chunks: readonly Uint8Array[], total = chunks.reduce((n, c) => n + c.length, 0)): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.length; }
  return out;
}

export function deflate(data: Uint8Array): Promise<Uint8Array> {
  return pump(data, new CompressionStream('deflate'), Infinity);
}

export async function inflate(data: Uint8Array, rawLength: number): Promise<Uint8Array> {
  try {
    return await pump(data, new DecompressionStream('deflate'), rawLength);
  } catch (e) {
    if (e instanceof SnapshotError) throw e;
    throw new SnapshotError('snapshot is corrupt: its payload does not decompress');
  }
}

// ---- Sections.

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export function packSections(sections: Sections): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const [name, body] of sections) {
    const n = utf8.encode(name);
    const head = new Uint8Array(2 + n.length + 8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, n.length, true);
    head.set(n, 2);
    dv.setFloat64(2 + n.length, body.length, true);
    parts.push(head, body);
  }
  return concat(parts);
}

export function unpackSections(data: Uint8Array): Sections {
  const out: Sections = new Map();
  const dv = new DataView(data.buffer, data.byteOffset, data.length);
  let at = 0;
  while (at < data.length) {
    if (at + 2 > data.length) throw new SnapshotError('snapshot is corrupt: a section header is cut short');
    const nameLen = dv.getUint16(at, true);
    if (at + 2 + nameLen + 8 > data.length) throw new SnapshotError('snapshot is corrupt: a section header is cut short');
    const name = fromUtf8.decode(data.subarray(at + 2, at + 2 + nameLen));
    const len = dv.getFloat64(at + 2 + nameLen, true);
    at += 2 + nameLen + 8;
    if (!Number.isInteger(len) || len < 0 || at + len > data.length) throw new SnapshotError(`snapshot is corrupt: section "${name}" runs past the end`);
    out.set(name, data.subarray(at, at + len));
    at += len;
  }
  return out;
}

// ---- The file.

export async function encodeSnapshot(header: SnapshotHeader, sections: Sections): Promise<Uint8Array> {
  const raw = packSections(sections);
  const payload = await deflate(raw);
  const file = new Uint8Array(HEADER_SIZE + payload.length);
  const dv = new DataView(file.buffer);
  file.set(utf8.encode(SNAPSHOT_MAGIC), 0);
  dv.setUint32(8, header.version, true);
  dv.setUint32(12, crc32(payload), true);
  dv.setFloat64(16, payload.length, true);
  dv.setFloat64(24, raw.length, true);
  dv.setFloat64(32, header.ramSize, true);
  dv.setUint32(40, header.vcpus, true);
  file.set(payload, HEADER_SIZE);
  return file;
}

/** The header alone, checked (magic, version, sizes, checksum); throws SnapshotError. */
export function readHeader(file: Uint8Array): SnapshotHeader & { payload: Uint8Array; rawLength: number } {
  if (file.length < HEADER_SIZE) throw new SnapshotError(`not an emu snapshot: ${file.length} bytes is shorter than the header`);
  if (fromUtf8.decode(file.subarray(0, 8)) !== SNAPSHOT_MAGIC) throw new SnapshotError('not an emu snapshot (wrong magic number)');
  const dv = new DataView(file.buffer, file.byteOffset, file.length);
  const version = dv.getUint32(8, true);
  if (version !== SNAPSHOT_VERSION) throw new SnapshotError(`snapshot format version ${version}; this emu reads version ${SNAPSHOT_VERSION}`);
  const stored = dv.getFloat64(16, true), rawLength = dv.getFloat64(24, true);
  if (!Number.isInteger(stored) || stored < 0 || !Number.isInteger(rawLength) || rawLength < 0) throw new SnapshotError('snapshot is corrupt: bad sizes in its header');
  if (HEADER_SIZE + stored > file.length) throw new SnapshotError(`snapshot is truncated: ${file.length} of ${HEADER_SIZE + stored} bytes`);
  const payload = file.subarray(HEADER_SIZE, HEADER_SIZE + stored);
  if (crc32(payload) !== dv.getUint32(12, true)) throw new SnapshotError('snapshot is corrupt: checksum mismatch');
  return { version, ramSize: dv.getFloat64(32, true), vcpus: dv.getUint32(40, true), payload, rawLength };
}

export async function decodeSnapshot(file: Uint8Array): Promise<{ header: SnapshotHeader; sections: Sections }> {
  const h = readHeader(file);
  const raw = await inflate(h.payload, h.rawLength);
  if (raw.length !== h.rawLength) throw new SnapshotError('snapshot is corrupt: its payload is not the size its header gives');
  return { header: { version: h.version, ramSize: h.ramSize, vcpus: h.vcpus }, sections: unpackSections(raw) };
}
