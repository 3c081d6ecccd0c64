// x87 and SSE/SSE2 instruction classes for the lockstep oracle's random
// programs, limited to what the KVM host's CPUID advertises, plus the entry
// state that enables them (CR0/CR4 bits, FCW/MXCSR with every exception masked,
// ST and XMM registers seeded with zeros, infinities, NaNs, denormals).
// Transcendentals (FSIN, FPATAN, F2XM1, ...) are not generated: their last bit is model-specific.

import { CR0, CR0_EM, CR0_MP, CR0_NE, CR0_TS, CR4, CR4_OSFXSR, CR4_OSXMMEXCPT, FX_FCW, FX_FSW, FX_FTW, FX_MXCSR, FX_ST0, FX_XMM0, type StateView } from '../../cpu/state.js';
import { L1D_FPU, L1D_FXSR, L1D_MMX, L1D_SSE, L1D_SSE2 } from '../../cpu/cpuid.js';

/**
 * Instruction classes a host supports (CPUID leaf 1 EDX). `emulatedOnly`: the host single-steps
 * through KVM's instruction emulator (kvm_pvm), which implements only the x87/SSE moves in
 * `emulated()`; anything else ends the run with "KVM could not emulate the guest instruction".
 */
export interface FpFeatures { x87: boolean; mmx?: boolean; sse: boolean; sse2: boolean; emulatedOnly?: boolean }

/** The classes CPUID leaf 1 EDX (as the vCPU sees it) allows; SSE also needs FXSR to be enabled by CR4.OSFXSR. */
export function fpFeatures(leaf1Edx: number): FpFeatures {
  const fx = (leaf1Edx & L1D_FXSR) !== 0;
  return { x87: (leaf1Edx & L1D_FPU) !== 0, mmx: (leaf1Edx & L1D_MMX) !== 0, sse: fx && (leaf1Edx & L1D_SSE) !== 0, sse2: fx && (leaf1Edx & L1D_SSE2) !== 0 };
}

/** What the FP emitter needs from the integer one. */
export interface FpSink {
  readonly out: number[];
  readonly mode: 16 | 32 | 64;
  readonly rng: { next(): number; below(n: number): number; pick<T>(a: readonly T[]): T };
  /** A destination GPR (never RBX/RSP). */
  dst(): number;
}

/** ModRM for [rbx+disp8] (16-bit: [bx+disp8]) with `reg` in bits 5:3. */
function memModrm(e: FpSink, reg: number, disp: number): void {
  e.out.push((e.mode === 16 ? 0x47 : 0x43) | ((reg & 7) << 3), disp);
}

/** MOV a 16/32-bit immediate into [rbx+disp] (integer helper for FLDCW/LDMXCSR); returns disp. */
function storeImm(e: FpSink, size: 2 | 4, v: number): number {
  const disp = e.rng.below(0x70);
  if ((size === 2) !== (e.mode === 16)) e.out.push(0x66);
  e.out.push(0xc7);
  memModrm(e, 0, disp);
  e.out.push(v & 0xff, (v >>> 8) & 0xff);
  if (size === 4) e.out.push((v >>> 16) & 0xff, v >>> 24);
  return disp;
}

