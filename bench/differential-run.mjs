// `npm run test:differential [-- instructions-per-mode [A,B]]`: bundle the random-program
// differential (test/lockstep/differential.ts) as the CLI is bundled, and run it.
import { load } from './bundle.mjs';

const { main } = await load('test/lockstep/differential.ts', 'differential');
const perMode = Number(process.argv[2] ?? 1_000_000);
const pair = (process.argv[3] ?? 'interp,jit').split(',');
if (pair.length !== 2) {
  console.error('differential: give the pair as A,B, e.g. interp,jit');
  process.exit(2);
}
process.exitCode = main(perMode, pair);
