// Where KVM cannot single-step x87/SSE (kvm_pvm emulates every stepped
// instruction and knows only the moves), the host CPU is the oracle instead:
// x87/SSE-only 64-bit random programs run natively (bench/kvm-lockstep-native.c,
// built with the system gcc) and in the interpreter from the same entry state,
// and their end states are compared; a differing program is cut down to the
// first instruction whose prefix ends differently.

import { spawnSync } from 'node:child_process';
import { createInterpreter } from '../cpu/full.js';
import { EXIT_HALT } from '../contracts/backend.js';
import { GuestMemory } from '../mmu/memory.js';
import { busHost } from '../machine/bus-host.js';
import { cpuidEntries } from '../cpu/cpuid.js';
import { FXSAVE, FX_FSW, FX_FTW, FX_ST0, FX_XMM0, GPR_NAMES, RFLAGS, StateView } from '../cpu/state.js';
import { generate, loadProgram, SCRATCH } from '../test/lockstep/gen.js';
import { fpFeatures } from '../test/lockstep/gen-fp.js';
import { disassemble } from '../cpu/disasm.js';
import { fullTable } from '../cpu/compose.js';

const OUT_SIZE = 128 + 8 + 512 + 4096;
const ARITH_FLAGS = 0x8d5;

interface Case { code: Uint8Array; state: Uint8Array; scratch: Uint8Array }

/** Run cases on the host CPU: per case the GPRs, RFLAGS, FXSAVE image and scratch page it ends with. */
function runNative(runner: string, cases: Case[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  for (const c of cases) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, c.code.length, true);
    parts.push(len, c.code, c.state.subarray(0, 0x640), c.scratch);
  }
  const r = spawnSync(runner, { input: Buffer.concat(parts), maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`native runner failed: status ${r.status} signal ${r.signal} ${r.stderr}`);
  const out = new Uint8Array(r.stdout);
  return cases.map((_, i) => out.subarray(i * OUT_SIZE, (i + 1) * OUT_SIZE));
}

/** The interpreter's end state in the native runner's output layout. */
function runInterp(code: Uint8Array, seed: number, tamper?: (s: StateView) => void): { entry: Case; out: Uint8Array } {
  const mem = new GuestMemory(2 << 20);
  const s = loadProgram(mem, 64, code, seed, true);
  const entry: Case = { code, state: s.snapshot(), scratch: mem.u8.slice(SCRATCH, SCRATCH + 4096) };
  tamper?.(s); // the interpreter's copy only (tests that a difference is caught)
  const cpu = createInterpreter(busHost(mem));
  try {
    cpu.setState(s.snapshot());
    for (let i = 0; i < 100 && cpu.run(100000) !== EXIT_HALT; i++) { /* until HLT */ }
    const end = new StateView(cpu.getState().buffer);
    const out = new Uint8Array(OUT_SIZE);
    out.set(end.u8.subarray(0, 128), 0);
    out.set(end.u8.subarray(RFLAGS, RFLAGS + 8), 128);
    out.set(end.u8.subarray(FXSAVE, FXSAVE + 512), 136);
    out.set(mem.u8.subarray(SCRATCH, SCRATCH + 4096), 648);
    return { entry, out };
  } finally {
    cpu.destroy();
  }
}