/** One x87 instruction: register-stack arithmetic, compares, loads/stores (memory in the scratch page), constants. */
function x87(e: FpSink): void {
  const r = e.rng, o = e.out, i = r.below(8);
  const mem = (opc: number, reg: number): void => { o.push(opc); memModrm(e, reg, r.below(0x70)); };
  switch (r.below(23)) {
    case 22: { // FLDCW with every exception still masked: new rounding and precision control
      const disp = storeImm(e, 2, 0x007f | (r.pick([0, 2, 3]) << 8) | (r.below(4) << 10));
      o.push(0xd9); memModrm(e, 5, disp);
      break;
    }
    case 20: o.push(0xd9, r.pick([0xf8, 0xf5, 0xfd, 0xf4])); break; // FPREM FPREM1 FSCALE FXTRACT
    case 21: mem(0xdf, 6); break; // FBSTP m80bcd
    case 0: case 1: o.push(0xd8, 0xc0 | (r.below(8) << 3) | i); break; // FADD/FMUL/FCOM/FCOMP/FSUB/FSUBR/FDIV/FDIVR st0, st(i)
    case 2: o.push(0xdc, 0xc0 | (r.pick([0, 1, 4, 5, 6, 7]) << 3) | i); break; // the same into st(i)
    case 3: o.push(0xde, 0xc0 | (r.pick([0, 1, 4, 5, 6, 7]) << 3) | i); break; // ... and pop
    case 4: mem(r.pick([0xd8, 0xdc]), r.below(8)); break; // arithmetic/compare with m32fp / m64fp
    case 5: mem(r.pick([0xda, 0xde]), r.below(8)); break; // with m32int / m16int
    case 6: o.push(0xd9, 0xc0 | i); break; // FLD st(i)
    case 7: o.push(0xd9, 0xc8 | i); break; // FXCH
    case 8: o.push(0xdd, r.pick([0xd0, 0xd8]) | i); break; // FST/FSTP st(i)
    case 9: mem(r.pick([0xd9, 0xdd]), r.pick([0, 2, 3])); break; // FLD/FST/FSTP m32fp/m64fp
    case 10: mem(0xdb, r.pick([0, 2, 3, 5, 7])); break; // FILD/FIST/FISTP m32int, FLD/FSTP m80fp
    case 11: mem(0xdf, r.pick([0, 2, 3, 5, 7])); break; // FILD/FIST/FISTP m16int, FILD/FISTP m64int
    case 12: o.push(0xd9, r.pick([0xe0, 0xe1, 0xe4, 0xe5, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xfa, 0xfc, 0xf6, 0xf7, 0xd0])); break; // FCHS FABS FTST FXAM FLD1 FLDL2T FLDL2E FLDPI FLDLG2 FLDLN2 FLDZ FSQRT FRNDINT FDECSTP FINCSTP FNOP
    case 13: o.push(r.pick([0xdb, 0xdf]), r.pick([0xe8, 0xf0]) | i); break; // FUCOMI/FCOMI(P)
    case 14: o.push(0xdd, r.pick([0xe0, 0xe8]) | i); break; // FUCOM/FUCOMP
    case 15: o.push(...r.pick([[0xde, 0xd9], [0xda, 0xe9], [0xdf, 0xe0]])); break; // FCOMPP, FUCOMPP, FNSTSW AX
    case 16: o.push(r.pick([0xda, 0xdb]), 0xc0 | (r.below(4) << 3) | i); break; // FCMOVcc
    case 17: o.push(0xdd, 0xc0 | i); break; // FFREE
    case 18: mem(r.pick([0xd9, 0xdd]), 7); break; // FNSTCW / FNSTSW m16
    case 19: o.push(0xd9, 0xc0 | i); break; // FLD st(i) again: keeps the stack from draining
  }
}

/** Packed-single/double and scalar float opcodes (0F xx): ADD MUL SUB MIN DIV MAX SQRT. */
const FLOAT_OPS = [0x58, 0x59, 0x5c, 0x5d, 0x5e, 0x5f, 0x51];
/** SSE2 integer opcodes (66 0F xx) on two XMM operands. */
const INT_OPS = [
  0xfc, 0xfd, 0xfe, 0xd4, 0xf8, 0xf9, 0xfa, 0xfb, // PADDB/W/D/Q PSUBB/W/D/Q
  0xdb, 0xdf, 0xeb, 0xef, 0x74, 0x75, 0x76, 0x64, 0x65, 0x66, // PAND PANDN POR PXOR PCMPEQB/W/D PCMPGTB/W/D
  0x60, 0x61, 0x62, 0x68, 0x69, 0x6a, 0x6c, 0x6d, 0x63, 0x67, 0x6b, // PUNPCK*, PACKSSWB PACKUSWB PACKSSDW
  0xd5, 0xe5, 0xe4, 0xf4, 0xf5, 0xdc, 0xdd, 0xec, 0xed, 0xd8, 0xd9, 0xe8, 0xe9, // PMULLW PMULHW PMULHUW PMULUDQ PMADDWD PADD/PSUB(U)S
  0xe0, 0xe3, 0xda, 0xde, 0xea, 0xee, 0xf6, // PAVGB/W PMINUB PMAXUB PMINSW PMAXSW PSADBW
  0xd1, 0xd2, 0xd3, 0xe1, 0xe2, 0xf1, 0xf2, 0xf3, // PSRLW/D/Q PSRAW/D PSLLW/D/Q by xmm
];

