// A growable byte buffer that writes WebAssembly's primitive encodings: LEB128 (32- and 64-bit,
// the latter as lo/hi 32-bit halves, no JS bigints), IEEE floats by bit pattern, and UTF-8 names.

const TWO_32 = 4294967296;

/** Appends bytes to a Uint8Array that doubles when full; `bytes()` returns a view of what was written. */
export class ByteWriter {
  buf: Uint8Array<ArrayBuffer>;
  len = 0;

  constructor(capacity = 256) {
    this.buf = new Uint8Array(capacity);
  }

  /** Makes room for n more bytes. */
  ensure(n: number): void {
    const need = this.len + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Empties the buffer (keeping its capacity); returns it for chaining. */
  reset(): this {
    this.len = 0;
    return this;
  }

  /** A view (not a copy) of the bytes written so far. */
  bytes(): Uint8Array<ArrayBuffer> {
    return this.buf.subarray(0, this.len);
  }

  byte(b: number): void {
    if (this.len === this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.len);
    this.len += bytes.length;
  }

  /** Unsigned LEB128 of a value in [0, 2^32). */
  u32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let n = v >>> 0;
    while (n >= 0x80) {
      buf[this.len++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[this.len++] = n;
  }

  /** Signed LEB128 of a value in [-2^31, 2^31); values in [2^31, 2^32) are taken as their int32 bits. */
  s32(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    let n = v | 0;
    for (;;) {
      const b = n & 0x7f;
      n >>= 7;
      if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
        buf[this.len++] = b;
        return;
      }
      buf[this.len++] = b | 0x80;
    }
  }

  /** Signed LEB128 of the 64-bit value hi:lo (two's complement halves). */
  s64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let l = lo | 0;
    let h = hi | 0;
    for (;;) {
      const b = l & 0x7f;
      // Arithmetic shift right by 7 of the 64-bit pair.
      l = (l >>> 7) | (h << 25);
      h >>= 7;
      if ((h === 0 && l === 0 && (b & 0x40) === 0) || (h === -1 && l === -1 && (b & 0x40) !== 0)) {
        buf[this.len++] = b;
        return;
      }
      buf[this.len++] = b | 0x80;
    }
  }

  /** Unsigned LEB128 of the 64-bit value hi:lo. */
  u64(lo: number, hi: number): void {
    this.ensure(10);
    const buf = this.buf;
    let l = lo >>> 0;
    let h = hi >>> 0;
    while (h !== 0 || l >= 0x80) {
      buf[this.len++] = (l & 0x7f) | 0x80;
      l = ((l >>> 7) | (h << 25)) >>> 0;
      h >>>= 7;
    }
    buf[this.len++] = l;
  }

  /** f32 by value (rounded to single precision). */
  f32Value(v: number): void {
    F32[0] = v;
    this.raw(F32_BYTES);
  }

  /** f64 by value. */
  f64Value(v: number): void {
    F64[0] = v;
    this.raw(F64_BYTES);
  }

  /** 32 bits little-endian, e.g. an f32 bit pattern (keeps NaN payloads exact). */
  u32le(v: number): void {
    this.ensure(4);
    const buf = this.buf;
    buf[this.len++] = v & 0xff;
    buf[this.len++] = (v >>> 8) & 0xff;
    buf[this.len++] = (v >>> 16) & 0xff;
    buf[this.len++] = (v >>> 24) & 0xff;
  }

  /** A name: LEB128 byte length, then UTF-8. */
  name(s: string): void {
    // ASCII (every name the JIT makes) is written directly; anything else goes through UTF-8.
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) ascii = false;
    if (!ascii) {
      const utf8 = encoder.encode(s);
      this.u32(utf8.length);
      this.raw(utf8);
      return;
    }
    this.u32(n);
    this.ensure(n);
    for (let i = 0; i < n; i++) this.buf[this.len++] = s.charCodeAt(i);
  }

  /** A vector of bytes with its LEB128 length in front (a section or function body). */
  sized(inner: ByteWriter): void {
    this.u32(inner.len);
    this.raw(inner.bytes());
  }
}

const encoder = new TextEncoder();
// Scratch for float bit patterns (little-endian hosts, as WebAssembly itself assumes).
const F64 = new Float64Array(1);
const F64_BYTES = new Uint8Array(F64.buffer);
const F32 = new Float32Array(1);
const F32_BYTES = new Uint8Array(F32.buffer);

/**
 * Splits an integer JS number into 64-bit two's complement halves. Throws unless the number is an
 * integer in [-2^63, 2^64) — every such double is exact, so nothing is rounded silently.
 */
export function splitI64(n: number): { lo: number; hi: number } {
  if (!Number.isInteger(n) || n < -9223372036854775808 || n >= 18446744073709551616) {
    throw new RangeError(`wasm: ${n} is not an integer representable as a 64-bit value`);
  }
  const hi = Math.floor(n / TWO_32);
  const lo = n - hi * TWO_32;
  return { lo: lo | 0, hi: hi | 0 };
}

/** Byte length of the unsigned LEB128 encoding of v in [0, 2^32). */
export function u32Size(v: number): number {
  let n = v >>> 0;
  let size = 1;
  while (n >= 0x80) {
    n >>>= 7;
    size++;
  }
  return size;
}
