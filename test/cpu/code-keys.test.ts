// Decoded blocks are keyed by physical address and code key (cpu.codeKey): a 32-bit program
// under a 64-bit kernel switches mode on every system call and interrupt, and each switch
// selects the other decoding instead of dropping the cache (issue 18 item 3).
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { RAX, RBX, RDI, RSI, gprOffset } from '../../cpu/state.js';
import { ROUNDS, SHARED, guest } from './mode-switch-guest.js';

describe('decoded blocks keyed by physical address and mode', () => {
  it('32-bit user code making 1000 INT 0x80 calls into a 64-bit kernel decodes each block once', () => {
    const { b, s } = guest();
    expect(b.run(1_000_000)).toBe(EXIT_HALT);
    // Each round: user inc edi; SHARED as 32-bit code (eax - 1, esi + 1); kernel inc rbx; SHARED as 64-bit (rsi + 1).
    expect(s.u32(gprOffset(RDI))).toBe(ROUNDS);
    expect(s.u32(gprOffset(RBX))).toBe(ROUNDS);
    expect(s.u32(gprOffset(RSI))).toBe(2 * ROUNDS);
    expect(s.u32(gprOffset(RAX))).toBe((-ROUNDS) >>> 0);
    // User: 4000, 4006, 4008, 4010, SHARED (32-bit); kernel: 3000, 3008, 3100, SHARED (64-bit).
    // Dropping the cache on each mode switch decoded 7 blocks per round (7002 here).
    expect(b.counters().blocksDecoded).toBe(9);
    expect(b.counters().blocksCached).toBe(9);
  });

  it('a guest write to a page drops its blocks under every code key', () => {
    const { b } = guest();
    expect(b.run(1_000_000)).toBe(EXIT_HALT);
    const before = b.counters().blockInvalidations;
    b.cpu.mem.write8(SHARED + 3, 2); // both decodings of SHARED now add 2 (a host write through the hook)
    b.cpu.mem.codeWritten(SHARED >>> 12, SHARED + 3, 1);
    expect(b.counters().blockInvalidations - before).toBe(2);
    expect(b.counters().blocksCached).toBe(7);
  });
});
