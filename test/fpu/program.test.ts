// A program mixing x87 and SSE2..SSE4.2 math (tools/vectors/program.S) runs natively on the
// host and inside the interpreter (64-bit flat mode, FPU_EXTENSION rows): the output
// buffers must be identical byte for byte, for several inputs.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { Rig } from '../cpu/harness.js';
import { FPU_EXTENSION } from '../../cpu/fpu/extension.js';
import { CR0, CR0_NE, CR0_MP, CR4, CR4_OSFXSR, CR4_OSXMMEXCPT, CR4_PAE, RDI } from '../../cpu/state.js';

const src = (f: string): string => fileURLToPath(new URL(`../../tools/vectors/${f}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'emu-prog-'));
const exe = join(dir, 'progrun'), obj = join(dir, 'prog.o'), bin = join(dir, 'prog.bin');
execFileSync('gcc', ['-O1', '-o', exe, src('program-run.c'), src('program.S')]);
execFileSync('gcc', ['-c', '-o', obj, src('program.S')]);
execFileSync('objcopy', ['-O', 'binary', '-j', '.text', obj, bin]);
/** The program body without its final RET (the rig appends HLT). */
const body = (() => { const b = new Uint8Array(readFileSync(bin)); expect(b[b.length - 1]).toBe(0xc3); return b.subarray(0, b.length - 1); })();

const BUF = 0x20000;

function inputs(a: number, b: number, c: number, d: number, seed: number): Uint8Array {
  const buf = new Uint8Array(512), dv = new DataView(buf.buffer);
  dv.setFloat64(0, a, true); dv.setFloat64(8, b, true); dv.setFloat64(16, c, true); dv.setFloat64(24, d, true);
  for (let i = 0; i < 4; i++) dv.setFloat64(32 + 8 * i, (a + i) * (i & 1 ? -b : b) / (c + 1.5), true);
  dv.setInt32(64, Math.round(a * 1000) | 0, true);
  let s = seed;
  for (let i = 80; i < 112; i++) { s = (s * 1103515245 + 12345) >>> 0; buf[i] = s >>> 24; }
  const text = 'the quick brown fox\0', needle = 'brown\0';
  for (let i = 0; i < 16; i++) { buf[112 + i] = text.charCodeAt(i); buf[128 + i] = needle.charCodeAt(i) || 0; }
  return buf;
}

function native(input: Uint8Array): Uint8Array {
  return new Uint8Array(execFileSync(exe, { input }));
}
function emulated(input: Uint8Array): Uint8Array {
  const rig = new Rig(64, [FPU_EXTENSION]);
  rig.state.set64(CR0, rig.state.lo(CR0) | CR0_NE | CR0_MP, 0);
  rig.state.set64(CR4, CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT, 0);
  rig.cpu.modeChanged();
  rig.mem.writeBytes(BUF, input);
  rig.set(RDI, BUF);
  const exit = rig.run(body);
  expect(exit, `stopped at rip ${rig.rip().toString(16)}: ${JSON.stringify(rig.cpu.lastEvent)}`).toBe(1);
  return rig.mem.u8.slice(BUF, BUF + 512);
}

describe('x87 + SSE program: interpreter against the host', () => {
  const cases: [number, number, number, number][] = [
    [2.5, 1.75, 12345.678, 3], [1e-3, 7.25e5, -987654.321, -2], [3.141592653589793, 0.1, 99999999.5, 10],
    [123456.789, 0.333, 0.5, 0.75], [0.7071067811865476, 1.4142135623730951, -0.5, -17],
  ];
  for (const [i, c] of cases.entries()) {
    test(`inputs ${c.join(', ')}: same 256 output bytes as the host`, () => {
      const input = inputs(...c, i + 1);
      const want = native(input), got = emulated(input);
      const diffs: string[] = [];
      for (let k = 256; k < 512; k++) if (got[k] !== want[k]) diffs.push(`+${k}: ${got[k].toString(16)} want ${want[k].toString(16)}`);
      expect(diffs).toEqual([]);
    });
  }
});
