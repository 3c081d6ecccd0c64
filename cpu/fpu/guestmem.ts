// Moving operands between guest memory (through the CPU's paged accessors) and the
// scratch slots of the state record, and the per-CPU typed views of that record: what
// the x87 (cpu/fpu/) and SSE (cpu/sse/, which builds on the x87's soft float) share.

import type { Cpu } from '../cpu.js';
import { STATE_SIZE } from '../state.js';

export interface Vec {
  u8: Uint8Array; i8: Int8Array; u16: Uint16Array; i16: Int16Array;
  u32: Uint32Array; i32: Int32Array; f32: Float32Array; f64: Float64Array; dv: DataView;
}

/** Views over the record at byteOffset of buffer (must be 16-byte aligned). */
export function vecViews(buffer: ArrayBufferLike, byteOffset: number): Vec {
  return {
    u8: new Uint8Array(buffer, byteOffset, STATE_SIZE), i8: new Int8Array(buffer, byteOffset, STATE_SIZE),
    u16: new Uint16Array(buffer, byteOffset, STATE_SIZE / 2), i16: new Int16Array(buffer, byteOffset, STATE_SIZE / 2),
    u32: new Uint32Array(buffer, byteOffset, STATE_SIZE / 4), i32: new Int32Array(buffer, byteOffset, STATE_SIZE / 4),
    f32: new Float32Array(buffer, byteOffset, STATE_SIZE / 4), f64: new Float64Array(buffer, byteOffset, STATE_SIZE / 8),
    dv: new DataView(buffer, byteOffset, STATE_SIZE),
  };
}

/**
 * Scratch for a memory operand (32 bytes in the backend-private part of the record,
 * below the interpreter's SCRATCH area; see ARCHITECTURE.md "x87 and SSE").
 */
export const MEM_TMP = 0x7c0;
/** A second scratch slot (results staged before an all-or-nothing write). */
export const RES_TMP = 0x7e0;

const views = new WeakMap<Cpu, Vec>();
/** Typed views over this CPU's live state record (made once per Cpu). */
export function vecOf(c: Cpu): Vec {
  let v = views.get(c);
  if (!v) { v = vecViews(c.r32.buffer, c.r32.byteOffset); views.set(c, v); }
  return v;
}

/** Copy n bytes of guest memory at lo:hi into the record at `off` (reads fault before any state change). */
export function loadBytes(c: Cpu, lo: number, hi: number, n: number, off: number): void {
  const u8 = vecOf(c).u8;
  for (let k = 0; k < n;) {
    const a = (lo + k) >>> 0, h = a < (lo >>> 0) ? hi + 1 : hi;
    if (n - k >= 4) { const v = c.read32(a | 0, h); u8[off + k] = v; u8[off + k + 1] = v >>> 8; u8[off + k + 2] = v >>> 16; u8[off + k + 3] = v >>> 24; k += 4; }
    else { u8[off + k] = c.read8(a | 0, h); k++; }
  }
}
/** Write n bytes from the record at `off` to guest memory. */
export function storeBytes(c: Cpu, lo: number, hi: number, n: number, off: number): void {
  const u8 = vecOf(c).u8;
  for (let k = 0; k < n;) {
    const a = (lo + k) >>> 0, h = a < (lo >>> 0) ? hi + 1 : hi;
    if (n - k >= 4) { c.write32(a | 0, h, u8[off + k] | (u8[off + k + 1] << 8) | (u8[off + k + 2] << 16) | (u8[off + k + 3] << 24)); k += 4; }
    else { c.write8(a | 0, h, u8[off + k]); k++; }
  }
}
/** Fault a store now, before the instruction changes state: rewrite what is there. */
export function probeStore(c: Cpu, lo: number, hi: number, n: number): void {
  c.write8(lo, hi, c.read8(lo, hi));
  const a = (lo + n - 1) >>> 0, h = a < (lo >>> 0) ? hi + 1 : hi;
  c.write8(a | 0, h, c.read8(a | 0, h));
}

