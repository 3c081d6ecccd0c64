// Random instruction streams for the lockstep oracle, in 16-, 32- and 64-bit
// mode: integer instructions over random registers and a scratch page that
// RBX points at, built so they never fault (no stray memory operands, no #DE),
// ending in HLT. Plus the memory layout and entry states they run in.

import {
  ATTR_G, ATTR_L, ATTR_P, ATTR_S, CR0, CR0_ET, CR0_PE, CR0_PG, CR3, CR4, CR4_PAE, CS, EFER, EFER_LMA, EFER_LME,
  FLAGS_FIXED, GDTR_BASE, GDTR_LIMIT, RFLAGS, RIP, RBX, RSP, SEG_ATTR, SEG_BASE, SEG_LIMIT, SEG_SEL, StateView,
  gprOffset, segOffset,
} from '../../cpu/state.js';
import type { GuestMemory } from '../../mmu/memory.js';
import { flat32EntryState, realModeEntryState } from '../../machine/entry.js';
import { fpInstruction, seedFpState, type FpFeatures } from './gen-fp.js';
import { installArmedHandler } from './gen-armed.js';

export type GenMode = 16 | 32 | 64;

/** Layout: code at CODE, RBX -> SCRATCH (one page), stack page below STACK_TOP, tables at GDT/PML4. */
export const CODE = 0x10000;
export const SCRATCH = 0x8000;
export const STACK_TOP = 0xa000;
const GDT = 0x500;
const PML4 = 0x20000;
/** Physical ranges a random program may write: compared after every step. */
export const WRITABLE: ReadonlyArray<readonly [number, number]> = [[SCRATCH, 0x1000], [STACK_TOP - 0x1000, 0x1000]];

/** xorshift32: small, fast, reproducible from a seed. */
export class Rng {
  private s: number;
  constructor(seed: number) { this.s = (seed >>> 0) || 0x9e3779b9; }
  next(): number {
    let x = this.s;
    x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  below(n: number): number { return this.next() % n; }
  pick<T>(a: readonly T[]): T { return a[this.below(a.length)]; }
}

/** A 32-bit value's bytes, little-endian. */
const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

const ALU_OPS = [0x00, 0x08, 0x10, 0x18, 0x20, 0x28, 0x30, 0x38];
/** CBW CWD SAHF LAHF CMC CLC STC CLD STD NOP. */
const ONE_BYTE = [0x98, 0x99, 0x9e, 0x9f, 0xf5, 0xf8, 0xf9, 0xfc, 0xfd, 0x90];

class Emitter {
  readonly out: number[] = [];
  depth = 0; // pushes not yet popped
  fpCount = 0; // x87/SSE instructions emitted
  /** Also emit the interrupt-window group (STI, CLI, POPF and IRET of IF, MOV SS / POP SS): GenOptions.windows. */
  windows = false;
  /** IRET in the window group (GenOptions.iret). */
  iret = true;
  constructor(readonly mode: GenMode, readonly rng: Rng, readonly bcd: boolean, readonly fp: FpFeatures | null, readonly fpEighths: number) {}

  /** A random operand size for a non-byte form. */
  size(): 2 | 4 | 8 {
    const r = this.rng.below(this.mode === 64 ? 3 : 2);
    return r === 0 ? 2 : r === 1 ? 4 : 8;
  }
  /** A destination GPR: anything but RSP (4) and RBX (3, the scratch base). */
  dst(): number {
    const max = this.mode === 64 ? 16 : 8;
    for (;;) { const r = this.rng.below(max); if (r !== 3 && r !== 4) return r; }
  }
  src(): number { return this.rng.below(this.mode === 64 ? 16 : 8); }
  /** Byte registers: without REX AL CL DL AH CH DH (not BL/BH = RBX). */
  dst8(): number { return this.rng.pick([0, 1, 2, 4, 5, 6]); }
  src8(): number { return this.rng.below(8); }

