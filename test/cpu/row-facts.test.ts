// Each instruction's facts live in its row (cpu/table.ts): the control-transfer kind, whether its
// memory operand is only read, the REP-string shape, and what it leaves undefined. Checked by
// decoding bytes with the CPU's decoder and reading the row it selected, through the accessors
// (cpu/facts.ts) the block builder, the JIT and the lockstep oracle read them with.
import { describe, expect, it } from 'vitest';
import { decode, Insn } from '../../cpu/decoder.js';
import { fullTable } from '../../cpu/compose.js';
import { REP_COND, REP_E, memOperandWrites, repShape, undefinedAfter } from '../../cpu/facts.js';
import { Block, type BlockCache } from '../../cpu/blocks.js';
import { Fast } from '../../cpu/fastops.js';
import { collectRegion, endKind } from '../../cpu/jit/region.js';
import { FLAG_AF, FLAG_CF, FLAG_OF } from '../../cpu/state.js';
import {
  F_READS, F_STRING, F_STRING_COND, F_TERM, K_CALL, K_CALL_IND, K_FAR, K_INT, K_JCC, K_JMP, K_JMP_IND, K_LOOP, K_NONE,
  K_RET, K_SYS, MAP_1B, U_HOST_RAX, U_HOST_RBX, U_HOST_RCX, U_HOST_RDX, composeTable, row,
} from '../../cpu/table.js';
import { hex } from './harness.js';

const table = fullTable();
const dec = (bytes: string, codeSize = 4): Insn => { const b = hex(bytes); return decode(table, (k) => b[k] ?? 0, 0, codeSize, new Insn()); };
const rows = [...new Set(table.byOpcode.flatMap((l) => l ?? []))];
const mnemonic = (name: string): string => name.split('|')[0];

