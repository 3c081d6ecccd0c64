// `node bench/kvm-lockstep-run.mjs [instructions per mode] [program length]`:
// bundle bench/kvm-lockstep.ts (as the CLI is bundled) and run the lockstep
// oracle, KVM against the interpreter, over random programs in each mode.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist'), { recursive: true });
const out = join(root, 'dist', 'bench-kvm-lockstep.mjs');
await build({ entryPoints: [join(root, 'bench/kvm-lockstep.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'error' });
const { lockstepRandom, nestedKvmWarning } = await import(pathToFileURL(out).href);
const total = Number(process.argv[2] ?? 100_000);
const length = Number(process.argv[3] ?? 2000);
const w = nestedKvmWarning();
if (w) console.log(w);
let failed = false;
for (const mode of [16, 32, 64]) {
  const t0 = performance.now();
  const r = lockstepRandom(mode, total, length);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${mode}-bit: ${r.instructions} instructions in ${r.programs} programs checked against KVM (${secs} s; ${r.synced} undefined results taken from KVM)${r.divergences.length ? '' : ', no divergence'}`);
  for (const d of r.divergences) { failed = true; console.log(d.report); }
}
process.exitCode = failed ? 1 : 0;
