// Boots tinyos on a machine with a given memory model and types commands at its
// shell: the transcript (byte for byte) and the backend's counters come back.
import { readFileSync } from 'node:fs';
import type { BackendName } from '../../contracts/backend.js';
import { bootRecipe } from '../../machine/boot.js';
import { Machine } from '../../machine/machine.js';
import type { MmuModelName } from '../../mmu/model.js';

const IMAGE = 'guests/tinyos/tinyos.elf';
const PROMPT = 'tinyos> ';

export interface TinyosRun {
  transcript: string;
  counters: Record<string, number>;
  instructions: number;
}

/** Boot tinyos (deterministic time), run each command to its next prompt, and power off. */
export function runTinyos(mmu: MmuModelName, commands: string[], accel: BackendName = 'interp', timeoutMs = 280_000): TinyosRun {
  let out = '';
  const machine = new Machine({
    memory: 64 << 20, accel, noReboot: true, deterministic: true, mmu,
    onSerial: (b) => { out += String.fromCharCode(b); },
  });
  try {
    machine.boot(bootRecipe({ kernel: { name: 'tinyos.elf', bytes: readFileSync(IMAGE) } }));
    const end = Date.now() + timeoutMs;
    let prompts = 0;
    const waitPrompt = (): void => {
      for (;;) {
        let n = 0, at = -1;
        while ((at = out.indexOf(PROMPT, at + 1)) >= 0) n++;
        if (n > prompts) { prompts = n; return; }
        if (machine.exited || Date.now() > end) throw new Error(`tinyos under --mmu=${mmu}: no prompt; console tail:\n${out.slice(-1500)}`);
        machine.runSteps(1);
      }
    };
    waitPrompt();
    for (const c of commands) {
      machine.serialInput(Buffer.from(`${c}\r`, 'latin1'));
      waitPrompt();
    }
    return { transcript: out, counters: machine.backend.counters(), instructions: machine.instructions() };
  } finally {
    machine.destroy();
  }
}
