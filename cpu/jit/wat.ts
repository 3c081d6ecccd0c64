// A wasm text view of a generated module's function, for `emu --jit-dump` and the
// lockstep oracle's reports: the subset of instruction forms the code generator
// emits, named from the encoder's opcode table, one instruction per line.
// (A teaching view, far from any hot path.)

import { OP_ROWS } from './wasm/index.js';

const ROWS = new Map<number, readonly [number, string, string, string]>();
for (const row of OP_ROWS) ROWS.set(row[0], row);

class Reader {
  pos = 0;
  constructor(readonly b: Uint8Array) {}
  byte(): number { return this.b[this.pos++]; }
  u32(): number {
    let v = 0, shift = 0, x: number;
    do { x = this.byte(); v += (x & 0x7f) * 2 ** shift; shift += 7; } while (x & 0x80);
    return v;
  }
  /** A signed LEB128 of up to 64 bits as wasm text: decimal where exact in a double, else hex (no BigInt). */
  s64(): string {
    let lo = 0, hi = 0, shift = 0, x: number;
    do {
      x = this.byte();
      const bits = x & 0x7f;
      if (shift < 32) { lo |= bits << shift; if (shift > 25) hi |= bits >>> (32 - shift); }
      else if (shift < 64) hi |= bits << (shift - 32);
      shift += 7;
    } while (x & 0x80);
    if ((x & 0x40) !== 0 && shift < 64) {
      if (shift < 32) { lo |= -1 << shift; hi = -1; } else hi |= -1 << (shift - 32);
    }
    const v = (hi | 0) * 4294967296 + (lo >>> 0);
    if (Number.isSafeInteger(v)) return String(v);
    return '0x' + (hi >>> 0).toString(16).padStart(8, '0') + (lo >>> 0).toString(16).padStart(8, '0');
  }
  skipSection(): void { this.pos += this.u32(); }
}

const TYPES: Record<number, string> = { 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x7b: 'v128' };

/** Text of defined function `index` of module `bytes` (imports not counted). */
export function watText(bytes: Uint8Array, index: number): string {
  const r = new Reader(bytes);
  r.pos = 8;
  while (r.pos < bytes.length) {
    const id = r.byte(), size = r.u32(), end = r.pos + size;
    if (id !== 10) { r.pos = end; continue; }
    const count = r.u32();
    for (let k = 0; k < count; k++) {
      const len = r.u32(), fend = r.pos + len;
      if (k === index) return body(r, fend);
      r.pos = fend;
    }
  }
  return '(no such function)';
}

function body(r: Reader, end: number): string {
  const out: string[] = [];
  const groups = r.u32();
  const locals: string[] = [];
  for (let g = 0; g < groups; g++) { const n = r.u32(), t = TYPES[r.byte()] ?? '?'; locals.push(`${n} x ${t}`); }
  out.push(`  (func (param $base i32) (param $limit i32) (param $entry i32) (param $done i32) (result i32) (local ${locals.join(', ')})`);
  let depth = 2;
  while (r.pos < end) {
    const code = r.byte();
    const row = ROWS.get(code);
    const name = row?.[1] ?? `0x${code.toString(16)}`;
    if (code === 0x0b || code === 0x05) depth--;
    let imm = '';
    switch (code) {
      case 0x02: case 0x03: case 0x04: { const t = r.byte(); imm = t === 0x40 ? '' : ` (result ${TYPES[t] ?? '?'})`; break; }
      case 0x0c: case 0x0d: case 0x10: case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: imm = ` ${r.u32()}`; break;
      case 0x11: case 0x13: { const type = r.u32(); imm = ` (type ${type}) (table ${r.u32()})`; break; }
      case 0x0e: { const n = r.u32(); const d: number[] = []; for (let k = 0; k <= n; k++) d.push(r.u32()); imm = ` ${d.join(' ')}`; break; }
      case 0x41: case 0x42: imm = ` ${r.s64()}`; break;
      case 0x44: { const v = new DataView(r.b.buffer, r.b.byteOffset + r.pos, 8).getFloat64(0, true); r.pos += 8; imm = ` ${v}`; break; }
      default:
        if (row !== undefined && row[3].startsWith('m')) { r.u32(); const off = r.u32(); imm = off !== 0 ? ` offset=0x${off.toString(16)}` : ''; }
    }
    if (r.pos > end || (code === 0x0b && r.pos === end)) { out.push('  )'); break; }
    out.push(`${'  '.repeat(Math.max(depth, 1))}${name}${imm}`);
    if (code === 0x02 || code === 0x03 || code === 0x04 || code === 0x05) depth++;
  }
  return out.join('\n');
}
