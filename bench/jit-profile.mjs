// `node bench/jit-profile.mjs [interp|jit] [millions] [jit threshold] [--steps[=N]]`: bundles bench/jit-profile.ts and boots
// Linux with instruction time for at most `millions` M instructions (default: to the banner),
// printing wall time, the backend's counters and, under jit, where the instructions ran (compiled,
// or interpreted and why); --steps adds the top N (20) instruction forms compiled code ran
// through the interpreter, and JIT_TOP=N lists the N declined blocks that ran most, disassembled.
// Node flags (--cpu-prof) go on the node command line.
import { join } from 'node:path';
import { load, root } from './bundle.mjs';

const { main } = await load('bench/jit-profile.ts', 'bench-jit-profile');
const flag = process.argv.find((a) => a.startsWith('--steps'));
const args = process.argv.slice(2).filter((a) => !a.startsWith('--steps'));
const steps = flag === undefined ? 0 : flag.includes('=') ? Number(flag.split('=')[1]) : 20;
await main(join(root, 'guests/linux/out'), args[0] ?? 'jit', Number(args[1] ?? 1e9), args[2] ? Number(args[2]) : undefined, steps);