/** One SSE/SSE2 instruction: moves, float arithmetic, logic, compares, integer SIMD, shuffles, conversions. */
function sse(e: FpSink, f: FpFeatures): void {
  const r = e.rng, nx = e.mode === 64 ? 16 : 8;
  const s2 = f.sse2;
  /** prefix, REX (.W .R .B), 0F, opcode, ModRM (register or [rbx+disp8], 16-aligned for 128-bit operands), tail. */
  const emit = (pfx: number, opc: number[], reg: number, rm: number | 'mem', opts: { w?: boolean; align?: boolean; tail?: number[] } = {}): void => {
    const o = e.out;
    if (pfx) o.push(pfx);
    if (e.mode === 64) {
      const rex = (opts.w ? 8 : 0) | (reg & 8 ? 4 : 0) | (rm !== 'mem' && rm & 8 ? 1 : 0);
      if (rex) o.push(0x40 | rex);
    }
    o.push(0x0f, ...opc);
    if (rm === 'mem') memModrm(e, reg, opts.align === false ? r.below(0x70) : r.below(7) * 16);
    else o.push(0xc0 | ((reg & 7) << 3) | (rm & 7));
    if (opts.tail) o.push(...opts.tail);
  };
  const x = (): number => r.below(nx);
  const xm = (): number | 'mem' => (r.below(4) === 0 ? 'mem' : x());
  /** Packed-single, or with SSE2 any of PS/PD/SS/SD: [prefix, scalar]. */
  const fform = (): [number, boolean] => (s2 ? r.pick([[0, false], [0x66, false], [0xf3, true], [0xf2, true]] as [number, boolean][]) : r.pick([[0, false], [0xf3, true]] as [number, boolean][]));
  const w = e.mode === 64 && r.below(2) === 1;
  switch (r.below(s2 ? 19 : 7)) {
    case 18: { // LDMXCSR with every exception still masked: new rounding, FTZ, DAZ
      const disp = storeImm(e, 4, 0x1f80 | (r.below(4) << 13) | (r.below(2) ? 0x8000 : 0) | (r.below(2) ? 0x40 : 0));
      emit(0, [0xae], 2, 'mem', { align: false });
      e.out[e.out.length - 1] = disp;
      break;
    }
    case 16: { // MOVLPS/MOVHPS loads and stores, MOVHLPS/MOVLHPS, STMXCSR
      const k = r.below(4);
      if (k === 0) emit(r.pick([0, 0x66]), [r.pick([0x12, 0x13, 0x16, 0x17])], x(), 'mem', { align: false });
      else if (k === 1) emit(0, [r.pick([0x12, 0x16])], x(), x());
      else if (k === 2) emit(0, [0xae], 3, 'mem', { align: false });
      else emit(0, [0xc3], r.below(e.mode === 64 ? 16 : 8), 'mem', { w, align: false }); // MOVNTI
      break;
    }
    case 17: // PEXTRW r32, xmm, imm8 / PINSRW xmm, r32/m16, imm8
      if (r.below(2)) emit(0x66, [0xc5], e.dst(), x(), { tail: [r.below(256)] });
      else emit(0x66, [0xc4], x(), r.below(3) === 0 ? 'mem' : r.below(e.mode === 64 ? 16 : 8), { align: false, tail: [r.below(256)] });
      break;
    case 0: { // MOVAPS/MOVUPS (MOVDQA/MOVDQU): load or store
      const forms: [number, number][] = [[0, 0x28], [0, 0x29], [0, 0x10], [0, 0x11]];
      const [p, opc] = r.pick(s2 ? [...forms, [0x66, 0x6f], [0x66, 0x7f], [0xf3, 0x6f], [0xf3, 0x7f]] as [number, number][] : forms);
      emit(p, [opc], x(), xm());
      break;
    }
    case 1: { // MOVSS (MOVSD) load/store/merge
      emit(s2 ? r.pick([0xf3, 0xf2]) : 0xf3, [0x10 | r.below(2)], x(), xm(), { align: false });
      break;
    }
    case 2: case 3: { const [p, scalar] = fform(); emit(p, [r.pick(FLOAT_OPS)], x(), xm(), { align: !scalar }); break; } // arithmetic
    case 4: { const p = s2 ? r.pick([0, 0x66]) : 0; emit(p, [r.pick([0x54, 0x55, 0x56, 0x57, 0x14, 0x15])], x(), xm()); break; } // ANDPS ANDNPS ORPS XORPS UNPCKLPS UNPCKHPS
    case 5: { // CMPccPS/SS(/PD/SD), SHUFPS(/PD)
      if (r.below(3) === 0) { const p = s2 ? r.pick([0, 0x66]) : 0; emit(p, [0xc6], x(), xm(), { tail: [r.below(256)] }); break; }
      const [p, scalar] = fform();
      emit(p, [0xc2], x(), xm(), { align: !scalar, tail: [r.below(8)] });
      break;
    }
    case 6: { // COMISS/UCOMISS (COMISD/UCOMISD), MOVMSKPS(/PD)
      if (r.below(3) === 0) { emit(s2 ? r.pick([0, 0x66]) : 0, [0x50], e.dst(), x()); break; }
      emit(s2 ? r.pick([0, 0x66]) : 0, [r.pick([0x2e, 0x2f])], x(), xm(), { align: false });
      break;
    }
    case 7: case 8: emit(0x66, [r.pick(INT_OPS)], x(), xm()); break; // integer SIMD
    case 9: emit(r.pick([0x66, 0xf3, 0xf2]), [0x70], x(), xm(), { tail: [r.below(256)] }); break; // PSHUFD/PSHUFHW/PSHUFLW
    case 10: { // shifts by immediate: PSRLW/PSRAW/PSLLW, D, Q, PSRLDQ/PSLLDQ
      const g = r.pick([0x71, 0x72, 0x73]);
      const sub = g === 0x73 ? r.pick([2, 3, 6, 7]) : g === 0x72 ? r.pick([2, 4, 6]) : r.pick([2, 4, 6]);
      emit(0x66, [g], sub, x(), { tail: [r.below(g === 0x73 && sub & 1 ? 20 : 70)] });
      break;
    }
    case 11: { // MOVD/MOVQ between XMM and r/m32/64, MOVQ xmm/m64
      const k = r.below(4);
      if (k === 0) emit(0x66, [0x6e], x(), r.below(4) === 0 ? 'mem' : r.below(e.mode === 64 ? 16 : 8), { w, align: false });
      else if (k === 1) emit(0x66, [0x7e], x(), r.below(4) === 0 ? 'mem' : e.dst(), { w, align: false });
      else if (k === 2) emit(0xf3, [0x7e], x(), xm(), { align: false });
      else emit(0x66, [0xd6], x(), r.below(2) ? 'mem' : x(), { align: false });
      break;
    }
    case 12: { // CVTSI2SD/SS from r/m32/64, CVT(T)SD2SI/SS2SI to a GPR
      if (r.below(2)) emit(r.pick([0xf2, 0xf3]), [0x2a], x(), r.below(4) === 0 ? 'mem' : r.below(e.mode === 64 ? 16 : 8), { w, align: false });
      else emit(r.pick([0xf2, 0xf3]), [r.pick([0x2c, 0x2d])], e.dst(), xm(), { w, align: false });
      break;
    }
    case 13: { // float <-> float and packed int conversions
      const [p, opc] = r.pick([[0, 0x5a], [0x66, 0x5a], [0xf3, 0x5a], [0xf2, 0x5a], [0, 0x5b], [0x66, 0x5b], [0xf3, 0x5b], [0xf3, 0xe6], [0xf2, 0xe6], [0x66, 0xe6]] as [number, number][]);
      const scalar = (p === 0xf3 || p === 0xf2) && opc === 0x5a;
      const half = (p === 0 && opc === 0x5a) || (p === 0xf3 && opc === 0xe6); // m64 sources
      emit(p, [opc], x(), xm(), { align: !scalar && !half });
      break;
    }
    case 14: emit(0x66, [0xd7], e.dst(), x()); break; // PMOVMSKB
    case 15: emit(0x66, [r.pick([0x28, 0x29, 0x10, 0x11])], x(), xm()); break; // MOVAPD/MOVUPD
  }
}