  /**
   * Emit prefixes + opcode bytes + ModRM for a register (rm) or memory operand in the scratch page:
   * [rbx+disp8], or (unless `simple`) through an index, [rbx*s+disp32] or [rbx+rbx*s+disp32], or
   * in 64-bit mode RIP-relative; 16-bit code reaches the SIB forms with an address-size prefix.
   */
  op(size: 1 | 2 | 4 | 8, opcode: number[], reg: number, rm: number | 'mem', tail: number[] = [], simple = false): void {
    const o = this.out;
    const form = rm === 'mem' && !simple ? this.rng.below(this.mode === 64 ? 5 : 4) : 0; // 0-1: [rbx+disp8], 2: [rbx*s+d], 3: [rbx+rbx*s+d], 4: [rip+d]
    if (form === 2 || form === 3) { if (this.mode === 16) o.push(0x67); }
    if (size === 2 && this.mode !== 16) o.push(0x66);
    if (size === 4 && this.mode === 16) o.push(0x66);
    if (this.mode === 64) {
      const rex = (size === 8 ? 8 : 0) | (reg & 8 ? 4 : 0) | (rm !== 'mem' && rm & 8 ? 1 : 0);
      if (rex) o.push(0x40 | rex);
    }
    o.push(...opcode);
    if (rm !== 'mem') {
      o.push(0xc0 | ((reg & 7) << 3) | (rm & 7));
    } else {
      const disp = this.rng.below(0x70), r3 = (reg & 7) << 3;
      if (form < 2) o.push(this.mode === 16 ? 0x47 | r3 : 0x43 | r3, disp);
      else if (form === 4) { o.push(0x05 | r3); o.push(...le32(SCRATCH + disp - (CODE + o.length + 4 + tail.length))); }
      else {
        const sh = this.rng.below(4);
        if (form === 2) o.push(0x04 | r3, sh << 6 | 3 << 3 | 5, ...le32(SCRATCH * (1 - (1 << sh)) + disp)); // [rbx*s + disp32]
        else o.push(0x84 | r3, sh << 6 | 3 << 3 | 3, ...le32(disp - SCRATCH * (1 << sh))); // [rbx + rbx*s + disp32]
      }
    }
    o.push(...tail);
  }

  imm(size: number): number[] {
    const v = this.rng.next();
    if (size === 1) return [v & 0xff];
    if (size === 2) return [v & 0xff, (v >>> 8) & 0xff];
    return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24];
  }

  /** r/m destination: a register (not RBX/RSP) or the scratch page. */
  rmDst(size: number): number | 'mem' {
    if (this.rng.below(4) === 0) return 'mem';
    return size === 1 ? this.dst8() : this.dst();
  }
  rmSrc(size: number): number | 'mem' {
    if (this.rng.below(4) === 0) return 'mem';
    return size === 1 ? this.src8() : this.src();
  }

