// A tiny AML encoder: just the ACPI Machine Language terms emu's DSDT needs (names,
// scopes, devices, packages, buffers, integers, strings, EISA IDs, resource templates),
// so the machine assembles its DSDT in TypeScript with no iasl at build or run time.
// ACPI 6.4 section 20 (AML grammar) and 6.4 (resource data types).

export type Aml = number[];

// ---- Opcodes (ACPI 6.4 20.3).
export const ZERO_OP = 0x00, ONE_OP = 0x01, ONES_OP = 0xff;
export const NAME_OP = 0x08, BYTE_PREFIX = 0x0a, WORD_PREFIX = 0x0b, DWORD_PREFIX = 0x0c, STRING_PREFIX = 0x0d, QWORD_PREFIX = 0x0e;
export const SCOPE_OP = 0x10, BUFFER_OP = 0x11, PACKAGE_OP = 0x12, METHOD_OP = 0x14, RETURN_OP = 0xa4;
export const EXT_OP_PREFIX = 0x5b, DEVICE_OP = 0x82;
export const ROOT_CHAR = 0x5c, DUAL_NAME_PREFIX = 0x2e, MULTI_NAME_PREFIX = 0x2f;

/** PkgLength (20.2.4): the length of what follows plus the PkgLength bytes themselves. */
export function pkgLength(bodyLen: number): Aml {
  if (bodyLen + 1 < 0x40) return [bodyLen + 1];
  for (let extra = 1; extra <= 3; extra++) {
    const total = bodyLen + 1 + extra;
    if (total < 1 << (4 + 8 * extra)) {
      const out = [(extra << 6) | (total & 0xf)];
      for (let i = 0; i < extra; i++) out.push((total >>> (4 + 8 * i)) & 0xff);
      return out;
    }
  }
  throw new Error(`AML package too large (${bodyLen} bytes)`);
}

/** One NameSeg: up to four characters of A-Z, 0-9, _ (first not a digit), padded with '_'. */
export function nameSeg(seg: string): Aml {
  if (!/^[A-Z_][A-Z0-9_]{0,3}$/.test(seg)) throw new Error(`bad AML name segment "${seg}"`);
  const s = seg.padEnd(4, '_');
  return [...s].map((c) => c.charCodeAt(0));
}

/** A NameString such as "_S5_", "\\_SB_.PCI0" or "^PCI0". */
export function nameString(path: string): Aml {
  const out: Aml = [];
  let i = 0;
  if (path[0] === '\\') { out.push(ROOT_CHAR); i = 1; }
  while (path[i] === '^') { out.push(0x5e); i++; }
  const rest = path.slice(i);
  const segs = rest === '' ? [] : rest.split('.');
  if (segs.length === 0) out.push(0x00);
  else if (segs.length === 2) out.push(DUAL_NAME_PREFIX);
  else if (segs.length > 2) out.push(MULTI_NAME_PREFIX, segs.length);
  for (const s of segs) out.push(...nameSeg(s));
  return out;
}

/** The shortest integer encoding of a value up to 2^53. */
export function integer(v: number): Aml {
  if (!Number.isInteger(v) || v < 0 || v > Number.MAX_SAFE_INTEGER) throw new Error(`bad AML integer ${v}`);
  if (v === 0) return [ZERO_OP];
  if (v === 1) return [ONE_OP];
  if (v <= 0xff) return [BYTE_PREFIX, v];
  if (v <= 0xffff) return [WORD_PREFIX, v & 0xff, v >>> 8];
  if (v <= 0xffffffff) return [DWORD_PREFIX, ...le(v, 4)];
  const lo = v % 0x100000000, hi = Math.floor(v / 0x100000000);
  return [QWORD_PREFIX, ...le(lo, 4), ...le(hi, 4)];
}

export function string(s: string): Aml {
  return [STRING_PREFIX, ...[...s].map((c) => c.charCodeAt(0) & 0x7f), 0];
}

