// The translator against the interpreter: random straight-line programs and loops over the
// forms the code generator emits inline (ALU with every flag consumer after it, INC/DEC keeping
// CF, loads/stores, PUSH/POP, Jcc, CALL/RET), mixed with instructions it hands to the
// interpreter (ADC, PUSHF, shifts by CL), run under interp and under jit with every block
// compiled at its first dispatch; the whole architectural state and the data area must match.
import { describe, expect, it } from 'vitest';
import { ARCH_END } from '../../cpu/state.js';
import { JitBackend } from '../../cpu/jit/backend.js';
import { CODE, Rig } from '../cpu/harness.js';

const DATA = 0x20000;

/** A small deterministic generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; return x >>> 0; };
}

const R = ['c0', 'c3', 'c6', 'c7', 'd8', 'da', 'f0', 'fb']; // ModRM reg,reg pairs avoiding ESP/EBP/ESI as destination
/** One instruction's bytes (hex), 32-bit or 64-bit (REX.W where `w`). */
function insn(next: () => number, w: boolean): string {
  const W = w ? '48' : '';
  const rr = R[next() % R.length], imm8 = (next() & 0xff).toString(16).padStart(2, '0');
  const imm32 = [0, 8, 16, 24].map((s) => ((next() >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
  const reg = ['c0', 'c3', 'c2', 'c7'][next() % 4]; // eax, ebx, edx, edi as an r/m register
  /** A SIB byte for [esi + ebp*scale] (EBP = 0x40, never written). */
  const sib = (): string => ((next() & 3) << 6 | 5 << 3 | 6).toString(16);
  const forms = [
    `${W}01 ${rr}`, `${W}29 ${rr}`, `${W}39 ${rr}`, `${W}21 ${rr}`, `${W}09 ${rr}`, `${W}31 ${rr}`, `${W}85 ${rr}`,
    `${W}83 ${reg} ${imm8}`, `${W}83 ${(parseInt(reg, 16) + 0x28).toString(16)} ${imm8}`, `${W}83 ${(parseInt(reg, 16) + 0x38).toString(16)} ${imm8}`,
    `${W}81 ${(parseInt(reg, 16) + 0x20).toString(16)} ${imm32}`, `${W}89 ${rr}`, `b8 ${imm32}`, `bb ${imm32}`,
    `${W}ff ${reg}`, `${W}ff ${(parseInt(reg, 16) + 8).toString(16)}`, // inc / dec
    `${W}11 ${rr}`, `${W}19 ${rr}`, // adc / sbb read CF
    `0f 92 c1`, `0f 94 c1`, `0f 9c c1`, `0f 9e c1`, // setb/sete/setl/setle cl
    `${W}c1 ${(parseInt(reg, 16) + 0x20).toString(16)} ${(next() % (w ? 63 : 31) + 1).toString(16).padStart(2, '0')}`, // shl r, imm
    `${W}c1 ${(parseInt(reg, 16) + [0x28, 0x38][next() & 1]).toString(16)} ${(next() % (w ? 63 : 31) + 1).toString(16).padStart(2, '0')}`, // shr/sar r, imm
    `${W}d3 ${(parseInt(reg, 16) + 0x28).toString(16)}`, // shr r, cl
    `9c 58`, // pushf; pop eax/rax
    `${W}89 86 ${[0, 1].map(() => (next() & 0x7c).toString(16).padStart(2, '0')).join('')}0000`, // mov [esi+disp32], eax
    `${W}8b 9e ${[0, 1].map(() => (next() & 0x7c).toString(16).padStart(2, '0')).join('')}0000`, // mov ebx, [esi+disp32]
    `50`, `5a`, // push eax; pop edx
    // General memory operands (ESI = data, EBP = 0x40 as an index): LEA, MOV, MOVZX/MOVSX, stores of registers and immediates, NOPs.
    `${W}8d 44 ${sib()} ${imm8}`, `${W}8b 44 ${sib()} ${imm8}`, `${W}89 44 ${sib()} ${(next() & 0x7c).toString(16).padStart(2, '0')}`,
    `0f b7 44 ${sib()} ${imm8}`, `${W}0f bf 46 ${imm8}`, `${W}0f be 44 ${sib()} ${imm8}`, `0f b6 44 ${sib()} ${imm8}`,
    `88 44 ${sib()} ${imm8}`, `66 89 44 ${sib()} ${imm8}`, `c6 44 ${sib()} ${imm8} ${imm8}`, `66 c7 46 ${imm8} ${imm8}${imm8}`,
    `${W}c7 44 ${sib()} ${imm8} ${imm32}`, `0f 1f 44 00 00`, `66 0f 1f 84 00 00000000`, `90`,
    `${W}03 44 ${sib()} ${imm8}`, `${W}39 44 ${sib()} ${imm8}`, `80 7c ${sib()} ${imm8} ${imm8}`, `${W}01 44 ${sib()} ${imm8}`,
    `${W}85 44 ${sib()} ${imm8}`, `f6 44 ${sib()} ${imm8} ${imm8}`, `${W}83 64 ${sib()} ${imm8} ${imm8}`, `66 29 44 ${sib()} ${imm8}`,
    `30 44 ${sib()} ${imm8}`, `${W}81 74 ${sib()} ${imm8} ${imm32}`, `${W}2b 46 ${imm8}`, `${W}0b 44 ${sib()} ${imm8}`,
    // Byte registers (AH..BH too): ALU reg,reg and reg,imm.
    `84 c0`, `84 e4`, `3c ${imm8}`, `80 f9 ${imm8}`, `80 fc ${imm8}`, `00 d8`, `28 e0`, `30 f8`, `08 e5`, `20 c4`, `f6 c4 ${imm8}`, `80 c4 ${imm8}`,
    ...(w ? [`40 84 f6`, `41 80 f8 ${imm8}`, `40 00 f0`] : []),
    `${W}f7 ${(parseInt(reg, 16) + 0x10).toString(16)}`, // not r
    // CMOVcc r,r and SETcc r8 (AH too) after whatever set the flags.
    `${W}0f 4${(next() & 15).toString(16)} ${rr}`, `0f 4${(next() & 15).toString(16)} ${rr}`, `0f 9${(next() & 15).toString(16)} c4`, `0f 9${(next() & 15).toString(16)} c2`,
    ...(w ? [`48 63 44 ${sib()} ${imm8}`, `48 3b 05 ${imm8}000000`, `48 8b 05 ${imm8}000000`, `48 8d 0d ${imm32}`, `64 8b 46 ${imm8}`] : []),
  ];
  return forms[next() % forms.length];
}

/** A program: straight-line body, a conditional branch over part of it, then a dec/jnz loop. */
function program(seed: number, w: boolean): string {
  const next = rng(seed);
  const body = Array.from({ length: 12 }, () => insn(next, w));
  const cc = (0x70 + (next() % 16)).toString(16);
  const skip = Array.from({ length: 3 }, () => insn(next, w)).join(' ');
  const skipLen = skip.replace(/\s+/g, '').length / 2;
  const loop = Array.from({ length: 4 }, () => insn(next, w).replace(/^(48 )?(ff c7|ff cf)$/, '90')).join(' ');
  const loopLen = loop.replace(/\s+/g, '').length / 2;
  // mov edi, 5; L: loop body; dec edi; jnz L (EDI is the counter: the loop body leaves it alone)
  return `${body.join(' ')} ${cc} ${skipLen.toString(16).padStart(2, '0')} ${skip} bf 05000000 ${loop} ff cf 75 ${(0x100 - loopLen - 4).toString(16)}`;
}

function run(code: string, mode: 32 | 64, accel: 'interp' | 'jit'): { state: Uint8Array; data: Uint8Array; rig: Rig } {
  const t = new Rig(mode, [], accel);
  t.set(6, DATA); // ESI: the data area
  t.set(0, 0x12345678); t.set(3, 0x9abcdef0); t.set(2, 0x7fffffff); t.set(1, 7); t.set(5, 0x40);
  t.run(code);
  return { state: t.backend.getState().slice(0, ARCH_END), data: t.mem.u8.slice(DATA, DATA + 0x8000), rig: t };
}

describe('jit against interp', () => {
  for (const mode of [32, 64] as const) {
    it(`${mode}-bit: 60 random programs leave the same state and memory`, () => {
      let compiled = 0;
      for (let seed = 1; seed <= 60; seed++) {
        const code = program(seed * 7919 + mode, mode === 64);
        const a = run(code, mode, 'interp'), b = run(code, mode, 'jit');
        expect(b.rig.rip(), `seed ${seed}: ${code}`).toBe(a.rig.rip());
        expect(Buffer.from(b.state).toString('hex'), `seed ${seed}: ${code}`).toBe(Buffer.from(a.state).toString('hex'));
        expect(Buffer.compare(Buffer.from(b.data), Buffer.from(a.data)), `seed ${seed}: memory`).toBe(0);
        compiled += (b.rig.backend as JitBackend).counters().jitBlocks;
      }
      expect(compiled).toBeGreaterThan(60);
    }, 180_000);
  }

  it('the loop guest runs inside compiled code: a dec/jnz loop of 1000 passes takes few dispatches', () => {
    const t = new Rig(32, [], 'jit');
    t.run('b9 e8030000 01 d8 31 c2 49 75 f9'); // mov ecx, 1000; L: add eax, ebx; xor edx, eax; dec ecx; jnz L
    const k = (t.backend as JitBackend).counters();
    expect(t.reg32(1)).toBe(0);
    expect(k.jitInsns).toBeGreaterThan(3900);
    expect(k.jitRuns).toBeLessThan(40);
    expect(t.rip()).toBe(CODE + 13); // on the HLT
  });

  it('the general memory forms run inline: a loop of SIB/RIP-relative loads, stores, LEA and NOPs steps nothing but its HLT and first TLB misses', () => {
    const t = new Rig(64, [], 'jit');
    t.set(6, DATA); t.set(5, 8);
    // mov ecx,100; L: lea rax,[rsi+rbp*4+8]; movzx edx,word [rsi+rbp*2]; mov rdi,[rip+0]; movsxd rdi,[rsi+rbp*1];
    //   mov [rsi+rbp*8],dl; mov qword [rsi+rbp*4+0x10],-1; nop dword [rax+rax*1+0]; dec ecx; jnz L
    t.run('b9 64000000 488d44ae08 0fb7146e 488b3d00000000 48633c2e 8814ee 48c744ae10ffffffff 0f1f440000 ffc9 75d7');
    const k = (t.backend as JitBackend).counters();
    expect(t.reg32(1)).toBe(0);
    expect(t.mem.read32(DATA + 0x30)).toBe(-1);
    expect(k.jitInsns).toBeGreaterThan(900);
    expect(k.jitSteps - k.jitSlowSteps).toBe(1); // the HLT
    expect(k.jitSlowSteps).toBeLessThanOrEqual(3); // a page's first access fills the TLB
  });
});