  one(): void {
    const r = this.rng, m = this.mode;
    if (this.fp && r.below(8) < this.fpEighths && fpInstruction(this, this.fp)) { this.fpCount++; return; }
    const byte = r.below(4) === 0;
    const sz = byte ? 1 : this.size();
    switch (r.below(this.windows ? 27 : 26)) {
      case 0: case 1: { // ALU r/m, r
        const base = r.pick(ALU_OPS);
        this.op(sz, [base | (byte ? 0 : 1)], sz === 1 ? this.src8() : this.src(), this.rmDst(sz));
        break;
      }
      case 2: { // ALU r, r/m
        const base = r.pick(ALU_OPS);
        this.op(sz, [base | (byte ? 2 : 3)], sz === 1 ? this.dst8() : this.dst(), this.rmSrc(sz));
        break;
      }
      case 3: { // group 1 with immediate
        const form = byte ? 0x80 : r.pick([0x81, 0x83]);
        this.op(sz, [form], r.below(8), this.rmDst(sz), this.imm(form === 0x81 ? Math.min(sz, 4) : 1));
        break;
      }
      case 4: case 5: { // group 2: rotates and shifts, by 1, CL or imm8
        const form = r.below(3);
        const opc = (form === 0 ? 0xd0 : form === 1 ? 0xd2 : 0xc0) | (byte ? 0 : 1);
        this.op(sz, [opc], r.below(8), this.rmDst(sz), form === 2 ? [r.below(72)] : []);
        break;
      }
      case 6: { // group 3: TEST imm, NOT, NEG, MUL, IMUL
        const sub = r.pick([0, 2, 3, 4, 5]);
        this.op(sz, [byte ? 0xf6 : 0xf7], sub, sub === 0 ? this.rmSrc(sz) : this.rmDst(sz), sub === 0 ? this.imm(Math.min(sz, 4)) : []);
        break;
      }
      case 7: { // DIV/IDIV by a divisor in [2, 127], the dividend's high half made to fit
        const signed = r.below(2) === 1;
        this.op(sz, [byte ? 0x80 : 0x83], 4, 1, [0x7f]); // and cl/cx/ecx/rcx, 0x7f
        this.op(sz, [byte ? 0x80 : 0x83], 1, 1, [0x02]); // or  cl/cx/ecx/rcx, 2
        if (sz === 1) {
          if (signed) this.plain(2, [0x98]); // cbw
          else this.out.push(0xb4, 0x00); // mov ah, 0
        } else if (signed) this.plain(sz, [0x99]); // cwd/cdq/cqo
        else this.op(sz, [0x31], 2, 2); // xor edx, edx
        this.op(sz, [byte ? 0xf6 : 0xf7], signed ? 7 : 6, 1);
        break;
      }
      case 8: { // INC/DEC
        this.op(sz, [byte ? 0xfe : 0xff], r.below(2), this.rmDst(sz));
        break;
      }
      case 9: { // IMUL r, r/m [, imm]
        if (byte) { this.op(4, [0x0f, 0xaf], this.dst(), this.rmSrc(4)); break; }
        const f = r.below(3);
        if (f === 0) this.op(sz, [0x0f, 0xaf], this.dst(), this.rmSrc(sz));
        else if (f === 1) this.op(sz, [0x6b], this.dst(), this.rmSrc(sz), this.imm(1));
        else this.op(sz, [0x69], this.dst(), this.rmSrc(sz), this.imm(Math.min(sz, 4)));
        break;
      }
      case 10: this.op(1, [0x0f, 0x90 | r.below(16)], 0, this.rmDst(1)); break; // SETcc
      case 11: { const s = this.size(); this.op(s, [0x0f, 0x40 | r.below(16)], this.dst(), this.rmSrc(s)); break; } // CMOVcc
      case 12: { // BT/BTS/BTR/BTC: register bit offset only with a register operand; imm8 form anywhere
        const s = this.size();
        if (r.below(2)) this.op(s, [0x0f, r.pick([0xa3, 0xab, 0xb3, 0xbb])], this.src(), this.dst());
        else this.op(s, [0x0f, 0xba], 4 + r.below(4), this.rmDst(s), [r.below(256)]);
        break;
      }
      case 13: { const s = this.size(); this.op(s, [0x0f, r.pick([0xbc, 0xbd])], this.dst(), this.rmSrc(s)); break; } // BSF/BSR
      case 14: { const d = this.dst(); this.plain(this.size() === 8 ? 8 : 4, [0x0f, 0xc8 | (d & 7)], d); break; } // BSWAP
      case 15: { // XCHG r, r/m
        this.op(sz, [byte ? 0x86 : 0x87], sz === 1 ? this.dst8() : this.dst(), this.rmDst(sz));
        break;
      }
      case 16: { // MOVZX/MOVSX
        const s = this.size();
        const w = r.below(2);
        this.op(s, [0x0f, r.pick([0xb6, 0xbe]) | w], this.dst(), w ? this.rmSrc(2) : this.rmSrc(1));
        break;
      }
      case 17: { // MOV forms
        const f = r.below(3);
        if (f === 0) this.op(sz, [byte ? 0x88 : 0x89], sz === 1 ? this.src8() : this.src(), this.rmDst(sz));
        else if (f === 1) this.op(sz, [byte ? 0x8a : 0x8b], sz === 1 ? this.dst8() : this.dst(), this.rmSrc(sz));
        else this.op(sz, [0xc6 | (byte ? 0 : 1)], 0, this.rmDst(sz), this.imm(Math.min(sz, 4)));
        break;
      }
      case 18: // one-byte forms, or a NOP Ev (0F 1F /0: its memory operand is never accessed)
        if (r.below(4) === 0) this.op(this.size(), [0x0f, 0x1f], 0, 'mem');
        else this.out.push(r.pick(m === 64 || !this.bcd ? ONE_BYTE : [...ONE_BYTE, 0x27, 0x2f, 0x37, 0x3f]));
        break;
      case 19: { // PUSH/POP kept balanced, PUSHF
        const k = r.below(3);
        if (k === 0 && this.depth < 64) { this.pushPop(0x50, this.src()); this.depth++; }
        else if (k === 1 && this.depth > 0) { this.pushPop(0x58, this.dst()); this.depth--; }
        else if (this.depth < 64) { this.out.push(0x9c); this.depth++; }
        break;
      }
      case 20: { // XADD / CMPXCHG
        const opc = r.pick([0xc0, 0xb0]) | (byte ? 0 : 1);
        this.op(sz, [0x0f, opc], sz === 1 ? this.dst8() : this.dst(), this.rmDst(sz));
        break;
      }
      case 21: { // SHLD/SHRD by imm8 or CL
        const s = this.size();
        const opc = r.pick([0xa4, 0xa5, 0xac, 0xad]);
        this.op(s, [0x0f, opc], this.src(), this.rmDst(s), opc & 1 ? [] : [r.below(64)]);
        break;
      }
      case 22: { // LEA with base+index*scale+disp8 (computes, never touches memory)
        const sz2 = this.size(), d = this.dst();
        if (m === 16) { this.op(sz2, [0x8d], d, 'mem'); break; }
        this.plain(sz2, [0x8d, 0x44 | ((d & 7) << 3), (r.below(4) << 6) | (r.pick([0, 1, 2, 3, 5, 6, 7]) << 3) | r.below(8), r.below(256)], -1, d);
        break;
      }
      case 23: // Jcc/JMP/LOOP to the next instruction (taken or not, same target)
        this.out.push(r.pick([0x70 | r.below(16), 0xeb, 0xe2]), 0x00);
        break;
      case 24: // AAM/AAD outside 64-bit mode (divisor never 0), MOVSXD in 64-bit mode
        if (m === 64) this.op(8, [0x63], this.dst(), this.rmSrc(4));
        else if (this.bcd) this.out.push(r.pick([0xd4, 0xd5]), 1 + r.below(255));
        else this.out.push(0x90);
        break;
      case 25: { // REP STOSB/MOVSB inside the scratch page
        this.op(m === 16 ? 2 : 4, [0x8d], 7, 'mem', [], true); // lea di/edi, [bx+d]
        this.out[this.out.length - 1] = 0x40 + r.below(0x40);
        this.op(m === 16 ? 2 : 4, [0x8d], 6, 'mem', [], true); // lea si/esi, [bx+d]
        this.out[this.out.length - 1] = 0x40 + r.below(0x40);
        this.op(m === 16 ? 2 : 4, [0xc7], 0, 1, m === 16 ? [r.below(16), 0] : [r.below(16), 0, 0, 0]); // mov cx/ecx, n
        this.out.push(0xf3, r.pick([0xaa, 0xa4]));
        break;
      }
      case 26: this.window(); break;
    }
  }

