// Regenerates test/cpu/vectors/int-vectors.jsonl from this machine's CPU:
// compiles int-vectors.c with gcc and runs it. Needs an x86-64 host with gcc.
//   node test/cpu/gen/gen-int-vectors.mjs
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const here = dirname(fileURLToPath(import.meta.url));
const exe = join(tmpdir(), `int-vectors-${process.pid}`);
execFileSync('gcc', ['-O1', '-o', exe, join(here, 'int-vectors.c')], { stdio: 'inherit' });
const out = execFileSync(exe, { maxBuffer: 64 << 20 }).toString();
mkdirSync(join(here, '..', 'vectors'), { recursive: true });
writeFileSync(join(here, '..', 'vectors', 'int-vectors.jsonl'), out);
console.log(`${out.trim().split('\n').length} vectors written`);
