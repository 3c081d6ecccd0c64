// Builders for tiny boot images used by the loader and CLI tests: ELF32/ELF64
// executables with PT_LOAD segments, and multiboot headers (ELF or a.out kludge).

export const MB_MAGIC = 0x1badb002;

/** A 12-byte multiboot header (or 32 bytes with the a.out-kludge address fields). */
export function multibootHeader(flags: number, kludge?: { headerAddr: number; loadAddr: number; loadEnd: number; bssEnd: number; entry: number }): Uint8Array {
  const out = new Uint8Array(kludge ? 32 : 12);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, MB_MAGIC, true);
  dv.setUint32(4, flags, true);
  dv.setUint32(8, (-(MB_MAGIC + flags)) >>> 0, true);
  if (kludge) {
    dv.setUint32(12, kludge.headerAddr, true);
    dv.setUint32(16, kludge.loadAddr, true);
    dv.setUint32(20, kludge.loadEnd, true);
    dv.setUint32(24, kludge.bssEnd, true);
    dv.setUint32(28, kludge.entry, true);
  }
  return out;
}

export interface Segment { paddr: number; data: Uint8Array; memSize?: number }

/** An x86 ELF executable whose segments carry `data`; the first segment's file offset is 0x1000. */
export function elf(bits: 32 | 64, entry: number, segments: Segment[]): Uint8Array {
  const ehsize = bits === 32 ? 52 : 64;
  const phentsize = bits === 32 ? 32 : 56;
  let offset = 0x1000;
  const placed = segments.map((s) => {
    const at = offset;
    offset += Math.ceil(s.data.length / 0x1000) * 0x1000 || 0x1000;
    return { ...s, offset: at };
  });
  const out = new Uint8Array(offset);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, bits === 32 ? 1 : 2, 1, 1], 0);
  dv.setUint16(16, 2, true); // ET_EXEC
  dv.setUint16(18, bits === 32 ? 3 : 62, true);
  dv.setUint32(20, 1, true);
  if (bits === 32) {
    dv.setUint32(24, entry, true);
    dv.setUint32(28, ehsize, true);
    dv.setUint16(40, ehsize, true);
    dv.setUint16(42, phentsize, true);
    dv.setUint16(44, placed.length, true);
  } else {
    dv.setUint32(24, entry % 4294967296, true);
    dv.setUint32(28, Math.floor(entry / 4294967296), true);
    dv.setUint32(32, ehsize, true);
    dv.setUint16(52, ehsize, true);
    dv.setUint16(54, phentsize, true);
    dv.setUint16(56, placed.length, true);
  }
  placed.forEach((s, i) => {
    const p = ehsize + i * phentsize;
    const memSize = s.memSize ?? s.data.length;
    dv.setUint32(p, 1, true); // PT_LOAD
    if (bits === 32) {
      dv.setUint32(p + 4, s.offset, true);
      dv.setUint32(p + 8, s.paddr, true);
      dv.setUint32(p + 12, s.paddr, true);
      dv.setUint32(p + 16, s.data.length, true);
      dv.setUint32(p + 20, memSize, true);
    } else {
      dv.setUint32(p + 4, 7, true);
      dv.setUint32(p + 8, s.offset, true);
      dv.setUint32(p + 16, s.paddr, true);
      dv.setUint32(p + 24, s.paddr, true);
      dv.setUint32(p + 32, s.data.length, true);
      dv.setUint32(p + 40, memSize, true);
    }
    out.set(s.data, s.offset);
  });
  return out;
}

/** Concatenate byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