  /**
   * What opens and closes interrupt windows (issue 19): STI, CLI, POPF and IRET of a value with IF
   * set or clear (arithmetic flags random, TF and DF clear), MOV SS and (outside 64-bit mode) POP SS
   * of the selector SS holds. The interrupt shadows they leave are compared at every step.
   */
  private window(): void {
    const r = this.rng, m = this.mode, o = this.out;
    switch (r.below(6)) {
      case 0: o.push(0xfb); break; // sti
      case 1: o.push(0xfa); break; // cli
      case 2: { // push imm; popf
        const flags = this.randomFlags();
        if (m === 16) o.push(0x68, flags & 0xff, flags >>> 8, 0x9d);
        else o.push(0x68, flags & 0xff, flags >>> 8, 0, 0, 0x9d);
        break;
      }
      case 5: if (this.iret) this.iretToNext(); else o.push(0xfb); break;
      case 3: { // mov r16, ss; mov ss, r16
        const d = this.dst();
        this.op(2, [0x8c], 2, d);
        this.op(2, [0x8e], 2, d);
        break;
      }
      default: // push ss; pop ss, 16-bit (a wider PUSH Sreg may leave the upper bytes: SDM PUSH); STI in 64-bit mode
        o.push(...(m === 64 ? [0xfb] : m === 32 ? [0x66, 0x16, 0x66, 0x17] : [0x16, 0x17]));
        break;
    }
  }

  /** A FLAGS image for POPF/IRET: IF set or clear, the arithmetic flags random; TF, DF, IOPL, NT clear. */
  private randomFlags(): number {
    return 0x2 | (this.rng.below(2) ? 0x200 : 0) | (this.rng.next() & 0x8d5);
  }

