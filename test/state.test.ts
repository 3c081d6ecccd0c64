import { describe, expect, it } from 'vitest';
import { ATTR_P, CS, RIP, SEG_ATTR, SEG_BASE, SEG_SEL, STATE_SIZE, StateView, FX_FCW, FX_MXCSR, resetState, segOffset } from '../cpu/state.js';
import { GuestMemory, MemoryError } from '../mmu/memory.js';

describe('CPU state record', () => {
  it('power-on state: CS F000 with base FFFF0000 and RIP FFF0, FCW 037F, MXCSR 1F80', () => {
    const s = StateView.detached();
    resetState(s);
    expect(s.u32(segOffset(CS) + SEG_SEL)).toBe(0xf000);
    expect(s.hex64(segOffset(CS) + SEG_BASE)).toBe('00000000ffff0000');
    expect(s.u32(segOffset(CS) + SEG_ATTR) & ATTR_P).toBe(ATTR_P);
    expect(s.hex64(RIP)).toBe('000000000000fff0');
    expect(s.dv.getUint16(FX_FCW, true)).toBe(0x37f);
    expect(s.u32(FX_MXCSR)).toBe(0x1f80);
  });

  it('the live register file sits just past guest RAM in the one wasm memory', () => {
    const mem = new GuestMemory(4 << 20);
    expect(mem.stateOffset).toBe(4 << 20);
    expect(mem.buffer.byteLength).toBeGreaterThanOrEqual((4 << 20) + STATE_SIZE);
    const live = new StateView(mem.buffer, mem.stateOffset);
    live.set64(RIP, 0xdeadbeef, 0x12345678);
    expect(mem.dv.getUint32(mem.stateOffset + RIP, true)).toBe(0xdeadbeef);
    expect(live.snapshot().length).toBe(STATE_SIZE);
  });

  it('refuses RAM sizes that are not 4 KiB multiples or exceed the MMIO hole', () => {
    expect(() => new GuestMemory(4 * 1024 * 1024 + 1)).toThrow(MemoryError);
    expect(() => new GuestMemory(0xd000_0000)).toThrow(/between/);
  });

  it('bulk writes outside RAM are refused, never reach the host', () => {
    const mem = new GuestMemory(2 << 20);
    expect(() => mem.writeBytes((2 << 20) - 2, new Uint8Array(4))).toThrow(/leaves guest RAM/);
  });
});
