// Port 0x80 POST codes and QEMU's isa-debug-exit, driven as firmware and test guests use them.

import { describe, expect, it } from 'vitest';
import { Bus } from '../../devices/bus.js';
import { DebugExit } from '../../devices/debugexit.js';
import { PostCode } from '../../devices/postcode.js';

describe('POST code port 0x80', () => {
  it('records the codes written, reads back the last one, keeps the last 16', () => {
    const seen: number[] = [];
    const post = new PostCode({ onCode: (c) => seen.push(c) });
    expect(post.portRead(0x80, 1)).toBe(0);
    for (let i = 1; i <= 20; i++) post.portWrite(0x80, 1, i);
    expect(post.portRead(0x80, 1)).toBe(20);
    expect(post.writes).toBe(20);
    expect(post.history()).toEqual(Array.from({ length: 16 }, (_, i) => i + 5));
    expect(seen.length).toBe(20);
    post.portWrite(0x80, 1, 0x1ab);
    expect(post.last).toBe(0xab);
  });
});

describe('isa-debug-exit at 0xF4', () => {
  it('guest writes 0x31 to port 0xF4 -> the emulator exits with status 0x63', () => {
    const codes: number[] = [];
    const dev = new DebugExit({ onExit: (s) => codes.push(s) });
    const bus = new Bus();
    bus.registerPorts('debug-exit', 0xf4, 4, dev);
    bus.portWrite(0xf4, 1, 0x31);
    expect(codes).toEqual([0x63]);
    bus.portWrite(0xf4, 1, 0);
    expect(codes[1]).toBe(1);
    bus.portWrite(0xf4, 2, 0x1234);
    expect(codes[2]).toBe(0x2469);
    bus.portWrite(0xf4, 1, 0x1ff); // a byte write keeps the byte
    expect(codes[3]).toBe(0x1ff);
    expect(dev.writes).toBe(4);
    expect(bus.portRead(0xf4, 1)).toBe(0);
  });
});