  /**
   * IRET to the next instruction through a frame of immediates: FLAGS (randomFlags), CS (the
   * selector it holds: 0x1000 real, 0x08 flat 32, 0x18 long), the return offset; 64-bit mode
   * also SS and RSP (PUSH RSP stores RSP as it was, so IRETQ leaves SS's word pushed: counted in depth).
   */
  private iretToNext(): void {
    const o = this.out, m = this.mode, flags = this.randomFlags();
    const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);
    if (m === 16) {
      const ip = o.length + 10; // push flags, push cs, push ip, iret: 3 + 3 + 3 + 1 bytes
      o.push(0x68, ...le(flags, 2), 0x68, 0x00, 0x10, 0x68, ...le(ip, 2), 0xcf);
    } else if (m === 32) {
      const eip = CODE + o.length + 13; // 5 + 2 + 5 + 1
      o.push(0x68, ...le(flags, 4), 0x6a, 0x08, 0x68, ...le(eip, 4), 0xcf);
    } else if (this.depth < 64) {
      const rip = CODE + o.length + 17; // 2 + 1 + 5 + 2 + 5 + 2
      o.push(0x6a, 0x10, 0x54, 0x68, ...le(flags, 4), 0x6a, 0x18, 0x68, ...le(rip, 4), 0x48, 0xcf);
      this.depth++;
    } else {
      o.push(0xfb);
    }
  }

  private pushPop(base: number, reg: number): void {
    if (this.mode === 64 && reg & 8) this.out.push(0x41);
    this.out.push(base | (reg & 7));
  }

  /** An instruction without a register ModRM built by op(): size prefix / REX (.B from rmReg, .R from reg) + bytes. */
  plain(size: 1 | 2 | 4 | 8, bytes: number[], rmReg = -1, reg = -1): void {
    const o = this.out;
    if (size === 2 && this.mode !== 16) o.push(0x66);
    if (size === 4 && this.mode === 16) o.push(0x66);
    if (this.mode === 64) {
      const rex = (size === 8 ? 8 : 0) | (rmReg >= 8 ? 1 : 0) | (reg >= 8 ? 4 : 0);
      if (rex) o.push(0x40 | rex);
    }
    o.push(...bytes);
  }
}

export interface GenOptions {
  /** DAA/DAS/AAA/AAS/AAM/AAD outside 64-bit mode (default true). KVM's instruction emulator lacks
   *  DAA/AAA/AAS, so leave them out where KVM emulates 16/32-bit code (the kvm_pvm host). */
  bcd?: boolean;
  /** x87/SSE/SSE2 classes to mix in (from the vCPU's CPUID: fpFeatures); default none. */
  fp?: FpFeatures;
  /** Share of instruction groups that are x87/SSE, in eighths (default 4). */
  fpEighths?: number;
  /**
   * Run the groups this many times (default 1: straight-line code), so a backend that
   * translates hot code gets to run the program translated: a counter at COUNTER (the stack
   * page's bottom word) counts the passes, and each pass pops what it pushed.
   */
  repeat?: number;
  /**
   * Mix in STI, CLI, POPF, IRET and MOV SS / POP SS (the interrupt-window group); default off.
   * 'armed': also with an interrupt always pending (gen-armed.ts: load with loadProgram's `armed`,
   * run on armedHost); the program then ends in CLI; HLT.
   */
  windows?: boolean | 'armed';
  /**
   * IRET to the next instruction in the window group (default true). kvm_pvm leaves it out: its
   * instruction emulator, which runs 16/32-bit code there, has no protected-mode IRET, and after
   * an IRET it opens the interrupt window one instruction late.
   */
  iret?: boolean;
}

/** The loop counter of programs generated with `repeat` (in the stack page, below any stack use). */
export const COUNTER = STACK_TOP - 0x1000;

/** `count` random instruction groups for `mode`, then HLT. */
export function generateProgram(mode: GenMode, count: number, seed: number, opts: GenOptions = {}): Uint8Array {
  return generate(mode, count, seed, opts).code;
}

/**
 * The same program, with how many of its instructions are x87/SSE (each runs once: the programs
 * are straight-line) and where each instruction group starts.
 */
