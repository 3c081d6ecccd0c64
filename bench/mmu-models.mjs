// `npm run bench:mmu`: the memory models side by side (bench/mmu-models.ts, bundled as the
// CLI is). Usage: node bench/mmu-models.mjs [--no-linux] [--svg FILE] [tinyos command]
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { load, root } from './bundle.mjs';

const args = process.argv.slice(2);
const take = (flag) => { const i = args.indexOf(flag); return i < 0 ? null : args.splice(i, 2)[1]; };
const noLinux = args.includes('--no-linux') ? (args.splice(args.indexOf('--no-linux'), 1), true) : false;
const svg = take('--svg') ?? join(root, 'dist', 'mmu-models.svg');
const linuxDir = join(root, 'guests/linux/out');
const { main } = await load('bench/mmu-models.ts', 'bench-mmu-models');
process.chdir(root);
await main({ linuxDir: !noLinux && existsSync(join(linuxDir, 'vmlinuz')) ? linuxDir : null, svg, command: args.join(' ') || 'aspace 8 100' });
process.exit(0);
