// What an instruction leaves architecturally undefined, for the lockstep
// oracle: the RFLAGS bits (and, for BSF/BSR with a zero source, the
// destination register) two correct CPUs may disagree on. Intel SDM Vol. 2,
// each instruction's "Flags Affected"; AMD APM Vol. 3 agrees on these.

import { FLAG_AF, FLAG_CF, FLAG_OF, FLAG_PF, FLAG_SF, FLAG_ZF } from '../../cpu/state.js';

const ARITH = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_OF;
const MUL_UNDEF = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF;
const BT_UNDEF = FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF;
const BSF_UNDEF = FLAG_CF | FLAG_OF | FLAG_SF | FLAG_AF | FLAG_PF;

export interface Undefined {
  /** RFLAGS bits whose value is undefined after the instruction. */
  flags: number;
  /** A GPR (0-15) whose value is undefined when the source was zero (BSF/BSR), or -1. */
  gprIfZeroSource: number;
  /** Everything about the destination and flags is undefined (SHLD/SHRD with count > operand size). */
  gprAlways: number;
  /** Bit mask of GPRs whose result depends on the host, not the ISA: CPUID (the model is
   *  intersected with the host's), RDTSC/RDTSCP (the host's clock). */
  hostGprs: number;
}

const RAX_BIT = 1 << 0, RCX_BIT = 1 << 1, RDX_BIT = 1 << 2, RBX_BIT = 1 << 3;

const NONE: Undefined = { flags: 0, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 };

/**
 * Classify the instruction at the start of `code` (at least 15 bytes) executed
 * in a mode with `codeSize` 2, 4 or 8 bytes. `cl` is the CL register before the
 * instruction (for shift counts). Unknown instructions have nothing undefined.
 */