export function generate(mode: GenMode, count: number, seed: number, opts: GenOptions = {}): { code: Uint8Array; fpInstructions: number; starts: number[] } {
  const e = new Emitter(mode, new Rng(seed), opts.bcd ?? true, opts.fp ?? null, opts.fpEighths ?? 4);
  e.windows = (opts.windows ?? false) !== false;
  e.iret = opts.iret ?? true;
  const starts: number[] = [];
  const repeat = opts.repeat ?? 1, wide = mode !== 16;
  const le = (v: number, n: number): number[] => Array.from({ length: n }, (_, i) => (v >>> (8 * i)) & 0xff);
  // mov dword [COUNTER], repeat (16-bit: mov word [COUNTER], repeat)
  if (repeat > 1) e.out.push(...(wide ? [0xc7, 0x04, 0x25, ...le(COUNTER, 4), ...le(repeat, 4)] : [0xc7, 0x06, ...le(COUNTER, 2), ...le(repeat, 2)]));
  const top = e.out.length;
  for (let i = 0; i < count; i++) { starts.push(e.out.length); e.one(); }
  if (repeat > 1) {
    for (; e.depth > 0; e.depth--) e.out.push(0x58 | e.rng.pick([0, 1, 2, 5, 6, 7])); // pop into a scratch register
    e.out.push(...(wide ? [0xff, 0x0c, 0x25, ...le(COUNTER, 4)] : [0xff, 0x0e, ...le(COUNTER, 2)])); // dec [COUNTER]
    const rel = top - (e.out.length + (wide ? 6 : 4));
    e.out.push(0x0f, 0x85, ...le(rel, wide ? 4 : 2)); // jnz top
  }
  if (opts.windows === 'armed') e.out.push(0xfa);
  e.out.push(0xf4);
  return { code: new Uint8Array(e.out), fpInstructions: e.fpCount, starts };
}

/**
 * Put a random program in memory and return its entry state: random GPRs and
 * arithmetic flags, RBX at the scratch page (filled with random bytes), RSP at
 * the stack top, interrupts off. 32-bit: flat protected mode; 64-bit: long mode
 * with the first 2 MiB identity-mapped. With `fp`, x87/SSE enabled and seeded (seedFpState); with
 * `armed`, the handler of the armed interrupt source installed (gen-armed.ts).
 */
export function loadProgram(mem: GuestMemory, mode: GenMode, code: Uint8Array, seed: number, fp = false, armed = false): StateView {
  const rng = new Rng(seed ^ 0x5bd1e995);
  const s = StateView.detached();
  mem.writeBytes(CODE, code);
  const scratch = mem.view(SCRATCH, 0x1000);
  for (let i = 0; i < scratch.length; i++) scratch[i] = rng.below(256);
  mem.fill(STACK_TOP - 0x1000, 0x1000, 0);
  if (mode === 16) {
    realModeEntryState(s, CODE);
  } else {
    flat32EntryState(s, CODE);
    // null, code32, data32, code64
    mem.writeBytes(GDT, new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0x9b, 0xcf, 0,
      0xff, 0xff, 0, 0, 0, 0x93, 0xcf, 0, 0xff, 0xff, 0, 0, 0, 0x9b, 0xaf, 0]));
    s.set64(GDTR_BASE, GDT, 0);
    s.setU32(GDTR_LIMIT, 31);
  }
  if (mode === 64) {
    mem.dv.setUint32(PML4, PML4 + 0x1000 + 3, true);
    mem.dv.setUint32(PML4 + 0x1000, PML4 + 0x2000 + 3, true);
    mem.dv.setUint32(PML4 + 0x2000, 0x83, true);
    s.set64(CR3, PML4, 0);
    s.set64(CR4, CR4_PAE, 0);
    s.set64(EFER, EFER_LME | EFER_LMA, 0);
    s.set64(CR0, CR0_PE | CR0_PG | CR0_ET, 0);
    const cs = segOffset(CS);
    s.setU32(cs + SEG_SEL, 0x18);
    s.setU32(cs + SEG_ATTR, ATTR_P | ATTR_S | 0xb | ATTR_L | ATTR_G);
    s.setU32(cs + SEG_LIMIT, 0xffffffff);
    s.set64(cs + SEG_BASE, 0, 0);
  } else if (mode === 32) {
    s.set64(CR0, CR0_PE | CR0_ET, 0);
  }
  for (let n = 0; n < (mode === 64 ? 16 : 8); n++) s.set64(gprOffset(n), rng.next(), mode === 64 ? rng.next() : 0);
  s.set64(gprOffset(RBX), SCRATCH, 0);
  s.set64(gprOffset(RSP), STACK_TOP, 0);
  s.set64(RFLAGS, FLAGS_FIXED | (rng.next() & 0x8d5), 0); // CF PF AF ZF SF OF random; IF, DF, TF clear
  if (mode === 16) s.set64(RIP, 0, 0);
  else s.set64(RIP, CODE, 0);
  if (fp) seedFpState(s, rng);
  if (armed) installArmedHandler(mem, mode, s);
  return s;
}
