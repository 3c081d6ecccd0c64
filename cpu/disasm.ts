// Intel-syntax disassembler derived from the opcode table: the decoder picks the
// row, the row's mnemonic and operand specs say what to print. Used by traces,
// error messages and the lockstep harness.

import { decode, Insn, type ByteSource } from './decoder.js';
import { CpuFault } from './fault.js';
import { SEG_NAMES } from './state.js';
import type { OpTable } from './table.js';

const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
const R8_LEGACY = ['al', 'cl', 'dl', 'bl', 'ah', 'ch', 'dh', 'bh'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
// objdump -M intel spelling, so its output can serve as the tests' reference.
const SIZE_PTR: Record<number, string> = { 1: 'BYTE', 2: 'WORD', 4: 'DWORD', 6: 'FWORD', 8: 'QWORD', 10: 'TBYTE', 16: 'XMMWORD' };

/** Name of GPR n at `size` bytes (rex: whether a REX prefix was present, for SPL..DIL vs AH..BH). */
export function regName(n: number, size: number, rex = 1): string {
  if (size === 1) return n < 8 ? (rex ? R8[n] : R8_LEGACY[n]) : `r${n}b`;
  if (size === 2) return n < 8 ? R16[n] : `r${n}w`;
  if (size === 4) return n < 8 ? `e${R16[n]}` : `r${n}d`;
  return n < 8 ? `r${R16[n]}` : `r${n}`;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** A value of `size` bytes as unsigned hex (64-bit values from lo/hi). */
function immHex(lo: number, hi: number, size: number): string {
  if (size === 8 && hi !== 0) return `0x${(hi >>> 0).toString(16)}${(lo >>> 0).toString(16).padStart(8, '0')}`;
  const m = size === 1 ? 0xff : size === 2 ? 0xffff : -1;
  return hex(lo & m);
}

function memOperand(d: Insn, size: number): string {
  const as = d.addrSize;
  const ptr = SIZE_PTR[size] ? `${SIZE_PTR[size]} PTR ` : '';
  const parts: string[] = [];
  if (d.ripRel) parts.push(as === 4 ? 'eip' : 'rip');
  else {
    if (d.base >= 0) parts.push(regName(d.base, as));
    // 16-bit forms name their index without a scale; 32/64-bit SIB forms always show it.
    if (d.index >= 0) parts.push(as === 2 ? regName(d.index, 2) : `${regName(d.index, as)}*${1 << d.scale}`);
  }
  if (parts.length === 0) {
    // An absolute address: shown with its segment, as objdump does.
    const seg = SEG_NAMES[d.segOverride >= 0 ? d.segOverride : 3];
    return `${ptr}${seg}:${hex(as === 2 ? d.disp & 0xffff : d.disp)}`;
  }
  let s = parts.join('+');
  if (d.mod === 1 || d.mod === 2 || d.ripRel || d.base < 0) s += d.disp < 0 ? `-${hex(-d.disp)}` : `+${hex(d.disp)}`;
  const seg = d.segOverride >= 0 ? `${SEG_NAMES[d.segOverride]}:` : '';
  return `${ptr}${seg}[${s}]`;
}

/** Operand size in bytes of a spec's size letter (0 = none, e.g. LEA's M). */
function sizeOf(spec: string, d: Insn): number {
  const t = spec.slice(1);
  switch (t) {
    case 'b': return 1;
    case 'w': return 2;
    case 'd': return 4;
    case 'q': return 8;
    case 'v': return d.opSize;
    case 'z': return d.opSize === 2 ? 2 : 4;
    case 'y': return d.opSize === 8 ? 8 : 4;
    case 'p': return d.opSize === 2 ? 4 : d.opSize === 4 ? 6 : 10;
    case 'x': case 'o': case 'dq': return 16;
    case 't': return 10;
    default: return 0;
  }
}

function operand(spec: string, d: Insn): string {
  const end = (d.ripLo + d.len) | 0;
  switch (spec) {
    case 'AL': return 'al';
    case 'CL': return 'cl';
    case 'DX': return 'dx';
    case '1': return '1';
    case 'rAX': case 'eAX': return regName(0, spec === 'eAX' && d.opSize === 8 ? 4 : d.opSize);
    case 'Ib': return hex(d.imm & 0xff);
    case 'Iw': return hex(d.imm & 0xffff);
    case 'Ibs': case 'Iz': case 'Iv': return immHex(d.imm, d.immHi, d.opSize);
    case 'Jb': case 'Jz': {
      const t = (end + d.imm) | 0;
      if (d.codeSize === 8) {
        const sum = (end >>> 0) + (d.imm >>> 0) + (d.imm < 0 ? -4294967296 : 0);
        const hi = (d.ripHi + Math.floor(sum / 4294967296)) | 0;
        return immHex(t, hi, 8);
      }
      return hex(d.opSize === 2 ? t & 0xffff : t);
    }
    case 'Ap': return `${hex(d.imm2 & 0xffff)}:${hex(d.opSize === 2 ? d.imm & 0xffff : d.imm)}`;
    case 'Sw': return SEG_NAMES[d.regRaw] ?? '?';
    case 'Ob': case 'Ov': {
      const seg = d.segOverride >= 0 ? SEG_NAMES[d.segOverride] : 'ds';
      return `${seg}:${immHex(d.imm, d.immHi, d.addrSize)}`;
    }
  }
  const m = spec[0];
  const size = sizeOf(spec, d);
  switch (m) {
    case 'E': case 'M': case 'W': case 'Q':
      if (d.isMem) return memOperand(d, m === 'M' && (spec === 'M' || spec === 'Ms' || spec === 'Ma') ? 0 : size);
      if (m === 'W') return `xmm${d.rm}`;
      if (m === 'Q') return `mm${d.rmRaw}`;
      return regName(d.rm, size, d.rex);
    case 'G': return regName(d.reg, size, d.rex);
    case 'R': return regName(d.rm, d.mode64 ? 8 : 4);
    case 'Z': return regName((d.op & 7) | ((d.rex & 1) << 3), size, d.rex);
    case 'C': return `cr${d.reg}`;
    case 'D': return `dr${d.reg}`;
    case 'V': return `xmm${d.reg}`;
    case 'U': return `xmm${d.rm}`;
    case 'P': return `mm${d.regRaw}`;
    case 'N': return `mm${d.rmRaw}`;
    case 'X': case 'Y': {
      const as = d.addrSize;
      const seg = m === 'Y' ? 'es' : d.segOverride >= 0 ? SEG_NAMES[d.segOverride] : 'ds';
      return `${SIZE_PTR[size]} PTR ${seg}:[${regName(m === 'Y' ? 7 : 6, as)}]`;
    }
  }
  return spec;
}

/** Mnemonic for the decoded size ('cbw|cwde|cdqe' picks by operand size), with REP/LOCK prefixes. */
function mnemonic(d: Insn): string {
  let name = d.row.name;
  if (name.includes('|')) {
    const forms = name.split('|');
    name = forms[d.opSize === 2 ? 0 : d.opSize === 4 ? 1 : 2] ?? forms[forms.length - 1];
  }
  const isString = d.map === 0 && ((d.op >= 0xa4 && d.op <= 0xaf && d.op !== 0xa8 && d.op !== 0xa9) || (d.op >= 0x6c && d.op <= 0x6f));
  let pre = d.lock ? 'lock ' : '';
  if (isString && d.rep) pre += d.op === 0xa6 || d.op === 0xa7 || d.op === 0xae || d.op === 0xaf ? (d.rep === 0xf3 ? 'repz ' : 'repnz ') : 'rep ';
  // 64-bit immediates and 64-bit-mode moffs forms are spelled movabs.
  if (d.mode64 && d.map === 0 && ((d.op >= 0xb8 && d.op <= 0xbf && d.opSize === 8) || (d.op >= 0xa0 && d.op <= 0xa3))) name = 'movabs';
  return pre + name;
}

export interface Disassembly { text: string; len: number }

/**
 * Disassemble one instruction. `fetch(off)` reads the byte `off` past the
 * instruction's start; codeSize is 2, 4 or 8; rip is its address (for branch targets).
 */
export function disassemble(table: OpTable, fetch: ByteSource, codeSize: number, ripLo = 0, ripHi = 0): Disassembly {
  const d = new Insn();
  try {
    decode(table, fetch, 0, codeSize, d);
  } catch (e) {
    if (!(e instanceof CpuFault)) throw e;
    return { text: `(bad) ${hex(fetch(0) & 0xff)}`, len: Math.max(1, d.len) };
  }
  d.ripLo = ripLo; d.ripHi = ripHi;
  let imms = 0;
  const ops = d.row.operands.map((o) => {
    // A second immediate (ENTER Iw,Ib) is in imm2.
    if (o[0] === 'I' && imms++ > 0) return hex(o === 'Ib' ? d.imm2 & 0xff : d.imm2);
    return operand(o, d);
  });
  return { text: ops.length ? `${mnemonic(d)} ${ops.join(',')}` : mnemonic(d), len: d.len };
}

/** Disassemble a byte array (tests, tools). */
export function disassembleBytes(table: OpTable, bytes: Uint8Array, codeSize: number, rip = 0): string[] {
  const out: string[] = [];
  let off = 0;
  while (off < bytes.length) {
    const base = off;
    const r = disassemble(table, (k) => (base + k < bytes.length ? bytes[base + k] : 0), codeSize, (rip + base) | 0, 0);
    out.push(r.text);
    off += r.len;
  }
  return out;
}
