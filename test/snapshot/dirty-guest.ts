// The memory-dirtying guest (dirty-guest.S) that the live-migration tests move between
// machines: built over DWORDS dwords (16 pages), running until the host sets STOP_FLAG, on a
// 16 MiB machine of any backend; and the line it must end with.

import { readFileSync } from 'node:fs';
import type { BackendName } from '../../contracts/backend.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import { buildFlat, hasToolchain } from '../cpu/system-build.js';

export const RAM = 16 << 20;
/** The dirtying loop's region in dwords, and the dword the host sets to stop it. */
export const DWORDS = 0x4000, STOP_FLAG = 0x300000;
/** The guest's bytes (flat, at 0x100000), or null without an assembler. */
export const GUEST = hasToolchain()
  ? buildFlat(readFileSync('test/snapshot/dirty-guest.S', 'utf8').replace(/\.set DWORDS, \w+/, `.set DWORDS, ${DWORDS}`).replace(/\.set ROUNDS, \w+/, '.set ROUNDS, 0x7fffffff'), 0x100000)
  : null;

/** A machine running the guest under `accel`, and the serial output so far. */
export function dirtyMachine(accel: BackendName = 'interp'): { m: Machine; out: () => string } {
  let text = '';
  const m = new Machine({ memory: RAM, accel, noReboot: true, onSerial: (c) => { text += String.fromCharCode(c); } });
  m.boot(bootRecipe({ raw: [{ file: { name: 'dirty.bin', bytes: GUEST! }, addr: 0x100000 }] }));
  return { m, out: () => text };
}

/** The line the guest prints after the rounds `out` reports: the checksum of dword i is the sum of (i ^ r) for r < rounds. */
export function checksumLine(out: string): string {
  const m = /rounds=([0-9a-f]{8}) /.exec(out);
  if (!m) return '(no rounds line)';
  const n = parseInt(m[1], 16);
  let sum = 0;
  for (let i = 0; i < DWORDS; i++) for (let r = 0; r < n; r++) sum = (sum + ((i ^ r) >>> 0)) >>> 0;
  return `rounds=${m[1]} sum=${sum.toString(16).padStart(8, '0')}\n`;
}
