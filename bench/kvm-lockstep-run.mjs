// `node bench/kvm-lockstep-run.mjs [instructions per mode] [program length]`:
// bundle bench/kvm-lockstep.ts (as the CLI is bundled) and run the lockstep
// oracle, KVM against the interpreter, over random programs in each mode.
import { load } from './bundle.mjs';

const { lockstepRandom, nestedKvmWarning } = await load('bench/kvm-lockstep.ts', 'bench-kvm-lockstep');
const total = Number(process.argv[2] ?? 100_000);
const length = Number(process.argv[3] ?? 2000);
const w = nestedKvmWarning();
if (w) console.log(w);
let failed = false;
for (const mode of [16, 32, 64]) {
  const t0 = performance.now();
  const r = lockstepRandom(mode, total, length);
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`${mode}-bit: ${r.instructions} instructions (${r.fpInstructions} x87/SSE) in ${r.programs} programs checked against KVM (${secs} s; ${r.synced} undefined results taken from KVM)${r.divergences.length ? '' : ', no divergence'}`);
  for (const d of r.divergences) { failed = true; console.log(d.report); }
}
process.exitCode = failed ? 1 : 0;
