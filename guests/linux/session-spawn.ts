// Runs guests/linux/session.ts in a child process, bundled by esbuild the way the CLI is
// (for the boot test: under vitest's per-file transform the interpreter is several times slower).
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { SessionResult } from './session.js';
import { defaultMmuModel, type MmuModelName } from '../../mmu/model.js';

const ROOT = join(__dirname, '../..');

/**
 * `commands` empty: stop at the banner. `smp`: vCPUs. `deterministic`: time by instructions retired (a loaded host
 * cannot starve the guest's timers). `memoryMiB`: guest RAM (default 256).
 */
export function spawnSession(outDir: string, commands: string, mmu: MmuModelName = defaultMmuModel(), accel: 'interp' | 'jit' = 'interp', smp = 1, deterministic = false, memoryMiB = 256): Promise<SessionResult> {
  return spawnBundled<SessionResult>('session', 'runSessionCli', [outDir, commands, mmu, accel, String(smp), deterministic ? 'det' : '', String(memoryMiB)]);
}

/** Bundle guests/linux/`name`.ts, run its `cli` export in a child with `args`, and parse the JSON on its last output line. */
export async function spawnBundled<T>(name: string, cli: string, args: string[]): Promise<T> {
  const outfile = join(ROOT, 'dist', `linux-${name}.mjs`);
  await build({
    entryPoints: [join(ROOT, `guests/linux/${name}.ts`)],
    outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error', minifySyntax: true,
    footer: { js: `await ${cli}(process.argv.slice(2));` },
  });
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [outfile, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trimEnd().split('\n').pop() ?? '';
      if (code !== 0 || !last.startsWith('{')) reject(new Error(`linux session exited with ${code}: ${err || out.slice(-2000)}`));
      else resolve(JSON.parse(last) as T);
    });
  });
}
