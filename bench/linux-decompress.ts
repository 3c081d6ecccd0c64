// The kernel decompressor under interp and jit (issue 18 item 6; run through
// bench/linux-decompress.mjs): boots a bzImage with instruction time and stops at the
// kernel's first console byte, which comes right after the decompressor has unpacked and
// relocated the kernel (or after `limit` instructions). Prints the instructions and CPU time to that byte. With `profile`,
// the interpreter runs in slices of PROFILE_SLICE instructions and the RIP after each slice is
// counted (a sample of where the decompressor spends its instructions); the hottest places
// are printed with their disassembly.
import { readFileSync } from 'node:fs';
import { fullTable } from '../cpu/compose.js';
import { disassemble } from '../cpu/disasm.js';
import { RIP } from '../cpu/state.js';
import { bootRecipe } from '../machine/boot.js';
import '../machine/linux.js';
import { Machine } from '../machine/machine.js';

/** Instructions per profiling slice: a prime, so slices do not fall in step with a loop. */
const PROFILE_SLICE = 97;
const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

export async function main(kernelPath: string, initrdPath: string, accel: 'interp' | 'jit', profile: boolean, limit = Infinity): Promise<void> {
  let first = -1;
  const m = new Machine({ memory: 256 << 20, accel, deterministic: true, noReboot: true, onSerial: () => {
    if (first < 0) { first = m.instructions(); m.backend.requestStop(); }
  } });
  try {
    m.boot(bootRecipe({
      kernel: { name: kernelPath, bytes: new Uint8Array(readFileSync(kernelPath)) },
      initrd: { name: initrdPath, bytes: new Uint8Array(readFileSync(initrdPath)) },
      cmdline: 'console=ttyS0',
    }));
    const samples = new Map<number, number>();
    const t0 = cpuMs();
    for (let n = 0; first < 0 && !m.exited && m.instructions() < limit; n++) {
      if (profile) {
        m.runSteps(1, PROFILE_SLICE);
        const rip = m.state.u32(RIP) + m.state.u32(RIP + 4) * 2 ** 32;
        samples.set(rip, (samples.get(rip) ?? 0) + 1);
      } else m.runSteps(1);
      if (accel === 'jit' && n % 64 === 0) await new Promise((r) => setImmediate(r)); // let asynchronous compiles land
    }
    const ms = cpuMs() - t0;
    if (m.exited) throw new Error(`linux-decompress: the guest stopped before its first console byte: ${m.exited.reason}`);
    const n = m.instructions();
    const what = first < 0 ? `no console byte yet after ${(n / 1e6).toFixed(1)} M instructions` : `first console byte after ${(first / 1e6).toFixed(1)} M instructions`;
    console.log(`${kernelPath} --accel=${accel}${profile ? ' (profiling)' : ''}: ${what}, ${(ms / 1000).toFixed(1)} s CPU (${(n / ms / 1000).toFixed(1)} MIPS)`);
    if (profile) printProfile(m, samples);
  } finally {
    m.destroy();
  }
}

/** The 40 most sampled RIPs, each with its share and the instructions from there (the decompressor maps 1:1). */
function printProfile(m: Machine, samples: Map<number, number>): void {
  const total = [...samples.values()].reduce((a, b) => a + b, 0);
  const table = fullTable(), u8 = m.memory.u8;
  const top = [...samples.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40);
  for (const [rip, n] of top) {
    const lines: string[] = [];
    let off = rip;
    for (let i = 0; i < 6 && off + 16 < m.memory.ramSize; i++) {
      const at = off;
      const d = disassemble(table, (k) => u8[at + k], 8, at, 0);
      lines.push(d.text);
      off += d.len;
    }
    console.log(`${((100 * n) / total).toFixed(2).padStart(6)}%  ${rip.toString(16).padStart(8)}  ${lines.join(' ; ')}`);
  }
}
