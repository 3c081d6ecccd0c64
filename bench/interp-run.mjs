// `npm run bench`: bundle the interpreter benchmark (as the CLI is bundled, so V8
// sees the same code) and run it.
import { load } from './bundle.mjs';

const { main } = await load('bench/interp.ts', 'bench-interp');
const n = Number(process.argv[2] ?? 5_000_000);
main(n);