describe('facts in the instruction rows', () => {
  it('control-transfer kinds, by encoding', () => {
    const cases: [string, number, number][] = [
      ['74 00', 4, K_JCC], ['0f 84 00 00 00 00', 4, K_JCC], ['eb 00', 4, K_JMP], ['e9 00 00 00 00', 8, K_JMP],
      ['e8 00 00 00 00', 4, K_CALL], ['ff d0', 8, K_CALL_IND], ['ff 20', 4, K_JMP_IND], ['c3', 2, K_RET], ['c2 08 00', 4, K_RET],
      ['e2 fe', 4, K_LOOP], ['e3 fe', 2, K_LOOP], ['ea 00 00 00 00 08 00', 4, K_FAR], ['ff 18', 4, K_FAR], ['cf', 8, K_FAR],
      ['cd 80', 4, K_INT], ['cc', 2, K_INT], ['0f 05', 8, K_SYS], ['0f 34', 4, K_SYS], ['90', 4, K_NONE], ['89 18', 4, K_NONE],
    ];
    for (const [bytes, size, kind] of cases) expect([bytes, dec(bytes, size).row.kind]).toEqual([bytes, kind]);
  });

  it('every F_TERM row has a kind and no other row does; composing a row that breaks this throws', () => {
    for (const r of rows) expect([r.name, (r.flags & F_TERM) !== 0]).toEqual([r.name, r.kind !== K_NONE]);
    expect(() => composeTable([row('c3', 'ret', () => () => {}, F_TERM)])).toThrow(/control-transfer kind/);
  });

  it('memory writes: the ModRM operand is written unless the row only reads it (F_READS)', () => {
    const cases: [string, boolean][] = [
      ['01 18', true], ['39 18', false], ['89 18', true], ['85 18', false], ['ff 30', false], ['ff 00', true],
      ['0f a3 18', false], ['0f ab 18', true], ['0f 01 10', false], ['0f 01 00', true], ['0f 1f 00', false],
      ['0f 94 00', true], ['f7 20', false], ['f7 18', true], ['c1 20 03', true], ['0f 00 18', false],
    ];
    for (const [bytes, writes] of cases) expect([bytes, memOperandWrites(dec(bytes))]).toEqual([bytes, writes]);
  });

  it('F_READS rows are exactly the E/M-first instructions that only read it or do not access it', () => {
    // The SDM's read-only first operands among emu's rows (what cpu/operands.ts listed by mnemonic before).
    const readOnly = new Set(['bt', 'call', 'clflush', 'cmp', 'div', 'idiv', 'imul', 'invlpg', 'jmp', 'lgdt', 'lidt', 'lldt',
      'lmsw', 'ltr', 'mul', 'nop', 'prefetch', 'prefetchw', 'push', 'test', 'verr', 'verw']);
    const memFirst = rows.filter((r) => /^[EM]([a-z]|$)/.test(r.operands[0] ?? ''));
    expect(memFirst.length).toBeGreaterThan(100);
    for (const r of memFirst) expect([r.name, (r.flags & F_READS) !== 0]).toEqual([r.name, readOnly.has(mnemonic(r.name))]);
  });

  it('REP-string shape: F_STRING on MOVS CMPS STOS LODS SCAS INS OUTS only, F_STRING_COND on CMPS and SCAS', () => {
    const str = rows.filter((r) => (r.flags & F_STRING) !== 0).map((r) => r.op).sort((a, b) => a - b);
    expect(str).toEqual([0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);
    expect(rows.filter((r) => (r.flags & F_STRING) !== 0).every((r) => r.map === MAP_1B)).toBe(true);
    const cond = rows.filter((r) => (r.flags & F_STRING_COND) !== 0).map((r) => mnemonic(r.name)).sort();
    expect(cond).toEqual(['cmps', 'cmps', 'scas', 'scas']);
  });

  it('what CPUID, RDTSC and RDTSCP take from the host is in their rows', () => {
    expect(dec('0f a2').row.undef).toBe(U_HOST_RAX | U_HOST_RBX | U_HOST_RCX | U_HOST_RDX);
    expect(dec('0f 31').row.undef).toBe(U_HOST_RAX | U_HOST_RDX);
    expect(dec('0f 01 f9').row.undef).toBe(U_HOST_RAX | U_HOST_RCX | U_HOST_RDX);
    expect(dec('01 c8').row.undef).toBe(0);
  });

  it('REP shape and undefined flags follow the operands: prefix, address size, shift count', () => {
    expect(repShape(dec('f3 a4'))).toBe(4 | REP_E);
    expect(repShape(dec('f2 ae', 8))).toBe(8 | REP_COND);
    expect(repShape(dec('67 f3 a6', 4))).toBe(2 | REP_COND | REP_E);
    expect(repShape(dec('a4'))).toBe(0);
    expect(repShape(dec('f3 90'))).toBe(0); // PAUSE: F3 on a non-string row
    expect(undefinedAfter(dec('c1 e0 00'), 0).flags).toBe(0); // SHL by 0 changes nothing
    expect(undefinedAfter(dec('d1 e0'), 0).flags).toBe(FLAG_AF); // SHL by 1: OF defined
    expect(undefinedAfter(dec('d3 e0'), 3).flags).toBe(FLAG_AF | FLAG_OF); // SHL by CL = 3
    expect(undefinedAfter(dec('d3 c0'), 0x23).flags).toBe(FLAG_OF); // ROL by CL, masked to 3: no AF rule
    expect(undefinedAfter(dec('66 0f a4 c0 14'), 0)).toMatchObject({ gprAlways: 0 }); // SHLD ax, 20 > 16 bits
    expect(undefinedAfter(dec('0f bc c1'), 0)).toMatchObject({ gprIfZeroSource: 0, flags: FLAG_CF | FLAG_OF | 0x80 | FLAG_AF | 0x4 });
  });

  it('the JIT finds where a block goes on from its last row: a direct Jcc/JMP/CALL, a fall-through, not an indirect branch', () => {
    // Blocks at 0x1000 + offset on one page, one instruction each; field 2/3 of a branch fast op are its target offsets.
    const at = new Map<number, Block>();
    const block = (off: number, bytes: string, code: number[], len = hex(bytes).length): Block => {
      const b = new Block();
      b.phys = 0x1000 + off; b.rows = [dec(bytes).row]; b.code = Int32Array.from(code); b.n = 1; b.len = len; b.branch = (b.rows[0].flags & F_TERM) !== 0;
      at.set(b.phys, b);
      return b;
    };
    const cache = { peek: (_key: number, phys: number) => at.get(phys) } as unknown as BlockCache;
    const region = (b: Block): number[] => collectRegion(cache, b, true).map((x) => x.phys - 0x1000);
    for (const off of [0x100, 0x200, 0x300, 0x400]) block(off, 'c3', [Fast.RET32, 0, 0, 0]);
    const jcc = block(0, '74 10', [Fast.JCC32, 4, 0x100, 0x200]);
    expect(endKind(jcc)).toBe(K_JCC);
    expect(region(jcc)).toEqual([0, 0x100, 0x200]);
    expect(region(block(0x10, 'e8 00 00 00 00', [Fast.CALL32, 0, 0x300 - 0x10, 0x400 - 0x10]))).toEqual([0x10, 0x300, 0x400]);
    expect(region(block(0x20, 'eb 00', [Fast.JMP32, 0, 0x100 - 0x20, 0]))).toEqual([0x20, 0x100]);
    expect(region(block(0x30, '74 10', [Fast.FAST_NONE, 0, 0, 0]))).toEqual([0x30]); // under a CS limit: no fast op, no known target
    expect(region(block(0x40, 'ff e0', [Fast.FAST_NONE, 0, 0, 0]))).toEqual([0x40]); // JMP EAX
    expect(region(block(0x200 - 2, '01 c8', [Fast.ADD_RR32, 0, 2, 0]))).toEqual([0x1fe, 0x200]); // falls through
    expect(endKind(at.get(0x11fe)!)).toBe(K_NONE);
  });
});
