// Self-modifying code (Intel SDM Vol. 3A 11.6): a store to a code byte is seen by the
// next fetch of it, even the very next instruction in the same decoded block, whatever
// instruction made the store; the storing instruction itself completes as decoded.
import { describe, expect, it } from 'vitest';
import { FULL_EXTENSIONS } from '../../cpu/full.js';
import { SYSTEM_EXTENSION } from '../../cpu/system/extension.js';
import { CR0, CR0_PG, CR3, DR0, DR7, FXSAVE, RAX, RBX, RCX, RDI, RDX, RSI, RSP, RUN_RUNNING, RUN_STATE } from '../../cpu/state.js';
import { CODE, Rig, hex } from './harness.js';
import type { CpuExtension } from '../../cpu/interp.js';

/** Little-endian bytes of a 32-bit value, as hex. */
const le32 = (v: number): string => [0, 8, 16, 24].map((s) => ((v >>> s) & 0xff).toString(16).padStart(2, '0')).join('');
/** `mov eax, 0x11111111` (b8 + imm32): the instruction the stores below rewrite. */
const MOV_EAX = 'b8 11111111';

/** Run `code` at linear (= physical) `at` until HLT, without the harness's CODE placement. */
function runAt(t: Rig, at: number, code: string): void {
  t.mem.writeBytes(at, hex(code));
  t.state.set64(0x80, at, 0);
  t.cpu.r32[RUN_STATE / 4] = RUN_RUNNING;
  t.backend.run(10_000);
}