export function undefinedBy(code: Uint8Array, codeSize: 2 | 4 | 8, cl: number): Undefined {
  let i = 0, opSize = codeSize === 2 ? 2 : 4, rex = 0;
  // Legacy prefixes, then REX (64-bit mode, must come last).
  for (; i < 14; i++) {
    const b = code[i];
    if (b === 0x66) opSize = codeSize === 2 ? 4 : 2;
    else if (b === 0x67 || b === 0xf0 || b === 0xf2 || b === 0xf3 || b === 0x2e || b === 0x36 || b === 0x3e || b === 0x26 || b === 0x64 || b === 0x65) continue;
    else break;
  }
  if (codeSize === 8 && (code[i] & 0xf0) === 0x40) {
    rex = code[i++];
    if (rex & 8) opSize = 8;
  }
  const hasF3 = code.subarray(0, i).includes(0xf3);
  const op = code[i];
  const modrm = code[i + 1] ?? 0, reg = (modrm >> 3) & 7;
  const countMask = opSize === 8 ? 0x3f : 0x1f;
  /** Shifts and rotates: nothing changes for a zero count; OF is defined only for a count of 1; shifts leave AF undefined. */
  const shiftUndef = (count: number, rotate: boolean): Undefined => {
    const c = count & countMask;
    if (c === 0) return NONE;
    return { flags: (c === 1 ? 0 : FLAG_OF) | (rotate ? 0 : FLAG_AF), gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 };
  };
  if (op === 0x0f) {
    const op2 = code[i + 1];
    const m2 = code[i + 2] ?? 0, reg2 = ((m2 >> 3) & 7) | (rex & 4 ? 8 : 0);
    switch (op2) {
      case 0xa2: return { flags: 0, gprIfZeroSource: -1, gprAlways: -1, hostGprs: RAX_BIT | RBX_BIT | RCX_BIT | RDX_BIT }; // CPUID
      case 0x31: return { flags: 0, gprIfZeroSource: -1, gprAlways: -1, hostGprs: RAX_BIT | RDX_BIT }; // RDTSC
      case 0x01: // RDTSCP is 0F 01 F9
        return code[i + 2] === 0xf9 ? { flags: 0, gprIfZeroSource: -1, gprAlways: -1, hostGprs: RAX_BIT | RCX_BIT | RDX_BIT } : NONE;
      case 0xaf: return { flags: MUL_UNDEF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // IMUL r, r/m
      case 0xa3: case 0xab: case 0xb3: case 0xbb: case 0xba: // BT, BTS, BTR, BTC
        return { flags: BT_UNDEF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 };
      case 0xbc: case 0xbd: // BSF, BSR (TZCNT/LZCNT with F3 define everything)
        return hasF3 ? NONE : { flags: BSF_UNDEF, gprIfZeroSource: reg2, gprAlways: -1, hostGprs: 0 };
      case 0xa4: case 0xac: case 0xa5: case 0xad: { // SHLD/SHRD imm8 / CL
        const count = (op2 & 1 ? cl : codeAfterModrm(code, i + 2, codeSize)) & countMask;
        if (count === 0) return NONE;
        if (count > opSize * 8) return { flags: ARITH, gprIfZeroSource: -1, gprAlways: (m2 >> 6) === 3 ? (m2 & 7) | (rex & 1 ? 8 : 0) : -1, hostGprs: 0 };
        return { flags: FLAG_AF | (count === 1 ? 0 : FLAG_OF), gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 };
      }
      default: return NONE;
    }
  }
  switch (op) {
    case 0x08: case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: // OR
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: // AND
    case 0x30: case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: // XOR
    case 0x84: case 0x85: case 0xa8: case 0xa9: // TEST
      return { flags: FLAG_AF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 };
    case 0x27: case 0x2f: return { flags: FLAG_OF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // DAA, DAS
    case 0x37: case 0x3f: return { flags: FLAG_OF | FLAG_SF | FLAG_ZF | FLAG_PF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // AAA, AAS
    case 0xd4: case 0xd5: return { flags: FLAG_OF | FLAG_AF | FLAG_CF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // AAM, AAD
    case 0x69: case 0x6b: return { flags: MUL_UNDEF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // IMUL r, r/m, imm
    case 0x80: case 0x81: case 0x83: // group 1: OR, AND, XOR leave AF undefined
      return reg === 1 || reg === 4 || reg === 6 ? { flags: FLAG_AF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 } : NONE;
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: { // group 2: rotates and shifts
      const count = op === 0xd0 || op === 0xd1 ? 1 : op === 0xd2 || op === 0xd3 ? cl : codeAfterModrm(code, i + 1, codeSize);
      return shiftUndef(count, reg < 4);
    }
    case 0xf6: case 0xf7: // group 3
      if (reg === 0 || reg === 1) return { flags: FLAG_AF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // TEST
      if (reg === 4 || reg === 5) return { flags: MUL_UNDEF, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // MUL, IMUL
      if (reg === 6 || reg === 7) return { flags: ARITH, gprIfZeroSource: -1, gprAlways: -1, hostGprs: 0 }; // DIV, IDIV
      return NONE;
    default:
      return NONE;
  }
}

/** The byte just after a ModRM operand (the imm8 of shifts and SHLD/SHRD). */
function codeAfterModrm(code: Uint8Array, at: number, codeSize: number): number {
  const modrm = code[at];
  const mod = modrm >> 6, rm = modrm & 7;
  let n = at + 1;
  if (mod === 3) return code[n];
  if (codeSize === 2) {
    // 16-bit addressing (67 prefixes are not generated in 16-bit code by the generator).
    if (mod === 0 && rm === 6) n += 2;
    else if (mod === 1) n += 1;
    else if (mod === 2) n += 2;
    return code[n];
  }
  if (rm === 4) {
    const sib = code[n++];
    if (mod === 0 && (sib & 7) === 5) n += 4;
  }
  if (mod === 0 && rm === 5) n += 4;
  else if (mod === 1) n += 1;
  else if (mod === 2) n += 4;
  return code[n];
}
