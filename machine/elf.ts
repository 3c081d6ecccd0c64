// A minimal ELF reader for loaders: the file header and PT_LOAD segments of
// ELF32 and ELF64 little-endian x86 images. Every offset and size in the file
// is checked against the file's length before it is used.

export class ImageError extends Error {}

export interface ElfSegment {
  /** Physical load address (p_paddr). */
  paddr: number;
  vaddr: number;
  /** Offset of the segment's bytes in the file. */
  offset: number;
  fileSize: number;
  memSize: number;
}

export interface ElfImage {
  bits: 32 | 64;
  machine: number;
  /** Entry point; for ELF64 only exact below 2^53. */
  entry: number;
  segments: ElfSegment[];
}

const PT_LOAD = 1;
const EM_386 = 3;
const EM_X86_64 = 62;

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

/** Parse an x86 ELF executable's load segments. `name` is used in error messages. */
export function parseElf(bytes: Uint8Array, name: string): ElfImage {
  if (!isElf(bytes)) throw new ImageError(`${name}: not an ELF file`);
  if (bytes.length < 52) throw new ImageError(`${name}: truncated ELF header (${bytes.length} bytes)`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cls = bytes[4];
  if (cls !== 1 && cls !== 2) throw new ImageError(`${name}: unknown ELF class ${cls}`);
  if (bytes[5] !== 1) throw new ImageError(`${name}: big-endian ELF is not an x86 image`);
  const bits = cls === 1 ? 32 : 64;
  const machine = dv.getUint16(18, true);
  if (machine !== EM_386 && machine !== EM_X86_64) {
    throw new ImageError(`${name}: ELF machine ${machine} is not x86 (EM_386 or EM_X86_64)`);
  }
  const u64 = (o: number): number => dv.getUint32(o, true) + dv.getUint32(o + 4, true) * 4294967296;
  let entry: number, phoff: number, phentsize: number, phnum: number;
  if (bits === 32) {
    entry = dv.getUint32(24, true);
    phoff = dv.getUint32(28, true);
    phentsize = dv.getUint16(42, true);
    phnum = dv.getUint16(44, true);
  } else {
    if (bytes.length < 64) throw new ImageError(`${name}: truncated ELF64 header`);
    entry = u64(24);
    phoff = u64(32);
    phentsize = dv.getUint16(54, true);
    phnum = dv.getUint16(56, true);
  }
  const minEnt = bits === 32 ? 32 : 56;
  if (phnum === 0) throw new ImageError(`${name}: ELF has no program headers`);
  if (phentsize < minEnt || phoff + phnum * phentsize > bytes.length) {
    throw new ImageError(`${name}: ELF program headers lie outside the file (truncated image?)`);
  }
  const segments: ElfSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    if (dv.getUint32(p, true) !== PT_LOAD) continue;
    const seg: ElfSegment = bits === 32
      ? { offset: dv.getUint32(p + 4, true), vaddr: dv.getUint32(p + 8, true), paddr: dv.getUint32(p + 12, true),
        fileSize: dv.getUint32(p + 16, true), memSize: dv.getUint32(p + 20, true) }
      : { offset: u64(p + 8), vaddr: u64(p + 16), paddr: u64(p + 24), fileSize: u64(p + 32), memSize: u64(p + 40) };
    if (seg.offset + seg.fileSize > bytes.length) {
      throw new ImageError(`${name}: segment ${i} runs past the end of the file (truncated image?)`);
    }
    if (seg.fileSize > seg.memSize) throw new ImageError(`${name}: segment ${i} has p_filesz > p_memsz`);
    segments.push(seg);
  }
  if (segments.length === 0) throw new ImageError(`${name}: ELF has no loadable (PT_LOAD) segments`);
  return { bits, machine, entry, segments };
}