for (const accel of ['interp', 'jit'] as const) describe(`self-modifying code (${accel})`, () => {
  const newRig = (mode: 16 | 32 | 64, ext: CpuExtension[] = []): Rig => new Rig(mode, ext, accel);
  for (const mode of [32, 64] as const) {
    it(`${mode}-bit: mov byte [next insn's imm], 5 -> the mov eax, imm right after it loads the new immediate`, () => {
      const t = newRig(mode);
      // 32-bit: [disp32] is absolute (CODE+8); 64-bit: RIP-relative, disp 1 from the end (CODE+7).
      const disp = mode === 32 ? le32(CODE + 8) : le32(1);
      t.run(`c6 05 ${disp} 05 ${MOV_EAX}`);
      expect(t.reg32(RAX)).toBe(0x11111105);
      expect(t.backend.counters().codeWrites).toBe(1);
    });
  }

  it("16-bit: mov byte [next insn's imm], 5 -> the mov ax, imm16 right after it loads the new immediate", () => {
    const t = newRig(16);
    // mov byte [CODE+6], 5 (c6 06 disp16 imm8); mov ax, 0x1111 (imm at CODE+6)
    t.run(`c606 ${le32(CODE + 6).slice(0, 4)} 05 b8 1111`);
    expect(t.reg32(RAX) & 0xffff).toBe(0x1105);
  });

  it('paging: a store through a second linear mapping of the code page -> the next instruction runs the new bytes', () => {
    const t = newRig(32, [SYSTEM_EXTENSION]);
    // 4 KiB pages: linear 0..4 MiB identity, linear 0x400000 -> physical CODE (an alias of the code page).
    const PD = 0x200000, PT0 = PD + 0x1000, PT1 = PD + 0x2000, PRW = 3;
    t.mem.dv.setUint32(PD, PT0 | PRW, true);
    t.mem.dv.setUint32(PD + 4, PT1 | PRW, true);
    for (let i = 0; i < 1024; i++) t.mem.dv.setUint32(PT0 + 4 * i, (i << 12) | PRW, true);
    t.mem.dv.setUint32(PT1, CODE | PRW, true);
    t.state.set64(CR3, PD, 0);
    t.state.setU32(CR0, t.state.u32(CR0) | CR0_PG);
    t.backend.setState(t.state.snapshot());
    t.run(`c605 ${le32(0x400000 + 8)} 05 ${MOV_EAX}`);
    expect(t.reg32(RAX)).toBe(0x11111105);
    expect(t.mem.u8[CODE + 8]).toBe(5);
  });

  it('a byte store turns the next instruction (NOP) into INC EAX', () => {
    const t = newRig(32);
    // xor eax,eax; mov byte [CODE+9], 0x40; nop; hlt
    t.run(`31c0 c605 ${le32(CODE + 9)} 40 90`);
    expect(t.reg32(RAX)).toBe(1);
  });

  it('64-bit: a word store turns NOP NOP into INC EAX (ff c0)', () => {
    const t = newRig(64);
    // xor eax,eax; mov word [rip+0], 0xc0ff; nop; nop; hlt
    t.run(`31c0 66c705 00000000 ffc0 9090`);
    expect(t.reg32(RAX)).toBe(1);
  });

  it('a data store to the code page first, then a store to the next instruction -> the second store is still seen', () => {
    const t = newRig(32);
    // mov [CODE+0x800], eax (drops the page's blocks); mov byte [CODE+13], 5; mov eax, imm32 (imm at CODE+13)
    t.run(`a3 ${le32(CODE + 0x800)} c605 ${le32(CODE + 13)} 05 ${MOV_EAX}`);
    expect(t.reg32(RAX)).toBe(0x11111105);
  });

  it('a budget that ends inside the block: run(2) = the store, then the rewritten instruction', () => {
    const t = newRig(32);
    t.mem.writeBytes(CODE, hex(`c605 ${le32(CODE + 8)} 05 ${MOV_EAX} f4`));
    t.state.set64(0x80, CODE, 0);
    t.backend.run(2);
    expect(t.reg32(RAX)).toBe(0x11111105);
    expect(t.rip()).toBe(CODE + 12);
    expect(t.backend.instructions()).toBe(2);
  });

  it('the block ends before the rewritten instruction with exact flags from the one before it (no dead-flag elision)', () => {
    const t = newRig(32);
    // mov word [CODE+11], 0x9090 (xor ecx,ecx there becomes two NOPs); add eax, ebx (ZF=0: its
    // flags looked dead, xor overwrote them); xor ecx, ecx; setz dl; hlt
    t.set(RAX, 1); t.set(RBX, 1); t.set(RCX, 7); t.set(RDX, 0xff);
    t.setFlags(0x40); // ZF=1 before: a stale xor or lost add flags would both leave DL = 1
    t.run(`66c705 ${le32(CODE + 11)} 9090 01d8 31c9 0f94c2`);
    expect(t.reg32(RDX)).toBe(0);
    expect(t.reg32(RCX)).toBe(7);
    expect(t.reg32(RAX)).toBe(2);
  });

  it('a block that spans two pages: a store to its part on the second page is seen by the next instruction', () => {
    const t = newRig(32);
    // At 0x1ff8: mov byte [0x2000], 0x42 (7 bytes); mov eax, imm32 at 0x1fff (imm 0x2000..0x2003); hlt.
    runAt(t, 0x1ff8, `c605 00200000 42 ${MOV_EAX} f4`);
    expect(t.reg32(RAX)).toBe(0x11111142);
    expect(t.rip()).toBe(0x2005);
  });

  // Every store path: each form below writes over the imm32 of the mov eax right after it.
  // T = the imm's address = CODE + (length of the store instruction) + 1.
  const forms: { name: string; code: string; setup: (t: Rig, T: number) => void; eax: number; check?: (t: Rig) => void }[] = [
    { name: 'mov [ebx], eax (fast 32-bit store)', code: '8903', setup: (t, T) => { t.set(RBX, T); t.set(RAX, 0x55667788); }, eax: 0x55667788 },
    { name: 'add dword [ebx], 1 (read-modify-write)', code: '830301', setup: (t, T) => t.set(RBX, T), eax: 0x11111112 },
    {
      name: 'xchg [ebx], ecx', code: '870b', setup: (t, T) => { t.set(RBX, T); t.set(RCX, 0x22334455); }, eax: 0x22334455,
      check: (t) => expect(t.reg32(RCX)).toBe(0x11111111),
    },
    { name: 'cmpxchg [ebx], ecx', code: '0fb10b', setup: (t, T) => { t.set(RBX, T); t.set(RAX, 0x11111111); t.set(RCX, 0x0badcafe); }, eax: 0x0badcafe },
    { name: 'stosd', code: 'ab', setup: (t, T) => { t.set(RDI, T); t.set(RAX, 0x66778899); }, eax: 0x66778899 },
    {
      name: 'rep movsb from a data page', code: 'f3a4',
      setup: (t, T) => { t.mem.writeBytes(0x5000, hex('44332211')); t.set(RSI, 0x5000); t.set(RDI, T); t.set(RCX, 4); }, eax: 0x11223344,
    },
    { name: 'push imm32 (stack inside the code)', code: `68 ${le32(0x12345678)}`, setup: (t, T) => t.set(RSP, T + 4), eax: 0x12345678 },
    { name: 'push ebx (fast push)', code: '53', setup: (t, T) => { t.set(RSP, T + 4); t.set(RBX, 0x7e57c0de); }, eax: 0x7e57c0de },
  ];
  for (const f of forms) {
    it(`${f.name} over the next instruction's immediate -> the next instruction runs the new bytes`, () => {
      const t = newRig(32);
      const T = CODE + hex(f.code).length + 1;
      f.setup(t, T);
      t.run(`${f.code} ${MOV_EAX}`);
      expect(t.reg32(RAX)).toBe(f.eax);
      f.check?.(t);
    });
  }

  it('fxsave whose area ends on the next instruction (XMM7 bytes) -> that instruction is decoded from the saved bytes', () => {
    const t = newRig(32, [...FULL_EXTENSIONS]);
    // fxsave [ebx] at 0x1108, mov eax, imm32 at 0x110b; the 288-byte area [0xff0, 0x1110) also
    // covers fxsave's own bytes (it completes as decoded). XMM7 (area bytes 272..287) supplies
    // byte 283 = b8 and the imm at 284..287.
    const xmm7 = t.mem.stateOffset + FXSAVE + 272;
    t.mem.u8.set(hex('b8 78563412'), xmm7 + 11);
    t.set(RBX, 0xff0);
    runAt(t, 0x1108, `0fae03 ${MOV_EAX} f4`);
    expect(t.reg32(RAX)).toBe(0x12345678);
    expect(t.rip()).toBe(0x1111);
  });

  it('rep stosd overwrites the instructions after it with NOPs and INC EAX -> they run as NOPs and INCs', () => {
    const t = newRig(32);
    // mov eax, 0x40909090; mov edi, T; mov ecx, 2; rep stosd; T: mov ebx, 0x22222222; add ebx, 7; hlt
    const T = CODE + 5 + 5 + 5 + 2;
    t.run(`b8 90909040 bf ${le32(T)} b9 02000000 f3ab bb 22222222 83c307`);
    expect(t.reg32(RAX)).toBe(0x40909092);
    expect(t.reg32(RBX)).toBe(0);
    expect(t.reg32(RCX)).toBe(0);
    expect(t.reg32(RDI)).toBe(T + 8);
  });

  /**
   * a32->a16: 67 f3 aa = rep stosb with DI/CX; DI = its own address, CX = 7, AL = NOP: the three
   * bytes of the instruction and the four after it (mov bl,7; mov bh,9) become NOPs. It must run
   * all 7 iterations as decoded, then the NOPs.
   */
  function repStosOverItself(t: Rig): void {
    t.set(RDI, CODE); t.set(RCX, 7); t.set(RAX, 0x90); t.set(RBX, 0);
    t.run('67f3aa b307 b709');
    expect(t.reg32(RCX)).toBe(0);
    expect(t.reg32(RDI)).toBe(CODE + 7);
    expect(t.reg32(RBX)).toBe(0);
    expect(t.rip()).toBe(CODE + 8);
    expect(t.cpu.lastEvent).toBe(null);
  }

  it('rep stosb (16-bit addressing, element by element) over itself and what follows -> it completes as decoded, then NOPs run', () => {
    repStosOverItself(newRig(32));
  });

  it('same with a data breakpoint armed elsewhere (REP runs one iteration per step) -> still completes as decoded', () => {
    const t = newRig(32);
    t.state.set64(DR0, 0x9000, 0);
    t.state.set64(DR7, 0x400 | 1 | (1 << 16), 0); // L0, break on writes of 1 byte at 0x9000 (never written)
    repStosOverItself(t);
  });

  it('a self-looping block that patches an instruction ahead of the store on each pass -> every pass adds the new immediate', () => {
    const t = newRig(32);
    // ECX = 3. L: mov [CODE+8], cl; add eax, 0x10 (imm8 at CODE+8); dec ecx; jnz L; hlt
    t.set(RCX, 3);
    t.run(`880d ${le32(CODE + 8)} 83c010 49 75f4`);
    expect(t.reg32(RAX)).toBe(3 + 2 + 1);
    expect(t.reg32(RCX)).toBe(0);
  });

  it('a self-looping block that patches an instruction before the store -> the next pass, not this one, runs it', () => {
    const t = newRig(32);
    // ECX = 3. L: add eax, 0x10 (imm8 at CODE+2); mov [CODE+2], cl; dec ecx; jnz L; hlt
    t.set(RCX, 3);
    t.run(`83c010 880d ${le32(CODE + 2)} 49 75f4`);
    expect(t.reg32(RAX)).toBe(0x10 + 3 + 2);
    expect(t.backend.counters().instructions).toBe(3 * 4 + 1);
  });

  it('an instruction that rewrites its own immediate completes as decoded; the next pass runs the new one', () => {
    const t = newRig(32);
    // ECX = 3. L: add byte [CODE+6], 1 (its own imm8 at CODE+6); dec ecx; jnz L; hlt
    // Pass 1 adds 1 (1 -> 2), pass 2 adds 2 (-> 4), pass 3 adds 4 (-> 8).
    t.set(RCX, 3);
    t.run(`8005 ${le32(CODE + 6)} 01 49 75f6`);
    expect(t.mem.u8[CODE + 6]).toBe(8);
  });

  it('a store to a function in another block, already decoded and on another page -> the next call runs the new bytes', () => {
    const t = newRig(32);
    const F = 0x3000; // F: mov eax, 0x11111111; ret
    t.mem.writeBytes(F, hex(`${MOV_EAX} c3`));
    // call F; mov ebx, eax; mov byte [F+1], 0x42; call F; hlt
    const call = (at: number): string => `e8 ${le32(F - (at + 5))}`;
    t.run(`${call(CODE)} 89c3 c605 ${le32(F + 1)} 42 ${call(CODE + 14)}`);
    expect(t.reg32(RBX)).toBe(0x11111111);
    expect(t.reg32(RAX)).toBe(0x11111142);
  });

  it('a CALL whose return address is pushed over the code it returns to -> the instruction after the call runs the new bytes', () => {
    const t = newRig(32);
    // L: mov esp, ebx; call F; A: mov eax, 0x11111111; cmp ebx, CODE+12; je D; mov edx, eax;
    //    mov ebx, CODE+12; jmp L; D: hlt; F: ret
    // Pass 1 (EBX = the real stack) decodes A; pass 2 has ESP = CODE+12, so the CALL pushes
    // its return address (CODE+7) over A's immediate (CODE+8..CODE+11).
    t.set(RBX, 0x80000);
    t.run(`89dc e8 17000000 ${MOV_EAX} 81fb ${le32(CODE + 12)} 7409 89c2 bb ${le32(CODE + 12)} ebe3 f4 c3`);
    expect(t.reg32(RDX)).toBe(0x11111111);
    expect(t.reg32(RAX)).toBe(CODE + 7);
    expect(t.rip()).toBe(CODE + 30);
  });

  it('64-bit: push imm32 (8 bytes) over the imm64 of the next mov rax -> RAX gets the pushed value', () => {
    const t = newRig(64);
    // mov esp, CODE+20; push 0x12345678; mov rax, imm64 (imm at CODE+12..CODE+19); hlt
    t.run(`bc ${le32(CODE + 20)} 68 ${le32(0x12345678)} 48b8 1111111111111111`);
    expect(t.reg64(RAX)).toBe('0000000012345678');
  });

  it('stores to a data page end no block and invalidate nothing', () => {
    const t = newRig(32);
    // ECX = 100, EBX = 0x100000. L: mov [ebx], eax; add eax, 3; dec ecx; jnz L; hlt
    t.set(RCX, 100); t.set(RBX, 0x100000);
    t.run('8903 83c003 49 75f8');
    const k = t.backend.counters();
    expect(t.reg32(RAX)).toBe(300);
    expect(t.mem.dv.getUint32(0x100000, true)).toBe(297);
    expect(k.blockInvalidations).toBe(0);
    expect(k.blockOverwrites).toBe(0);
    expect(k.codeWrites).toBe(0);
    expect(k.blocksDecoded).toBe(2);
    expect(k.instructions).toBe(4 * 100 + 1);
  });

  it('stores to data on the code page, away from the running block -> the page is invalidated but no block ends early', () => {
    const t = newRig(32);
    // Same loop, storing at CODE+0x800 (same page, not code).
    t.set(RCX, 100); t.set(RBX, CODE + 0x800);
    t.run('8903 83c003 49 75f8');
    const k = t.backend.counters();
    expect(t.reg32(RAX)).toBe(300);
    expect(k.blockInvalidations).toBeGreaterThan(0);
    expect(k.blockOverwrites).toBe(0);
    expect(k.codeWrites).toBe(0);
    expect(k.instructions).toBe(4 * 100 + 1);
  });
});