/** Differences that matter (not RBX/RSP, only arithmetic flags, no FOP/FIP/FDP, no empty ST registers). */
function compare(hw: Uint8Array, emu: Uint8Array): string[] {
  const a = new DataView(hw.buffer, hw.byteOffset), b = new DataView(emu.buffer, emu.byteOffset);
  const diffs: string[] = [];
  const hex = (d: DataView, o: number, n: number): string => [...new Uint8Array(d.buffer, d.byteOffset + o, n)].reverse().map((x) => x.toString(16).padStart(2, '0')).join('');
  for (let n = 0; n < 16; n++) {
    if (n === 3 || n === 4) continue;
    if (a.getBigUint64(n * 8, true) !== b.getBigUint64(n * 8, true)) diffs.push(`${GPR_NAMES[n]}: host ${hex(a, n * 8, 8)}, emu ${hex(b, n * 8, 8)}`);
  }
  if ((a.getUint32(128, true) ^ b.getUint32(128, true)) & ARITH_FLAGS) diffs.push(`rflags: host ${(a.getUint32(128, true) & ARITH_FLAGS).toString(16)}, emu ${(b.getUint32(128, true) & ARITH_FLAGS).toString(16)}`);
  const fx = 136 - FXSAVE;
  for (const [name, off, n] of [['fcw', FXSAVE, 2], ['fsw', FX_FSW, 2], ['ftw', FX_FTW, 1], ['mxcsr', FXSAVE + 0x18, 4]] as [string, number, number][]) {
    if (hex(a, fx + off, n) !== hex(b, fx + off, n)) diffs.push(`${name}: host ${hex(a, fx + off, n)}, emu ${hex(b, fx + off, n)}`);
  }
  const top = (a.getUint16(fx + FX_FSW, true) >> 11) & 7, tags = a.getUint8(fx + FX_FTW);
  for (let i = 0; i < 8; i++) {
    if ((tags & (1 << ((top + i) & 7))) === 0) continue;
    const o = fx + FX_ST0 + i * 16;
    if (hex(a, o, 10) !== hex(b, o, 10)) diffs.push(`st${i}: host ${hex(a, o, 10)}, emu ${hex(b, o, 10)}`);
  }
  for (let i = 0; i < 16; i++) {
    const o = fx + FX_XMM0 + i * 16;
    if (hex(a, o, 16) !== hex(b, o, 16)) diffs.push(`xmm${i}: host ${hex(a, o, 16)}, emu ${hex(b, o, 16)}`);
  }
  for (let p = 0; p < 4096 && diffs.length < 12; p++) {
    if (hw[648 + p] !== emu[648 + p]) diffs.push(`scratch +0x${p.toString(16)}: host ${hw[648 + p].toString(16)}, emu ${emu[648 + p].toString(16)}`);
  }
  return diffs;
}

export interface NativeResult { programs: number; instructions: number; reports: string[] }

/**
 * `programs` x87/SSE programs of `length` instructions each, compared with the host CPU.
 * `tamper` edits the interpreter's entry state only (a planted difference).
 */
export function nativeCheck(runner: string, programs: number, length: number, maxReports = 5, tamper?: (s: StateView) => void): NativeResult {
  const fp = fpFeatures(cpuidEntries(0).find((e) => e.leaf === 1)?.edx ?? 0);
  const table = fullTable();
  const res: NativeResult = { programs: 0, instructions: 0, reports: [] };
  const batch: { seed: number; g: ReturnType<typeof generate>; emu: Uint8Array; entry: Case }[] = [];
  for (let n = 1; n <= programs; n++) {
    const seed = Math.imul(n, 0x9e3779b1) ^ 0x1234;
    const g = generate(64, length, seed, { bcd: false, fp, fpEighths: 8 });
    const { entry, out } = runInterp(g.code, seed, tamper);
    batch.push({ seed, g, emu: out, entry });
  }
  const hw = runNative(runner, batch.map((b) => b.entry));
  batch.forEach((b, i) => {
    res.programs++;
    res.instructions += b.g.fpInstructions;
    if (compare(hw[i], b.emu).length === 0 || res.reports.length >= maxReports) return;
    // Cut down: the shortest prefix (then HLT) that ends differently.
    for (let k = 1; k <= b.g.starts.length; k++) {
      const end = k < b.g.starts.length ? b.g.starts[k] : b.g.code.length - 1;
      const code = new Uint8Array(end + 1);
      code.set(b.g.code.subarray(0, end));
      code[end] = 0xf4;
      const { entry, out } = runInterp(code, b.seed, tamper);
      const d = compare(runNative(runner, [entry])[0], out);
      if (d.length === 0) continue;
      const at = b.g.starts[k - 1];
      const dis = disassemble(table, (j) => b.g.code[at + j] ?? 0, 8, at, 0);
      const bytes = [...b.g.code.subarray(at, at + dis.len)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
      res.reports.push(`program seed ${b.seed}: instruction ${k} (${bytes}  ${dis.text}) ends differently:\n  ${d.join('\n  ')}`);
      break;
    }
  });
  return res;
}