/**
 * What KVM's instruction emulator implements (found by running each generated form under kvm_pvm):
 * MOVAPS/MOVUPS/MOVAPD/MOVUPD/MOVDQA/MOVDQU between registers and memory, MOVNTPS/MOVNTPD/MOVNTDQ,
 * FNSTCW/FNSTSW m16 and FNINIT. The seeded state (NaNs, denormals, all 16 XMM registers) still flows through them.
 */
function emulated(e: FpSink, f: FpFeatures): void {
  const r = e.rng, nx = e.mode === 64 ? 16 : 8, o = e.out;
  const reg = r.below(nx);
  const rm = r.below(3) === 0 ? 'mem' : r.below(nx);
  /** REX (.R for XMM8-15 in reg, .B for one in r/m) and the 0F opcode. */
  const rex = (b: number, m: number | 'mem'): void => {
    const bits = (reg & 8 ? 4 : 0) | (m !== 'mem' && m & 8 ? 1 : 0);
    if (e.mode === 64 && bits) o.push(0x40 | bits);
    o.push(0x0f, b);
  };
  const modrm = (m: number | 'mem'): void => { if (m === 'mem') memModrm(e, reg, r.below(7) * 16); else o.push(0xc0 | ((reg & 7) << 3) | (m & 7)); };
  const k = r.below(f.x87 ? 12 : 10);
  if (k < 8 && (f.sse2 || k < 4)) { // MOVAPS MOVAPS-store MOVUPS MOVUPS-store, then the 66 / F3 forms
    const forms: [number, number][] = [[0, 0x28], [0, 0x29], [0, 0x10], [0, 0x11], [0x66, 0x28], [0x66, 0x10], [0x66, 0x6f], [0xf3, 0x7f]];
    const [p, opc] = forms[k];
    const store = r.below(2) === 1 && k >= 4;
    if (p) o.push(p);
    rex(store ? (opc === 0x6f ? 0x7f : opc === 0x7f ? 0x6f : opc | 1) : opc, rm);
    modrm(rm);
  } else if (k < 10) { // MOVNTPS (MOVNTPD, MOVNTDQ): memory destinations only
    const [p, opc] = f.sse2 ? r.pick([[0, 0x2b], [0x66, 0x2b], [0x66, 0xe7]] as [number, number][]) : [0, 0x2b];
    if (p) o.push(p);
    rex(opc, 'mem');
    modrm('mem');
  } else if (k === 10) {
    o.push(r.pick([0xd9, 0xdd])); memModrm(e, 7, r.below(0x70)); // FNSTCW / FNSTSW m16
  } else {
    o.push(0xdb, 0xe3); // FNINIT
  }
}

