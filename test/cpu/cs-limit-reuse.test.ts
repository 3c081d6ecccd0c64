// A decoded block reached through another CS base runs at another offset (issue 19): blocks are
// cached by physical address, so one decoded at a low offset must not carry execution past the
// CS limit when the same bytes are reached near it. The instruction that crosses the limit
// raises #GP (SDM 5.3; real mode's 64 KiB limit included), pushed IP on that instruction.
import { describe, expect, it } from 'vitest';
import { EXIT_HALT } from '../../contracts/backend.js';
import { CODE, HANDLER, LOG, flatGuest } from './bounded-guests.js';

describe.each(['interp', 'jit'] as const)('a cached block reused at a higher CS offset stops at the CS limit (%s)', (accel) => {
  it('real mode: bytes run at 2000:0000, then reached as 1001:FFF0: the MOV straddling FFFF raises #GP', () => {
    const g = flatGuest(16, 4, accel);
    // CODE (0000:1000): jmp far 2000:0000. At 0000:1010: jmp far 1001:FFF0 (linear 0x20000 again).
    g.code('ea00000020');
    g.code('eaf0ff0110', CODE + 0x10);
    // Linear 0x20000: 14 NOPs, mov ax,0x1234 (offsets 0xFFFE-0x10000 under CS 1001), jmp far 0000:1010.
    g.code('90'.repeat(14) + 'b83412' + 'ea10100000', 0x20000);
    // #GP (vector 13): log the pushed IP and CS, then halt.
    g.code(`58 a3${(LOG & 0xff).toString(16).padStart(2, '0')}${(LOG >> 8).toString(16)} 58 a3${((LOG + 2) & 0xff).toString(16).padStart(2, '0')}${(LOG >> 8).toString(16)} f4`, HANDLER);
    g.gate(13, HANDLER);
    let calls = 0;
    while (g.b.run(10_000) !== EXIT_HALT) expect(++calls).toBeLessThan(10);
    expect([g.mem.read16(LOG), g.mem.read16(LOG + 2)]).toEqual([0xfffe, 0x1001]);
    // Once through at 2000:0000 (1 + 16 + 1), then 14 NOPs under CS 1001, then the handler: never round again.
    expect(g.b.counters().instructions).toBe(37);
    expect(g.b.counters().faults).toBe(1);
  });
});
