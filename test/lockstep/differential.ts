// `npm run test:differential [-- instructions-per-mode [A,B]]`: random programs in 16-, 32-
// and 64-bit mode on two in-process backends (default interp,jit where jit exists, else
// interp,interp), compared every 256 instructions; prints each mode's count and the first
// divergence, exits 1 on any. bench/differential-run.mjs bundles this file first.

import type { BackendName } from '../../contracts/backend.js';
import { bareMaker } from './backends.js';
import { pairRandom } from './pair-random.js';

export function main(perMode: number, pair: readonly [BackendName, BackendName]): number {
  const makers = pair.map(bareMaker);
  const why = makers.find((m) => typeof m === 'string');
  if (typeof why === 'string') { console.error(`differential: ${why}`); return 2; }
  const [a, b] = makers as Exclude<(typeof makers)[number], string>[];
  let failed = false;
  for (const mode of [16, 32, 64] as const) {
    const t0 = performance.now();
    const r = pairRandom(mode, perMode, pair, a, b);
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    console.log(`${mode}-bit: ${r.instructions} instructions in ${r.programs} programs, ${pair.join(' vs ')} (${secs} s)${r.divergences.length ? '' : ', no divergence'}`);
    for (const d of r.divergences) { failed = true; console.log(d.report); }
  }
  return failed ? 1 : 0;
}
