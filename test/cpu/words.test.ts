// The literal word indices and lazy-flag codes of cpu/words.ts (inlined into
// the hot paths) must agree with the layout in cpu/state.ts and cpu/flags.ts, and
// cpu/ must index the record through them (the enum W) and nothing else.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { K_ADD, K_LOGIC, K_SAR, K_SHL, K_SHR, K_SUB } from '../../cpu/flags.js';
import {
  CS, RAX, RBP, RBX, RCX, RDI, RDX, RFLAGS, RIP, RSI, RSP, R11, SCRATCH, SEG_BASE, SS, gprOffset, segOffset, FLAG_ZF,
  CR0, CR2, CR3, CR4, EFER, XCR0, DR0, DR6, DR7, GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT, RUN_STATE, INT_SHADOW, NMI_PENDING, NMI_MASKED,
  PENDING_EVENT, PENDING_ERROR,
} from '../../cpu/state.js';
import * as W from '../../cpu/words.js';

describe('cpu/words.ts literals', () => {
  it('word indices match the state record layout', () => {
    expect(W.W_RIP).toBe(RIP / 4);
    expect(W.W_RFLAGS).toBe(RFLAGS / 4);
    expect(W.LF_OP).toBe(SCRATCH / 4);
    expect([W.LF_RES, W.LF_RESHI, W.LF_A, W.LF_AHI, W.LF_B, W.LF_BHI]).toEqual([1, 2, 3, 4, 5, 6].map((k) => SCRATCH / 4 + k));
    expect(W.W_SSBASE).toBe((segOffset(SS) + SEG_BASE) / 4);
    expect(W.W_CSBASE).toBe((segOffset(CS) + SEG_BASE) / 4);
    expect([W.W_RAX, W.W_RCX, W.W_RDX, W.W_RBX, W.W_RSP, W.W_RBP, W.W_RSI, W.W_RDI, W.W_R11])
      .toEqual([RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R11].map((n) => gprOffset(n) / 4));
    expect(W.ZF_BIT).toBe(FLAG_ZF);
    expect([W.W_CR0, W.W_CR2, W.W_CR3, W.W_CR4, W.W_EFER, W.W_XCR0, W.W_DR0, W.W_DR6, W.W_DR7])
      .toEqual([CR0, CR2, CR3, CR4, EFER, XCR0, DR0, DR6, DR7].map((o) => o / 4));
    expect([W.W_GDTR_BASE, W.W_GDTR_LIMIT, W.W_IDTR_BASE, W.W_IDTR_LIMIT]).toEqual([GDTR_BASE, GDTR_LIMIT, IDTR_BASE, IDTR_LIMIT].map((o) => o / 4));
    expect([W.W_RUN, W.W_SHADOW, W.W_NMI, W.W_NMI_MASKED, W.W_PENDING_EVENT, W.W_PENDING_ERROR])
      .toEqual([RUN_STATE, INT_SHADOW, NMI_PENDING, NMI_MASKED, PENDING_EVENT, PENDING_ERROR].map((o) => o / 4));
  });
  it('lazy-flag op codes are kind << 2 | size', () => {
    expect([W.LF_ADD32, W.LF_SUB32, W.LF_LOGIC32]).toEqual([K_ADD, K_SUB, K_LOGIC].map((k) => (k << 2) | 2));
    expect([W.LF_ADD64, W.LF_SUB64, W.LF_LOGIC64]).toEqual([K_ADD, K_SUB, K_LOGIC].map((k) => (k << 2) | 3));
    expect([W.LF_SHL32, W.LF_SHR32, W.LF_SAR32]).toEqual([K_SHL, K_SHR, K_SAR].map((k) => (k << 2) | 2));
    expect([W.LF_SHL64, W.LF_SHR64, W.LF_SAR64]).toEqual([K_SHL, K_SHR, K_SAR].map((k) => (k << 2) | 3));
  });

  it('cpu/ indexes the record through the enum W only: no literal word numbers, no named word imports (esbuild leaves those a module variable)', () => {
    const root = join(__dirname, '../../cpu'), files: string[] = [];
    const walk = (dir: string): void => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name);
        if (statSync(path).isDirectory()) walk(path); else if (name.endsWith('.ts')) files.push(path);
      }
    };
    walk(root);
    const found: string[] = [];
    for (const f of files) {
      const text = readFileSync(f, 'utf8'), rel = f.slice(root.length + 1);
      // `r` / `r32` / `c.r32` is the state record's Int32Array view in the executors.
      for (const m of text.matchAll(/(?<![\w.])(?:r|r32|c\.r32|cpu\.r32)\[(?:0x[0-9a-f]+|\d+)(?: \+ 1)?\]/g)) {
        if (rel === 'cpuid.ts') continue; // cpuidEntries' r is the leaf's four output words
        found.push(`${rel}: ${m[0]}`);
      }
      for (const m of text.matchAll(/import \{([^}]*)\} from '[./]*words\.js'/g)) {
        const named = m[1].split(',').map((x) => x.trim()).filter((x) => x !== '' && x !== 'W');
        if (named.length > 0) found.push(`${rel}: imports ${named.join(', ')}`);
      }
    }
    expect(files.length).toBeGreaterThan(50);
    expect(found).toEqual([]);
  });
});
