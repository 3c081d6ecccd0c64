// `node bench/kvm-lockstep-native.mjs [programs] [length]`: x87/SSE random programs (64-bit) on the
// host CPU against the interpreter, end state compared (see bench/kvm-lockstep-native.ts); builds
// bench/kvm-lockstep-native.c with gcc into a temporary directory first.
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { load } from './bundle.mjs';

const runner = join(mkdtempSync(join(tmpdir(), 'emu-native-')), 'runner');
execFileSync('gcc', ['-O1', '-o', runner, new URL('./kvm-lockstep-native.c', import.meta.url).pathname]);
const { nativeCheck } = await load('bench/kvm-lockstep-native.ts', 'bench-kvm-lockstep-native');
const programs = Number(process.argv[2] ?? 200), length = Number(process.argv[3] ?? 50);
const r = nativeCheck(runner, programs, length, Number(process.env.MAX_REPORTS ?? 8));
console.log(`64-bit: ${r.instructions} x87/SSE instructions in ${r.programs} programs compared with the host CPU (end state)${r.reports.length ? '' : ', no difference'}`);
for (const rep of r.reports) console.log(rep);
process.exitCode = r.reports.length ? 1 : 0;