/** One MMX instruction: integer ops, shifts and moves on MM0-7 (which turn the x87 stack into MMX state), EMMS. */
function mmx(e: FpSink): void {
  const r = e.rng, o = e.out;
  const mm = (): number => r.below(8);
  const rmMem = (): void => { if (r.below(4) === 0) memModrm(e, mm(), r.below(0x70)); else o.push(0xc0 | (mm() << 3) | mm()); };
  switch (r.below(6)) {
    case 0: case 1: o.push(0x0f, r.pick(INT_OPS.filter((op) => op !== 0x6c && op !== 0x6d))); rmMem(); break; // PADD.. PUNPCK.. on MMX
    case 2: o.push(0x0f, r.pick([0x6f, 0x7f])); rmMem(); break; // MOVQ mm, mm/m64 and back
    case 3: o.push(0x0f, 0x6e, 0xc0 | (mm() << 3) | r.below(8)); break; // MOVD mm, r32
    case 4: { // shifts by imm8 (0F 73 has /2 and /6 only on MMX)
      const g = r.pick([0x71, 0x72, 0x73]);
      o.push(0x0f, g, 0xc0 | ((g === 0x73 ? r.pick([2, 6]) : r.pick([2, 4, 6])) << 3) | mm(), r.below(70));
      break;
    }
    case 5: o.push(0x0f, 0x77); break; // EMMS
  }
}

/** One random x87 or SSE instruction among the classes `f` allows. Returns false if none is allowed. */
export function fpInstruction(e: FpSink, f: FpFeatures): boolean {
  const vec = f.sse || f.sse2;
  if (!f.x87 && !vec) return false;
  if (f.emulatedOnly) { emulated(e, f); return true; }
  const k = e.rng.below(8);
  if (f.mmx && f.sse2 && k === 0) mmx(e);
  else if (f.x87 && (!vec || k < 4)) x87(e);
  else sse(e, f);
  return true;
}

/** 80-bit values: [sign|exponent, mantissa hi, mantissa lo]. Zeros, infinities, NaNs, denormals, ordinary and huge numbers. */
function ext80(rng: FpSink['rng']): [number, number, number] {
  const s = rng.below(2) << 15;
  switch (rng.below(10)) {
    case 0: return [s, 0, 0];
    case 1: return [s | 0x7fff, 0x80000000, 0];
    case 2: return [s | 0x7fff, 0xc0000000 | rng.below(0x100000), rng.next()]; // QNaN
    case 3: return [s | 0x7fff, 0xa0000000, rng.next()]; // SNaN
    case 4: return [s, rng.next() & 0x7fffffff, rng.next()]; // denormal
    case 5: return [s | (0x401d + rng.below(0x30)), 0x80000000 | rng.next(), rng.next()]; // beyond int32/int64
    case 6: return [s | (0x3fff + rng.below(16)), 0x80000000 | (rng.next() & 0xffff0000), 0]; // small integers and halves
    default: return [s | (0x3fff - 64 + rng.below(128)), 0x80000000 | rng.next(), rng.next()];
  }
}

