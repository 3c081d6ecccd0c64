// The memory models (mmu/model.ts) counted by hand: a small 64-bit guest under
// 4-level paging touches a known set of pages, writes two of its own PTEs and
// runs INVLPG; every model must leave the same registers and memory (A/D bits
// included) and report exactly the walks, traps and references worked out below.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { flatState } from '../../cpu/flat.js';
import { createInterpreter, createJit } from '../../cpu/full.js';
import { CR3, RAX, RBX, RCX, RDX, StateView, gprOffset } from '../../cpu/state.js';
import { busHost } from '../../machine/bus-host.js';
import { GuestMemory } from '../../mmu/memory.js';
import type { MmuModelName } from '../../mmu/model.js';

const CODE = 0x1000;
const PML4 = 0x10000, PDPT = 0x11000, PD = 0x12000, PT0 = 0x13000, PT1 = 0x14000;
const A = 0x200000, B = 0x201000, C = 0x202000, D = 0x203000, A2 = 0x205000;
const PRW = 0x3; // present, writable; A and D clear everywhere

const le32 = (v: number): number[] => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
/** REX.W MOV r64 <-> [disp32] (ModRM mod 00 rm 100, SIB 25: absolute). */
const load = (reg: number, addr: number): number[] => [0x48, 0x8b, 0x04 | (reg << 3), 0x25, ...le32(addr)];
const store = (reg: number, addr: number): number[] => [0x48, 0x89, 0x04 | (reg << 3), 0x25, ...le32(addr)];
const storeImm32 = (addr: number, v: number): number[] => [0xc7, 0x04, 0x25, ...le32(addr), ...le32(v)];
const invlpg = (addr: number): number[] => [0x0f, 0x01, 0x3c, 0x25, ...le32(addr)];

/** The guest, one TLB miss per line marked "miss"; PROGRAM_INSTRUCTIONS instructions with the HLT. */
const PROGRAM = [
  // (the code page's fetch: miss 1)
  ...load(0, A), // miss 2: read A
  ...store(0, B), // miss 3: write B
  ...load(3, C), // miss 4: read C (D clear: no write entry)
  ...store(3, C), // miss 5: write C
  ...load(1, A + 8), // TLB hit
  ...storeImm32(PT1 + 3 * 8, D | PRW), // miss 6 (PT1's page through PT0); map D. Shadow: a PT write trap
  ...load(2, D), // miss 7: read D
  ...storeImm32(PT1, A2 | PRW), // remap A to another frame. Shadow: a trap that drops A's shadow entry
  ...invlpg(A),
  ...load(0, A), // miss 8: read A, now the frame at A2
  0xf4,
];
const PROGRAM_INSTRUCTIONS = 11;

function run(model: MmuModelName, accel: 'interp' | 'jit' = 'interp'): { state: StateView; mem: GuestMemory; counters: Record<string, number> } {
  const mem = new GuestMemory(4 << 20);
  const put = (addr: number, v: number): void => mem.dv.setUint32(addr, v, true);
  put(PML4, PDPT | PRW);
  put(PDPT, PD | PRW);
  put(PD, PT0 | PRW);
  put(PD + 8, PT1 | PRW);
  for (let i = 0; i < 512; i++) put(PT0 + i * 8, (i << 12) | PRW);
  put(PT1, A | PRW);
  put(PT1 + 8, B | PRW);
  put(PT1 + 16, C | PRW);
  put(A, 0x1111); put(C, 0x3333); put(D, 0x4444); put(A2, 0x5555);
  mem.writeBytes(CODE, Uint8Array.from(PROGRAM));
  const s = new StateView(mem.buffer, mem.stateOffset);
  flatState(s, 64, CODE);
  s.set64(CR3, PML4, 0);
  const host = { ...busHost(mem), mmuModel: model };
  const b = accel === 'jit' ? createJit(host, { threshold: 1, batch: 1, all: true }) : createInterpreter(host);
  b.setState(s.snapshot());
  let exit;
  do exit = b.run(1000); while (exit !== EXIT_HALT && b.instructions() < 100);
  expect(exit).toBe(EXIT_HALT);
  expect(b.cpu.lastEvent).toBeNull();
  s.u8.set(b.getState());
  const counters = b.counters();
  b.destroy();
  return { state: s, mem, counters };
}

/** Offset of the first byte where a and b differ, or -1. */
function firstDifference(a: Uint8Array, b: Uint8Array): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  return Buffer.compare(a, b) === 0 ? -1 : a.findIndex((v, i) => v !== b[i]);
}

/** The counters of one model, without its prefix. */
function ofModel(c: Record<string, number>, model: string): Record<string, number> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => k.startsWith(`${model}.`)).map(([k, v]) => [k.slice(model.length + 1), v]));
}

