// Snapshots of tinyos under --deterministic: a machine restored from a snapshot
// prints exactly what the original prints from that point on, and a bad file
// is refused with one line, leaving the machine as it was.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BackendName } from '../../contracts/backend.js';
import { availableBackends } from '../../machine/backends.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { restoreSnapshot, saveSnapshot } from '../../machine/snapshot.js';
import { HEADER_SIZE, SnapshotError } from '../../machine/snapshot-format.js';

const IMAGE = readFileSync('guests/tinyos/tinyos.elf');
const RAM = 32 << 20;

function tinyos(memory = RAM, accel: BackendName = 'interp'): { m: Machine; out: () => string; since: (n: number) => string } {
  let text = '';
  const m = new Machine({ memory, accel, noReboot: true, deterministic: true, onSerial: (b) => { text += String.fromCharCode(b); } });
  m.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: IMAGE } }));
  return { m, out: () => text, since: (n) => text.slice(n) };
}

function runUntil(t: ReturnType<typeof tinyos>, text: string, from = 0): void {
  const end = Date.now() + 60_000;
  while (t.out().indexOf(text, from) < 0) {
    if (t.m.exited || Date.now() > end) throw new Error(`no ${JSON.stringify(text)}; tail: ${t.out().slice(-300)}`);
    t.m.runSteps(1);
  }
}

describe('snapshots of tinyos (--deterministic)', () => {
  it('restored mid-command, the copy prints byte for byte what the original prints, at the same instruction counts', async () => {
    const a = tinyos();
    runUntil(a, 'tinyos> ');
    a.m.serialInput(Buffer.from('ticks\r', 'latin1'));
    for (let i = 0; i < 40; i++) a.m.runSteps(1); // part-way through the command's output
    const snap = await saveSnapshot(a.m);
    const mark = a.out().length;
    const b = tinyos();
    await restoreSnapshot(b.m, snap);
    expect(b.m.instructions()).toBe(a.m.instructions());
    for (let i = 0; i < 3000 && !a.m.exited; i++) { a.m.runSteps(1); b.m.runSteps(1); }
    a.m.serialInput(Buffer.from('info\r', 'latin1'));
    b.m.serialInput(Buffer.from('info\r', 'latin1'));
    for (let i = 0; i < 3000; i++) { a.m.runSteps(1); b.m.runSteps(1); }
    const after = a.since(mark);
    expect(after).toContain('tinyos> info');
    expect(b.out()).toBe(after);
    expect(b.m.instructions()).toBe(a.m.instructions());
    const sa = a.m.backend.getState(), sb = b.m.backend.getState();
    expect([...sb.keys()].filter((i) => sa[i] !== sb[i])).toEqual([]);
    expect(snap.length).toBeLessThan(RAM / 8); // zero pages elided, the rest compressed
    a.m.destroy(); b.m.destroy();
  }, 120_000);

  it.skipIf(!availableBackends().includes('jit'))('taken under interp, restored under jit -> the same output as the interp run from there on', async () => {
    const a = tinyos();
    runUntil(a, 'tinyos> ');
    const snap = await saveSnapshot(a.m);
    const b = tinyos(RAM, 'jit');
    await restoreSnapshot(b.m, snap);
    const mark = a.out().length;
    for (const m of [a.m, b.m]) m.serialInput(Buffer.from('info\r', 'latin1'));
    for (let i = 0; i < 3000; i++) { a.m.runSteps(1); b.m.runSteps(1); }
    expect(a.since(mark)).toContain('tinyos> ');
    expect(b.out()).toBe(a.since(mark));
    a.m.destroy(); b.m.destroy();
  }, 120_000);

  it('bad files -> one clear line each, and the machine is left as it was', async () => {
    const a = tinyos();
    runUntil(a, 'tinyos> ');
    const snap = await saveSnapshot(a.m);
    const b = tinyos();
    b.m.runSteps(5);
    const before = await saveSnapshot(b.m);
    const corrupt = snap.slice(); corrupt[HEADER_SIZE + 100] ^= 0x40;
    const foreign = snap.slice(); foreign[8] = 9;
    const cases: [Uint8Array, RegExp][] = [
      [snap.subarray(0, snap.length - 1000), /^snapshot is truncated: \d+ of \d+ bytes$/],
      [snap.subarray(0, 20), /^not an emu snapshot: 20 bytes is shorter than the header$/],
      [corrupt, /^snapshot is corrupt: checksum mismatch$/],
      [foreign, /^snapshot format version 9; this emu reads version 1$/],
      [new TextEncoder().encode('GIF89a this is not a snapshot at all, not even nearly one'), /^not an emu snapshot \(wrong magic number\)$/],
    ];
    for (const [file, msg] of cases) {
      const err = await restoreSnapshot(b.m, file).then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(SnapshotError);
      expect((err as Error).message).toMatch(msg);
    }
    const small = tinyos(16 << 20);
    await expect(restoreSnapshot(small.m, snap)).rejects.toThrow(/^the snapshot's guest has 32M of RAM and this machine 16M: start emu with -m 32M$/);
    expect(await saveSnapshot(b.m)).toEqual(before);
    a.m.destroy(); b.m.destroy(); small.m.destroy();
  }, 120_000);
});
