// `node bench/jit-profile.mjs [interp|jit] [millions] [jit threshold]`: bundles bench/jit-profile.ts and boots
// Linux with instruction time for at most `millions` M instructions (default: to the banner),
// printing wall time and the backend's counters. Add node flags (--cpu-prof) as NODE_OPTIONS.
import { join } from 'node:path';
import { load, root } from './bundle.mjs';

const { main } = await load('bench/jit-profile.ts', 'bench-jit-profile');
await main(join(root, 'guests/linux/out'), process.argv[2] ?? 'jit', Number(process.argv[3] ?? 1e9), process.argv[4] ? Number(process.argv[4]) : undefined);