describe('memory models: a guest touching a known set of pages, counted by hand', () => {
  const direct = run('direct');

  it('direct: the guest sees its own mappings; 8 misses, each a 4-level walk of 4 references', () => {
    const s = direct.state;
    expect(s.u32(gprOffset(RAX))).toBe(0x5555); // A remapped to A2, INVLPG, read again
    expect(s.u32(gprOffset(RBX))).toBe(0x3333);
    expect(s.u32(gprOffset(RCX))).toBe(0);
    expect(s.u32(gprOffset(RDX))).toBe(0x4444);
    expect(direct.mem.dv.getUint32(B, true)).toBe(0x1111);
    // A and D as hardware sets them: A on every level walked, D on the leaves written through.
    const pte = (a: number): number => direct.mem.dv.getUint32(a, true) & 0x60;
    expect([pte(PML4), pte(PDPT), pte(PD), pte(PD + 8)]).toEqual([0x20, 0x20, 0x20, 0x20]);
    expect([pte(PT1), pte(PT1 + 8), pte(PT1 + 16), pte(PT1 + 24)]).toEqual([0x20, 0x60, 0x60, 0x20]);
    expect([pte(PT0 + 8), pte(PT0 + 0x14 * 8)]).toEqual([0x20, 0x60]); // the code page; PT1's page, written
    expect(ofModel(direct.counters, 'direct')).toEqual({ tlbMisses: 8, walks: 8, refs: 32, refsPerWalk: 4, walksWith4Refs: 8 });
  });

  for (const model of ['shadow', 'nested', 'nested-2m'] as const) {
    it(`${model}: the same registers and memory as direct`, () => {
      const r = run(model);
      expect(firstDifference(r.state.u8, direct.state.u8)).toBe(-1);
      expect(firstDifference(r.mem.u8.subarray(0, r.mem.ramSize), direct.mem.u8.subarray(0, direct.mem.ramSize))).toBe(-1);
    });
  }

  it('shadow: 8 shadow walks (the first stops at the empty top level, the second at the empty PD slot), 8 syncs, 2 PT write traps', () => {
    const c = ofModel(run('shadow').counters, 'shadow');
    expect(c).toEqual({
      tlbMisses: 8, walks: 8,
      refs: 1 + 3 + 6 * 4, refsPerWalk: 3.5, walksWith1Refs: 1, walksWith3Refs: 1, walksWith4Refs: 6,
      syncs: 8, // every miss: 1-4 had no entry, 5 had no write right (D was clear), 6-8 no entry
      guestRefs: 8 * 4,
      ptWriteTraps: 2, // the two 32-bit PTE stores into PT1
      trapDrops: 1, // the second one drops A's shadow entry; the first wrote an empty slot
      unshadowedPages: 0,
      cr3Hits: 0, cr3Misses: 1, rootEvictions: 0,
      invlpgDrops: 0, // A's entry was already gone
      flushDrops: 0,
      watchedPages: 5, // PML4, PDPT, PD, PT0, PT1
      pagesInUse: 5, // top, level 3, level 2, and two level-1 shadow pages (0-2 MiB, 2-4 MiB)
    });
  });

  it('nested: every guest reference and the final address through a 4-level EPT walk; first touches are EPT violations', () => {
    const c = ofModel(run('nested').counters, 'nested');
    // Miss 1: 4 guest entries + 5 EPT walks: the first stops at the empty EPT root (1) and, after the violation,
    // walks again (4); the other four each find no leaf (4), violate and walk again (4): 4 + 5 + 4 * 8 = 41.
    // Miss 2: PML4, PDPT, PD 4 each; PT1's page new (8); A's page has no EPT PD entry (3 + 4): 4 + 12 + 8 + 7 = 31.
    // Misses 3, 4, 7, 8: a new data page each: 4 + 4 * 4 + 8 = 28. Misses 5, 6: all mapped: 4 + 5 * 4 = 24.
    expect(c).toEqual({
      tlbMisses: 8, walks: 8, refs: 232, refsPerWalk: 29, walksWith24Refs: 2, 'walksWith25+Refs': 6,
      guestRefs: 32, eptRefs: 200,
      eptViolations: 5 + 2 + 4, eptMmioExits: 0,
      eptPages: 5, // root, one level-3, one level-2 and two level-1 pages (0-2 MiB and 2-4 MiB)
      eptLeaves4k: 11, eptLeaves2m: 0, refsSavedBy2m: 0,
    });
  });

  it('nested-2m: 2 MiB second-level leaves end each EPT walk a level early; two violations map all 4 MiB', () => {
    const c = ofModel(run('nested-2m').counters, 'nested-2m');
    // Miss 1: 4 + (1 + 3) + 4 * 3 = 20. Miss 2: 4 + 4 * 3 + (3 + 3) = 22. Misses 3-8: 4 + 5 * 3 = 19.
    expect(c).toEqual({
      tlbMisses: 8, walks: 8, refs: 20 + 22 + 6 * 19, refsPerWalk: 19.5, walksWith19Refs: 6, walksWith20Refs: 1, walksWith22Refs: 1,
      guestRefs: 32, eptRefs: 124,
      eptViolations: 2, eptMmioExits: 0, eptPages: 3, eptLeaves4k: 0, eptLeaves2m: 2,
      refsSavedBy2m: 40, // 8 misses x 5 guest-physical translations, each ending at a 2 MiB leaf
    });
  });
});

// The JIT backend with every block compiled on first sight: the guest's 11 instructions run from
// compiled regions (absolute [disp32] operands are stepped there through the interpreter's
// closures, but the fetches, misses and walks are the JIT backend's), with the same result and counts.
describe('memory models under the JIT: every block compiled, the same state and the same counts', () => {
  for (const model of ['direct', 'shadow', 'nested', 'nested-2m'] as const) {
    it(model, () => {
      const interp = run(model), jit = run(model, 'jit');
      expect(firstDifference(jit.state.u8, interp.state.u8)).toBe(-1);
      expect(firstDifference(jit.mem.u8.subarray(0, jit.mem.ramSize), interp.mem.u8.subarray(0, interp.mem.ramSize))).toBe(-1);
      expect(ofModel(jit.counters, model)).toEqual(ofModel(interp.counters, model));
      expect(jit.counters.jitInsns).toBe(PROGRAM_INSTRUCTIONS);
    });
  }
});