/** EISAID("PNP0A03") -> the compressed 32-bit EISA ID as an integer. */
export function eisaId(id: string): Aml {
  if (!/^[A-Z]{3}[0-9A-F]{4}$/.test(id)) throw new Error(`bad EISA ID "${id}"`);
  const c = (k: number) => id.charCodeAt(k) - 0x40;
  const vendor = (c(0) << 10) | (c(1) << 5) | c(2);
  const product = parseInt(id.slice(3), 16);
  return [DWORD_PREFIX, vendor >>> 8, vendor & 0xff, product >>> 8, product & 0xff];
}

export function name(path: string, value: Aml): Aml {
  return [NAME_OP, ...nameString(path), ...value];
}

export function scope(path: string, ...terms: Aml[]): Aml {
  const body = [...nameString(path), ...terms.flat()];
  return [SCOPE_OP, ...pkgLength(body.length), ...body];
}

export function device(path: string, ...terms: Aml[]): Aml {
  const body = [...nameString(path), ...terms.flat()];
  return [EXT_OP_PREFIX, DEVICE_OP, ...pkgLength(body.length), ...body];
}

/** A method with no arguments that returns a constant (enough for _STA and the like). */
export function methodReturning(path: string, value: Aml): Aml {
  const body = [...nameString(path), 0x00 /* 0 args, not serialized */, RETURN_OP, ...value];
  return [METHOD_OP, ...pkgLength(body.length), ...body];
}

export function pkg(...elements: Aml[]): Aml {
  if (elements.length > 255) throw new Error('AML package with more than 255 elements');
  const body = [elements.length, ...elements.flat()];
  return [PACKAGE_OP, ...pkgLength(body.length), ...body];
}

export function buffer(bytes: Aml): Aml {
  const body = [...integer(bytes.length), ...bytes];
  return [BUFFER_OP, ...pkgLength(body.length), ...body];
}

function le(v: number, n: number): Aml {
  const out: Aml = [];
  for (let i = 0; i < n; i++) out.push(Math.floor(v / 2 ** (8 * i)) & 0xff);
  return out;
}

// ---- Resource descriptors (ACPI 6.4 6.4), concatenated into a ResourceTemplate buffer.

/** I/O port descriptor, 16-bit decode, fixed range. */
export function ioPort(base: number, length: number): Aml {
  return [0x47, 0x01, ...le(base, 2), ...le(base, 2), 0x01, length];
}

/** IRQ descriptor (edge, active high, exclusive) for one ISA IRQ. */
export function irqNoFlags(irq: number): Aml {
  return [0x22, ...le(1 << irq, 2)];
}

const ADDR_MEMORY = 0, ADDR_IO = 1, ADDR_BUS = 2;
/** General flags of a bridge window: producer, MinFixed, MaxFixed, positive decode. */
const ADDR_WINDOW_FLAGS = 0x0c;

/** WordBusNumber / WordIO (Word Address Space Descriptor, producer). */
function wordAddress(type: number, typeFlags: number, min: number, max: number): Aml {
  return [0x88, 0x0d, 0x00, type, ADDR_WINDOW_FLAGS, typeFlags, ...le(0, 2), ...le(min, 2), ...le(max, 2), ...le(0, 2), ...le(max - min + 1, 2)];
}
export const wordBusNumber = (min: number, max: number): Aml => wordAddress(ADDR_BUS, 0, min, max);
/** I/O window, entire ISA and non-ISA range. */
export const wordIo = (min: number, max: number): Aml => wordAddress(ADDR_IO, 0x03, min, max);

/** DWordMemory window, cacheable, read-write. */
export function dwordMemory(min: number, max: number): Aml {
  return [0x87, 0x17, 0x00, ADDR_MEMORY, ADDR_WINDOW_FLAGS, 0x03, ...le(0, 4), ...le(min, 4), ...le(max, 4), ...le(0, 4), ...le(max - min + 1, 4)];
}

/** ResourceTemplate(): the descriptors and an end tag (checksum 0 = not checked), as a Buffer. */
export function resourceTemplate(...descriptors: Aml[]): Aml {
  return buffer([...descriptors.flat(), 0x79, 0x00]);
}
