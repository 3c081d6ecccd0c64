// Helpers shared by the segmentation tests (segment-*.test.ts): little-endian immediates,
// segment hidden parts set as a descriptor load would, and fault expectations on the Rig.
import { expect } from 'vitest';
import { EXIT_HALT, EXIT_SHUTDOWN } from '../../contracts/backend.js';
import { ATTR_P, ATTR_S, SEG_ATTR, SEG_BASE, SEG_LIMIT, segOffset } from '../../cpu/state.js';
import { CODE, Rig } from './harness.js';

export const le32 = (v: number): string => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
export const le16 = (v: number): string => le32(v).slice(0, 4);

/** Read/write data, accessed (type 3); expand-down read/write data, accessed (type 7). */
export const DATA = ATTR_P | ATTR_S | 0x3, DATA_DOWN = ATTR_P | ATTR_S | 0x7;
export const VEC_SS = 12, VEC_GP = 13;

/** Give segment n a hidden part, as a descriptor load would, and tell the CPU. */
export function seg(t: Rig, n: number, base: number, limit: number, attr: number): void {
  const o = segOffset(n);
  t.state.set64(o + SEG_BASE, base, 0);
  t.state.setU32(o + SEG_LIMIT, limit);
  t.state.setU32(o + SEG_ATTR, attr);
  t.cpu.modeChanged();
}

/** Run `code`; expect it to stop on a fault with `vector` and `errorCode`, RIP at byte `at` of the code. */
export function expectFault(t: Rig, code: string, vector: number, at: number, errorCode = 0): void {
  t.cpu.lastEvent = null;
  expect(t.run(code)).toBe(EXIT_SHUTDOWN);
  expect(t.cpu.lastEvent).toEqual({ vector, kind: expect.any(Number), errorCode, hasError: true });
  expect(t.rip()).toBe(CODE + at);
}

export function expectNoFault(t: Rig, code: string): void {
  t.cpu.lastEvent = null;
  expect(t.run(code)).toBe(EXIT_HALT);
  expect(t.cpu.lastEvent).toBeNull();
}

/** A raised CpuFault's vector and error code. */
export function faultOf(f: () => void): { vector: number; errorCode: number } {
  try { f(); } catch (e) { return e as { vector: number; errorCode: number }; }
  throw new Error('expected a fault');
}