/** 32-bit float bit patterns: specials or a random value near 1. */
function f32(rng: FpSink['rng']): number {
  const s = rng.below(2) << 31;
  const special = [0, 0x7f800000, 0x7fc00000, 0x7fa00000, 0x00000001, 0x007fffff, 0x00800000, 0x7f7fffff, 0x3f800000, 0x4f000000, 0x5f000000];
  if (rng.below(3) === 0) return (s | rng.pick(special)) >>> 0;
  return (s | ((0x3f800000 + ((rng.below(64) - 32) << 23)) + (rng.next() & 0x7fffff))) >>> 0;
}

/** 64-bit float patterns [lo, hi]. */
function f64(rng: FpSink['rng']): [number, number] {
  const s = rng.below(2) << 31;
  const special: [number, number][] = [[0, 0], [0, 0x7ff00000], [0, 0x7ff80000], [1, 0x7ff40000], [1, 0], [0xffffffff, 0x000fffff], [0, 0x00100000],
    [0, 0x3ff00000], [0, 0x41e00000], [0, 0x43e00000], [0x00200000, 0x41dfffff]];
  if (rng.below(3) === 0) { const [lo, hi] = rng.pick(special); return [lo, (s | hi) >>> 0]; }
  return [rng.next(), (s | ((0x3ff00000 + ((rng.below(128) - 64) << 20)) + (rng.next() & 0xfffff))) >>> 0];
}

/**
 * The x87/SSE part of a random program's entry state: CR0.MP|NE (EM, TS clear), CR4.OSFXSR|OSXMMEXCPT,
 * FCW and MXCSR with all exceptions masked and random rounding (and x87 precision, MXCSR FTZ/DAZ),
 * 3-6 valid ST registers, XMM registers with float and integer patterns.
 */
export function seedFpState(s: StateView, rng: FpSink['rng']): void {
  s.set64(CR0, (s.lo(CR0) | CR0_MP | CR0_NE) & ~(CR0_EM | CR0_TS), s.hi(CR0));
  s.set64(CR4, s.lo(CR4) | CR4_OSFXSR | CR4_OSXMMEXCPT, s.hi(CR4));
  s.setU32(FX_FCW, 0x007f | (rng.pick([0, 2, 3, 3]) << 8) | (rng.below(4) << 10)); // exceptions masked, PC, RC
  const valid = 3 + rng.below(4), top = (8 - valid) & 7;
  s.dv.setUint16(FX_FSW, top << 11, true);
  let tags = 0;
  for (let i = 0; i < 8; i++) {
    const o = FX_ST0 + i * 16;
    s.u8.fill(0, o, o + 16);
    if (i >= valid) continue;
    tags |= 1 << ((top + i) & 7);
    const [se, hi, lo] = ext80(rng);
    s.dv.setUint32(o, lo >>> 0, true);
    s.dv.setUint32(o + 4, hi >>> 0, true);
    s.dv.setUint16(o + 8, se, true);
  }
  s.u8[FX_FTW] = tags;
  s.setU32(FX_MXCSR, 0x1f80 | (rng.below(4) << 13) | (rng.below(4) === 0 ? 0x8000 : 0) | (rng.below(4) === 0 ? 0x40 : 0));
  for (let n = 0; n < 16; n++) {
    const o = FX_XMM0 + n * 16;
    const kind = rng.below(4);
    for (let k = 0; k < 4; k += kind === 1 ? 2 : 1) {
      if (kind === 0) s.dv.setUint32(o + k * 4, f32(rng), true);
      else if (kind === 1) { const [lo, hi] = f64(rng); s.dv.setUint32(o + k * 4, lo, true); s.dv.setUint32(o + k * 4 + 4, hi, true); }
      else if (kind === 2) s.dv.setUint32(o + k * 4, rng.next(), true);
      else s.dv.setUint32(o + k * 4, (rng.below(2) ? rng.below(256) : -rng.below(256)) >>> 0, true);
    }
  }
}
