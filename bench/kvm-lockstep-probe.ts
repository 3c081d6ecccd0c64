// Which generated x87/SSE forms this KVM host can single-step: one-instruction
// programs (x87/SSE only) run in lockstep against the interpreter, grouped by
// prefix + opcode + ModRM kind, each marked ok, a divergence, or KVM's failure
// to emulate it (kvm_pvm single-steps every instruction through KVM's emulator).
// Run with `node bench/kvm-lockstep-probe.mjs MODE [programs]` (FULL=1: every form, not only the emulated subset).

import { createInterpreter } from '../cpu/full.js';
import { GuestMemory } from '../mmu/memory.js';
import { KvmBackend } from '../accel-kvm/kvm-backend.js';
import { cpuidEntries } from '../cpu/cpuid.js';
import { busHost } from '../machine/bus-host.js';
import { runLockstep } from '../machine/lockstep/kvm.js';
import { generate, loadProgram, WRITABLE, type GenMode } from '../test/lockstep/gen.js';
import { fpFeatures } from '../test/lockstep/gen-fp.js';

/** An instruction's form: prefixes and opcode, then x87 register row, r/REG or m/REG. */
function formOf(b: Uint8Array, mode: GenMode): string {
  let i = 0;
  const pre: number[] = [];
  for (; b[i] === 0x66 || b[i] === 0xf2 || b[i] === 0xf3 || (mode === 64 && (b[i] & 0xf0) === 0x40); i++) if ((b[i] & 0xf0) !== 0x40) pre.push(b[i]);
  const opEnd = b[i] === 0x0f ? i + 2 : i + 1;
  const modrm = b[opEnd];
  const x87 = b[i] >= 0xd8 && b[i] <= 0xdf;
  const tail = modrm >= 0xc0 ? (x87 ? (modrm & 0xf8).toString(16) : `r/${(modrm >> 3) & 7}`) : `m/${(modrm >> 3) & 7}`;
  return [...pre, ...b.subarray(i, opEnd)].map((x) => x.toString(16).padStart(2, '0')).join(' ') + ' ' + tail;
}

export function probe(mode: GenMode, programs: number, full: boolean): Map<string, string> {
  const memA = new GuestMemory(2 << 20), memB = new GuestMemory(2 << 20);
  const kvm = new KvmBackend(busHost(memA), { cpuid: cpuidEntries(0) });
  const leaf1 = kvm.cpuid.find((e) => e.leaf === 1);
  const fp = { ...fpFeatures(leaf1?.edx ?? 0), emulatedOnly: !full };
  const res = new Map<string, string>();
  try {
    for (let n = 1; n <= programs; n++) {
      const seed = Math.imul(n, 0x9e3779b1) ^ 0x5a5a;
      memA.clearRam();
      const g = generate(mode, 1, seed, { bcd: false, fp, fpEighths: 8 });
      kvm.setState(loadProgram(memA, mode, g.code, seed, true).snapshot());
      const other = createInterpreter(busHost(memB));
      let st: string;
      try {
        const r = runLockstep({ backend: kvm, memory: memA }, { backend: other, memory: memB }, { watch: WRITABLE, fullMemoryEvery: 0 });
        st = r.divergence ? `divergence: ${r.divergence.diffs.slice(0, 3).join('; ')}` : r.end.includes('could not emulate') ? 'not emulated by KVM' : r.end === 'halt' ? 'ok' : r.end;
      } finally {
        other.destroy();
      }
      const key = formOf(g.code, mode), prev = res.get(key);
      if (!prev || prev === 'ok') res.set(key, st);
    }
  } finally {
    kvm.destroy();
  }
  return res;
}
