// Linux's IO-APIC timer check on a clock that stalls like a starved host process
// (bench/linux-timer-stall.ts). Usage: node bench/linux-timer-stall.mjs [model] [interp|jit] [run ms] [stall ms]
// Needs guests/linux/out (npm run guest:linux).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { load, root } from './bundle.mjs';

if (!existsSync(join(root, 'guests/linux/out/vmlinuz'))) {
  console.error('linux-timer-stall: no kernel in guests/linux/out; npm run guest:linux fetches it');
  process.exit(2);
}
const { main } = await load('bench/linux-timer-stall.ts', 'bench-linux-timer-stall');
process.chdir(root);
await main(process.argv.slice(2));
process.exit(0);
