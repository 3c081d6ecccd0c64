// `npm run bench:mmu`: the memory models side by side (bench/mmu-models.ts, bundled as the
// CLI is). Usage: node bench/mmu-models.mjs [--no-linux] [--linux-insns N] [--svg FILE] [tinyos command]
// --linux-insns N: each Linux boot runs its first N instructions (default: to the banner, ~1.4 G)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { load, root } from './bundle.mjs';

const args = process.argv.slice(2);
const take = (flag) => { const i = args.indexOf(flag); return i < 0 ? null : args.splice(i, 2)[1]; };
const noLinux = args.includes('--no-linux') ? (args.splice(args.indexOf('--no-linux'), 1), true) : false;
const insns = take('--linux-insns');
if (insns !== null && !(Number(insns) > 0)) { console.error(`mmu-models: --linux-insns ${insns}: give a positive instruction count`); process.exit(2); }
const svg = take('--svg') ?? join(root, 'dist', 'mmu-models.svg');
const linuxDir = join(root, 'guests/linux/out');
const { main } = await load('bench/mmu-models.ts', 'bench-mmu-models');
process.chdir(root);
const haveLinux = existsSync(join(linuxDir, 'vmlinuz')) && existsSync(join(linuxDir, 'initrd.img'));
await main({
  linuxDir: !noLinux && haveLinux ? linuxDir : null,
  noLinux: noLinux ? '--no-linux' : 'no kernel and initrd in guests/linux/out; npm run guest:linux fetches them',
  linuxLimit: insns === null ? Infinity : Number(insns),
  svg, command: args.join(' ') || 'aspace 8 100',
});
process.exit(0);
